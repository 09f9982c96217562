import fc from 'fast-check';
import { createRequire } from 'node:module';
import { runInThisContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { FLAG_PRECEDENCE } from '../../../../gateway/src/core/flags.js';
import {
  aggBatchSchema,
  dataBatchSchema,
  eventMessageSchema,
  topics,
} from '../../../../gateway/src/uplink/mqtt/contract.js';
import { toMessages } from '../../../../gateway/src/uplink/mqtt/messages.js';
import { batchChecks, outgoingCheck } from '../../../../gateway/src/uplink/mqtt/outgoing-check.js';
import {
  batchValidators,
  batchValidatorsSource,
  type BatchValidators,
} from '../../../../gateway/src/uplink/mqtt/outgoing-validators.js';
import { isLantianError } from '../../../../gateway/src/core/errors.js';

const reading = fc.record(
  {
    seq: fc.integer({ min: 1, max: 1_000_000 }),
    ts: fc.integer({ min: 0, max: 2 ** 45 }),
    device: fc.constantFrom('stack1', 'dust-a'),
    point: fc.constantFrom('so2', 'pm10'),
    value: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.constant(null)),
    flag: fc.constantFrom(...FLAG_PRECEDENCE),
    quality: fc.array(fc.constantFrom('timeout', 'spike', 'overrun')),
    raw: fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 4 }),
    missed: fc.record({
      slots: fc.integer({ min: 1, max: 50 }),
      from: fc.integer({ min: 0, max: 2 ** 45 }),
      periodMs: fc.integer({ min: 1, max: 60_000 }),
    }),
  },
  { requiredKeys: ['seq', 'ts', 'device', 'point', 'value', 'flag'] },
);

/** A batch that keeps the contract: seqs ascending, first/last/count from its readings. */
const goodBatch = fc.array(reading, { minLength: 1, maxLength: 6 }).map((rs) => {
  let seq = 0;
  const readings = rs.map((r) => ({ ...r, seq: (seq += r.seq) }));
  return {
    v: 1,
    gateway: 'gw-1',
    lane: 'live',
    first: readings[0]!.seq,
    last: readings.at(-1)!.seq,
    count: readings.length,
    readings,
  };
});

/** Values a field may be broken with: wrong types, non-finite and fractional numbers, extras. */
const junk = fc.oneof(
  fc.constantFrom(
    Number.NaN,
    Infinity,
    -Infinity,
    -1,
    0,
    1.5,
    2 ** 60,
    '',
    'x',
    true,
    null,
    [],
    {},
    [1],
    undefined,
  ),
  fc.constantFrom('live', 'replay', 'N', 'Z', 70000, -3),
);

/** A copy of `batch` with one field (top level, of a reading, or of a reading's `missed`) broken. */
function broken(batch: Record<string, unknown>, where: number, key: string, value: unknown): unknown {
  const copy = structuredClone(batch) as Record<string, unknown> & { readings: Record<string, unknown>[] };
  const target =
    where === 0
      ? copy
      : where === 1
        ? copy.readings[0]!
        : ((copy.readings[0]!.missed ??= { slots: 1, from: 0, periodMs: 1 }) as Record<string, unknown>);
  if (value === undefined) delete target[key];
  else target[key] = value;
  return copy;
}

const keys = [
  ['v', 'gateway', 'lane', 'first', 'last', 'count', 'readings', 'extra'],
  ['seq', 'ts', 'device', 'point', 'value', 'flag', 'quality', 'raw', 'missed', 'extra'],
  ['slots', 'from', 'periodMs', 'extra'],
];

/**
 * The checks as the bundle has them: ajv's standalone code, generated as gateway/build.ts does
 * (CommonJS here, an ES module there: only the export lines differ) and loaded as a module.
 */
function aheadOfTime(): BatchValidators {
  const module = { exports: {} as BatchValidators };
  const load = runInThisContext(`(function (module, exports, require) {${batchValidatorsSource('cjs')}\n})`, {
    filename: 'outgoing-validators.cjs',
  }) as (m: typeof module, e: BatchValidators, r: NodeJS.Require) => void;
  load(module, module.exports, createRequire(import.meta.url));
  return module.exports;
}

const compiledWays = [
  ["compiled in the process (tsc's files)", batchValidators],
  ['compiled ahead, as in the bundle', aheadOfTime],
] as const;

it('the ahead-compiled checks are plain code: no ajv compiler behind them', () => {
  const source = batchValidatorsSource('esm');
  expect(source).toMatch(/^"use strict";/);
  expect(source).toMatch(/export const readings = /);
  expect(source).toMatch(/export const aggregates = /);
  // Only ajv's small run-time helpers are required, never the compiler.
  for (const required of source.match(/require\("[^"]+"\)/g) ?? [])
    expect(required).toMatch(/^require\("ajv\/dist\/runtime\//);
});

describe.each(compiledWays)('the outgoing check of data batches, %s', (_way, validators) => {
  const problem = batchChecks(validators()).readings;
  const check = (v: unknown) => problem(v) === undefined;

  it('accepts every batch zod accepts', () => {
    fc.assert(
      fc.property(goodBatch, (b) => {
        expect(dataBatchSchema.safeParse(b).success).toBe(true);
        expect(check(b)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same verdict as zod for batches with one field broken', () => {
    let refused = 0;
    let runs = 0;
    fc.assert(
      fc.property(goodBatch, fc.integer({ min: 0, max: 2 }), fc.nat(), junk, (b, where, k, value) => {
        const bad = broken(b, where, keys[where]![k % keys[where]!.length]!, value);
        const zod = dataBatchSchema.safeParse(bad).success;
        expect(check(bad)).toBe(zod);
        runs++;
        if (!zod) refused++;
      }),
      { numRuns: 2000 },
    );
    // Both verdicts were exercised, the refusals most.
    expect(refused).toBeGreaterThan(runs / 2);
    expect(refused).toBeLessThan(runs);
  });

  it('refuses what only the batch rule catches: count, first/last and order', () => {
    const b = {
      v: 1,
      gateway: 'gw-1',
      lane: 'live',
      first: 5,
      last: 9,
      count: 2,
      readings: [
        { seq: 5, ts: 1, device: 'd', point: 'p', value: 1, flag: 'N' },
        { seq: 9, ts: 1, device: 'd', point: 'p', value: 2, flag: 'N' },
      ],
    };
    expect(check(b)).toBe(true);
    expect(problem({ ...b, count: 3 })).toBe('count does not match the items');
    expect(check({ ...b, last: 8 })).toBe(false);
    expect(problem({ ...b, first: 9, last: 5, readings: [...b.readings].reverse() })).toBe(
      'items are not in ascending seq order',
    );
  });
});

it('the outgoing check is used for data and agg batches only', () => {
  expect(outgoingCheck(dataBatchSchema)).toBeDefined();
  expect(outgoingCheck(aggBatchSchema)).toBeDefined();
  expect(outgoingCheck(eventMessageSchema)).toBeUndefined();
});

describe.each(compiledWays)('the outgoing check of aggregate batches, %s', (_way, validators) => {
  const problem = batchChecks(validators()).aggregates;
  const check = (v: unknown) => problem(v) === undefined;
  const agg = {
    seq: 3,
    device: 'stack1',
    point: 'so2',
    period: 'hour',
    start: 3_600_000,
    min: 1,
    avg: 2,
    max: 3,
    count: 60,
    flag: 'N',
    zsAvg: null,
    derivation: { conversions: ['o2'], inputs: { o2: 8.1 } },
  };
  const batch = { v: 1, gateway: 'g', lane: 'replay', first: 3, last: 3, count: 1, aggregates: [agg] };

  it('gives the same verdict as zod, field by field', () => {
    const cases: unknown[] = [batch];
    for (const [k, v] of [
      ['period', 'week'],
      ['count', -1],
      ['avg', Number.NaN],
      ['zsAvg', 'x'],
      ['derivation', { conversions: [], inputs: { o2: 'high' } }],
      ['extra', 1],
      ['flag', 'Q'],
    ] as const)
      cases.push({ ...batch, aggregates: [{ ...agg, [k]: v }] });
    cases.push({ ...batch, aggregates: [] }, { ...batch, lane: 'late' });
    for (const c of cases) expect(check(c)).toBe(aggBatchSchema.safeParse(c).success);
    expect(cases.filter((c) => check(c))).toHaveLength(1);
  });
});

describe('an outgoing batch that breaks the contract', () => {
  it('is refused with UPLINK_PAYLOAD_INVALID naming the topic, never sent', () => {
    const bad = {
      type: 'reading' as const,
      seq: 1,
      ts: Number.NaN,
      device: 'stack1',
      point: 'so2',
      value: 1,
      flag: 'N' as const,
    };
    let err: unknown;
    try {
      toMessages([bad], 'live', 'gw-1', topics('lantian/v1/gw-1'), true);
    } catch (e) {
      err = e;
    }
    expect(isLantianError(err) && err.code).toBe('UPLINK_PAYLOAD_INVALID');
    expect(String((err as Error).message)).toContain('lantian/v1/gw-1/data');
    // Without the check the same record goes out (the option turns it off).
    expect(toMessages([bad], 'live', 'gw-1', topics('lantian/v1/gw-1'), false)).toHaveLength(1);
  });
});
