/**
 * Readings packed for the crossing from the acquisition thread: what comes out equals what went
 * in, for every shape a draft can take, and each name crosses once.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import {
  DraftPacker,
  DraftUnpacker,
  type PackedDrafts,
} from '../../../gateway/src/acquisition/draft-pack.js';

const ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

/** `drafts` packed, posted over a real message port (buffers transferred) and unpacked. */
async function across(packer: DraftPacker, unpacker: DraftUnpacker, drafts: ReadingDraft[]) {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const { packed, transfer } = packer.pack(drafts);
  const received = new Promise<PackedDrafts>((resolve) => port2.once('message', resolve));
  port1.postMessage(packed, transfer);
  // Transferred, not copied: the sender's arrays are detached.
  expect(packed.numbers.byteLength).toBe(0);
  const got = await received;
  return { packed: got, drafts: unpacker.unpack(got) };
}

const base = { ts: 1_767_225_600_123, device: 'stack1', point: 'so2', value: 12.5, flag: 'N' as const };

const shapes: ReadingDraft[] = [
  base,
  { ...base, point: 'nox', value: -0, raw: [0x4148, 0x0000] },
  { ...base, point: 'o2', value: Number.NaN, flag: 'D', quality: ['decode_error'], raw: [0xffff, 0xffff] },
  { ...base, point: 'status', value: 'RUN', flag: 'C', quality: ['device_status'] },
  {
    ...base,
    value: null,
    flag: 'B',
    quality: ['timeout'],
    missed: { slots: 3, from: 1_767_225_599_800, periodMs: 100 },
  },
  { ...base, device: 'dust1', point: 'pm10', value: 1e300, raw: [] },
  { ...base, device: 'dust1', point: 'pm25', value: 35, missed: { slots: 1, from: 2 ** 41, periodMs: 1 } },
  // What acquisition never makes still crosses as it is: raw words that are not 16-bit, odd missed slots, an unknown flag.
  { ...base, point: 'odd', raw: [70_000, -1, 1.5] },
  { ...base, point: 'odd', missed: { slots: '2', from: 1, periodMs: 100 } as never },
  { ...base, point: 'odd', flag: 'Q' as never, value: 'x' },
];

describe('readings packed for the acquisition thread', () => {
  it('gives back every shape of draft exactly, through a real message port', async () => {
    const { drafts } = await across(new DraftPacker(), new DraftUnpacker(), shapes);
    expect(drafts).toEqual(shapes);
    // toEqual treats -0 as 0 and NaN as NaN: check both exactly, and the order of the keys.
    expect(Object.is(drafts[1]!.value, -0)).toBe(true);
    expect(Number.isNaN(drafts[2]!.value)).toBe(true);
    drafts.forEach((d, i) => expect(Object.keys(d)).toEqual(Object.keys(shapes[i]!)));
  });

  it('keeps what acquisition makes in the arrays, and only the unusual beside them', () => {
    const packer = new DraftPacker();
    const ordinary: ReadingDraft[] = [
      { ...base, raw: [0, 0xffff] },
      { ...base, flag: 'B', value: null, missed: { slots: 2, from: 1, periodMs: 100 } },
    ];
    const { packed } = packer.pack(ordinary);
    expect(packed.rare).toEqual([]);
    expect([...packed.raw]).toEqual([0, 0xffff]);
    const unusual: [ReadingDraft, unknown][] = [
      [{ ...base, raw: [0x10000] }, [0x10000]],
      [{ ...base, raw: [-1] }, [-1]],
      [{ ...base, raw: [0.5] }, [0.5]],
      // One word out of range keeps them all as given: none is cut to 16 bits.
      [{ ...base, raw: [1, 0x10000] }, [1, 0x10000]],
      [
        { ...base, missed: { slots: 1, from: '1', periodMs: 100 } as never },
        { slots: 1, from: '1', periodMs: 100 },
      ],
      [
        { ...base, missed: { slots: 1, from: 1, periodMs: '100' } as never },
        { slots: 1, from: 1, periodMs: '100' },
      ],
      [{ ...base, flag: 'Q' as never }, 'Q'],
      [{ ...base, value: '' }, ''],
    ];
    for (const [draft, aside] of unusual) {
      const one = packer.pack([draft]).packed;
      expect(one.rare, JSON.stringify(draft)).toEqual([aside]);
      // No word of it packed: the reading's count of packed raw words is 0.
      expect(one.ints[2]).toBe(0);
    }
  });

  it('gives the readings of one poll one missed-slots object, as the scheduler made them', async () => {
    const a = { slots: 3, from: 1_000, periodMs: 100 };
    const b = { slots: 3, from: 1_100, periodMs: 100 };
    // Each differs from the one before in one number alone.
    const moreSlots = { slots: 4, from: 1_100, periodMs: 100 };
    const otherPeriod = { slots: 4, from: 1_100, periodMs: 250 };
    const poll = (device: string, missed: typeof a) =>
      ['so2', 'nox'].map((point) => ({ ...base, device, point, missed }));
    const sent = [
      ...poll('d1', a),
      ...poll('d2', a),
      ...poll('d3', b),
      { ...base, device: 'd4' },
      ...poll('d5', b),
      ...poll('d6', moreSlots),
      ...poll('d7', otherPeriod),
    ];
    const { drafts } = await across(new DraftPacker(), new DraftUnpacker(), sent);
    expect(drafts).toEqual(sent);
    const m = drafts.map((d) => d.missed);
    // Equal slots are one object, across polls with the same slots and a reading without any
    // (nothing tells them apart); a change of slots makes a new one.
    expect(new Set(m.slice(0, 4)).size).toBe(1);
    expect(m[4]).toBe(m[5]);
    expect(m[4]).not.toBe(m[3]);
    expect(m[6]).toBeUndefined();
    expect(new Set([m[4], m[7], m[8]]).size).toBe(1);
    expect(new Set(m.slice(7)).size).toBe(3);
    // Never the sender's own object.
    expect(m[0]).not.toBe(a);
  });

  it('sends each device/point name once, and gives the same strings ever after', async () => {
    const packer = new DraftPacker();
    const unpacker = new DraftUnpacker();
    const first = await across(packer, unpacker, [base, { ...base, point: 'nox' }, base]);
    expect(first.packed.names).toEqual(['stack1', 'so2', 'stack1', 'nox']);
    const second = await across(packer, unpacker, [
      { ...base, point: 'nox' },
      { ...base, device: 'dust1' },
      base,
    ]);
    expect(second.packed.names).toEqual(['dust1', 'so2']);
    expect(second.drafts.map((d) => `${d.device}/${d.point}`)).toEqual([
      'stack1/nox',
      'dust1/so2',
      'stack1/so2',
    ]);
    expect(second.drafts[2]!.point).toBe(first.drafts[0]!.point);
  });

  it('packs an empty turn and a large one', async () => {
    const packer = new DraftPacker();
    const unpacker = new DraftUnpacker();
    expect((await across(packer, unpacker, [])).drafts).toEqual([]);
    const many = Array.from({ length: 5000 }, (_, i) => ({
      ...base,
      device: `d${i % 500}`,
      point: `p${i % 10}`,
      ts: base.ts + i,
      value: i / 7,
      raw: [i & 0xffff, (i * 31) & 0xffff],
    }));
    expect((await across(packer, unpacker, many)).drafts).toEqual(many);
  });
});
