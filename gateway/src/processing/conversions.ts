/**
 * Flue-gas conversions (HJ 212-2017 附录 D formulas 18-22, 28-31, 33; HJ 75-2017): pure
 * functions of numbers. Each returns the value together with the name of the conversion and
 * the inputs it used, so an aggregate can say how it was computed (monitoring data is evidence).
 * Units are in the argument names; docs/processing.md lists every formula with its source.
 */

/** Standard state: 273.15 K and 101.325 kPa, dry gas. */
export const STANDARD_TEMPERATURE_K = 273.15;
export const STANDARD_PRESSURE_KPA = 101.325;
/** Molar volume of an ideal gas at the standard state, litres per mole, as formula 20 prints it. */
export const MOLAR_VOLUME_L = 22.4;
/** Oxygen in dry air, % by volume: the 21 of formula 28. */
export const AIR_O2_PCT = 21;
/** Default O2 guard: at or above it the measured O2 is held at the guard (see correctToReferenceO2). */
export const DEFAULT_O2_GUARD_PCT = 19;

/** Molar masses (g/mol) by HJ 212 factor code, for ppm -> mg/m3 (formula 20). */
export const MOLAR_MASS: Readonly<Record<string, { gas: string; gPerMol: number }>> = {
  a21026: { gas: 'SO2', gPerMol: 64.06 },
  a21002: { gas: 'NOx as NO2', gPerMol: 46.01 },
  a21003: { gas: 'NO', gPerMol: 30.01 },
  a21004: { gas: 'NO2', gPerMol: 46.01 },
  a21005: { gas: 'CO', gPerMol: 28.01 },
  a05001: { gas: 'CO2', gPerMol: 44.009 },
  a21001: { gas: 'NH3', gPerMol: 17.031 },
  a21024: { gas: 'HCl', gPerMol: 36.46 },
  a21028: { gas: 'H2S', gPerMol: 34.08 },
};

export type ConversionName =
  | 'standard_state'
  | 'wet_to_dry'
  | 'ppm_to_mg_m3'
  | 'nox_as_no2'
  | 'reference_o2'
  | 'reference_o2_guarded'
  | 'dry_standard_flow'
  | 'emission_rate'
  | 'emission_amount';

/** A computed value with its provenance. */
export interface Converted {
  value: number;
  conversion: ConversionName;
  /** The numbers the value was computed from, by name with unit. */
  inputs: Record<string, number>;
}

const out = (value: number, conversion: ConversionName, inputs: Record<string, number>): Converted => ({
  value,
  conversion,
  inputs,
});

/** Formula 18: a concentration at flue conditions to the standard state (same wet/dry basis). */
export function toStandardState(mgM3: number, temperatureC: number, absolutePressureKpa: number): Converted {
  const factor =
    (STANDARD_PRESSURE_KPA / absolutePressureKpa) *
    ((STANDARD_TEMPERATURE_K + temperatureC) / STANDARD_TEMPERATURE_K);
  return out(mgM3 * factor, 'standard_state', { mgM3, temperatureC, absolutePressureKpa });
}

/** Formula 19: a wet-basis concentration (or O2) to dry basis; moisture in % by volume, below 100. */
export function wetToDry(value: number, moisturePct: number): Converted | undefined {
  if (!(moisturePct >= 0 && moisturePct < 100)) return undefined;
  return out(value / (1 - moisturePct / 100), 'wet_to_dry', { value, moisturePct });
}

/** Formula 20: ppm (µmol/mol) to mg/m3 at the standard state, by molar mass. */
export function ppmToMgM3(ppm: number, molarMassGPerMol: number): Converted {
  return out((ppm * molarMassGPerMol) / MOLAR_VOLUME_L, 'ppm_to_mg_m3', { ppm, molarMassGPerMol });
}

/** mg/m3 at the standard state back to ppm (the inverse of formula 20). */
export function mgM3ToPpm(mgM3: number, molarMassGPerMol: number): number {
  return (mgM3 * MOLAR_VOLUME_L) / molarMassGPerMol;
}

/** Formula 21: NOx expressed as NO2 from NO and NO2 measured separately, both mg/m3. */
export function noxAsNo2(noMgM3: number, no2MgM3: number): Converted {
  const ratio = MOLAR_MASS.a21004!.gPerMol / MOLAR_MASS.a21003!.gPerMol;
  return out(noMgM3 * ratio + no2MgM3, 'nox_as_no2', { noMgM3, no2MgM3 });
}

/**
 * Formula 28: a dry standard concentration converted to the reference O2 of the emission
 * standard, C × (21 − O2ref) / (21 − O2meas). The factor grows without bound as O2 nears 21 %
 * (start-up, shut-down, air ingress), so O2 at or above the guard is held at the guard and the
 * conversion is named `reference_o2_guarded`. The guard value is configurable per outlet
 * because the reference notes do not fix it (docs/processing.md).
 */
export function correctToReferenceO2(
  mgM3: number,
  o2MeasuredPct: number,
  o2ReferencePct: number,
  o2GuardPct = DEFAULT_O2_GUARD_PCT,
): Converted {
  const guarded = o2MeasuredPct >= o2GuardPct;
  const o2 = guarded ? o2GuardPct : Math.max(0, o2MeasuredPct);
  const factor = (AIR_O2_PCT - o2ReferencePct) / (AIR_O2_PCT - o2);
  return out(mgM3 * factor, guarded ? 'reference_o2_guarded' : 'reference_o2', {
    mgM3,
    o2MeasuredPct,
    o2ReferencePct,
    ...(guarded ? { o2GuardPct } : {}),
  });
}

/** Flue conditions for the flow formulas; pressures in kPa, static pressure as a gauge value. */
export interface FlueConditions {
  temperatureC: number;
  staticPressureKpa: number;
  ambientPressureKpa: number;
  moisturePct: number;
}

/**
 * Formulas 30 and 31: dry standard flow (m3/s) from the section velocity (m/s) and the duct
 * area (m2): Qsn = Vs × F × 273.15/(273.15 + ts) × (Ba + Ps)/101.325 × (1 − Xsw).
 */
export function dryStandardFlowFromVelocity(
  velocityMS: number,
  ductAreaM2: number,
  flue: FlueConditions,
): Converted {
  const actual = velocityMS * ductAreaM2;
  return out(actualToDryStandardFlow(actual, flue), 'dry_standard_flow', {
    velocityMS,
    ductAreaM2,
    ...flue,
  });
}

/** Formula 31 from an actual (wet, flue-condition) flow in m3/s, as a flow meter reports it. */
export function dryStandardFlowFromActual(actualM3S: number, flue: FlueConditions): Converted {
  return out(actualToDryStandardFlow(actualM3S, flue), 'dry_standard_flow', { actualM3S, ...flue });
}

function actualToDryStandardFlow(actualM3S: number, f: FlueConditions): number {
  return (
    actualM3S *
    (STANDARD_TEMPERATURE_K / (STANDARD_TEMPERATURE_K + f.temperatureC)) *
    ((f.ambientPressureKpa + f.staticPressureKpa) / STANDARD_PRESSURE_KPA) *
    (1 - f.moisturePct / 100)
  );
}

/** Formula 33: emission rate in kg/h from mg/m3 and a dry standard flow in m3/s. */
export function emissionRate(mgM3: number, flowM3S: number): Converted {
  return out(mgM3 * flowM3S * 3600 * 1e-6, 'emission_rate', { mgM3, flowM3S });
}

/** HJ 212 `-Cou`: kg emitted over `seconds` at mean concentration mg/m3 and mean flow m3/s. */
export function emissionAmount(mgM3: number, flowM3S: number, seconds: number): Converted {
  return out(mgM3 * flowM3S * seconds * 1e-6, 'emission_amount', { mgM3, flowM3S, seconds });
}
