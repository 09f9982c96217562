/**
 * Per-outlet conversions of one closed minute: dry standard flow from the flue series, NOx as
 * NO2 from NO and NO2, and for each pollutant the value at reference O2 (zsAvg) and the amount
 * emitted (Cou). They work on minute means (HJ 212-2017 附录 D: the 5-s values are averaged
 * per minute first), which is how the reference's worked packet is consistent:
 * 22.4 mg/m3 at O2 7.2 % -> 24.35 at 6 %, and 22.4 × 50 m3/s × 600 s × 10^-6 = 0.672 kg.
 */
import {
  correctToReferenceO2,
  dryStandardFlowFromActual,
  dryStandardFlowFromVelocity,
  emissionAmount,
  noxAsNo2,
  type Converted,
  type FlueConditions,
} from './conversions.js';
import { FLOW_POINT, NOX_POINT, type OutletPlan } from './plan.js';
import { counts } from './rules.js';
import type { Aggregate } from './types.js';

type Minute = Map<string, Aggregate>;

const valid = (a: Aggregate | undefined): a is Aggregate & { avg: number } =>
  a !== undefined && counts(a.flag) && a.avg !== null;

/** The first input that is missing or not valid decides a derived value's flag. */
function derivedFlag(inputs: (Aggregate | undefined)[]): Aggregate['flag'] {
  const bad = inputs.find((a) => !valid(a));
  if (bad === undefined) return inputs.some((a) => a?.flag === 'S') ? 'S' : 'N';
  return bad.flag === 'N' || bad.flag === 'S' ? 'D' : bad.flag;
}

function flueConditions(o: OutletPlan, m: Minute): FlueConditions | undefined {
  const t = m.get(o.flue.temperature ?? '');
  const p = m.get(o.flue.pressure ?? '');
  const x = m.get(o.flue.moisture ?? '');
  if (!valid(t) || !valid(p) || !valid(x)) return undefined;
  return {
    temperatureC: t.avg,
    staticPressureKpa: p.avg,
    ambientPressureKpa: o.ambientPressureKpa,
    moisturePct: x.avg,
  };
}

function base(o: OutletPlan, point: string, start: number, hj212: string, unit: string) {
  return { device: o.id, point, period: 'minute' as const, start, outlet: o.id, hj212, unit };
}

/** Dry standard flow (m3/s) of the minute as an outlet series, or undefined when nothing feeds it. */
function flowMinute(o: OutletPlan, m: Minute, start: number, seconds: number): Aggregate | undefined {
  const src = m.get(o.flue.flow ?? o.flue.velocity ?? '');
  if (src === undefined || (o.flue.flow === undefined && o.ductAreaM2 === undefined)) return undefined;
  const flue = flueConditions(o, m);
  const inputs = [
    src,
    m.get(o.flue.temperature ?? ''),
    m.get(o.flue.pressure ?? ''),
    m.get(o.flue.moisture ?? ''),
  ];
  const flag = derivedFlag(inputs);
  const out: Aggregate = {
    ...base(o, FLOW_POINT, start, 'a00000', 'm3/s'),
    min: null,
    avg: null,
    max: null,
    count: src.count,
    flag,
    inputs: src.inputs ?? src.count,
    required: src.required ?? src.count,
    cou: null,
  };
  if (flue === undefined || !valid(src) || !counts(flag)) return out;
  const perS = o.flowUnit === 'm3/h' ? 1 / 3600 : 1;
  const at = (v: number): Converted =>
    o.flue.flow !== undefined
      ? dryStandardFlowFromActual(v * perS, flue)
      : dryStandardFlowFromVelocity(v, o.ductAreaM2!, flue);
  const mean = at(src.avg);
  out.avg = mean.value;
  out.min = src.min === null ? null : at(src.min).value;
  out.max = src.max === null ? null : at(src.max).value;
  out.cou = mean.value * seconds;
  out.derivation = { conversions: [mean.conversion], inputs: mean.inputs };
  return out;
}

function noxMinute(o: OutletPlan, m: Minute, start: number): Aggregate | undefined {
  if (!o.noxFrom) return undefined;
  const no = m.get(o.noxFrom.no);
  const no2 = m.get(o.noxFrom.no2);
  if (no === undefined && no2 === undefined) return undefined;
  const flag = derivedFlag([no, no2]);
  const both = valid(no) && valid(no2);
  const nox = both ? noxAsNo2(no.avg, no2.avg) : undefined;
  return {
    ...base(o, NOX_POINT, start, 'a21002', 'mg/m3'),
    min: null,
    avg: nox?.value ?? null,
    max: null,
    count: Math.min(no?.count ?? 0, no2?.count ?? 0),
    flag: both ? flag : flag === 'N' ? 'D' : flag,
    inputs: Math.max(no?.inputs ?? 0, no2?.inputs ?? 0),
    required: no?.required ?? no2?.required ?? 0,
    ...(nox ? { derivation: { conversions: [nox.conversion], inputs: nox.inputs } } : {}),
  };
}

/**
 * Completes the minute aggregates of one outlet in place (zs and Cou on its pollutants) and
 * returns the outlet's own series (flow, NOx as NO2) for the minute.
 */
export function convertOutletMinute(o: OutletPlan, m: Minute, start: number, seconds: number): Aggregate[] {
  const own: Aggregate[] = [];
  const flow = flowMinute(o, m, start, seconds);
  if (flow) own.push(flow);
  const nox = noxMinute(o, m, start);
  if (nox) own.push(nox);
  const o2 = m.get(o.o2 ?? '');
  const withZs = o.referenceO2Pct !== undefined && o.o2 !== undefined;
  const withCou = flow !== undefined;
  const targets = [...o.pollutants.map((k) => m.get(k)), nox];
  for (const a of targets) {
    if (a === undefined) continue;
    const conversions = [...(a.derivation?.conversions ?? [])];
    const inputs = { ...(a.derivation?.inputs ?? {}) };
    if (withZs) {
      a.zsAvg = a.zsMin = a.zsMax = null;
      if (valid(a) && valid(o2)) {
        const zs = (v: number) => correctToReferenceO2(v, o2.avg, o.referenceO2Pct!, o.o2GuardPct);
        const mean = zs(a.avg);
        a.zsAvg = mean.value;
        a.zsMin = a.min === null ? null : zs(a.min).value;
        a.zsMax = a.max === null ? null : zs(a.max).value;
        conversions.push(mean.conversion);
        Object.assign(inputs, { o2MeasuredPct: o2.avg, o2ReferencePct: o.referenceO2Pct });
      }
    }
    if (withCou) {
      a.cou = null;
      if (valid(a) && flow.avg !== null) {
        const cou = emissionAmount(a.avg, flow.avg, seconds);
        a.cou = cou.value;
        conversions.push(cou.conversion);
        Object.assign(inputs, { flowM3S: flow.avg, seconds });
      }
    }
    if (conversions.length > 0) a.derivation = { conversions, inputs };
  }
  return own;
}
