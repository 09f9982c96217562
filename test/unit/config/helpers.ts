/** Shared by the config tests: fixture paths, a small valid config, temp dirs that are removed. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { stringify } from 'yaml';
import { isLantianError, type LantianError } from '../../../gateway/src/core/errors.js';
import { loadProfiles } from '../../../gateway/src/profiles/index.js';

export const root = fileURLToPath(new URL('../../../', import.meta.url));
export const fixtures = join(root, 'test/fixtures/config');
export const profilesDir = join(fixtures, 'profiles');
export const profiles = loadProfiles(profilesDir);
export const example = join(root, 'examples/site.yaml');

/** A temp dir per test, removed after it. */
export function useTempDir(): () => string {
  let dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    dirs = [];
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), 'lantian-config-'));
    dirs.push(d);
    return d;
  };
}

/** A small config that passes and runs: one bus, two devices, MQTT with a password. */
export function minimalConfig(): Record<string, unknown> {
  return {
    version: 1,
    site: { id: 'test-site', name: 'Test site' },
    gateway: { id: 'gw1' },
    secretsFile: 'secrets.yaml',
    buses: { line1: { kind: 'rtu-over-tcp', host: '127.0.0.1', port: 20108 } },
    devices: {
      gas: { profile: 'sdl.scs-900uv', bus: 'line1', unitId: 1 },
      dust: { profile: 'sdl.scs-900cpm', bus: 'line1', unitId: 2 },
    },
    uplinks: { mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'gw1', password: { secret: 'mqtt-pw' } } },
    storage: { path: 'data/log.db' },
  };
}

/**
 * Changes for `edited` that add sections the schema checks but the gateway refuses as not
 * supported yet (an outlet with a limit, an HJ 212 platform), for the tests of their checks.
 */
export function plannedSections(): Record<string, unknown> {
  return {
    outlets: {
      stack1: {
        name: 'Stack 1',
        devices: ['gas', 'dust'],
        referenceO2Pct: 6,
        o2: 'gas/o2',
        limits: { 'gas/so2': { max: 35 } },
      },
    },
    'uplinks.hj212': {
      city: {
        host: '127.0.0.1',
        port: 9212,
        mn: '010000A8900016F000169DC0',
        password: { secret: 'hj212-pw' },
        outlet: 'stack1',
      },
    },
  };
}

/** The secrets the minimal config and the planned sections refer to. */
export const SECRETS = { 'mqtt-pw': 'change-me', 'hj212-pw': '123456' };

/**
 * A copy of the minimal config with changes at dotted paths (`devices.gas.unitId`); a value of
 * undefined deletes the key.
 */
export function edited(changes: Record<string, unknown>): Record<string, unknown> {
  const config = minimalConfig();
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.');
    let node = config;
    for (const k of keys.slice(0, -1)) {
      node[k] ??= {};
      node = node[k] as Record<string, unknown>;
    }
    const last = keys.at(-1)!;
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
  return config;
}

/** Writes site.yaml and secrets.yaml (mode 600 unless told otherwise; null: none) into dir. */
export function writeSite(
  dir: string,
  config: unknown,
  secrets: Record<string, unknown> | null = SECRETS,
  secretsMode = 0o600,
): string {
  const file = join(dir, 'site.yaml');
  writeFileSync(file, typeof config === 'string' ? config : stringify(config));
  if (secrets) {
    const s = join(dir, 'secrets.yaml');
    writeFileSync(s, stringify(secrets));
    chmodSync(s, secretsMode);
  }
  return file;
}

/** The LantianError f throws; fails the test when it throws nothing or something else. */
export function thrownBy(f: () => unknown): LantianError {
  try {
    f();
  } catch (e) {
    if (isLantianError(e)) return e;
    throw e;
  }
  throw new Error('expected a LantianError');
}
