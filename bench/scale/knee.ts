/**
 * When a step of the scale benchmark counts as carried, and the knee: the highest offered load
 * the gateway carries (docs/benchmarks.md, Scale).
 */

/** The figures of one step that decide whether the gateway kept up. */
export interface StepOutcome {
  /** Readings per second the devices' periods ask for. */
  offeredPerSec: number;
  /** Readings with a value that reached the subscriber per second, in the window. */
  deliveredPerSec: number;
  /** The uplink backlog (records logged, not yet acknowledged) at the window's end minus at its start. */
  backlogGrowth: number;
  /** How much later, behind acquisition, readings arrived at the window's end than at its start (ms). */
  lagGrowthMs: number;
  /** Set when the gateway stopped during the step (crashed, ran out of heap): what it said last. */
  gatewayExited?: string;
}

/** Delivered must reach this share of offered. */
export const DELIVERED_SHARE = 0.95;
/** A backlog that grows by more than this many seconds of offered load is growing. */
export const BACKLOG_GROWTH_S = 1;
/** A delay behind acquisition that grows by more than this over the window is growing (ms). */
export const LAG_GROWTH_MS = 1000;

/** Why the step was not carried, or undefined when it was. */
export function shortfall(s: StepOutcome): string | undefined {
  if (s.gatewayExited !== undefined) return `gateway exited: ${s.gatewayExited}`;
  if (s.deliveredPerSec < DELIVERED_SHARE * s.offeredPerSec)
    return `delivered ${Math.round((s.deliveredPerSec / s.offeredPerSec) * 100)} % of offered`;
  if (s.backlogGrowth > BACKLOG_GROWTH_S * s.offeredPerSec)
    return `backlog grew by ${s.backlogGrowth} records`;
  if (s.lagGrowthMs > LAG_GROWTH_MS)
    return `delay behind acquisition grew by ${Math.round(s.lagGrowthMs)} ms`;
  return undefined;
}

/** The highest-offered step that was carried, or undefined when none was. */
export function knee<T extends StepOutcome>(steps: readonly T[]): T | undefined {
  return steps
    .filter((s) => shortfall(s) === undefined)
    .reduce<T | undefined>(
      (best, s) => (best && best.offeredPerSec >= s.offeredPerSec ? best : s),
      undefined,
    );
}

/** The median of a non-empty list: the middle value, or the mean of the two middle ones. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The step whose delivered rate is the median of the steps' (the lower of the two middle ones for
 * an even count), for the figures that go with it; undefined for no steps.
 */
export function medianStep<T extends StepOutcome>(steps: readonly T[]): T | undefined {
  const sorted = [...steps].sort((a, b) => a.deliveredPerSec - b.deliveredPerSec);
  return sorted[(sorted.length - 1) >> 1];
}
