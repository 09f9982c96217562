/**
 * `lantian migrate-config FILE`: brings a site config to the current version in place, keeping
 * the original as FILE.v<N>.bak. Exit 0 when migrated or already current; 2 when the file cannot
 * be migrated (newer version, unconvertible entry, or a result with errors unless --force).
 */
import type { Command } from 'commander';
import { isLantianError } from '../../core/errors.js';
import { migrateConfigFile, type ConfigProblem } from '../../config/index.js';
import {
  addConfigCommand,
  EXIT,
  loadOptions,
  printProblems,
  type ConfigFileOptions,
  type Io,
} from '../output.js';

export interface MigrateConfigOptions extends ConfigFileOptions {
  force?: boolean;
}

export function registerMigrateConfig(program: Command): void {
  addConfigCommand<MigrateConfigOptions>(
    program,
    {
      name: 'migrate-config',
      description: 'migrate a site config to the current version, keeping FILE.v<N>.bak',
      option: ['--force', 'write the migrated file even if it still has errors'],
    },
    migrateConfig,
  );
}

export function migrateConfig(file: string, options: MigrateConfigOptions, io: Io): number {
  let result;
  try {
    result = migrateConfigFile(file, { ...loadOptions(options), ...(options.force ? { force: true } : {}) });
  } catch (e) {
    if (!isLantianError(e) || !e.code.startsWith('CONFIG_')) throw e;
    const problems = e.context.problems as ConfigProblem[] | undefined;
    if (problems) printProblems(io, file, problems);
    else io.err(`${file}: ${e.code}: ${e.message}`);
    if (e.code === 'CONFIG_INVALID' && problems)
      io.err(`${file}: not migrated; fix the problems or use --force`);
    return EXIT.invalid;
  }
  if (result.backup === undefined) {
    io.out(`${file}: already version ${result.to}; nothing to do`);
    return EXIT.ok;
  }
  printProblems(io, file, result.problems);
  io.out(`${file}: migrated from version ${result.from} to ${result.to}; the original is ${result.backup}`);
  return EXIT.ok;
}
