/**
 * The commissioning report: what `lantian commission` writes to report.json and renders into
 * report.html. Plain data, so the JSON is the report and the HTML only shows it.
 */
import type { Flag } from '../core/flags.js';

export const REPORT_FORMAT = 'lantian-commissioning/1';

/** pass: as it should be; warn: works, but look at it before handing over; fail: not ready. */
export type Verdict = 'pass' | 'warn' | 'fail';

export interface Check {
  /** Stable id: `<group>:<subject>:<check>`, e.g. `device:stack1-uv:answers`. */
  id: string;
  group: 'device' | 'uplink' | 'system';
  /** A device id, `mqtt`, `hj212 <platform>`, `clock` or `disk`. */
  subject: string;
  check: string;
  verdict: Verdict;
  detail: string;
}

/** One reading as charted: UTC ms, the value (null: none, e.g. flag B), its flag. */
export type Sample = [ts: number, value: number | null, flag: Flag];

export interface PointReport {
  key: string;
  name: string;
  unit: string;
  /** The profile's measuring range; null when it declares none. */
  range: [number, number] | null;
  /** Readings logged during the run, with and without a value. */
  readings: number;
  values: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Values outside the measuring range. */
  outOfRange: number;
  flags: Partial<Record<Flag, number>>;
  samples: Sample[];
}

export interface DeviceReport {
  id: string;
  name?: string;
  /** Absent for sources that are not polled over Modbus (UART sensors, site I/O). */
  profile?: string;
  bus?: string;
  unitId?: number;
  periodMs?: number;
  /** The reply timeout in force (device override, bus, or profile). */
  timeoutMs?: number;
  polls: number;
  failedPolls: number;
  /** Requests that ended during the run (retries included), answered or not. */
  requests: number;
  replies: number;
  timeouts: number;
  crcErrors: number;
  exceptions: number;
  badReplies: number;
  /** Requests the link could not carry (down, or cut off). */
  linkErrors: number;
  /** replies / requests; null when nothing was sent. */
  answerRate: number | null;
  latencyMs: { p50: number; p99: number } | null;
  /** Readings of every point of the device, by flag. */
  flags: Partial<Record<Flag, number>>;
  points: PointReport[];
}

export interface MqttReport {
  connected: boolean;
  /** Records the log committed during the run (seqs after the start, up to the end). */
  committed: number;
  /** Of those, records the broker acknowledged by the end of the drain wait. */
  delivered: number;
  /** Records behind the uplink's cursor at the end, the run's and any older ones. */
  backlog: number;
  reconnects: number;
  publishErrors: number;
  refusedLogins: number;
  fault: string | null;
}

export interface Hj212Report {
  platform: string;
  state: string;
  /** Answers (9014, 9013 or requests) the platform sent during the run. */
  answered: boolean;
  lastAnswer: { cn: string; ts: number } | null;
  uploads: number;
  resends: number;
  backlog: number;
  lastError: string | null;
}

export interface CommissionReport {
  format: typeof REPORT_FORMAT;
  lantian: string;
  site: { id: string; name: string; timezone: string };
  gateway: { id: string; name?: string };
  config: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  log: { fromSeq: number; throughSeq: number; readings: number; events: number };
  verdict: Verdict;
  counts: Record<Verdict, number>;
  checks: Check[];
  devices: DeviceReport[];
  uplinks: { mqtt: MqttReport | null; hj212: Hj212Report[] };
  events: { seq: number; ts: number; kind: string }[];
  thresholds: Record<string, number | string>;
}
