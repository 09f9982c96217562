/**
 * The modules mutation testing covers (the ones that carry the project's promises) and, for each,
 * the fast unit and integration tests that cover it: a mutant is tried against those only, so a
 * module's run fits a 2-core machine.
 */
export interface MutationModule {
  name: string;
  /** Source files to mutate. */
  mutate: string[];
  /** Test files run against each mutant (vitest include globs). */
  tests: string[];
  /** Test files left out of `tests` (slow ones whose mutants others kill too). */
  exclude?: string[];
}

export const MODULES: MutationModule[] = [
  {
    name: 'core',
    mutate: ['gateway/src/core/**/*.ts', '!gateway/src/core/index.ts'],
    // yaml.ts (positions in YAML files) is exercised by the loaders that report them.
    tests: [
      'test/unit/core/**/*.test.ts',
      'test/unit/profiles/loader.test.ts',
      'test/unit/config/loader.test.ts',
    ],
  },
  {
    name: 'planner',
    mutate: ['gateway/src/acquisition/planner.ts'],
    tests: ['test/unit/acquisition/planner.test.ts'],
  },
  {
    name: 'decode',
    mutate: ['gateway/src/acquisition/decode.ts'],
    tests: ['test/unit/acquisition/decode.test.ts', 'test/unit/acquisition/examples.test.ts'],
  },
  {
    name: 'store',
    mutate: ['gateway/src/store/**/*.ts', '!gateway/src/store/index.ts'],
    tests: [
      'test/unit/store/**/*.test.ts',
      'test/integration/store/full-disk.test.ts',
      'test/integration/store/lost-wal.test.ts',
    ],
    // The quota-on-disk bursts take seconds per run; retention.test.ts covers the same code.
    exclude: ['test/unit/store/quota-disk.test.ts'],
  },
  {
    // The MQTT uplink (publisher, cursor, health, contract); its suites run on the embedded
    // broker only here (vitest.config.ts). The generator write-schema.ts is checked by CI's diff.
    name: 'uplink-mqtt',
    mutate: [
      'gateway/src/uplink/mqtt/**/*.ts',
      '!gateway/src/uplink/mqtt/index.ts',
      '!gateway/src/uplink/mqtt/write-schema.ts',
    ],
    tests: [
      'test/unit/uplink/**/*.test.ts',
      'test/integration/uplink/publisher.test.ts',
      'test/integration/uplink/receiver.test.ts',
      'test/integration/uplink/health.test.ts',
      'test/integration/uplink/outage.test.ts',
    ],
  },
];
