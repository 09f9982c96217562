/**
 * `lantian check-config FILE`: exit 0 and a one-line summary when the file is valid (warnings
 * on stderr); exit 2 and every problem as `FILE:PATH: message` on stderr when it is not.
 */
import type { Command } from 'commander';
import { inspectSiteConfig, pollingPlan, type LoadedConfig } from '../../config/index.js';
import {
  addConfigCommand,
  EXIT,
  loadOptions,
  plural,
  printProblems,
  type ConfigFileOptions,
  type Io,
} from '../output.js';
import { hj212Runtime } from '../plan-hj212.js';
import { formatPlan } from '../plan-text.js';

export interface CheckConfigOptions extends ConfigFileOptions {
  plan?: boolean;
}

export function registerCheckConfig(program: Command): void {
  addConfigCommand<CheckConfigOptions>(
    program,
    {
      name: 'check-config',
      description: 'check a site config, its secrets file and the profiles it names; print every problem',
      option: ['--plan', 'also print the polling plan the config implies'],
    },
    checkConfig,
  );
}

export function checkConfig(file: string, options: CheckConfigOptions, io: Io): number {
  const { problems, loaded } = inspectSiteConfig(file, loadOptions(options));
  printProblems(io, file, problems);
  if (!loaded) return EXIT.invalid;
  io.out(summary(loaded));
  if (options.plan)
    for (const line of formatPlan(loaded, pollingPlan(loaded.config, loaded.profiles), hj212Runtime(loaded)))
      io.out(line);
  return EXIT.ok;
}

export function summary(loaded: LoadedConfig): string {
  const c = loaded.config;
  const devices = Object.values(c.devices);
  const enabled = devices.filter((d) => d.enabled).length;
  const uplinks = [
    ...(c.uplinks.mqtt ? ['mqtt'] : []),
    ...Object.keys(c.uplinks.hj212).map((name) => `hj212 ${name}`),
  ];
  const parts = [
    `version ${c.version}${loaded.migratedFrom === undefined ? '' : ` (migrated from ${loaded.migratedFrom})`}`,
    `site ${c.site.id}`,
    `gateway ${c.gateway.id}`,
    plural(Object.keys(c.buses).length, 'bus'),
    `${plural(devices.length, 'device')}${enabled === devices.length ? '' : ` (${enabled} enabled)`}`,
    plural(Object.keys(c.outlets).length, 'outlet'),
    `uplinks: ${uplinks.length > 0 ? uplinks.join(', ') : 'none'}`,
  ];
  const warnings = loaded.warnings.length;
  return `${loaded.file}: valid: ${parts.join(', ')}${warnings > 0 ? `; ${plural(warnings, 'warning')}` : ''}`;
}
