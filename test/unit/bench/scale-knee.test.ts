import { describe, expect, it } from 'vitest';
import { knee, shortfall, type StepOutcome } from '../../../bench/scale/knee.js';

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
