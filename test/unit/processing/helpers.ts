import type { Flag } from '../../../gateway/src/core/flags.js';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import type { OutletPlan, ProcessingPlan, SeriesPlan } from '../../../gateway/src/processing/plan.js';
import type { Aggregate } from '../../../gateway/src/processing/types.js';

/** 2026-03-02 00:00 in Beijing (UTC+8) is 2026-03-01 16:00 UTC. */
export const BEIJING_DAY = Date.UTC(2026, 2, 1, 16);
export const MIN = 60_000;
export const HOUR = 3_600_000;

export function series(device: string, point: string, extra: Partial<SeriesPlan> = {}): SeriesPlan {
  return { device, point, unit: 'mg/m3', sourceUnit: 'mg/m3', minSamples: 12, ...extra };
}

export function outlet(id: string, extra: Partial<OutletPlan> = {}): OutletPlan {
  return {
    id,
    name: id,
    o2GuardPct: 19,
    flue: {},
    ambientPressureKpa: 101.325,
    pollutants: [],
    limits: [],
    notes: [],
    ...extra,
  };
}

export function plan(
  s: SeriesPlan[],
  outlets: OutletPlan[] = [],
  timeZone = 'Asia/Shanghai',
): ProcessingPlan {
  return { timeZone, series: s, outlets };
}

/** Twelve samples 5 s apart from `start`, the value of sample i given by `value(i)`. */
export function minuteOf(
  device: string,
  point: string,
  start: number,
  value: (i: number) => number | null,
  flag: (i: number) => Flag = () => 'N',
  n = 12,
): ReadingDraft[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: start + i * 5000,
    device,
    point,
    value: value(i),
    flag: flag(i),
  }));
}

export function find(
  aggs: Aggregate[],
  device: string,
  point: string,
  period: Aggregate['period'],
  start?: number,
) {
  return aggs.filter(
    (a) =>
      a.device === device &&
      a.point === point &&
      a.period === period &&
      (start === undefined || a.start === start),
  );
}
