/**
 * `npm run mutation [-- module ...] [--incremental]`: mutation testing with Stryker over the
 * modules in modules.ts, one module at a time, each against its own fast tests. Writes an HTML
 * report per module (reports/mutation/<module>.html, not committed) and the scores to
 * bench/results/mutation.json as `{"modules": {"core": 0.91, ...}}`, where a module's score is
 * killed / (killed + survived): a mutant a test stopped by timing out counts as killed, one no
 * test covers as survived. Exits 1 when a module scores below its floor (FLOORS).
 * `--incremental` reuses the results of mutants whose code and tests did not change since the
 * last run on this machine (reports/mutation/<module>.incremental.json).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Stryker } from '@stryker-mutator/core';
import { MODULES } from './modules.js';

/** The lowest score each module may have; below it the run fails (docs/testing.md). */
export const FLOORS: Record<string, number> = {
  core: 0.6,
  planner: 0.8,
  decode: 0.8,
  store: 0.6,
  uplink: 0.5,
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
const modules = MODULES.filter((m) => wanted.length === 0 || wanted.includes(m.name));

const previous = existsSync(RESULTS)
  ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as { modules?: Record<string, number> })
  : {};
const scores: Record<string, number> = { ...previous.modules };
const detail: Record<string, Record<string, number>> = {};
mkdirSync('reports/mutation', { recursive: true });

for (const m of modules) {
  process.env.MUTATION_TESTS = m.tests.join(',');
  const stryker = new Stryker({
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner'],
    vitest: { configFile: 'bench/mutation/vitest.config.ts', related: false },
    mutate: m.mutate,
    coverageAnalysis: 'perTest',
    concurrency: 2,
    timeoutMS: 10_000,
    reporters: ['html', 'clear-text', 'progress'],
    htmlReporter: { fileName: `reports/mutation/${m.name}.html` },
    incremental,
    incrementalFile: `reports/mutation/${m.name}.incremental.json`,
    tempDirName: '.stryker-tmp',
    cleanTempDir: true,
    thresholds: { high: 80, low: 60, break: null },
  });
  const results = await stryker.runMutationTest();
  const count: Record<string, number> = {};
  for (const r of results) count[r.status] = (count[r.status] ?? 0) + 1;
  const killed = (count.Killed ?? 0) + (count.Timeout ?? 0);
  const survived = (count.Survived ?? 0) + (count.NoCoverage ?? 0);
  scores[m.name] = Math.round((killed / Math.max(1, killed + survived)) * 1000) / 1000;
  detail[m.name] = count;
  console.log(`mutation: ${m.name}: ${killed} killed, ${survived} survived, score ${scores[m.name]}`);
}

const sorted = Object.fromEntries(Object.entries(scores).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(RESULTS, `${JSON.stringify({ modules: sorted }, null, 2)}\n`);
console.log(`mutation: ${JSON.stringify(detail)}`);
const below = modules.filter((m) => (scores[m.name] ?? 0) < (FLOORS[m.name] ?? 0));
for (const m of below)
  console.error(`mutation: ${m.name} scores ${scores[m.name]}, below its floor ${FLOORS[m.name]}`);
process.exit(below.length > 0 ? 1 : 0);
