import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests use real sockets, ptys and brokers; two cores are all a CI machine has.
    maxWorkers: 2,
  },
});
