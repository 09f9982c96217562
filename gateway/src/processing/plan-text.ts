/** What processing computes for each outlet, as text for `check-config --plan`. */
import type { OutletPlan, ProcessingPlan } from './plan.js';
import {
  MIN_VALID_HOURS_PER_DAY,
  MIN_VALID_MINUTES_PER_HOUR,
  MIN_VALID_MINUTES_PER_QUARTER,
} from './rules.js';

const short = (key: string) => key.slice(key.indexOf('/') + 1);

function outletLines(o: OutletPlan, plan: ProcessingPlan): string[] {
  const own = plan.series.filter((s) => s.outlet === o.id);
  const samples = [...new Set(own.map((s) => s.minSamples))].join('/');
  const out = [
    `    minute, hour and day values of ${own.length} points (a minute needs ${samples} samples, an hour ` +
      `${MIN_VALID_MINUTES_PER_HOUR} minutes, a day ${MIN_VALID_HOURS_PER_DAY} hours)`,
  ];
  const pollutants = [...o.pollutants.map(short), ...(o.noxFrom ? ['NOx as NO2 (from NO and NO2)'] : [])];
  if (o.referenceO2Pct !== undefined && o.o2 !== undefined) {
    out.push(
      `    at ${o.referenceO2Pct} % O2 (measured ${o.o2}, held at ${o.o2GuardPct} % above that): ` +
        (pollutants.join(', ') || 'no mg/m3 points'),
    );
  }
  const f = o.flue;
  const src = f.flow ?? (f.velocity !== undefined ? `${f.velocity} × ${o.ductAreaM2} m2` : undefined);
  if (src !== undefined && f.temperature && f.pressure && f.moisture) {
    out.push(
      `    dry standard flow from ${src} at ${f.temperature}, ${f.pressure} + ${o.ambientPressureKpa} kPa, ` +
        `${f.moisture}; emission amounts (Cou, kg) of ${pollutants.join(', ') || 'no mg/m3 points'}`,
    );
  }
  for (const l of o.limits) {
    const basis = l.corrected ? ` at ${o.referenceO2Pct} % O2` : '';
    out.push(
      `    limit ${l.device}/${l.point} <= ${l.max} per ${l.averaging}${basis}, early warning at ${l.warning}`,
    );
  }
  for (const d of o.drifts ?? []) {
    out.push(
      `    ${d.check} drift of ${d.of} from ${d.device}/${d.point}, allowed ±${d.tolerance}${d.unit ? ` ${d.unit}` : ''}: calibration events`,
    );
  }
  for (const n of o.notes) out.push(`    not computed: ${n}`);
  return out;
}

/** The dust points' quarter-hours, the site limits and the high-wind rule. */
function dustLines(plan: ProcessingPlan): string[] {
  const dust = plan.series.filter((s) => s.dust).map((s) => `${s.device}/${s.point}`);
  if (dust.length === 0 && !plan.dust) return [];
  const out = [
    `  dust: 15-minute values of ${dust.join(', ') || 'no dust points'} ` +
      `(a quarter-hour needs ${MIN_VALID_MINUTES_PER_QUARTER} valid minutes)`,
  ];
  const d = plan.dust;
  for (const l of d?.limits ?? []) {
    const basis = l.reference === undefined ? '' : ` minus the district's ${l.reference}`;
    const label = l.averaging.replace('_', '-');
    out.push(
      `    limit ${l.device}/${l.point}${basis} <= ${l.max} per ${label}, early warning at ${l.warning}`,
    );
  }
  const w = d?.highWind;
  if (w) {
    out.push(
      `    high wind: ${w.device}/${w.point} above ${w.above} m/s for ${w.holdMs / 1000} s (ends below ${w.below} for ` +
        `${w.clearMs / 1000} s): ${d.fastDevices.join(', ') || 'no Modbus dust monitor'} poll every ${w.periodMs} ms`,
    );
  }
  for (const n of d?.notes ?? []) out.push(`    not computed: ${n}`);
  return out;
}

export function formatOutlets(plan: ProcessingPlan): string[] {
  return [
    ...plan.outlets.flatMap((o) => [
      `  outlet ${o.id} (${o.name}), periods on ${plan.timeZone} time`,
      ...outletLines(o, plan),
    ]),
    ...dustLines(plan),
  ];
}
