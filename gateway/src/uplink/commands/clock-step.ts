/**
 * Wall-clock steps: every `intervalMs` the wall clock's advance is compared with the monotonic
 * clock's; a difference above `thresholdMs` means someone or something (NTP correcting a drift,
 * an operator, a dead RTC battery at boot) set the time. Readings are stamped by the wall clock,
 * so a step is evidence a platform needs to weigh them: it goes into the log as a `clock_step`
 * event, forwarded and sealed like every record.
 */
import type { Clock } from '../../core/clock.js';

export interface ClockStep {
  /** Wall time the clock would show without the step, UTC ms. */
  before: number;
  /** Wall time it shows, UTC ms. */
  after: number;
  /** after - before: positive forward, negative backward. */
  stepMs: number;
}

export interface ClockStepOptions {
  /** How often the clocks are compared, ms; default 10 000. */
  intervalMs?: number;
  /** Smallest difference taken as a step, ms; default 2000 (timer lateness stays far below). */
  thresholdMs?: number;
}

/** Compares the clocks until `signal` aborts; calls `onStep` for each step found. */
export async function watchClockSteps(
  clock: Clock,
  signal: AbortSignal,
  onStep: (step: ClockStep) => void,
  options: ClockStepOptions = {},
): Promise<void> {
  const intervalMs = options.intervalMs ?? 10_000;
  const thresholdMs = options.thresholdMs ?? 2000;
  let wall = clock.now();
  let mono = clock.monotonic();
  while (!signal.aborted) {
    await clock.sleep(intervalMs, signal).catch(() => undefined);
    if (signal.aborted) return;
    const nowWall = clock.now();
    const nowMono = clock.monotonic();
    const expected = wall + (nowMono - mono);
    const stepMs = nowWall - expected;
    if (Math.abs(stepMs) > thresholdMs)
      onStep({ before: Math.round(expected), after: nowWall, stepMs: Math.round(stepMs) });
    wall = nowWall;
    mono = nowMono;
  }
}
