/**
 * The data segment of an HJ 212 packet as a value: header fields, Flag and the CP data area.
 * CP items are kept in order as lists of sub-fields, so a parsed packet rebuilds to the same
 * text (`a21026-Rtd=22.4,a21026-Flag=N;a21002-Rtd=…` is two items of two fields each).
 */

export type Edition = 2017 | 2025;

export interface CpField {
  name: string;
  value: string;
}

/** One CP item: sub-fields joined by `,`; items are joined by `;`. */
export type CpItem = CpField[];

export interface Packet {
  /** Request number, 17 digits `YYYYMMDDhhmmsszzz`. */
  qn: string;
  /** System code: 31 flue gas, 39 construction dust, 91 system interaction. */
  st: string;
  /** Command code, 4 digits. */
  cn: string;
  pw: string;
  mn: string;
  /** Bits 7..2 edition, bit 1 (D) PNUM/PNO present, bit 0 (A) answer wanted. */
  flag: number;
  /** Total parts and this part's number (1-based), present exactly when the D bit is set. */
  pnum?: number;
  pno?: number;
  /** HJ 212-2025 `RF=1`: a back-filled (re-sent) data packet. */
  rf?: boolean;
  cp: CpItem[];
}

export const FLAG_ANSWER = 0b01;
export const FLAG_SPLIT = 0b10;

const VERSION_BITS: Record<Edition, number> = { 2017: 1, 2025: 2 };

/** The Flag for an edition: 2017 gives 4..7, 2025 gives 8..11. */
export function makeFlag(edition: Edition, o: { answer?: boolean; split?: boolean } = {}): number {
  return (VERSION_BITS[edition] << 2) | (o.split ? FLAG_SPLIT : 0) | (o.answer ? FLAG_ANSWER : 0);
}

export const wantsAnswer = (flag: number): boolean => (flag & FLAG_ANSWER) !== 0;
export const isSplit = (flag: number): boolean => (flag & FLAG_SPLIT) !== 0;

/** The edition a Flag's version bits name, or undefined (2005 has 0, others are unknown). */
export function editionOf(flag: number): Edition | undefined {
  const v = flag >> 2;
  return v === 1 ? 2017 : v === 2 ? 2025 : undefined;
}

/** The first sub-field called `name` anywhere in the CP area. */
export function cpValue(cp: readonly CpItem[], name: string): string | undefined {
  for (const item of cp) for (const f of item) if (f.name === name) return f.value;
  return undefined;
}

/** A CP area with one sub-field per item, from name/value pairs (e.g. `{ QnRtn: '1' }`). */
export function cpOf(fields: Record<string, string | number>): CpItem[] {
  return Object.entries(fields).map(([name, value]) => [{ name, value: String(value) }]);
}
