/**
 * Canonical unit spellings. Profiles must use exactly these; the lint names the canonical
 * spelling when a profile uses a known alias (e.g. `mg/Nm3`, `℃`, `ug/m³`).
 */
export const CANONICAL_UNITS = [
  '',
  'mg/m3',
  'ug/m3',
  'g/m3',
  'ppm',
  'ppb',
  '%',
  '%RH',
  'degC',
  'K',
  'Pa',
  'kPa',
  'hPa',
  'MPa',
  'inHg',
  'mmHg',
  'm/s',
  'm3/h',
  'm3/s',
  'L/min',
  'mL/min',
  'deg',
  'dB',
  'dB(A)',
  'mm',
  'lx',
  'W/m2',
  'V',
  'mV',
  'mA',
  'A',
  'kW',
  'kWh',
  'Hz',
  's',
  'min',
  'h',
  'count',
  '#/0.1L',
  '#/cm3',
  'Beaufort',
  '%FS',
] as const;

export type CanonicalUnit = (typeof CANONICAL_UNITS)[number];

/** Known misspellings and their canonical form. */
export const UNIT_ALIASES: Record<string, CanonicalUnit> = {
  'mg/Nm3': 'mg/m3',
  'mg/m³': 'mg/m3',
  'mg/nm3': 'mg/m3',
  'µg/m3': 'ug/m3',
  'μg/m3': 'ug/m3',
  'ug/m³': 'ug/m3',
  'µg/m³': 'ug/m3',
  '℃': 'degC',
  '°C': 'degC',
  C: 'degC',
  degc: 'degC',
  '%rh': '%RH',
  RH: '%RH',
  'm3/hr': 'm3/h',
  'm³/h': 'm3/h',
  '°': 'deg',
  dBA: 'dB(A)',
  lux: 'lx',
  Lux: 'lx',
  kpa: 'kPa',
  pa: 'Pa',
  hpa: 'hPa',
  mbar: 'hPa',
};

export function isCanonicalUnit(u: string): u is CanonicalUnit {
  return (CANONICAL_UNITS as readonly string[]).includes(u);
}
