import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Says once which system tools are missing (their suites are skipped), or fails under
    // LANTIAN_TEST_STRICT.
    globalSetup: ['test/helpers/tools-setup.ts'],
    // Kills a test file that blocks its worker's event loop past a limit (see the file).
    setupFiles: ['test/helpers/watchdog.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests use real sockets, ptys and brokers; two cores are all a CI machine has.
    maxWorkers: 2,
  },
});
