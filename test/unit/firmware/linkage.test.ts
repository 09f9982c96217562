import { describe, expect, it } from 'vitest';
import { Linkage, type LinkageInputs, type LinkageRule } from '../../../firmware/src/linkage.js';

const S = 1000;
const rule: LinkageRule = {
  onAbove: 150,
  offBelow: 100,
  holdMs: 60 * S,
  minOnMs: 300 * S,
  minOffMs: 120 * S,
  maxRunMs: 3600 * S,
  windCutOff: 8,
  alertOnMs: 600 * S,
  alertOffMs: 1200 * S,
};

/** Steps the rule once a second from `from` to `to` with the inputs `at(t)`; returns the changes. */
function run(l: Linkage, from: number, to: number, at: (t: number) => Omit<LinkageInputs, 'now'>) {
  const changes: { t: number; on: boolean; reason: string }[] = [];
  for (let t = from; t <= to; t += S) {
    const d = l.step({ now: t, ...at(t) });
    if (d.changed) changes.push({ t, on: d.on, reason: d.reason });
  }
  return changes;
}

describe('fog-cannon linkage', () => {
  it('switches on only after the dust stayed above the threshold for the hold time', () => {
    const l = new Linkage(rule);
    const changes = run(l, 0, 200 * S, (t) => ({
      dust: t < 30 * S ? 200 : t < 40 * S ? 90 : 200,
      alert: 'none',
    }));
    expect(changes).toEqual([{ t: 100 * S, on: true, reason: 'dust_high' }]);
  });

  it('keeps running for the minimum on-time even when the dust falls at once', () => {
    const l = new Linkage(rule);
    const changes = run(l, 0, 1000 * S, (t) => ({ dust: t < 61 * S ? 200 : 50, alert: 'none' }));
    expect(changes).toEqual([
      { t: 60 * S, on: true, reason: 'dust_high' },
      { t: 360 * S, on: false, reason: 'dust_low' },
    ]);
  });

  it('stays on between the off- and on-thresholds (hysteresis)', () => {
    const l = new Linkage(rule);
    const changes = run(l, 0, 2000 * S, (t) => ({ dust: t < 61 * S ? 200 : 120, alert: 'none' }));
    expect(changes).toEqual([{ t: 60 * S, on: true, reason: 'dust_high' }]);
  });

  it('stops after the maximum run time and rests at least the minimum off-time', () => {
    const l = new Linkage(rule);
    const changes = run(l, 0, 4000 * S, () => ({ dust: 400, alert: 'none' }));
    expect(changes).toEqual([
      { t: 60 * S, on: true, reason: 'dust_high' },
      { t: 3660 * S, on: false, reason: 'max_run' },
      { t: 3780 * S, on: true, reason: 'dust_high' },
    ]);
  });

  it('cuts off at once in high wind, minimum on-time or not, and resumes when the wind drops', () => {
    const l = new Linkage(rule);
    const changes = run(l, 0, 400 * S, (t) => ({
      dust: 300,
      wind: t >= 100 * S && t < 150 * S ? 12 : 3,
      alert: 'none',
    }));
    expect(changes).toEqual([
      { t: 60 * S, on: true, reason: 'dust_high' },
      { t: 100 * S, on: false, reason: 'wind' },
      { t: 220 * S, on: true, reason: 'dust_high' },
    ]);
  });

  it('an orange alert forces the on/off schedule whatever the dust, and a manual override beats it', () => {
    const l = new Linkage(rule);
    const changes = run(l, 0, 2500 * S, (t) => ({
      dust: 10,
      alert: 'orange',
      ...(t >= 2000 * S && t < 2100 * S ? { manual: 'off' as const } : {}),
    }));
    expect(changes).toEqual([
      { t: 0, on: true, reason: 'alert_schedule' },
      { t: 600 * S, on: false, reason: 'alert_schedule' },
      { t: 1800 * S, on: true, reason: 'alert_schedule' },
      { t: 2000 * S, on: false, reason: 'manual' },
      { t: 2100 * S, on: true, reason: 'alert_schedule' },
      { t: 2400 * S, on: false, reason: 'alert_schedule' },
    ]);
    expect(new Linkage(rule).step({ now: 0, dust: 10, alert: 'yellow' }).on).toBe(false);
  });

  it('a manual off holds the relay off against high dust until the override is lifted', () => {
    const l = new Linkage(rule);
    const changes = run(l, 0, 300 * S, (t) => ({
      dust: 400,
      alert: 'none',
      ...(t < 200 * S ? { manual: 'off' as const } : {}),
    }));
    expect(changes).toEqual([{ t: 200 * S, on: true, reason: 'dust_high' }]);
  });
});
