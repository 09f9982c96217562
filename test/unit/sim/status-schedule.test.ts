import { describe, expect, it } from 'vitest';
import { ManualClock, type Flag } from '../../../gateway/src/core/index.js';
import {
  DEFAULT_PROFILES_DIR,
  loadProfiles,
  type StatusMappingSpec,
} from '../../../gateway/src/profiles/index.js';
import { ModbusDevice } from '../../../hardware-sim/src/device/modbus-device.js';
import { activeStates, dailyWindow, parseUtcOffset } from '../../../hardware-sim/src/device/schedule.js';
import { conditionHolds, statusValue } from '../../../hardware-sim/src/device/status.js';
import { FIXTURE_PROFILES, fixtureProfile } from '../../fixtures/sim/profiles.js';

const flags = (...f: Flag[]) => new Set<Flag>(f);

/** Which flags the mappings report for a value: the gateway's reading, restated for the test. */
const reported = (mappings: StatusMappingSpec[], v: number) =>
  new Set(mappings.filter((m) => conditionHolds(m.when, v)).map((m) => m.flag));

describe('status mappings inverted', () => {
  it('finds values for nonzero, zero, equals, notEquals, bitSet and anyBits conditions', () => {
    const cases: [StatusMappingSpec['when'], Flag][] = [
      ['nonzero', 'D'],
      ['zero', 'F'],
      [{ equals: 3 }, 'C'],
      [{ notEquals: 1 }, 'C'],
      [{ bitSet: 6 }, 'M'],
      [{ anyBits: 0x0c }, 'D'],
    ];
    for (const [when, flag] of cases) {
      const m: StatusMappingSpec[] = [{ source: 's', when, flag }];
      const on = statusValue(m, flags(flag))!;
      const off = statusValue(m, flags())!;
      expect(reported(m, on), JSON.stringify(when)).toEqual(flags(flag));
      expect(reported(m, off), JSON.stringify(when)).toEqual(flags());
    }
  });

  it('sets only the bits of the wanted states in a shared bitmask', () => {
    const m: StatusMappingSpec[] = [
      { source: 's', when: { bitSet: 5 }, flag: 'C' },
      { source: 's', when: { bitSet: 6 }, flag: 'M' },
      { source: 's', when: { bitSet: 7 }, flag: 'D' },
    ];
    expect(statusValue(m, flags('C'))).toBe(0x20);
    expect(statusValue(m, flags('C', 'D'))).toBe(0xa0);
    expect(statusValue(m, flags())).toBe(0);
  });

  it('uses the first mapping of a flag when two bits mean the same flag', () => {
    const m: StatusMappingSpec[] = [
      { source: 's', when: { anyBits: 0x80 }, flag: 'D' },
      { source: 's', when: { anyBits: 0x40 }, flag: 'M' },
      { source: 's', when: { anyBits: 0x10 }, flag: 'M' },
    ];
    expect(statusValue(m, flags('M'))).toBe(0x40);
  });

  it('gives up when no value can show the wanted flag without another', () => {
    const m: StatusMappingSpec[] = [
      { source: 's', when: 'nonzero', flag: 'C' },
      { source: 's', when: 'nonzero', flag: 'D' },
    ];
    expect(statusValue(m, flags('C'))).toBeUndefined();
  });
});

describe('status states on every profile', () => {
  const profiles = [FIXTURE_PROFILES, DEFAULT_PROFILES_DIR].flatMap((d) => loadProfiles(d).all());

  it.each(profiles.filter((p) => p.status.length > 0).map((p) => [p.id, p] as const))(
    '%s: each flag its mappings can give is written so that exactly that flag is read back',
    (_id, profile) => {
      const groups = new Map<string, StatusMappingSpec[]>();
      for (const m of profile.status) groups.set(m.source, [...(groups.get(m.source) ?? []), m]);
      for (const flag of new Set(profile.status.map((m) => m.flag))) {
        for (const [source, group] of groups) {
          const v = statusValue(group, flags(flag));
          expect(v, `${source} for ${flag}`).toBeDefined();
          const expected = group.some((m) => m.flag === flag) ? flags(flag) : flags();
          expect(reported(group, v!), `${source} for ${flag}`).toEqual(expected);
        }
      }
    },
  );
});

describe('status schedules', () => {
  it('repeats a daily window at the local time of the given UTC offset', () => {
    const start = Date.parse('2026-03-01T00:00:00+08:00');
    const w = dailyWindow('calibration', '03:00', 10 * 60_000, parseUtcOffset('+08:00'), start);
    const at = (iso: string) => activeStates([w], Date.parse(iso)).has('calibration');
    expect(at('2026-03-01T02:59:00+08:00')).toBe(false);
    expect(at('2026-03-01T03:00:00+08:00')).toBe(true);
    expect(at('2026-03-01T03:09:59+08:00')).toBe(true);
    expect(at('2026-03-01T03:10:00+08:00')).toBe(false);
    expect(at('2026-03-05T03:05:00+08:00')).toBe(true);
  });

  it('counts a window already running at start as active', () => {
    const start = Date.parse('2026-03-01T03:05:00Z');
    const w = dailyWindow('maintenance', '03:00', 10 * 60_000, 0, start);
    expect(activeStates([w], start).has('maintenance')).toBe(true);
  });

  it('writes the status registers a device profile maps to calibration, maintenance and fault', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'));
    const start = clock.now();
    const d = new ModbusDevice({
      id: 'uv',
      profile: fixtureProfile('fixture.cems-uv'),
      unitId: 1,
      clock,
      startMs: start,
      coldStart: false,
      windows: [
        { state: 'calibration', firstMs: start + 1000, periodMs: Infinity, durationMs: 1000 },
        { state: 'maintenance', firstMs: start + 3000, periodMs: Infinity, durationMs: 1000 },
      ],
    });
    const status = () => d.serve(Buffer.from('0300 0a00 02'.replace(/ /g, ''), 'hex'))!.readUInt32BE(2);
    // Normal: fault byte 0, calibration flag 1 (the mapping reads anything else as calibration).
    expect(status()).toBe(0x0001_0000);
    await clock.advance(1500);
    expect(status()).toBe(0x0000_0000);
    await clock.advance(2000);
    expect(status()).toBe(0x0001_0001);
    d.setState('fault', Infinity);
    expect(status() >>> 24).not.toBe(0);
  });

  it("serves an example's own status words again when a forced state ends", () => {
    const profile = fixtureProfile('fixture.cems-uv');
    const d = new ModbusDevice({
      id: 'uv',
      profile,
      unitId: 1,
      clock: new ManualClock(),
      startMs: 0,
      coldStart: false,
      example: profile.examples[0]!,
      frozenStatus: true,
    });
    const status = () => d.serve(Buffer.from('03000a0002', 'hex'))!.readUInt32BE(2);
    expect(status()).toBe(0x0001_0000);
    d.setState('maintenance', Infinity);
    expect(status()).toBe(0x0001_0001);
    d.setState('maintenance', undefined);
    expect(status()).toBe(0x0001_0000);
  });
});
