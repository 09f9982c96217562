/**
 * From ADC counts to engineering units. The board's ADC is 10 bit against a 5 V reference.
 * A 4-20 mA loop is read across a shunt (default 220 Ω: 20 mA = 4.4 V, so over-range currents up
 * to 22.7 mA stay measurable); a 0-10 V signal through a 2:1 divider (10 V = 5 V at the pin).
 *
 * NAMUR NE43: a loop current below 3.6 mA or above 21 mA is a transmitter or wiring fault (a
 * broken wire reads 0 mA): flag D and no value, never a number computed from a dead loop.
 * Between 20.5 and 21 mA the transmitter says "above range": flag T, value clamped to the top.
 */
import type { Flag } from '../../gateway/src/core/flags.js';
import type { Quality } from '../../gateway/src/core/reading.js';

export const ADC_MAX = 1023;
export const VREF = 5;
export const DIVIDER_0_10V = 2;

export const NE43 = { faultBelowMa: 3.6, faultAboveMa: 21, rangeLowMa: 3.8, rangeHighMa: 20.5 } as const;

export interface AnalogSpec {
  signal: '4-20mA' | '0-10V';
  range: readonly [number, number];
  shuntOhms: number;
}

export interface Scaled {
  value: number | null;
  flag: Flag;
  quality?: Quality[];
  /** The signal itself (mA or V), kept as evidence. */
  signal: number;
}

export const countsToVolts = (counts: number): number => (counts / ADC_MAX) * VREF;

const round = (v: number, digits = 4): number => Number(v.toFixed(digits));

function lerp(range: readonly [number, number], fraction: number): number {
  return range[0] + (range[1] - range[0]) * fraction;
}

export function scale(counts: number, spec: AnalogSpec): Scaled {
  const volts = countsToVolts(counts);
  if (spec.signal === '0-10V') {
    const v = volts * DIVIDER_0_10V;
    if (v > 10.25)
      return { value: lerp(spec.range, 1), flag: 'T', quality: ['out_of_range'], signal: round(v) };
    return { value: round(lerp(spec.range, Math.min(1, v / 10))), flag: 'N', signal: round(v) };
  }
  const mA = (volts / spec.shuntOhms) * 1000;
  const signal = round(mA);
  if (mA < NE43.faultBelowMa || mA > NE43.faultAboveMa)
    return { value: null, flag: 'D', quality: ['out_of_range'], signal };
  if (mA > NE43.rangeHighMa)
    return { value: lerp(spec.range, 1), flag: 'T', quality: ['out_of_range'], signal };
  const fraction = Math.max(0, Math.min(1, (mA - 4) / 16));
  return { value: round(lerp(spec.range, fraction)), flag: 'N', signal };
}

/** ADC counts a loop current gives across the shunt (for the simulator and tests). */
export function countsForMa(mA: number, shuntOhms = 220): number {
  return Math.round((((mA / 1000) * shuntOhms) / VREF) * ADC_MAX);
}
