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
    // latch.ts is mutated with admission, against the tests that hold and release it.
    mutate: ['gateway/src/core/**/*.ts', '!gateway/src/core/index.ts', '!gateway/src/core/latch.ts'],
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
    // What crosses from the acquisition thread: a reading changed on the way is a reading altered.
    name: 'draft-pack',
    mutate: ['gateway/src/acquisition/draft-pack.ts'],
    tests: ['test/unit/acquisition/draft-pack.test.ts'],
  },
  // The store, in parts: its bookkeeping (ranges, cursors, the mark, record checks, the queue
  // of unwritten readings, the point dictionary) against the fast unit tests; the log itself,
  // retention and recovery against their own (slower) suites.
  {
    name: 'store-cursor',
    mutate: [
      'gateway/src/store/ranges.ts',
      'gateway/src/store/cursors.ts',
      'gateway/src/store/mark.ts',
      'gateway/src/store/records.ts',
      'gateway/src/store/pending.ts',
      'gateway/src/store/dictionary.ts',
    ],
    tests: [
      'test/unit/store/cursor-ranges.test.ts',
      'test/unit/store/ranges.test.ts',
      'test/unit/store/mark.test.ts',
      'test/unit/store/records-pending.test.ts',
      'test/unit/store/log.test.ts',
      'test/unit/store/log-edges.test.ts',
    ],
  },
  {
    name: 'store-log',
    mutate: ['gateway/src/store/log.ts', 'gateway/src/store/schema.ts'],
    // The full-disk and lost-WAL suites (a mounted small disk, a SIGKILLed writer) cost tens of
    // seconds a mutant; log-edges.test.ts fills a file to its hard limit and epochs.test.ts puts
    // the file behind its mark in-process instead.
    tests: [
      'test/unit/store/log.test.ts',
      'test/unit/store/log-edges.test.ts',
      'test/unit/store/open.test.ts',
      'test/unit/store/epochs.test.ts',
      'test/unit/store/log-mutants.test.ts',
    ],
  },
  {
    name: 'store-retention',
    mutate: ['gateway/src/store/retention.ts'],
    // quota-disk.test.ts writes a quarter of a million readings: too slow to meet every mutant.
    tests: [
      'test/unit/store/retention.test.ts',
      'test/unit/store/retention-edges.test.ts',
      'test/unit/store/retention-quota.test.ts',
    ],
  },
  {
    name: 'store-group',
    // The group commit's bound and end-of-turn commit (group.ts), against its unit test.
    mutate: ['gateway/src/store/group.ts'],
    tests: ['test/unit/store/group.test.ts'],
  },
  {
    name: 'store-recent',
    // The newest readings kept in memory for the uplinks' reads (recent.ts), against its own
    // unit test and the log's, which read through it.
    mutate: ['gateway/src/store/recent.ts'],
    tests: ['test/unit/store/recent.test.ts', 'test/unit/store/log.test.ts'],
  },
  {
    name: 'acquisition-admission',
    // When an overloaded gateway holds acquisition back and lets it go (admission.ts, latch.ts).
    mutate: ['gateway/src/acquisition/admission.ts', 'gateway/src/core/latch.ts'],
    tests: ['test/unit/acquisition/admission.test.ts'],
  },
  {
    name: 'store-peek',
    // check-config --plan's read-only look at a log file.
    mutate: ['gateway/src/store/peek.ts'],
    tests: ['test/unit/store/peek.test.ts'],
  },
  {
    name: 'store-recovery',
    mutate: ['gateway/src/store/recover.ts', 'gateway/src/store/salvage.ts'],
    // The end-to-end recovery (a SIGKILLed writer, the CLI as the docs show it) takes a minute
    // a mutant; salvage.test.ts damages a log in-process the same ways.
    tests: ['test/unit/store/recover.test.ts', 'test/unit/store/salvage.test.ts'],
  },
  // The MQTT uplink, in parts: what goes on the wire (records to messages, the health message)
  // against unit tests; the publisher (cursor, PUBACKs, reconnects) against the embedded broker
  // (vitest.config.ts); the contract's schemas, static and checked against docs/mqtt-schema.json.
  {
    name: 'uplink-wire',
    mutate: [
      'gateway/src/uplink/mqtt/messages.ts',
      'gateway/src/uplink/mqtt/outgoing-check.ts',
      'gateway/src/uplink/mqtt/health.ts',
    ],
    tests: ['test/unit/uplink/**/*.test.ts', 'test/integration/uplink/health.test.ts'],
  },
  {
    name: 'uplink-publisher',
    mutate: [
      'gateway/src/uplink/mqtt/publisher.ts',
      'gateway/src/uplink/mqtt/sealing.ts',
      'gateway/src/uplink/mqtt/options.ts',
    ],
    // The outage suite (a broker stopped for seconds, a quota filled) costs tens of seconds a
    // mutant, and the settings' schema builds at import, so each of its mutants would run every
    // test: both are left out (docs/testing.md); sealing.test.ts drives the sealer directly,
    // options.test.ts the options and what mqtt.js is given.
    tests: [
      'test/integration/uplink/publisher.test.ts',
      'test/integration/uplink/health.test.ts',
      'test/unit/uplink/mqtt/sealing.test.ts',
      'test/unit/uplink/mqtt/options.test.ts',
    ],
  },
  // The contract's schemas are built when contract.ts is imported, so each of their mutants
  // runs every test of its module in a fresh process: the contract meets the fast unit tests
  // only (the wire, the message size, and the published JSON Schema and AsyncAPI document, which
  // must equal what the schemas generate); the receiver its own suite on the embedded broker.
  {
    name: 'uplink-contract',
    mutate: ['gateway/src/uplink/mqtt/contract.ts'],
    tests: ['test/unit/uplink/**/*.test.ts'],
  },
  {
    name: 'uplink-receiver',
    mutate: ['gateway/src/uplink/mqtt/receiver.ts'],
    tests: [
      'test/integration/uplink/receiver.test.ts',
      'test/integration/uplink/receiver-more.test.ts',
      'test/unit/sim/platform-contract.test.ts',
    ],
  },
];
