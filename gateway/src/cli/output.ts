/** What every command shares: exit codes, how problems are printed, the config-file options. */
import type { Command } from 'commander';
import { formatConfigProblem, type ConfigProblem, type LoadOptions } from '../config/index.js';

export const EXIT = { ok: 0, unexpected: 1, invalid: 2 } as const;

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Every problem on its own line, then a count. */
export function printProblems(io: Io, file: string, problems: readonly ConfigProblem[]): void {
  for (const p of problems) io.err(formatConfigProblem(p));
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  if (errors > 0)
    io.err(`${file}: ${plural(errors, 'error')}${warnings > 0 ? `, ${plural(warnings, 'warning')}` : ''}`);
}

export const plural = (n: number, word: string): string =>
  `${n} ${word}${n === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`;

/** The help of `--profiles`, the same on every command that reads a site config. */
export const PROFILES_OPTION =
  'a site’s own device-profile folder, added to the bundled library (same id: the site’s wins)';

/** Options of every command that reads a site config. */
export interface ConfigFileOptions {
  secrets?: string;
  profiles?: string;
}

/** Registers a command that takes a site config: `<name> FILE [--secrets FILE] [--profiles DIR] [extra]`. */
export function addConfigCommand<O extends ConfigFileOptions>(
  program: Command,
  spec: { name: string; description: string; option: [flags: string, description: string] },
  run: (file: string, options: O, io: Io) => number,
): void {
  program
    .command(spec.name)
    .description(spec.description)
    .argument('<file>', 'site config (YAML)')
    .option('--secrets <file>', 'secrets file (default: secretsFile in the config)')
    .option('--profiles <dir>', PROFILES_OPTION)
    .option(...spec.option)
    .action((file: string, options: O) => {
      process.exitCode = run(file, options, processIo);
    });
}

export function loadOptions(o: ConfigFileOptions): LoadOptions {
  return {
    ...(o.secrets === undefined ? {} : { secretsFile: o.secrets }),
    ...(o.profiles === undefined ? {} : { siteProfilesDir: o.profiles }),
  };
}
