/**
 * Behaviours drive a point's value over time: constant, ramp, sine with noise, random walk and
 * replay of a CSV column. Each is a pure function of the time since the simulator started (and
 * the scenario seed), so two runs of one scenario serve the same values at the same moments.
 */
import { gaussian, hashString, noiseAt } from '../random.js';
import type { PointValue } from './encode.js';

export type BehaviourSpec =
  | { constant: number | string }
  | { ramp: { from: number; to: number; periodS: number; shape: 'sawtooth' | 'triangle' | 'once' } }
  | {
      sine: {
        mean: number;
        amplitude: number;
        periodS: number;
        phaseS: number;
        noise: number;
        noiseStepS: number;
      };
    }
  | {
      randomWalk: {
        start: number;
        sigma: number;
        stepS: number;
        min?: number | undefined;
        max?: number | undefined;
      };
    }
  | { csv: { rows: readonly (readonly [number, number])[]; loop: boolean; interpolate: boolean } };

/** Value at `t` seconds after the start. */
export type Behaviour = (t: number) => PointValue;

export function createBehaviour(spec: BehaviourSpec, seed: number, key: string): Behaviour {
  if ('constant' in spec) {
    const v = spec.constant;
    return () => v;
  }
  if ('ramp' in spec) return ramp(spec.ramp);
  if ('sine' in spec) return sine(spec.sine, seed, key);
  if ('randomWalk' in spec) return randomWalk(spec.randomWalk, hashString(key, seed));
  return replay(spec.csv);
}

function ramp(r: Extract<BehaviourSpec, { ramp: unknown }>['ramp']): Behaviour {
  return (t) => {
    let f = t / r.periodS;
    if (r.shape === 'once') f = Math.min(f, 1);
    else if (r.shape === 'sawtooth') f = f - Math.floor(f);
    else {
      const p = f - 2 * Math.floor(f / 2);
      f = p <= 1 ? p : 2 - p;
    }
    return r.from + (r.to - r.from) * f;
  };
}

function sine(s: Extract<BehaviourSpec, { sine: unknown }>['sine'], seed: number, key: string): Behaviour {
  return (t) => {
    const base = s.mean + s.amplitude * Math.sin((2 * Math.PI * (t + s.phaseS)) / s.periodS);
    if (s.noise === 0) return base;
    // Noise is held for noiseStepS so that reading twice within one step gives one value.
    const step = Math.floor(t / s.noiseStepS);
    return base + s.noise * gaussian(noiseAt(seed, `${key}:a`, step), noiseAt(seed, `${key}:b`, step));
  };
}

function randomWalk(
  w: Extract<BehaviourSpec, { randomWalk: unknown }>['randomWalk'],
  seed: number,
): Behaviour {
  let step = 0;
  let value = w.start;
  const bound = (v: number) => {
    // Reflect at the bounds so the walk stays inside without sticking to them.
    if (w.max !== undefined && v > w.max) v = 2 * w.max - v;
    if (w.min !== undefined && v < w.min) v = 2 * w.min - v;
    return Math.min(Math.max(v, w.min ?? -Infinity), w.max ?? Infinity);
  };
  return (t) => {
    const target = Math.max(0, Math.floor(t / w.stepS));
    if (target < step) {
      step = 0;
      value = w.start;
    }
    for (; step < target; step++) {
      value = bound(value + w.sigma * gaussian(noiseAt(seed, 'a', step), noiseAt(seed, 'b', step)));
    }
    return value;
  };
}

function replay(c: Extract<BehaviourSpec, { csv: unknown }>['csv']): Behaviour {
  const rows = c.rows;
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  // A looping replay repeats after the last row's time plus one row interval.
  const interval = rows.length > 1 ? (last[0] - first[0]) / (rows.length - 1) : 1;
  const span = last[0] - first[0] + interval;
  return (t) => {
    let at = first[0] + t;
    if (c.loop && at >= first[0] + span) at = first[0] + ((at - first[0]) % span);
    if (at >= last[0]) return last[1];
    let lo = 0;
    let hi = rows.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (rows[mid]![0] <= at) lo = mid;
      else hi = mid;
    }
    const a = rows[lo]!;
    const b = rows[hi]!;
    if (!c.interpolate || b[0] === a[0]) return a[1];
    return a[1] + ((b[1] - a[1]) * (at - a[0])) / (b[0] - a[0]);
  };
}
