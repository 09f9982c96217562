/**
 * Status schedules: when a device is in calibration, maintenance, fault or stopped. Every entry
 * is compiled to a periodic window on the wall-clock time line: a daily calibration repeats
 * every 24 h, a one-off window never repeats. A window that began before the simulator started
 * is already active at start.
 */
import type { DeviceState } from './status.js';

const DAY_MS = 86_400_000;

export interface StateWindow {
  state: DeviceState;
  /** UTC ms at which the first occurrence begins. */
  firstMs: number;
  /** Repeat period in ms; Infinity for a one-off window. */
  periodMs: number;
  durationMs: number;
}

export function isActive(w: StateWindow, nowMs: number): boolean {
  if (nowMs < w.firstMs) return false;
  const into = Number.isFinite(w.periodMs) ? (nowMs - w.firstMs) % w.periodMs : nowMs - w.firstMs;
  return into < w.durationMs;
}

export function activeStates(windows: readonly StateWindow[], nowMs: number): Set<DeviceState> {
  return new Set(windows.filter((w) => isActive(w, nowMs)).map((w) => w.state));
}

/**
 * A window starting every day at `hhmm` local time (UTC offset in minutes). The first occurrence
 * is the latest one at or before `startMs`, so a calibration in progress at start is active.
 */
export function dailyWindow(
  state: DeviceState,
  hhmm: string,
  durationMs: number,
  utcOffsetMin: number,
  startMs: number,
): StateWindow {
  const [h, m] = hhmm.split(':').map(Number);
  const phase = ((h ?? 0) * 60 + (m ?? 0) - utcOffsetMin) * 60_000;
  const firstMs = phase + Math.floor((startMs - phase) / DAY_MS) * DAY_MS;
  return { state, firstMs, periodMs: DAY_MS, durationMs };
}

/** Parses "+08:00" / "-05:30" into minutes east of UTC. */
export function parseUtcOffset(text: string): number {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(text);
  if (!m) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}
