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
