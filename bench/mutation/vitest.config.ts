/**
 * The vitest config Stryker runs each module's tests with: the module's own test files only
 * (MUTATION_TESTS, comma-separated globs; set by bench/mutation/run.ts).
 */
import { defineConfig } from 'vitest/config';

const include = (process.env.MUTATION_TESTS ?? '').split(',').filter(Boolean);
if (include.length === 0) throw new Error('MUTATION_TESTS names no test files');

export default defineConfig({
  test: {
    include,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
    // The MQTT suites on the embedded broker only: each mutant meets them once, not twice.
    env: { LANTIAN_TEST_BROKERS: 'aedes' },
  },
});
