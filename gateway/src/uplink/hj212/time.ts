/**
 * Times in packets are local wall-clock times of the platform's time zone (UTC+8 by default):
 * DataTime/SystemTime `YYYYMMDDhhmmss`, QN `YYYYMMDDhhmmsszzz`.
 */
import { LantianError } from '../../core/errors.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function parts(ms: number, tz: string): number[] {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  const get = (type: string) => Number(f.formatToParts(ms).find((p) => p.type === type)?.value);
  return ['year', 'month', 'day', 'hour', 'minute', 'second'].map(get);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function formatDataTime(ms: number, tz: string): string {
  const [y, mo, d, h, mi, s] = parts(ms, tz) as [number, number, number, number, number, number];
  return `${y}${pad(mo)}${pad(d)}${pad(h)}${pad(mi)}${pad(s)}`;
}

export function formatQn(ms: number, tz: string): string {
  return `${formatDataTime(ms, tz)}${pad(((ms % 1000) + 1000) % 1000, 3)}`;
}

function offsetAt(ms: number, tz: string): number {
  const [y, mo, d, h, mi, s] = parts(ms, tz) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s) - Math.floor(ms / 1000) * 1000;
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
  let utc = wall - offsetAt(wall, tz);
  utc = wall - offsetAt(utc, tz);
  return utc;
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
