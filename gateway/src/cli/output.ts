/** What every command shares: exit codes and how problems are printed. */
import { formatConfigProblem, type ConfigProblem } from '../config/index.js';

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
