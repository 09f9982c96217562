/**
 * What processing computes for a site config: one series per polled numeric measurement point,
 * and per outlet the O2, flue and pollutant series its conversions use. Pure; also the source of
 * the outlet lines of `check-config --plan`.
 */
import { PointMap } from '../core/point-map.js';
import { parsePointRef } from '../core/reading.js';
import type { ProfileRegistry } from '../profiles/index.js';
import { pollingPlan } from '../config/plan.js';
import type { OutletConfig, SiteConfig } from '../config/schema.js';
import { PM_SENSOR_POINTS, pmSensorUnit } from '../config/schema-pm-sensors.js';
import { MOLAR_MASS } from './conversions.js';
import type { QualitySettings } from './quality.js';
import type { DriftPlan } from './calibration.js';

/** Conversion of the samples of a series before aggregation. */
export interface SeriesPlan {
  device: string;
  point: string;
  /** Unit of the aggregates (mg/m3 when ppm is converted). */
  unit: string;
  /** Unit the device reports. */
  sourceUnit: string;
  hj212?: string;
  outlet?: string;
  /** Valid samples a minute needs. */
  minSamples: number;
  /** Set when the device reports ppm of a gas whose molar mass is known (formula 20). */
  ppmMolarMass?: number;
  /** Measuring range of the analyzer, for the data-quality checks. */
  range?: [number, number];
  /** A dust point (TSP, PM10, PM2.5, PM1.0): also averaged per quarter-hour. */
  dust?: boolean;
}

export interface LimitPlan {
  device: string;
  point: string;
  max: number;
  warning: number;
  /** realtime: every valid reading is judged (dust sites only). */
  averaging: 'realtime' | 'minute' | 'quarter_hour' | 'hour' | 'day';
  corrected: boolean;
  /** Subtracted from the period value before it is judged (a district's reference PM10). */
  reference?: number;
}

export type FlueKey = 'temperature' | 'pressure' | 'moisture' | 'velocity' | 'flow';

export interface OutletPlan {
  id: string;
  name: string;
  referenceO2Pct?: number;
  o2GuardPct: number;
  /** Series key (`device/point`) of the measured O2. */
  o2?: string;
  flue: Partial<Record<FlueKey, string>>;
  /** Unit of flue.flow (m3/s or m3/h), when given. */
  flowUnit?: string;
  ductAreaM2?: number;
  ambientPressureKpa: number;
  /** mg/m3 series of the outlet's devices: reported with zsAvg (if referenceO2Pct) and Cou (if a flow). */
  pollutants: string[];
  /** NOx as NO2 computed from NO and NO2 series when no device reports NOx itself. */
  noxFrom?: { no: string; no2: string };
  limits: LimitPlan[];
  /** Zero and span drift registers recorded as calibration checks. */
  drifts?: DriftPlan[];
  /** Why something is not computed, for the plan text. */
  notes: string[];
}

/** The high-wind rule (config `dust.highWind`), times in ms. */
export interface WindPlan {
  device: string;
  point: string;
  above: number;
  below: number;
  holdMs: number;
  clearMs: number;
  /** Poll period of `fastDevices` during high wind. */
  periodMs: number;
}

/** A construction site's dust limits and high-wind rule (config `dust`). */
export interface DustPlan {
  limits: LimitPlan[];
  highWind?: WindPlan;
  /** Modbus devices that poll at `highWind.periodMs` during high wind: dust monitors, the wind's. */
  fastDevices: string[];
  notes: string[];
}

export interface ProcessingPlan {
  timeZone: string;
  series: SeriesPlan[];
  outlets: OutletPlan[];
  dust?: DustPlan;
  /** Data-quality check settings; absent: DEFAULT_QUALITY. */
  quality?: QualitySettings;
}

/** HJ 212 codes of dust points: TSP, PM10, PM2.5. */
const DUST_CODES = new Set(['a34001', 'a34002', 'a34004']);
const UART_CODES: Record<string, string> = { pm10: 'a34002', pm2_5: 'a34004' };
const NUMERIC = new Set(['u16', 'i16', 'u32', 'i32', 'u64', 'i64', 'f32', 'f64', 'bcd', 'bits']);
/** Point of an outlet-computed dry standard flow series (HJ 212 a00000, m3/s). */
export const FLOW_POINT = 'dry_std_flow';
/** Point of an outlet-computed NOx-as-NO2 series (HJ 212 a21002). */
export const NOX_POINT = 'nox_as_no2';

/** Keys made so far, by device then point: one string per series, not one per reading. */
const KEYS = new PointMap<string>();

/** `device/point`, the key of a series; the same string each time for the same series. */
export function seriesKey(device: string, point: string): string {
  let key = KEYS.get(device, point);
  if (key === undefined) KEYS.set(device, point, (key = `${device}/${point}`));
  return key;
}

export function processingPlan(config: SiteConfig, profiles: ProfileRegistry): ProcessingPlan {
  const outletOf = new Map<string, [string, OutletConfig]>();
  for (const [id, o] of Object.entries(config.outlets)) for (const d of o.devices) outletOf.set(d, [id, o]);
  const series: SeriesPlan[] = [];
  for (const bus of pollingPlan(config, profiles)) {
    for (const d of bus.devices) {
      const outlet = outletOf.get(d.id);
      const perMinute = Math.max(1, Math.floor(60_000 / d.periodMs));
      const minSamples = outlet?.[1].minSamplesPerMinute ?? Math.min(12, perMinute);
      for (const p of d.points) {
        if (p.role !== 'measurement' || !NUMERIC.has(p.type)) continue;
        const molar = p.unit === 'ppm' && p.hj212 !== undefined ? MOLAR_MASS[p.hj212] : undefined;
        series.push({
          device: d.id,
          point: p.key,
          unit: molar ? 'mg/m3' : p.unit,
          sourceUnit: p.unit,
          minSamples,
          ...(p.hj212 === undefined ? {} : { hj212: p.hj212 }),
          ...(outlet ? { outlet: outlet[0] } : {}),
          ...(molar ? { ppmMolarMass: molar.gPerMol } : {}),
          ...(p.range ? { range: [p.range[0], p.range[1]] as [number, number] } : {}),
          ...(p.hj212 !== undefined && DUST_CODES.has(p.hj212) ? { dust: true } : {}),
        });
      }
    }
  }
  series.push(...pmSensorSeries(config));
  const byKey = new Map(series.map((s) => [seriesKey(s.device, s.point), s]));
  const polled = new Map<string, string>();
  for (const bus of pollingPlan(config, profiles))
    for (const d of bus.devices) for (const p of d.points) polled.set(seriesKey(d.id, p.key), p.unit);
  const outlets = Object.entries(config.outlets).map(([id, o]) => {
    const plan = outletPlan(id, o, series, byKey);
    plan.drifts = driftPlans(id, o, polled, plan.notes);
    return plan;
  });
  const { clockSync: _probe, ...quality } = config.quality;
  const dust = config.dust ? dustPlan(config, series, byKey) : undefined;
  return { timeZone: config.site.timezone, series, outlets, quality, ...(dust ? { dust } : {}) };
}

/** The UART sensors' points: every frame is a sample, so a minute needs 60 s / frame interval (at most 12). */
function pmSensorSeries(config: SiteConfig): SeriesPlan[] {
  return Object.entries(config.pmSensors).flatMap(([device, s]) =>
    PM_SENSOR_POINTS[s.model].map((point) => ({
      device,
      point,
      unit: pmSensorUnit(point),
      sourceUnit: pmSensorUnit(point),
      minSamples: Math.min(12, Math.max(1, Math.floor(60_000 / s.frameIntervalMs))),
      ...(UART_CODES[point] === undefined ? {} : { hj212: UART_CODES[point] }),
      ...(point.startsWith('pm') ? { dust: true } : {}),
    })),
  );
}

/** Limits on polled points (a note for each one that is not), with what only their kind knows. */
function limitPlans<L extends { max: number; warningPct: number; averaging: LimitPlan['averaging'] }>(
  config: Record<string, L>,
  byKey: Map<string, SeriesPlan>,
  notes: string[],
  extra: (l: L) => Pick<LimitPlan, 'corrected' | 'reference'>,
): LimitPlan[] {
  const limits: LimitPlan[] = [];
  for (const [ref, l] of Object.entries(config)) {
    const r = parsePointRef(ref);
    if (!r || !byKey.has(ref)) {
      notes.push(`limit on ${ref}: the point is not polled`);
      continue;
    }
    const warning = (l.max * l.warningPct) / 100;
    limits.push({
      device: r.device,
      point: r.point,
      max: l.max,
      warning,
      averaging: l.averaging,
      ...extra(l),
    });
  }
  return limits;
}

function dustPlan(config: SiteConfig, series: SeriesPlan[], byKey: Map<string, SeriesPlan>): DustPlan {
  const d = config.dust!;
  const notes: string[] = [];
  const limits = limitPlans(d.limits, byKey, notes, (l) => {
    const reference = l.minusReference ? d.districtReference : undefined;
    return { corrected: false, ...(reference === undefined ? {} : { reference }) };
  });
  const fast = new Set(series.filter((s) => s.dust && config.devices[s.device]).map((s) => s.device));
  const w = d.highWind;
  const wind = w ? parsePointRef(w.point) : undefined;
  if (w && (!wind || !byKey.has(w.point))) notes.push(`high wind on ${w.point}: the point is not polled`);
  if (wind && config.devices[wind.device]) fast.add(wind.device);
  const highWind: WindPlan | undefined =
    w && wind
      ? {
          device: wind.device,
          point: wind.point,
          above: w.above,
          below: w.below ?? w.above,
          holdMs: w.holdS * 1000,
          clearMs: w.clearS * 1000,
          periodMs: w.periodMs,
        }
      : undefined;
  return { limits, ...(highWind ? { highWind } : {}), fastDevices: [...fast].sort(), notes };
}

function outletPlan(
  id: string,
  o: OutletConfig,
  series: SeriesPlan[],
  byKey: Map<string, SeriesPlan>,
): OutletPlan {
  const notes: string[] = [];
  const polled = (ref: string | undefined, what: string): string | undefined => {
    if (ref === undefined) return undefined;
    if (byKey.has(ref)) return ref;
    notes.push(`${what} ${ref} is not polled`);
    return undefined;
  };
  const flue: Partial<Record<FlueKey, string>> = {};
  for (const k of ['temperature', 'pressure', 'moisture', 'velocity', 'flow'] as const) {
    const ref = polled(o.flue?.[k], `flue ${k}`);
    if (ref !== undefined) flue[k] = ref;
  }
  const own = series.filter((s) => s.outlet === id);
  const o2 = polled(o.o2, 'o2');
  const pollutants = own.filter((s) => s.unit === 'mg/m3').map((s) => seriesKey(s.device, s.point));
  const code = (c: string) => own.find((s) => s.hj212 === c);
  const no = code('a21003');
  const no2 = code('a21004');
  const noxFrom =
    code('a21002') === undefined && no?.unit === 'mg/m3' && no2?.unit === 'mg/m3'
      ? { no: seriesKey(no.device, no.point), no2: seriesKey(no2.device, no2.point) }
      : undefined;
  if (flue.flow === undefined && flue.velocity === undefined)
    notes.push('no flow: no emission amounts (Cou)');
  else if (flue.temperature === undefined || flue.pressure === undefined || flue.moisture === undefined) {
    notes.push('flow needs flue temperature, pressure and moisture for the standard state: no Cou');
  }
  const flowUnit = flue.flow === undefined ? undefined : byKey.get(flue.flow)?.unit;
  if (flowUnit !== undefined && flowUnit !== 'm3/s' && flowUnit !== 'm3/h') {
    notes.push(`flue flow is in ${flowUnit}, not m3/s or m3/h: no Cou`);
    delete flue.flow;
  }
  const limits = limitPlans(o.limits, byKey, notes, (l) => ({ corrected: l.corrected }));
  return {
    id,
    name: o.name,
    ...(o.referenceO2Pct === undefined ? {} : { referenceO2Pct: o.referenceO2Pct }),
    o2GuardPct: o.o2GuardPct,
    ...(o2 === undefined ? {} : { o2 }),
    flue,
    ...(flowUnit === undefined || flue.flow === undefined ? {} : { flowUnit }),
    ...(o.ductAreaM2 === undefined ? {} : { ductAreaM2: o.ductAreaM2 }),
    ambientPressureKpa: o.ambientPressureKpa,
    pollutants,
    ...(noxFrom ? { noxFrom } : {}),
    limits,
    notes,
  };
}

function driftPlans(id: string, o: OutletConfig, polled: Map<string, string>, notes: string[]): DriftPlan[] {
  const out: DriftPlan[] = [];
  for (const [of, c] of Object.entries(o.calibration)) {
    for (const check of ['zero', 'span'] as const) {
      const ref = check === 'zero' ? c.zeroDrift : c.spanDrift;
      if (ref === undefined) continue;
      const r = parsePointRef(ref);
      const unit = polled.get(ref);
      if (!r || unit === undefined) {
        notes.push(`${check} drift of ${of}: ${ref} is not polled`);
        continue;
      }
      out.push({
        outlet: id,
        device: r.device,
        point: r.point,
        of,
        check,
        tolerance: check === 'zero' ? c.zeroTolerance : c.spanTolerance,
        ...(unit === '' ? {} : { unit }),
      });
    }
  }
  return out;
}
