import { describe, expect, it } from 'vitest';
import {
  correctToReferenceO2,
  dryStandardFlowFromActual,
  dryStandardFlowFromVelocity,
  emissionAmount,
  emissionRate,
  mgM3ToPpm,
  noxAsNo2,
  ppmToMgM3,
  toStandardState,
  wetToDry,
} from '../../../gateway/src/processing/conversions.js';

// Expectations below were worked out by hand (pencil and calculator), not with the code under test.

describe('reference-O2 correction (HJ 212-2017 附录 D formula 28)', () => {
  const cases = [
    // the reference's worked CN 2051 packet: O2 7.2 % at 6 % reference
    { what: 'SO2 22.4 at O2 7.2 %, ref 6 %', c: 22.4, o2: 7.2, ref: 6, want: 24.3478, rounded: 24.35 },
    { what: 'NOx 38.6 at O2 7.2 %, ref 6 %', c: 38.6, o2: 7.2, ref: 6, want: 41.9565, rounded: 41.96 },
    { what: 'dust 3.1 at O2 7.2 %, ref 6 %', c: 3.1, o2: 7.2, ref: 6, want: 3.3696, rounded: 3.37 },
    { what: 'SO2 20 at O2 12.5 %, ref 9 %', c: 20, o2: 12.5, ref: 9, want: 28.2353, rounded: 28.24 },
    { what: 'O2 equal to the reference leaves the value', c: 35, o2: 6, ref: 6, want: 35, rounded: 35 },
  ];
  it.each(cases)('$what gives $rounded', ({ c, o2, ref, want, rounded }) => {
    const r = correctToReferenceO2(c, o2, ref);
    expect(r.value).toBeCloseTo(want, 4);
    expect(Math.round(r.value * 100) / 100).toBe(rounded);
    expect(r.conversion).toBe('reference_o2');
    expect(r.inputs).toEqual({ mgM3: c, o2MeasuredPct: o2, o2ReferencePct: ref });
  });

  it('holds O2 at the guard near 21 % and says so', () => {
    // O2 20.5 % would multiply by 30; held at 19 % the factor is 15 / 2 = 7.5.
    const r = correctToReferenceO2(10, 20.5, 6, 19);
    expect(r.value).toBeCloseTo(75, 9);
    expect(r.conversion).toBe('reference_o2_guarded');
    expect(r.inputs.o2GuardPct).toBe(19);
    // O2 above 21 % (a sensor fault) stays finite too
    expect(Number.isFinite(correctToReferenceO2(10, 25, 6).value)).toBe(true);
  });
});

describe('standard state (formula 18), at several temperatures and pressures', () => {
  const cases = [
    { t: 0, p: 101.325, want: 10 },
    { t: 100, p: 101.325, want: 13.661 }, // 373.15 / 273.15
    { t: 0, p: 50.6625, want: 20 }, // half the pressure, twice the volume
    { t: 48.5, p: 101.075, want: 11.8047 }, // the worked packet's flue: 48.5 °C, −0.25 kPa gauge
    { t: -20, p: 90, want: 10.434 }, // a cold high-altitude site
  ];
  it.each(cases)('10 mg/m3 at $t °C and $p kPa is $want mg/m3 at 273.15 K, 101.325 kPa', ({ t, p, want }) => {
    const r = toStandardState(10, t, p);
    expect(r.value).toBeCloseTo(want, 3);
    expect(r).toMatchObject({
      conversion: 'standard_state',
      inputs: { temperatureC: t, absolutePressureKpa: p },
    });
  });
});

describe('basis and unit conversions', () => {
  it('converts wet to dry by the moisture fraction (formula 19) and refuses 100 % moisture', () => {
    expect(wetToDry(10, 8.5)?.value).toBeCloseTo(10.929, 3);
    expect(wetToDry(10, 0)?.value).toBe(10);
    expect(wetToDry(10, 100)).toBeUndefined();
  });

  it.each([
    { gas: 'SO2', ppm: 10, m: 64.06, want: 28.598 },
    { gas: 'NO', ppm: 100, m: 30.01, want: 133.973 },
  ])('converts $ppm ppm $gas to $want mg/m3 with 22.4 L/mol (formula 20) and back', ({ ppm, m, want }) => {
    const r = ppmToMgM3(ppm, m);
    expect(r.value).toBeCloseTo(want, 3);
    expect(r.conversion).toBe('ppm_to_mg_m3');
    expect(mgM3ToPpm(r.value, m)).toBeCloseTo(ppm, 9);
  });

  it('expresses NOx as NO2 from NO and NO2 measured apart (formula 21)', () => {
    const r = noxAsNo2(58, 4.2); // 58 × 46.01 / 30.01 + 4.2
    expect(r.value).toBeCloseTo(93.123, 3);
    expect(r).toMatchObject({ conversion: 'nox_as_no2', inputs: { noMgM3: 58, no2MgM3: 4.2 } });
  });
});

describe('flow, emission rate and amount (formulas 30, 31, 33; HJ 212 -Cou)', () => {
  it('gives the duct flow unchanged at standard, dry conditions', () => {
    const flue = { temperatureC: 0, staticPressureKpa: 0, ambientPressureKpa: 101.325, moisturePct: 0 };
    expect(dryStandardFlowFromVelocity(10, 5, flue).value).toBeCloseTo(50, 9);
    expect(dryStandardFlowFromActual(50, flue).value).toBeCloseTo(50, 9);
  });

  it('reduces a hot, moist flow to dry standard conditions', () => {
    // 50 × 273.15/321.65 × 101.075/101.325 × (1 − 0.085)
    const flue = {
      temperatureC: 48.5,
      staticPressureKpa: -0.25,
      ambientPressureKpa: 101.325,
      moisturePct: 8.5,
    };
    const r = dryStandardFlowFromVelocity(10, 5, flue);
    expect(r.value).toBeCloseTo(38.7557, 3);
    expect(r).toMatchObject({ conversion: 'dry_standard_flow', inputs: { velocityMS: 10, ductAreaM2: 5 } });
  });

  it('turns 22.4 mg/m3 at 50 m3/s into 4.032 kg/h and 0.672 kg over 10 minutes', () => {
    expect(emissionRate(22.4, 50).value).toBeCloseTo(4.032, 9);
    const cou = emissionAmount(22.4, 50, 600);
    expect(cou.value).toBeCloseTo(0.672, 9);
    expect(cou.inputs).toEqual({ mgM3: 22.4, flowM3S: 50, seconds: 600 });
    // the same packet's NOx and dust amounts
    expect(emissionAmount(38.6, 50, 600).value).toBeCloseTo(1.158, 9);
    expect(emissionAmount(3.1, 50, 600).value).toBeCloseTo(0.093, 9);
  });
});
