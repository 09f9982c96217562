/**
 * Migrates a site-config file on disk: keeps the original as FILE.v<N>.bak (never overwriting an
 * earlier backup), then replaces the file atomically. Refuses versions newer than it knows and,
 * unless forced, results that would not pass the check. Settings that are not supported yet
 * (unsupported.ts) do not stop a migration: the file is converted faithfully and the check goes
 * on refusing them, as it would have before.
 */
import { constants, copyFileSync, existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { stringify } from 'yaml';
import { readYamlFile } from '../core/yaml.js';
import { inspectRaw, type LoadOptions } from './loader.js';
import { migrateRaw, versionOf } from './migrations.js';
import { configError, errorsOf, type ConfigProblem } from './problems.js';
import { CURRENT_VERSION } from './schema.js';

export interface MigrateFileOptions extends LoadOptions {
  /** Write even when the migrated config has errors (so they can be fixed with line numbers). */
  force?: boolean;
  /** Time written into the header comment. Default: now. */
  now?: Date;
}

export interface MigrateFileResult {
  file: string;
  from: number;
  to: number;
  /** Where the original went; undefined when the file was already current. */
  backup?: string;
  /** Problems the migrated config still has (only when forced) and its warnings. */
  problems: ConfigProblem[];
}

export function migrateConfigFile(file: string, options: MigrateFileOptions = {}): MigrateFileResult {
  const y = readYamlFile(file, 'CONFIG_NOT_FOUND', 'CONFIG_YAML');
  const found = versionOf(y.data);
  if ('problem' in found) {
    throw configError([
      {
        file,
        path: 'version',
        message: found.problem,
        hint: found.hint,
        line: y.lineOf(['version']),
        code: 'CONFIG_INVALID',
        severity: 'error',
      },
    ]);
  }
  if (found.version === CURRENT_VERSION)
    return { file, from: found.version, to: CURRENT_VERSION, problems: [] };

  const { data, from, applied } = migrateRaw(y.data as Record<string, unknown>);
  const { problems } = inspectRaw(data, file, () => undefined, options);
  const blocking = errorsOf(problems).filter((p) => p.code !== 'CONFIG_UNSUPPORTED');
  if (blocking.length > 0 && !options.force) throw configError(problems);

  const backup = freeBackupName(file, from);
  const header = [
    `Migrated from version ${from} to ${CURRENT_VERSION} by lantian migrate-config on ${(options.now ?? new Date()).toISOString()}.`,
    ...applied.map((m) => `  ${m.from} -> ${m.to}: ${m.summary}`),
    `The original, with its comments, is ${basename(backup)}.`,
  ];
  const text = `${header.map((l) => `# ${l}`).join('\n')}\n${stringify(data, { lineWidth: 100 })}`;
  const mode = statSync(file).mode & 0o777;
  // COPYFILE_EXCL: the copy fails rather than replace a backup that appeared meanwhile.
  copyFileSync(file, backup, constants.COPYFILE_EXCL);
  const tmp = `${file}.migrating-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
  return { file, from, to: CURRENT_VERSION, backup, problems };
}

/** FILE.v0.bak, or FILE.v0.1.bak, FILE.v0.2.bak … when earlier migrations left one. */
function freeBackupName(file: string, from: number): string {
  for (let n = 0; ; n++) {
    const name = n === 0 ? `${file}.v${from}.bak` : `${file}.v${from}.${n}.bak`;
    if (!existsSync(name)) return name;
  }
}
