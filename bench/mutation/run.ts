/**
 * `npm run mutation [-- module ...] [--incremental]`: mutation testing with Stryker over the
 * modules in modules.ts, one module at a time, each against its own fast tests. Writes an HTML
 * report per module (reports/mutation/<module>.html, not committed) and the scores to
 * bench/results/mutation.json as `{"modules": {"core": 0.91, ...}}`, where a module's score is
 * killed / (killed + survived): a mutant a test stopped by timing out counts as killed, one no
 * test covers as survived. Exits 1 when a module scores below its floor (FLOORS).
 * `--incremental` reuses the results of mutants whose code and tests did not change since the
 * last run on this machine (reports/mutation/<module>.incremental.json). MUTATION_CONCURRENCY
 * (default 1) sets how many test processes Stryker runs at once: one leaves the rest of a small
 * machine to whatever else runs on it. Each module's surviving mutants are listed, one a line, in
 * reports/mutation/<module>.survivors.txt (file:line:column mutator: replacement).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Stryker } from '@stryker-mutator/core';
import { MODULES } from './modules.js';

/** The lowest score each module may have; below it the run fails (docs/testing.md). */
export const FLOORS: Record<string, number> = {
  core: 0.93,
  'acquisition-admission': 0.95,
  planner: 0.8,
  decode: 0.76,
  'draft-pack': 0.98,
  'store-cursor': 0.88,
  'store-log': 0.84,
  'store-retention': 0.68,
  'store-group': 0.95,
  'store-recent': 0.83,
  'store-peek': 0.87,
  'store-recovery': 0.72,
  'uplink-wire': 0.9,
  'uplink-publisher': 0.31,
  'uplink-contract': 0.81,
  'uplink-receiver': 0.52,
};

const RESULTS = 'bench/results/mutation.json';
const args = process.argv.slice(2);
const incremental = args.includes('--incremental');
const wanted = args.filter((a) => !a.startsWith('--'));
const unknown = wanted.filter((w) => !MODULES.some((m) => m.name === w));
if (unknown.length > 0) {
  console.error(
    `mutation: no module ${unknown.join(', ')}; modules: ${MODULES.map((m) => m.name).join(', ')}`,
  );
  process.exit(2);
}
const concurrency = Number(process.env.MUTATION_CONCURRENCY ?? '1');
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`mutation: MUTATION_CONCURRENCY must be a whole number >= 1, got ${concurrency}`);
  process.exit(2);
}
const modules = MODULES.filter((m) => wanted.length === 0 || wanted.includes(m.name));

interface Results {
  modules?: Record<string, number>;
  /** Per module: when it was last measured and its mutant counts by status. */
  runs?: Record<string, { date: string; seconds: number; counts: Record<string, number> }>;
}
const previous = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Results) : {};
const scores: Record<string, number> = { ...previous.modules };
const runs: NonNullable<Results['runs']> = { ...previous.runs };
mkdirSync('reports/mutation', { recursive: true });

for (const m of modules) {
  process.env.MUTATION_TESTS = m.tests.join(',');
  const stryker = new Stryker({
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner'],
    vitest: { configFile: 'bench/mutation/vitest.config.ts', related: false },
    mutate: m.mutate,
    coverageAnalysis: 'perTest',
    concurrency,
    timeoutMS: 10_000,
    reporters: ['html', 'clear-text', 'progress'],
    clearTextReporter: { reportMutants: false },
    htmlReporter: { fileName: `reports/mutation/${m.name}.html` },
    incremental,
    incrementalFile: `reports/mutation/${m.name}.incremental.json`,
    tempDirName: '.stryker-tmp',
    cleanTempDir: true,
    thresholds: { high: 80, low: 60, break: null },
  });
  const started = Date.now();
  const results = await stryker.runMutationTest();
  const count: Record<string, number> = {};
  for (const r of results) count[r.status] = (count[r.status] ?? 0) + 1;
  const survivors = results
    .filter((r) => r.status === 'Survived' || r.status === 'NoCoverage')
    .map(
      (r) =>
        `${r.fileName}:${r.location.start.line}:${r.location.start.column} ${r.mutatorName}` +
        `${r.status === 'NoCoverage' ? ' (no test runs it)' : ''}: ${(r.replacement ?? '').replace(/\s+/g, ' ')}`,
    )
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  writeFileSync(`reports/mutation/${m.name}.survivors.txt`, survivors.map((l) => `${l}\n`).join(''));
  const killed = (count.Killed ?? 0) + (count.Timeout ?? 0);
  const survived = (count.Survived ?? 0) + (count.NoCoverage ?? 0);
  scores[m.name] = Math.round((killed / Math.max(1, killed + survived)) * 1000) / 1000;
  runs[m.name] = {
    date: new Date().toISOString().slice(0, 10),
    seconds: Math.round((Date.now() - started) / 1000),
    counts: Object.fromEntries(Object.entries(count).sort(([a], [b]) => a.localeCompare(b))),
  };
  console.log(`mutation: ${m.name}: ${killed} killed, ${survived} survived, score ${scores[m.name]}`);
}

const byName = <T>(o: Record<string, T>) =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(RESULTS, `${JSON.stringify({ modules: byName(scores), runs: byName(runs) }, null, 2)}\n`);
const below = modules.filter((m) => (scores[m.name] ?? 0) < (FLOORS[m.name] ?? 0));
for (const m of below)
  console.error(`mutation: ${m.name} scores ${scores[m.name]}, below its floor ${FLOORS[m.name]}`);
process.exit(below.length > 0 ? 1 : 0);
