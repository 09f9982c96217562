/**
 * From log records to CP data areas. Real-time data (2011) comes from readings, one packet per
 * RtdInterval window with each factor's newest reading in it; minute/hour/day data
 * (2051/2061/2031) from the log's aggregates, one packet per period start. Factor codes come
 * from the profiles (`hj212:` on each point); flags are the readings' own HJ 212 flags.
 */
import type { AggregatePeriod, LogRecord } from '../../store/index.js';
import type { CpItem } from './packet.js';
import { formatDataTime } from './time.js';

/** HJ 212 has no command for the dust sites' quarter-hours: they go out on MQTT only. */
export const PERIOD_CN: Record<Exclude<AggregatePeriod, 'quarter_hour'>, string> = {
  minute: '2051',
  hour: '2061',
  day: '2031',
};
export const CN_PERIOD: Record<string, AggregatePeriod> = { '2051': 'minute', '2061': 'hour', '2031': 'day' };

type ReadingRecord = Extract<LogRecord, { type: 'reading' }>;
type AggregateRecord = Extract<LogRecord, { type: 'aggregate' }>;

/** Numbers as plain decimals (never `1e-7`), at most 12 significant digits. */
export function formatValue(v: number): string {
  const s = String(Number(v.toPrecision(12)));
  return s.includes('e') ? v.toFixed(9).replace(/\.?0+$/, '') : s;
}

/** `device/point` -> factor code. */
export type FactorCodes = ReadonlyMap<string, string>;

/** The factor code of a record: the one processing stored on an aggregate, else the profile's. */
export function codeOf(
  codes: FactorCodes,
  r: { device: string; point: string; hj212?: string },
): string | undefined {
  return r.hj212 ?? codes.get(`${r.device}/${r.point}`);
}

/** One 2011 data area: DataTime is the newest sampling instant among the readings. */
export function realtimeCp(readings: readonly ReadingRecord[], codes: FactorCodes, tz: string): CpItem[] {
  const newest = new Map<string, ReadingRecord>();
  for (const r of readings) {
    const code = codeOf(codes, r);
    if (code === undefined) continue;
    const prev = newest.get(code);
    if (!prev || r.ts >= prev.ts) newest.set(code, r);
  }
  const chosen = [...newest.entries()];
  const ts = Math.max(...chosen.map(([, r]) => r.ts));
  const items: CpItem[] = [[{ name: 'DataTime', value: formatDataTime(ts, tz) }]];
  for (const [code, r] of chosen) {
    const item: CpItem = [];
    // A value that could not be read is not invented: only its flag (B, D, …) is sent.
    if (typeof r.value === 'number') item.push({ name: `${code}-Rtd`, value: formatValue(r.value) });
    item.push({ name: `${code}-Flag`, value: r.flag });
    items.push(item);
  }
  return items;
}

/** One 2051/2061/2031 data area: DataTime is the start of the period (HJ 212 Table 4). */
export function aggregateCp(rows: readonly AggregateRecord[], codes: FactorCodes, tz: string): CpItem[] {
  const items: CpItem[] = [[{ name: 'DataTime', value: formatDataTime(rows[0]!.start, tz) }]];
  for (const a of rows) {
    const code = codeOf(codes, a);
    if (code === undefined) continue;
    const item: CpItem = [];
    // Min, Avg, Max, the O2-corrected (Zs) ones and Cou, in the order the standard's tables use.
    const stats: [string, number | null | undefined][] = [
      ['Min', a.min],
      ['Avg', a.avg],
      ['Max', a.max],
      ['ZsMin', a.zsMin],
      ['ZsAvg', a.zsAvg],
      ['ZsMax', a.zsMax],
      ['Cou', a.cou],
    ];
    for (const [name, v] of stats) {
      if (typeof v === 'number') item.push({ name: `${code}-${name}`, value: formatValue(v) });
    }
    item.push({ name: `${code}-Flag`, value: a.flag });
    items.push(item);
  }
  return items;
}
