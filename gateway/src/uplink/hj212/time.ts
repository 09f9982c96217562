/**
 * Times in packets are local wall-clock times of the platform's time zone (UTC+8 by default):
 * DataTime/SystemTime `YYYYMMDDhhmmss`, QN `YYYYMMDDhhmmsszzz`.
 */
import { LantianError } from '../../core/errors.js';
import { zoneOf } from '../../core/zone.js';

/** Year, month, day, hour, minute, second of `ms` on the wall clock of `tz`. */
function parts(ms: number, tz: string): number[] {
  const d = new Date(ms + zoneOf(tz).offsetMs(ms));
  return [
    d.getUTCFullYear(),
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  ];
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function formatDataTime(ms: number, tz: string): string {
  const [y, mo, d, h, mi, s] = parts(ms, tz) as [number, number, number, number, number, number];
  return `${y}${pad(mo)}${pad(d)}${pad(h)}${pad(mi)}${pad(s)}`;
}

export function formatQn(ms: number, tz: string): string {
  return `${formatDataTime(ms, tz)}${pad(((ms % 1000) + 1000) % 1000, 3)}`;
}

/** `YYYYMMDDhhmmss` (14 digits; a 17-digit QN's milliseconds are kept) in `tz` to UTC ms. */
export function parseDataTime(text: string, tz: string, field = 'DataTime'): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})?$/.exec(text);
  const fields = m?.slice(1, 7).map(Number) as [number, number, number, number, number, number] | undefined;
  if (!m || !fields || fields[1] < 1 || fields[1] > 12 || fields[2] < 1 || fields[2] > 31 || fields[3] > 23) {
    throw new LantianError('HJ212_SEGMENT', `${field} is not YYYYMMDDhhmmss: ${JSON.stringify(text)}`, {
      context: { field, value: text },
    });
  }
  const [y, mo, d, h, mi, s] = fields;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s) + Number(m[7] ?? 0);
  // The offset at the wall time read as UTC, then at the instant that gives: right across a change.
  const zone = zoneOf(tz);
  return wall - zone.offsetMs(wall - zone.offsetMs(wall));
}

/** QNs strictly increasing even when two packets are made in the same millisecond. */
export class QnSource {
  private last = 0;
  constructor(private readonly tz: string) {}
  next(nowMs: number): string {
    this.last = Math.max(nowMs, this.last + 1);
    return formatQn(this.last, this.tz);
  }
}
