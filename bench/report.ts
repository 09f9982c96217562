/**
 * Shared by the benchmarks: writes bench/results/<name>.json and replaces the benchmark's own
 * section (between `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->`) in docs/benchmarks.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');

export interface BenchRow {
  metric: string;
  value: string;
  target?: string;
  note?: string;
}

export function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} (${arch()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function writeResults(
  name: string,
  command: string,
  results: Record<string, unknown>,
  rows: BenchRow[],
): void {
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  const stamped = { name, command, date: new Date().toISOString(), machine: machine(), ...results };
  writeFileSync(join(root, 'bench', 'results', `${name}.json`), `${JSON.stringify(stamped, null, 2)}\n`);

  const table = [
    `Measured ${stamped.date.slice(0, 10)} on ${stamped.machine} with \`${command}\`.`,
    '',
    '| metric | value | target | note |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.metric} | ${r.value} | ${r.target ?? ''} | ${r.note ?? ''} |`),
  ].join('\n');
  const file = join(root, 'docs', 'benchmarks.md');
  const doc = readFileSync(file, 'utf8');
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  const section = `${start}\n## ${name}\n\n${table}\n${end}`;
  const next =
    i >= 0 && j > i
      ? doc.slice(0, i) + section + doc.slice(j + end.length)
      : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
}
