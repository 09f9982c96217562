/**
 * Readings crossing from the acquisition thread to the main thread, packed into typed arrays that
 * are transferred, not copied, and each `device/point` name sent once.
 *
 * Posted as plain objects, every reading was cloned field by field on one side and rebuilt on the
 * other: ten or so objects and strings per reading for V8's serializer and deserializer, and the
 * main thread (the gateway's limit at high rates) paid for the rebuilding and for hashing a fresh
 * device and point string at every lookup. Packed, a reading is five numbers, three integers and
 * its raw words; names travel once per thread and are the same strings ever after. What is rare
 * (a value that is not a number, quality reasons, raw words that are not 16-bit, a flag outside
 * the known set) goes beside the arrays as it is. Unpacking gives back drafts equal to those packed
 * (test/unit/acquisition/draft-pack.test.ts).
 */
import { FLAG_PRECEDENCE, type Flag } from '../core/flags.js';
import { sameOrNewMissed, type MissedSlots, type Quality, type ReadingDraft } from '../core/reading.js';

/** One message of packed readings. */
export interface PackedDrafts {
  count: number;
  /** Names first used in this message, device and point in turn, numbered on from those before. */
  names: string[];
  /** Per reading: ts, value (when a number), missed slots, first missed due time, their period. */
  numbers: Float64Array;
  /**
   * Per reading: name number; flag index | value kind << 8 | quality << 10 | raw kind << 11 |
   * missed kind << 13; raw words.
   */
  ints: Uint32Array;
  raw: Uint16Array;
  /**
   * In order: unknown flags, values that are not numbers, quality lists, raw words that are not
   * 16-bit, missed slots that are not three numbers; each as given.
   */
  rare: unknown[];
}

const NUMBERS = 5;
const INTS = 3;
const FLAG_MASK = 0xff;
/** Flag index of a flag not in FLAG_PRECEDENCE: the flag itself is in `rare`. */
const RARE_FLAG = FLAG_MASK;
/** Where the kinds sit in a reading's bits, above the flag index; each kind is two bits. */
const VALUE_SHIFT = 8;
const HAS_QUALITY = 1 << 10;
const RAW_SHIFT = 11;
const MISSED_SHIFT = 13;
const VALUE_NUMBER = 0;
const VALUE_NULL = 1;
const VALUE_RARE = 2;
const RAW_PACKED = 1;
const RAW_RARE = 2;
const MISSED_PACKED = 1;
const MISSED_RARE = 2;

const isWord = (w: unknown): boolean => Number.isInteger(w) && (w as number) >= 0 && (w as number) <= 0xffff;

/** The worker's side: numbers each name the first time it goes out. */
export class DraftPacker {
  private readonly numbers = new Map<string, Map<string, number>>();
  private known = 0;

  /** `drafts` packed; `transfer` lists the buffers to hand over with postMessage. */
  pack(drafts: readonly ReadingDraft[]): { packed: PackedDrafts; transfer: ArrayBuffer[] } {
    const count = drafts.length;
    const numbers = new Float64Array(count * NUMBERS);
    const ints = new Uint32Array(count * INTS);
    // Room for every raw word; those kept beside the arrays leave theirs unused.
    let words = 0;
    for (const d of drafts) words += d.raw?.length ?? 0;
    const raw = new Uint16Array(words);
    const names: string[] = [];
    const rare: unknown[] = [];
    let w = 0;
    for (let i = 0; i < count; i++) {
      const d = drafts[i]!;
      const n = i * NUMBERS;
      numbers[n] = d.ts;
      let bits = FLAG_PRECEDENCE.indexOf(d.flag);
      if (bits < 0) {
        bits = RARE_FLAG;
        rare.push(d.flag);
      }
      if (typeof d.value === 'number') numbers[n + 1] = d.value;
      else if (d.value === null) bits |= VALUE_NULL << VALUE_SHIFT;
      else {
        bits |= VALUE_RARE << VALUE_SHIFT;
        rare.push(d.value);
      }
      if (d.quality !== undefined) {
        bits |= HAS_QUALITY;
        rare.push(d.quality);
      }
      let rawWords = 0;
      if (d.raw !== undefined) {
        if (d.raw.every(isWord)) {
          bits |= RAW_PACKED << RAW_SHIFT;
          raw.set(d.raw, w);
          w += d.raw.length;
          rawWords = d.raw.length;
        } else {
          bits |= RAW_RARE << RAW_SHIFT;
          rare.push(d.raw);
        }
      }
      const m = d.missed;
      if (m !== undefined) {
        if (typeof m.slots === 'number' && typeof m.from === 'number' && typeof m.periodMs === 'number') {
          bits |= MISSED_PACKED << MISSED_SHIFT;
          numbers[n + 2] = m.slots;
          numbers[n + 3] = m.from;
          numbers[n + 4] = m.periodMs;
        } else {
          bits |= MISSED_RARE << MISSED_SHIFT;
          rare.push(m);
        }
      }
      const k = i * INTS;
      ints[k] = this.number(d.device, d.point, names);
      ints[k + 1] = bits;
      ints[k + 2] = rawWords;
    }
    return {
      packed: { count, names, numbers, ints, raw, rare },
      transfer: [numbers.buffer, ints.buffer, raw.buffer] as ArrayBuffer[],
    };
  }

  private number(device: string, point: string, names: string[]): number {
    let points = this.numbers.get(device);
    if (!points) this.numbers.set(device, (points = new Map<string, number>()));
    let n = points.get(point);
    if (n === undefined) {
      points.set(point, (n = this.known++));
      names.push(device, point);
    }
    return n;
  }
}

/** The main thread's side: the names of one worker, in the order it numbered them. */
export class DraftUnpacker {
  private readonly devices: string[] = [];
  private readonly points: string[] = [];

  unpack(p: PackedDrafts): ReadingDraft[] {
    for (let i = 0; i < p.names.length; i += 2) {
      this.devices.push(p.names[i]!);
      this.points.push(p.names[i + 1]!);
    }
    const out = new Array<ReadingDraft>(p.count);
    let r = 0;
    let w = 0;
    let missed: MissedSlots | undefined;
    for (let i = 0; i < p.count; i++) {
      const n = i * NUMBERS;
      const k = i * INTS;
      const name = p.ints[k]!;
      const bits = p.ints[k + 1]!;
      const flagIndex = bits & FLAG_MASK;
      const flag = (flagIndex === RARE_FLAG ? p.rare[r++] : FLAG_PRECEDENCE[flagIndex]) as Flag;
      const kind = (bits >> VALUE_SHIFT) & 3;
      const value =
        kind === VALUE_NUMBER ? p.numbers[n + 1]! : kind === VALUE_NULL ? null : (p.rare[r++] as string);
      const d: ReadingDraft = {
        ts: p.numbers[n]!,
        device: this.devices[name]!,
        point: this.points[name]!,
        value,
        flag,
      };
      if (bits & HAS_QUALITY) d.quality = p.rare[r++] as Quality[];
      const rawKind = (bits >> RAW_SHIFT) & 3;
      if (rawKind === RAW_PACKED) {
        const words = p.ints[k + 2]!;
        const a = new Array<number>(words);
        for (let j = 0; j < words; j++) a[j] = p.raw[w + j]!;
        d.raw = a;
        w += words;
      } else if (rawKind === RAW_RARE) d.raw = p.rare[r++] as number[];
      const missedKind = (bits >> MISSED_SHIFT) & 3;
      if (missedKind === MISSED_PACKED) {
        // The readings of one poll carry the same slots, as the scheduler gave them: one object.
        d.missed = missed = sameOrNewMissed(missed, p.numbers[n + 2]!, p.numbers[n + 3]!, p.numbers[n + 4]!);
      } else if (missedKind === MISSED_RARE) d.missed = p.rare[r++] as MissedSlots;
      out[i] = d;
    }
    return out;
  }
}
