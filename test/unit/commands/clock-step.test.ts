import { describe, expect, it } from 'vitest';
import { ManualClock, type Clock } from '../../../gateway/src/core/clock.js';
import { watchClockSteps, type ClockStep } from '../../../gateway/src/uplink/commands/clock-step.js';

/** A ManualClock whose wall clock can be set apart from its monotonic clock, as NTP or an operator would. */
function steppable(): { clock: Clock; manual: ManualClock; step: (ms: number) => void } {
  const manual = new ManualClock();
  let offset = 0;
  return {
    manual,
    step: (ms) => (offset += ms),
    clock: {
      now: () => manual.now() + offset,
      monotonic: () => manual.monotonic(),
      sleep: (ms) => manual.sleep(ms),
    },
  };
}

/** Starts watching every 1000 ms with a 2000 ms threshold; `stop` aborts and lets the loop end. */
function watch(clock: Clock, manual: ManualClock): { steps: ClockStep[]; stop: () => Promise<void> } {
  const steps: ClockStep[] = [];
  const ac = new AbortController();
  const done = watchClockSteps(clock, ac.signal, (s) => steps.push(s), {
    intervalMs: 1000,
    thresholdMs: 2000,
  });
  return {
    steps,
    stop: async () => {
      ac.abort();
      await manual.advance(1000);
      await done;
    },
  };
}

describe('watchClockSteps', () => {
  it('reports a step of the wall clock against the monotonic clock, forward and backward, with its size', async () => {
    const { clock, manual, step } = steppable();
    const { steps, stop } = watch(clock, manual);
    await manual.advance(1000);
    expect(steps).toEqual([]);
    const before = clock.now() + 1000;
    step(60_000);
    await manual.advance(1000);
    expect(steps).toEqual([{ before, after: before + 60_000, stepMs: 60_000 }]);
    step(-5000);
    await manual.advance(1000);
    expect(steps.at(-1)?.stepMs).toBe(-5000);
    await stop();
  });

  it('takes drift below the threshold for timer lateness, not a step', async () => {
    const { clock, manual, step } = steppable();
    const { steps, stop } = watch(clock, manual);
    for (let i = 0; i < 5; i++) {
      step(1500);
      await manual.advance(1000);
    }
    expect(steps).toEqual([]);
    await stop();
  });
});
