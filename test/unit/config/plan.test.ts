import { describe, expect, it } from 'vitest';
import { loadSiteConfig, pollingPlan } from '../../../gateway/src/config/index.js';
import { edited, profiles, useTempDir, writeSite } from './helpers.js';

const tempDir = useTempDir();
const planOf = (changes: Record<string, unknown>) =>
  pollingPlan(loadSiteConfig(writeSite(tempDir(), edited(changes)), { profiles }).config, profiles);

describe('the polling plan', () => {
  it('lists per bus the enabled devices with their periods and the points polled every period', () => {
    const plan = planOf({
      'devices.gas.periodMs': 2000,
      'devices.late': { profile: 'sdl.scs-900cpm', bus: 'line1', unitId: 9, enabled: false },
    });
    expect(plan.map((b) => b.id)).toEqual(['line1']);
    const [gas, dust] = plan[0]!.devices;
    expect(plan[0]!.devices.map((d) => d.id)).toEqual(['gas', 'dust']);
    expect(gas!.periodMs).toBe(2000);
    expect(dust!.periodMs).toBe(5000);
    // Measurement and status points; the info point (so2_range) is read on demand only.
    expect(gas!.points.map((p) => p.key)).toEqual([
      'fault',
      'calibrating',
      'maintenance',
      'so2',
      'no',
      'o2',
      'no2',
      'nox',
    ]);
    expect(gas!.profile.id).toBe('sdl.scs-900uv');
  });

  it('applies skips, point overrides and quirk overrides, leaving the profile as it was', () => {
    const plan = planOf({
      'devices.gas.overrides': {
        skip: ['no'],
        points: { so2: { scale: 2, offset: -1 } },
        minGapMs: 40,
        maxReadRegisters: 16,
      },
    });
    const gas = plan[0]!.devices[0]!;
    expect(gas.skipped).toEqual(['no']);
    expect(gas.points.map((p) => p.key)).not.toContain('no');
    expect(gas.points.find((p) => p.key === 'so2')).toMatchObject({ scale: 2, offset: -1, unit: 'mg/m3' });
    expect(gas.quirks).toMatchObject({ minGapMs: 40, maxReadRegisters: 16, maxReadBits: 2000 });
    const profileSo2 = profiles.get('sdl.scs-900uv').points.find((p) => p.key === 'so2')!;
    expect(profileSo2.scale).toBe(1);
    expect(profiles.get('sdl.scs-900uv').quirks.minGapMs).toBe(0);
  });

  it('takes the timeout from the device, else the bus, else the profile; retries from the device, else the bus', () => {
    expect(planOf({})[0]!.devices[0]).toMatchObject({ timeoutMs: 1000, retries: 1 });
    expect(planOf({ 'buses.line1.timeoutMs': 700, 'buses.line1.retries': 2 })[0]!.devices[0]).toMatchObject({
      timeoutMs: 700,
      retries: 2,
    });
    const own = planOf({
      'buses.line1.timeoutMs': 700,
      'devices.gas.overrides': { timeoutMs: 250, retries: 0 },
    });
    expect(own[0]!.devices[0]).toMatchObject({ timeoutMs: 250, retries: 0 });
  });

  it('applies a device’s word order to values over several registers and its byte order to all but bit fields', () => {
    const [gas] = planOf({ 'devices.gas.overrides': { wordOrder: 'low-first', byteOrder: 'little' } })[0]!
      .devices;
    const point = (key: string) => gas!.points.find((p) => p.key === key)!;
    expect(point('so2')).toMatchObject({ count: 2, wordOrder: 'low-first', byteOrder: 'little' });
    const fault = point('fault');
    expect(fault.type).toBe('bits');
    expect(fault.byteOrder).toBe(
      profiles.get('sdl.scs-900uv').points.find((p) => p.key === 'fault')!.byteOrder,
    );
  });

  it('keeps a bus whose devices are all disabled, with no devices', () => {
    const plan = planOf({
      'devices.gas.enabled': false,
      'devices.dust.enabled': false,
      outlets: {},
      'uplinks.hj212': {},
    });
    expect(plan).toEqual([expect.objectContaining({ id: 'line1', devices: [] })]);
  });
});
