/**
 * The platform witness's own reading of the contract: sequence ranges, and payloads checked
 * against docs/mqtt-schema.json with ajv plus the batch rules the schema cannot state.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContractReader, SeqSet } from '../../../hardware-sim/src/platform/index.js';

const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const reading = (seq: number) => ({
  seq,
  ts: 1_700_000_000_000 + seq,
  device: 'd',
  point: 'p',
  value: seq,
  flag: 'N',
});
const batch = (seqs: number[]) => ({
  v: 1,
  gateway: 'gw',
  lane: 'live',
  first: seqs[0],
  last: seqs.at(-1),
  count: seqs.length,
  readings: seqs.map(reading),
});

describe('SeqSet', () => {
  it('holds what a plain set of numbers holds, and reports the same missing ranges', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 12 }))),
        fc.integer({ min: 1, max: 220 }),
        fc.integer({ min: 0, max: 60 }),
        (adds, from, span) => {
          const set = new SeqSet();
          const plain = new Set<number>();
          for (const [a, n] of adds) {
            let fresh = 0;
            for (let s = a; s <= a + n; s++) if (!plain.has(s) && plain.add(s)) fresh++;
            expect(set.add(a, a + n)).toBe(fresh);
          }
          expect(set.size).toBe(plain.size);
          expect(set.last()).toBe(plain.size === 0 ? 0 : Math.max(...plain));
          for (let s = 0; s <= 215; s++) expect(set.has(s), `has ${s}`).toBe(plain.has(s));
          const missing: number[] = [];
          for (let s = from; s <= from + span; s++) if (!plain.has(s)) missing.push(s);
          expect(
            set
              .missingIn(from, from + span)
              .flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i)),
          ).toEqual(missing);
          // Ranges stay sorted, disjoint and apart (touching ranges are merged).
          const r = set.toArray();
          for (let i = 1; i < r.length; i++) expect(r[i]![0]).toBeGreaterThan(r[i - 1]![1] + 1);
        },
      ),
    );
  });
});

describe('the platform reading the contract', () => {
  const contract = new ContractReader();

  it('takes a data batch as its seqs and readings, quality and raw included', () => {
    const body = batch([3, 4, 9]);
    body.readings[1] = { ...reading(4), flag: 'B', value: null, quality: ['timeout'] } as never;
    body.readings[2] = { ...reading(9), raw: [0x420e, 0] } as never;
    const m = contract.read('data', json(body));
    expect(m).toMatchObject({ topic: 'data', lane: 'live', seqs: [3, 4, 9] });
    expect(m.topic === 'data' && m.readings).toEqual(body.readings);
  });

  it.each([
    ['count that disagrees with the items', { ...batch([1, 2]), count: 3 }, /count 3 but 2 items/],
    ['first/last that disagree', { ...batch([1, 2]), last: 5 }, /first\/last/],
    ['seqs out of order', { ...batch([2, 1]), first: 2, last: 1 }, /ascending/],
    ['an unknown flag', { ...batch([1]), readings: [{ ...reading(1), flag: 'X' }] }, /flag/],
    ['a register word above 0xFFFF', { ...batch([1]), readings: [{ ...reading(1), raw: [65536] }] }, /raw/],
    ['a field the contract lacks', { ...batch([1]), extra: 1 }, /additional/],
    ['another contract version', { ...batch([1]), v: 2 }, /\/v/],
  ])('refuses a batch with %s', (_what, body, why) => {
    const m = contract.read('data', json(body));
    expect(m.topic).toBe('invalid');
    expect(m.topic === 'invalid' && m.why).toMatch(why);
  });

  it('refuses what is not JSON and ignores topics outside the contract', () => {
    expect(contract.read('data', Buffer.from('not json'))).toEqual({
      topic: 'invalid',
      why: 'data: not JSON',
    });
    expect(contract.read('cmd/reboot', json({}))).toEqual({ topic: 'other' });
  });

  it('reads a gap event with its range and reason, and refuses a gap without a valid range', () => {
    const gap = { from: 5, to: 9, count: 5, reason: 'quota', kinds: ['reading'], uplinks: ['mqtt'] };
    const event = { v: 1, gateway: 'gw', lane: 'replay', seq: 10, ts: 1, kind: 'gap', payload: gap };
    expect(contract.read('events', json(event))).toMatchObject({ topic: 'events', seqs: [10], gap });
    const bad = contract.read('events', json({ ...event, payload: { ...gap, from: 9, to: 5 } }));
    expect(bad).toEqual({ topic: 'invalid', why: 'events: gap range is not from <= to' });
  });
});

describe('the simulator as an independent witness', () => {
  const root = fileURLToPath(new URL('../../../hardware-sim/src', import.meta.url));
  const sources = (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ file: f, text: readFileSync(join(root, f), 'utf8') }));
  const gatewayImports = (text: string) =>
    [...text.matchAll(/from '((?:\.\.\/)+gateway\/src\/[^']+)'/g)].map((m) => m[1]!);

  it('uses only the core vocabulary and the profile data of the gateway, never its wire, decode or uplink code', () => {
    expect(sources.length).toBeGreaterThan(20);
    for (const { file, text } of sources)
      for (const spec of gatewayImports(text))
        expect(spec, file).toMatch(/\/gateway\/src\/(core|profiles)\//);
  });

  it('plays the platform without any gateway code at all', () => {
    const platform = sources.filter((s) => s.file.startsWith('platform/'));
    expect(platform.map((s) => s.file).sort()).toContain('platform/witness.ts');
    for (const { file, text } of platform) expect(gatewayImports(text), file).toEqual([]);
  });
});
