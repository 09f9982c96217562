import { describe, expect, it } from 'vitest';
import { createBehaviour } from '../../../hardware-sim/src/device/behaviours.js';

describe('behaviours', () => {
  it('ramps as a sawtooth, a triangle or once', () => {
    const saw = createBehaviour({ ramp: { from: 0, to: 10, periodS: 10, shape: 'sawtooth' } }, 1, 'k');
    expect(saw(0)).toBe(0);
    expect(saw(5)).toBe(5);
    expect(saw(12)).toBeCloseTo(2, 9);
    const tri = createBehaviour({ ramp: { from: 0, to: 10, periodS: 10, shape: 'triangle' } }, 1, 'k');
    expect([tri(5), tri(15), tri(20)]).toEqual([5, 5, 0]);
    const once = createBehaviour({ ramp: { from: 0, to: 10, periodS: 10, shape: 'once' } }, 1, 'k');
    expect(once(50)).toBe(10);
  });

  it('adds seeded noise to a sine: the same seed gives the same values, another seed others', () => {
    const spec = { sine: { mean: 50, amplitude: 10, periodS: 60, phaseS: 0, noise: 2, noiseStepS: 1 } };
    const a = createBehaviour(spec, 42, 'uv/so2');
    const b = createBehaviour(spec, 42, 'uv/so2');
    const c = createBehaviour(spec, 43, 'uv/so2');
    const ts = [0, 1.5, 7, 15, 33];
    expect(ts.map(a)).toEqual(ts.map(b));
    expect(ts.map(a)).not.toEqual(ts.map(c));
    const clean = createBehaviour({ sine: { ...spec.sine, noise: 0 } }, 42, 'uv/so2');
    expect(clean(15)).toBeCloseTo(60, 9);
    // Within one noise step the noise holds.
    const noise = (t: number) => (a(t) as number) - (clean(t) as number);
    expect(noise(7.1)).toBeCloseTo(noise(7.9), 9);
    expect(noise(7.1)).not.toBeCloseTo(noise(8.1), 6);
  });

  it('walks randomly within its bounds, reproducibly and whatever the order of reads', () => {
    const spec = { randomWalk: { start: 10, sigma: 3, stepS: 1, min: 5, max: 15 } };
    const a = createBehaviour(spec, 7, 'k');
    const forward = Array.from({ length: 200 }, (_, t) => a(t));
    expect(forward.every((v) => (v as number) >= 5 && (v as number) <= 15)).toBe(true);
    expect(new Set(forward).size).toBeGreaterThan(50);
    const b = createBehaviour(spec, 7, 'k');
    expect(b(150)).toBe(forward[150]);
    expect(b(20)).toBe(forward[20]);
  });

  it('replays CSV rows, holding or interpolating, and loops', () => {
    const rows: [number, number][] = [
      [0, 10],
      [60, 20],
      [120, 40],
    ];
    const hold = createBehaviour({ csv: { rows, loop: true, interpolate: false } }, 1, 'k');
    expect([hold(0), hold(30), hold(60), hold(150), hold(180), hold(210)]).toEqual([10, 10, 20, 40, 10, 10]);
    const lerp = createBehaviour({ csv: { rows, loop: false, interpolate: true } }, 1, 'k');
    expect([lerp(30), lerp(90), lerp(500)]).toEqual([15, 30, 40]);
  });
});
