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
}

export const MODULES: MutationModule[] = [
  {
    name: 'core',
    mutate: ['gateway/src/core/**/*.ts', '!gateway/src/core/index.ts'],
    tests: ['test/unit/core/**/*.test.ts'],
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
    tests: ['test/unit/store/**/*.test.ts'],
  },
  {
    name: 'uplink',
    mutate: ['gateway/src/uplink/mqtt/**/*.ts', '!gateway/src/uplink/mqtt/index.ts'],
    tests: [
      'test/integration/uplink/publisher.test.ts',
      'test/integration/uplink/receiver.test.ts',
      'test/integration/uplink/outage.test.ts',
    ],
  },
];
