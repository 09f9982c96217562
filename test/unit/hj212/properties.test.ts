/**
 * Properties of the codec: what is built parses back to the same fields, a single corrupted
 * byte never passes as a different packet, any split reassembles, and the stream parser never
 * throws and never loses a good frame behind garbage or a truncated one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildFrame,
  FrameStream,
  joinParts,
  makeFlag,
  MAX_SEGMENT_BYTES,
  parseFrame,
  segmentBytes,
  sm4Key,
  splitPacket,
  type Packet,
} from '../../../gateway/src/uplink/hj212/index.js';
import { isLantianError } from '../../../gateway/src/core/errors.js';

const digits = (n: number) => fc.stringMatching(new RegExp(`^[0-9]{${n}}$`));
const field = fc.record({
  name: fc.stringMatching(/^[a-z][0-9]{5}-(Rtd|Avg|Min|Max|Flag|Info)$/),
  value: fc.stringMatching(/^[0-9A-Za-z.\- 数采仪]{0,10}$/).map((s) => s.trim()),
});
const item = fc.array(field, { minLength: 1, maxLength: 4 });

const packet = (maxItems: number) =>
  fc
    .record({
      qn: digits(17),
      st: fc.constantFrom('31', '39', '22', '91'),
      cn: digits(4),
      pw: fc.stringMatching(/^[0-9A-Za-z]{6}$/),
      mn: fc.stringMatching(/^[0-9A-F]{1,24}$/),
      edition: fc.constantFrom(2017 as const, 2025 as const),
      answer: fc.boolean(),
      rf: fc.boolean(),
      cp: fc.array(item, { maxLength: maxItems }),
    })
    .map(({ edition, answer, rf, ...p }): Packet => ({
      ...p,
      flag: makeFlag(edition, { answer }),
      ...(rf && edition === 2025 ? { rf: true } : {}),
    }));

const fitting = packet(12).filter((p) => segmentBytes(p) <= MAX_SEGMENT_BYTES);

describe('codec properties', () => {
  it('build then parse gives the same fields', () => {
    fc.assert(
      fc.property(fitting, (p) => {
        expect(parseFrame(buildFrame(p)).packet).toEqual(p);
      }),
      { numRuns: 300 },
    );
  });

  it('build then parse gives the same fields through SM4', () => {
    const key = sm4Key('0123456789ABCDEF');
    const ascii = fitting.filter(
      (p) => Buffer.byteLength(JSON.stringify(p.cp)) === JSON.stringify(p.cp).length,
    );
    fc.assert(
      fc.property(ascii, (p) => {
        const q = { ...p, cn: '2011' };
        expect(parseFrame(buildFrame(q, { sm4Key: key }), { sm4Key: key }).packet).toEqual(q);
      }),
      { numRuns: 100 },
    );
  });

  it('any single corrupted byte is rejected or leaves the packet as it was', () => {
    fc.assert(
      fc.property(fitting, fc.nat(), fc.integer({ min: 1, max: 255 }), (p, at, delta) => {
        const bytes = Buffer.from(buildFrame(p), 'utf8');
        const i = at % bytes.length;
        bytes[i] = (bytes[i]! + delta) & 0xff;
        let parsed: Packet | undefined;
        try {
          parsed = parseFrame(bytes).packet;
        } catch (e) {
          expect(isLantianError(e) && e.code.startsWith('HJ212_')).toBe(true);
          return;
        }
        // Only changes that keep the meaning pass: CRC case, trailing whitespace after the CRC.
        expect(parsed).toEqual(p);
      }),
      { numRuns: 2000 },
    );
  });

  it('any long packet splits into parts of at most 1024 bytes that reassemble', () => {
    fc.assert(
      fc.property(packet(60), fc.integer({ min: 200, max: 1024 }), (p, max) => {
        let n = 0;
        let parts: Packet[];
        try {
          parts = splitPacket(p, () => `2099010100000${String(++n).padStart(4, '0')}`, max);
        } catch (e) {
          // Only when one item alone cannot fit the budget.
          expect(isLantianError(e, 'HJ212_BUILD')).toBe(true);
          return;
        }
        const parsed = parts.map((part) => {
          const frame = buildFrame(part);
          expect(Number(frame.slice(2, 6))).toBeLessThanOrEqual(max);
          return parseFrame(frame).packet;
        });
        expect(new Set(parsed.map((x) => x.qn)).size).toBe(parsed.length);
        expect(parts.length === 1 ? parsed[0] : joinParts(parsed)).toEqual(p);
      }),
      { numRuns: 150 },
    );
  });
});

describe('stream parser', () => {
  const frames = fc.array(
    fitting.map((p) => buildFrame(p)),
    { minLength: 1, maxLength: 5 },
  );

  it('reassembles frames cut at any chunk boundaries', () => {
    fc.assert(
      fc.property(frames, fc.array(fc.nat(), { maxLength: 12 }), (list, cuts) => {
        const all = Buffer.from(list.join(''), 'utf8');
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
        const s = new FrameStream();
        const got: string[] = [];
        let from = 0;
        for (const to of [...points, all.length]) {
          for (const it of s.push(all.subarray(from, to))) {
            expect(it.ok).toBe(true);
            if (it.ok) got.push(it.raw);
          }
          from = to;
        }
        expect(got).toEqual(list);
        expect(s.pending).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on random bytes and never loses the next good frame (fuzz)', () => {
    const noise = fc.oneof(
      fc.uint8Array({ maxLength: 60 }),
      // Truncated or length-lying frames, and bytes that look like a frame start.
      fitting.chain((p) => {
        const f = buildFrame(p);
        return fc.oneof(
          fc.nat({ max: f.length - 1 }).map((n) => Buffer.from(f.slice(0, n))),
          fc.constant(Buffer.from(f.replace(/^##\d{4}/, '##9999'))),
          fc.constant(Buffer.from(f.replace(/^##\d{4}/, '##0001'))),
        );
      }),
      fc.constantFrom(Buffer.from('##'), Buffer.from('#'), Buffer.from('\r\n'), Buffer.from('##12')),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            noise,
            fitting.map((p) => buildFrame(p)),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        fc.integer({ min: 1, max: 97 }),
        (pairs, chunk) => {
          const all = Buffer.concat(pairs.flatMap(([n, f]) => [n, Buffer.from(f)]));
          const s = new FrameStream();
          const good: string[] = [];
          for (let i = 0; i < all.length; i += chunk) {
            for (const it of s.push(all.subarray(i, i + chunk))) if (it.ok) good.push(it.raw);
          }
          const expected = pairs.map(([, f]) => f);
          // Noise may by chance form a valid frame of its own; every good frame is there, in order.
          const found = expected.filter((f) => good.includes(f));
          expect(found).toEqual(expected);
          let at = -1;
          for (const f of expected) {
            const j = good.indexOf(f, at + 1);
            expect(j).toBeGreaterThan(at);
            at = j;
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('reports garbage and a lying length with coded errors, then carries on', () => {
    const good =
      '##0087QN=20240601101000123;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&5CC0\r\n';
    const s = new FrameStream();
    const out = s.push(
      Buffer.from(`xx\x00\xff${good.replace('##0087', '##0099')}${good.slice(0, 30)}${good}`),
    );
    expect(out.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual([
      'HJ212_FRAME',
      'HJ212_LENGTH',
      'HJ212_LENGTH',
      'ok',
    ]);
  });
});
