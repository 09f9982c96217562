/**
 * A site config for a running simulator, written into a test's directory: the simulator's own
 * `siteConfigFor` (its buses where they listen, its device ids and unit ids), with the poll
 * period and the sections a test needs changed.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { siteConfigFor, type Scenario, type Simulator } from '../../hardware-sim/src/index.js';

export interface SimSiteOptions {
  periodMs?: number;
  /** Settings merged into every bus (timeoutMs, retries, …). */
  bus?: Record<string, unknown>;
  /** Top-level sections put into the config as they are (web, uplinks, outlets, …). */
  sections?: Record<string, unknown>;
  /** Written to secrets.yaml (mode 0600) and named by secretsFile. */
  secrets?: Record<string, string>;
}

/** Writes DIR/site.yaml (and DIR/secrets.yaml) for the simulator; returns the config's path. */
export function writeSimSite(
  sim: Simulator,
  scenario: Scenario,
  dir: string,
  o: SimSiteOptions = {},
): string {
  const config = parse(siteConfigFor(scenario, sim.buses, { storagePath: 'log.db' })) as Record<
    string,
    unknown
  > & { devices: Record<string, { periodMs: number }>; buses: Record<string, Record<string, unknown>> };
  for (const d of Object.values(config.devices)) d.periodMs = o.periodMs ?? 500;
  for (const b of Object.values(config.buses)) Object.assign(b, o.bus ?? {});
  delete config.uplinks;
  Object.assign(config, o.sections ?? {});
  if (o.secrets) {
    const secrets = join(dir, 'secrets.yaml');
    writeFileSync(secrets, stringify(o.secrets));
    chmodSync(secrets, 0o600);
    config.secretsFile = 'secrets.yaml';
  }
  const file = join(dir, 'site.yaml');
  writeFileSync(file, stringify(config));
  return file;
}
