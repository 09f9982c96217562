/**
 * The rules of the MQTT contract that a JSON Schema cannot state, as the gateway's zod contract
 * enforces them on what it publishes: a batch's first/last/count agree with its items, which
 * ascend by seq; a gap event's payload; a blob part's index below its count; and the topics.
 */
import { describe, expect, it } from 'vitest';
import {
  aggBatchSchema,
  blobMessageSchema,
  dataBatchSchema,
  defaultTopicRoot,
  eventMessageSchema,
  topics,
} from '../../../../gateway/src/uplink/mqtt/contract.js';

const reading = (seq: number) => ({ seq, ts: 1000 + seq, device: 'd', point: 'p', value: seq, flag: 'N' });
const aggregate = (seq: number) => ({
  seq,
  device: 'd',
  point: 'p',
  period: 'minute',
  start: 60_000 * seq,
  min: 1,
  avg: 2,
  max: 3,
  count: 12,
  flag: 'N',
});
const head = (first: number, last: number, count: number) => ({
  v: 1,
  gateway: 'gw',
  lane: 'live',
  first,
  last,
  count,
});

/** The messages of the issues a refused value gives (and where), or [] when it is accepted. */
function refusals(schema: { safeParse(v: unknown): { success: boolean; error?: unknown } }, value: unknown) {
  const r = schema.safeParse(value);
  if (r.success) return [];
  return (r.error as { issues: { code: string; message: string; path: PropertyKey[] }[] }).issues.map(
    (i) => ({
      code: i.code,
      message: i.message,
      path: i.path.join('.'),
    }),
  );
}

describe('batches of readings and aggregates', () => {
  const cases: [string, typeof dataBatchSchema | typeof aggBatchSchema, (s: number) => object, string][] = [
    ['data', dataBatchSchema, reading, 'readings'],
    ['agg', aggBatchSchema, aggregate, 'aggregates'],
  ];
  for (const [name, schema, item, key] of cases) {
    const batch = (first: number, last: number, count: number, seqs: number[]) => ({
      ...head(first, last, count),
      [key]: seqs.map(item),
    });

    it(`${name}: accepts first, last and count that agree with items in ascending seq`, () => {
      expect(refusals(schema, batch(3, 9, 3, [3, 5, 9]))).toEqual([]);
      expect(refusals(schema, batch(4, 4, 1, [4]))).toEqual([]);
    });

    it(`${name}: refuses a count, a first or a last that the items do not bear out`, () => {
      expect(refusals(schema, batch(3, 9, 4, [3, 5, 9]))).toEqual([
        { code: 'custom', message: 'count does not match the items', path: '' },
      ]);
      const firstLast = [{ code: 'custom', message: 'first/last do not match the items', path: '' }];
      expect(refusals(schema, batch(2, 9, 3, [3, 5, 9]))).toEqual(firstLast);
      expect(refusals(schema, batch(3, 8, 3, [3, 5, 9]))).toEqual(firstLast);
    });

    it(`${name}: refuses an empty batch, with no item to read a seq from`, () => {
      expect(refusals(schema, batch(1, 1, 0, [])).map((i) => [i.code, i.path, i.message])).toEqual([
        ['too_small', 'count', expect.any(String)],
        ['too_small', key, expect.any(String)],
        ['custom', '', 'first/last do not match the items'],
      ]);
    });

    it(`${name}: refuses items out of seq order or repeated, once`, () => {
      const order = [{ code: 'custom', message: 'items are not in ascending seq order', path: '' }];
      expect(refusals(schema, batch(3, 9, 4, [3, 6, 5, 9]))).toEqual(order);
      expect(refusals(schema, batch(3, 9, 4, [3, 5, 5, 9]))).toEqual(order);
      expect(refusals(schema, batch(9, 3, 3, [9, 5, 3]))).toEqual(order);
    });
  }
});

describe('events', () => {
  const event = (kind: string, payload: unknown) => ({
    v: 1,
    gateway: 'gw',
    lane: 'live',
    seq: 7,
    ts: 1,
    kind,
    payload,
  });
  const gap = {
    from: 2,
    to: 5,
    count: 3,
    reason: 'quota',
    kinds: ['reading', 'event', 'aggregate', 'blob'],
    uplinks: ['mqtt'],
  };

  it('checks the payload of a gap event, every record kind allowed', () => {
    expect(refusals(eventMessageSchema, event('gap', gap))).toEqual([]);
    for (const kind of ['reading', 'event', 'aggregate', 'blob'])
      expect(refusals(eventMessageSchema, event('gap', { ...gap, kinds: [kind] })), kind).toEqual([]);
    const bad = [{ code: 'custom', message: 'gap payload is not valid', path: 'payload' }];
    expect(refusals(eventMessageSchema, event('gap', { ...gap, reason: 'age' }))).toEqual(bad);
    expect(refusals(eventMessageSchema, event('gap', { ...gap, kinds: ['snapshot'] }))).toEqual(bad);
    expect(refusals(eventMessageSchema, event('gap', { from: 2 }))).toEqual(bad);
  });

  it('leaves the payload of other kinds to them', () => {
    expect(refusals(eventMessageSchema, event('exceedance', { anything: [1, 2] }))).toEqual([]);
    expect(refusals(eventMessageSchema, event('gaps', { from: 2 }))).toEqual([]);
  });
});

describe('blob parts', () => {
  const sha256 = 'a'.repeat(64);
  const blob = (index: number, count: number) => ({
    v: 1,
    gateway: 'gw',
    lane: 'live',
    seq: 9,
    ts: 1,
    kind: 'snapshot',
    contentType: 'image/jpeg',
    chunk: { index, count, size: 100, sha256 },
    data: 'AAAA',
  });

  it('accepts a part below its count and refuses one at or past it', () => {
    expect(refusals(blobMessageSchema, blob(0, 2))).toEqual([]);
    expect(refusals(blobMessageSchema, blob(1, 2))).toEqual([]);
    const bad = [{ code: 'custom', message: 'chunk.index must be below chunk.count', path: 'chunk' }];
    expect(refusals(blobMessageSchema, blob(2, 2))).toEqual(bad);
    expect(refusals(blobMessageSchema, blob(3, 2))).toEqual(bad);
  });
});

describe('topics', () => {
  it('puts every topic under the root, with or without its trailing slash', () => {
    const expected = {
      state: 'site/gw/state',
      data: 'site/gw/data',
      agg: 'site/gw/agg',
      events: 'site/gw/events',
      health: 'site/gw/health',
      all: 'site/gw/#',
    };
    for (const root of ['site/gw', 'site/gw/']) {
      const t = topics(root);
      expect(t).toMatchObject(expected);
      expect(t.blob('snapshot')).toBe('site/gw/blob/snapshot');
    }
    expect(topics('/x').data).toBe('/x/data');
  });

  it('roots a gateway under the contract version by default', () => {
    expect(defaultTopicRoot('gw-7')).toBe('lantian/v1/gw-7/');
  });
});
