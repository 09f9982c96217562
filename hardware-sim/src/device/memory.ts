/**
 * A device's four Modbus tables and which addresses exist: those of its points and of its
 * profile's examples. By default (`span`) a table answers every address from the lowest to the
 * highest of them, gaps reading 0, as most instruments do,
 * so a master may coalesce reads across small gaps; `points` answers only addresses inside a
 * point. Declared unreadable ranges and addresses outside the table give exception 02.
 */
import type { Profile, ResolvedPoint } from '../../../gateway/src/profiles/index.js';
import { EXCEPTION, refused, type Refused } from '../modbus/pdu.js';
import { encodeField, encodeWords, type PointValue } from './encode.js';

export type Addressing = 'span' | 'points';
type Table = 1 | 2 | 3 | 4;

interface Range {
  start: number;
  end: number;
}

/** Whether `address` lies in one of `ranges` (a loop: it runs for every address of every request). */
function within(ranges: readonly Range[], address: number): boolean {
  for (const r of ranges) if (address >= r.start && address <= r.end) return true;
  return false;
}

export class DeviceMemory {
  private readonly words = { 3: new Map<number, number>(), 4: new Map<number, number>() };
  private readonly bits = { 1: new Map<number, boolean>(), 2: new Map<number, boolean>() };
  private readonly readable: Record<Table, Range[]> = { 1: [], 2: [], 3: [], 4: [] };
  private readonly unreadable: Record<Table, Range[]> = { 1: [], 2: [], 3: [], 4: [] };
  private readonly writable: Record<1 | 3, Range[]> = { 1: [], 3: [] };

  constructor(profile: Profile, addressing: Addressing) {
    for (const t of [1, 2, 3, 4] as const) {
      // Example blocks come from the device's documentation: the addresses they show exist too.
      const ranges = [
        ...profile.points
          .filter((p) => p.function === t)
          .map((p) => ({ start: p.pdu, end: p.pdu + p.count - 1 })),
        ...profile.examples.flatMap((e) =>
          e.registers
            .filter((r) => r.function === t)
            .map((r) => ({ start: r.address, end: r.address + r.words.length - 1 })),
        ),
      ];
      if (ranges.length === 0) continue;
      this.readable[t] =
        addressing === 'span'
          ? [{ start: Math.min(...ranges.map((r) => r.start)), end: Math.max(...ranges.map((r) => r.end)) }]
          : ranges;
    }
    for (const u of profile.unreadable) this.unreadable[u.function].push({ start: u.start, end: u.end });
    for (const p of profile.points) {
      if (p.access !== 'r' && (p.function === 1 || p.function === 3))
        this.writable[p.function].push({ start: p.pdu, end: p.pdu + p.count - 1 });
    }
  }

  /** Tables that hold at least one point. */
  has(table: Table): boolean {
    return this.readable[table].length > 0;
  }

  hasWritable(table: 1 | 3): boolean {
    return this.writable[table].length > 0;
  }

  private check(table: Table, address: number, quantity: number, write: boolean): Refused | undefined {
    const allowed = write ? this.writable[table as 1 | 3] : this.readable[table];
    for (let a = address; a < address + quantity; a++) {
      if (!within(allowed, a) || (!write && within(this.unreadable[table], a)))
        return refused(EXCEPTION.ILLEGAL_DATA_ADDRESS);
    }
    return undefined;
  }

  readWords(table: 3 | 4, address: number, quantity: number): number[] | Refused {
    const r = this.check(table, address, quantity, false);
    if (r) return r;
    const words = this.words[table];
    const out = new Array<number>(quantity);
    for (let i = 0; i < quantity; i++) out[i] = words.get(address + i) ?? 0;
    return out;
  }

  readBits(table: 1 | 2, address: number, quantity: number): boolean[] | Refused {
    const r = this.check(table, address, quantity, false);
    if (r) return r;
    return Array.from({ length: quantity }, (_, i) => this.bits[table].get(address + i) ?? false);
  }

  writeWords(address: number, values: number[]): Refused | undefined {
    const r = this.check(3, address, values.length, true);
    if (r) return r;
    values.forEach((v, i) => this.words[3].set(address + i, v & 0xffff));
    return undefined;
  }

  writeCoils(address: number, values: boolean[]): Refused | undefined {
    const r = this.check(1, address, values.length, true);
    if (r) return r;
    values.forEach((v, i) => this.bits[1].set(address + i, v));
    return undefined;
  }

  /** Loads raw words (an example from the profile) without any address checks. */
  load(table: Table, address: number, words: readonly number[]): void {
    words.forEach((w, i) => {
      if (table === 1 || table === 2) this.bits[table].set(address + i, w !== 0);
      else this.words[table].set(address + i, w & 0xffff);
    });
  }

  /** Writes a point's value in its encoding; a bit field keeps the other bits of its register. */
  writePoint(point: ResolvedPoint, value: PointValue): void {
    const t = point.function;
    if (t === 1 || t === 2) {
      const raw = encodeField(point, value);
      for (let i = 0; i < point.count; i++) this.bits[t].set(point.pdu + i, ((raw >> i) & 1) === 1);
      return;
    }
    if (point.type === 'bits') {
      const bit = point.bits?.bit ?? 0;
      const width = point.bits?.width ?? 1;
      const mask = ((2 ** width - 1) << bit) & 0xffff;
      const old = this.words[t].get(point.pdu) ?? 0;
      this.words[t].set(point.pdu, (old & ~mask & 0xffff) | ((encodeField(point, value) << bit) & mask));
      return;
    }
    encodeWords(point, value).forEach((w, i) => this.words[t].set(point.pdu + i, w));
  }
}
