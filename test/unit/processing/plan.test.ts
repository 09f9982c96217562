import { describe, expect, it } from 'vitest';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { loadProfiles } from '../../../gateway/src/profiles/index.js';
import { processingPlan } from '../../../gateway/src/processing/plan.js';
import { formatOutlets } from '../../../gateway/src/processing/plan-text.js';

describe('the processing plan of the example site', () => {
  const loaded = loadSiteConfig('examples/site.yaml', { profiles: loadProfiles() });
  const plan = processingPlan(loaded.config, loaded.profiles);

  it('aggregates every polled numeric measurement point, on the site time zone', () => {
    expect(plan.timeZone).toBe('Asia/Shanghai');
    const keys = plan.series.map((s) => `${s.device}/${s.point}`);
    expect(keys).toEqual(
      expect.arrayContaining(['stack1-gas/so2', 'stack1-dust/dust', 'site-dust/pm10', 'lab-so2/so2']),
    );
    expect(keys).not.toContain('stack1-gas/adjust_flag'); // a status point
    expect(plan.series.find((s) => s.device === 'stack1-gas' && s.point === 'so2')).toMatchObject({
      outlet: 'stack1',
      hj212: 'a21026',
      minSamples: 12,
    });
    // the dust monitor polls every 10 s: six samples a minute at most
    expect(plan.series.find((s) => s.device === 'site-dust' && s.point === 'pm10')!.minSamples).toBe(6);
  });

  it('records the SO2 analyzer’s zero and span drift registers as calibration checks', () => {
    expect(plan.outlets[0]!.drifts).toEqual([
      {
        outlet: 'stack1',
        device: 'stack1-gas',
        point: 'so2_zero_drift',
        of: 'stack1-gas/so2',
        check: 'zero',
        tolerance: 2.5,
        unit: '%FS',
      },
      {
        outlet: 'stack1',
        device: 'stack1-gas',
        point: 'so2_span_drift',
        of: 'stack1-gas/so2',
        check: 'span',
        tolerance: 2.5,
        unit: '%FS',
      },
    ]);
    expect(formatOutlets(plan).join('\n')).toContain(
      'zero drift of stack1-gas/so2 from stack1-gas/so2_zero_drift, allowed ±2.5 %FS',
    );
  });

  it('converts the stack to 9 % O2 and computes its flow from velocity and duct area', () => {
    const o = plan.outlets[0]!;
    expect(o).toMatchObject({
      id: 'stack1',
      referenceO2Pct: 9,
      o2: 'stack1-gas/o2',
      ductAreaM2: 4.5,
      notes: [],
    });
    expect(o.flue).toEqual({
      temperature: 'stack1-flow/temperature',
      pressure: 'stack1-flow/pressure',
      moisture: 'stack1-flow/humidity',
      velocity: 'stack1-flow/velocity',
    });
    expect(o.pollutants).toEqual(
      expect.arrayContaining(['stack1-gas/so2', 'stack1-gas/nox', 'stack1-dust/dust']),
    );
    expect(o.noxFrom).toBeUndefined(); // the analyzer reports NOx itself
    expect(o.limits).toContainEqual({
      device: 'stack1-gas',
      point: 'so2',
      max: 200,
      warning: 180,
      averaging: 'hour',
      corrected: true,
    });
  });

  it('tells check-config --plan what each outlet computes', () => {
    const text = formatOutlets(plan).join('\n');
    expect(text).toContain('outlet stack1 (1# coal-fired boiler stack), periods on Asia/Shanghai time');
    expect(text).toContain('at 9 % O2 (measured stack1-gas/o2');
    expect(text).toContain('dry standard flow from stack1-flow/velocity × 4.5 m2');
    expect(text).toContain('limit stack1-gas/so2 <= 200 per hour at 9 % O2, early warning at 180');
    expect(text).not.toContain('not computed');
  });
});
