import { describe, expect, it } from 'vitest';
import { knee, median, medianStep, shortfall, type StepOutcome } from '../../../bench/scale/knee.js';

const step = (offeredPerSec: number, o: Partial<StepOutcome> = {}): StepOutcome => ({
  offeredPerSec,
  deliveredPerSec: offeredPerSec,
  backlogGrowth: 0,
  lagGrowthMs: 0,
  ...o,
});

describe('a scale benchmark step', () => {
  it('is carried when 95 % of the offered readings arrive and nothing piles up', () => {
    expect(
      shortfall(step(10_000, { deliveredPerSec: 9_500, backlogGrowth: 10_000, lagGrowthMs: 1000 })),
    ).toBe(undefined);
  });

  it('is not carried when fewer than 95 % arrive', () => {
    expect(shortfall(step(10_000, { deliveredPerSec: 9_400 }))).toBe('delivered 94 % of offered');
  });

  it('is not carried when the backlog grows by more than a second of offered load', () => {
    expect(shortfall(step(10_000, { backlogGrowth: 10_001 }))).toBe('backlog grew by 10001 records');
  });

  it('is not carried when readings fall further behind acquisition', () => {
    expect(shortfall(step(10_000, { lagGrowthMs: 1500 }))).toBe('delay behind acquisition grew by 1500 ms');
  });

  it('is not carried when the gateway stopped during it, whatever arrived before', () => {
    expect(shortfall(step(10_000, { gatewayExited: 'heap out of memory' }))).toBe(
      'gateway exited: heap out of memory',
    );
  });
});

describe('the knee', () => {
  it('is the highest offered load that was carried', () => {
    const steps = [step(5_000), step(20_000), step(10_000), step(40_000, { deliveredPerSec: 30_000 })];
    expect(knee(steps)?.offeredPerSec).toBe(20_000);
  });

  it('does not exist when no step was carried', () => {
    expect(knee([step(5_000, { lagGrowthMs: 5000 })])).toBe(undefined);
  });
});

describe('the median of repeated steps', () => {
  it('is the middle value of an odd count, whatever the order', () => {
    expect(median([141_918, 93_415, 132_062])).toBe(132_062);
    expect(median([7])).toBe(7);
  });

  it('is the mean of the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('refuses an empty list instead of inventing a figure', () => {
    expect(() => median([])).toThrow(RangeError);
  });

  it('leaves the list it was given in its order', () => {
    const runs = [3, 1, 2];
    median(runs);
    expect(runs).toEqual([3, 1, 2]);
  });

  it('comes with the step that delivered it (the lower middle of an even count)', () => {
    const a = step(100, { deliveredPerSec: 90 });
    const b = step(100, { deliveredPerSec: 60 });
    const c = step(100, { deliveredPerSec: 75 });
    expect(medianStep([a, b, c])).toBe(c);
    expect(medianStep([a, b, c, step(100, { deliveredPerSec: 99 })])).toBe(c);
    expect(medianStep([])).toBe(undefined);
  });
});
