/**
 * From what a run left behind to per-device facts: the readings the log committed during the
 * run (read back from the log, as an uplink reads them, so the report shows exactly what was
 * recorded) and the acquisition engine's health counters at the end.
 */
import type { Flag } from '../core/flags.js';
import type { AcquisitionHealth } from '../acquisition/index.js';
import type { BusPlan, PlannedDevice } from '../config/plan.js';
import type { LogRecord } from '../store/index.js';
import type { DeviceReport, PointReport, Sample } from './types.js';

/** The log as collecting needs it (the real Log satisfies it). */
export interface LogReader {
  read(after: number, limit: number, until?: number): LogRecord[];
}

const READ_CHUNK = 5000;

export interface Recorded {
  /** Samples by `device/point`, in log order. */
  series: Map<string, Sample[]>;
  events: { seq: number; ts: number; kind: string }[];
  readings: number;
}

/** Every reading and event with a seq in (after, through]. */
export function readRun(log: LogReader, after: number, through: number): Recorded {
  const out: Recorded = { series: new Map(), events: [], readings: 0 };
  let position = after;
  while (position < through) {
    const records = log.read(position, READ_CHUNK, through);
    if (records.length === 0) break;
    for (const r of records) {
      position = r.seq;
      if (r.type === 'reading') {
        out.readings++;
        const ref = `${r.device}/${r.point}`;
        let s = out.series.get(ref);
        if (!s) out.series.set(ref, (s = []));
        s.push([r.ts, typeof r.value === 'number' ? r.value : null, r.flag]);
      } else if (r.type === 'event') out.events.push({ seq: r.seq, ts: r.ts, kind: r.kind });
    }
  }
  return out;
}

interface PointMeta {
  key: string;
  name: string;
  unit: string;
  range?: [number, number] | undefined;
}

export function pointReport(meta: PointMeta, samples: readonly Sample[]): PointReport {
  const range = meta.range ?? null;
  const flags: Partial<Record<Flag, number>> = {};
  let values = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let outOfRange = 0;
  for (const [, v, f] of samples) {
    flags[f] = (flags[f] ?? 0) + 1;
    if (v === null) continue;
    values++;
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
    if (range && (v < range[0] || v > range[1])) outOfRange++;
  }
  return {
    key: meta.key,
    name: meta.name,
    unit: meta.unit,
    range,
    readings: samples.length,
    values,
    min: values > 0 ? min : null,
    max: values > 0 ? max : null,
    mean: values > 0 ? Math.round((sum / values) * 1e6) / 1e6 : null,
    outOfRange,
    flags,
    samples: [...samples],
  };
}

function addFlags(into: Partial<Record<Flag, number>>, from: Partial<Record<Flag, number>>): void {
  for (const [f, n] of Object.entries(from) as [Flag, number][]) into[f] = (into[f] ?? 0) + n;
}

const NO_TRAFFIC = {
  polls: 0,
  failedPolls: 0,
  requests: 0,
  replies: 0,
  timeouts: 0,
  crcErrors: 0,
  exceptions: 0,
  badReplies: 0,
  linkErrors: 0,
  answerRate: null,
  latencyMs: null,
};

function polledDevice(
  busId: string,
  d: PlannedDevice,
  health: AcquisitionHealth['devices'][number] | undefined,
  rec: Recorded,
): DeviceReport {
  // Charts and ranges are for measurements; status words count towards the flags only.
  const points = d.points
    .filter((p) => p.role === 'measurement')
    .map((p) => pointReport(p, rec.series.get(`${d.id}/${p.key}`) ?? []));
  const flags: Partial<Record<Flag, number>> = {};
  for (const p of d.points)
    for (const [, , f] of rec.series.get(`${d.id}/${p.key}`) ?? []) flags[f] = (flags[f] ?? 0) + 1;
  const report: DeviceReport = {
    id: d.id,
    profile: d.profile.id,
    bus: busId,
    unitId: d.unitId,
    periodMs: d.periodMs,
    timeoutMs: d.timeoutMs,
    ...NO_TRAFFIC,
    flags,
    points,
  };
  if (d.name !== undefined) report.name = d.name;
  if (health) {
    Object.assign(report, {
      polls: health.polls,
      failedPolls: health.failedPolls,
      // Requests that ended, answered or not: one still in flight when the run ends is neither.
      requests:
        health.replies +
        health.timeouts +
        health.crcErrors +
        health.exceptions +
        health.badReplies +
        health.linkErrors,
      replies: health.replies,
      timeouts: health.timeouts,
      crcErrors: health.crcErrors,
      exceptions: health.exceptions,
      badReplies: health.badReplies,
      linkErrors: health.linkErrors,
      latencyMs: health.latencyMs ? { p50: health.latencyMs.p50, p99: health.latencyMs.p99 } : null,
    });
    report.answerRate = report.requests > 0 ? report.replies / report.requests : null;
  }
  return report;
}

/**
 * One report per polled device (in config order), then one per other source that logged
 * readings during the run (UART sensors, site I/O), with whatever points it logged.
 */
export function deviceReports(
  plan: readonly BusPlan[],
  health: AcquisitionHealth,
  rec: Recorded,
): DeviceReport[] {
  const byId = new Map(health.devices.map((h) => [h.device, h]));
  const polled = plan.flatMap((b) => b.devices.map((d) => polledDevice(b.id, d, byId.get(d.id), rec)));
  const known = new Set(polled.map((d) => d.id));
  const others = new Map<string, PointReport[]>();
  for (const [ref, samples] of rec.series) {
    const slash = ref.indexOf('/');
    const device = ref.slice(0, slash);
    if (known.has(device)) continue;
    const key = ref.slice(slash + 1);
    let list = others.get(device);
    if (!list) others.set(device, (list = []));
    list.push(pointReport({ key, name: key, unit: '' }, samples));
  }
  return [
    ...polled,
    ...[...others].map(([id, points]): DeviceReport => {
      const flags: Partial<Record<Flag, number>> = {};
      for (const p of points) addFlags(flags, p.flags);
      return { id, ...NO_TRAFFIC, flags, points };
    }),
  ];
}
