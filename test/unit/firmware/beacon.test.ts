import { describe, expect, it } from 'vitest';
import { beaconLit, beaconReasons, type BeaconInputs } from '../../../firmware/src/beacon.js';
import { Beacon } from '../../../gateway/src/config/schema-site-io.js';

const cfg = Beacon.parse({ pin: 9, blinkMs: 500 });
const calm: BeaconInputs = {
  staleInputs: false,
  inputFault: false,
  doorOpen: false,
  mainsFailure: false,
  alert: 'none',
};

describe('status beacon', () => {
  it('is lit steadily while nothing is wrong', () => {
    expect(beaconReasons(cfg, calm)).toEqual([]);
    for (const t of [0, 499, 500, 999, 1000, 12_345]) expect(beaconLit(cfg, [], t)).toBe(true);
  });

  it('names every fault and blinks on for blinkMs, off for blinkMs', () => {
    const all = {
      staleInputs: true,
      inputFault: true,
      doorOpen: true,
      mainsFailure: true,
      alert: 'red',
    } as const;
    const reasons = beaconReasons(cfg, all);
    expect(reasons).toEqual(['stale_inputs', 'input_fault', 'door_open', 'mains_failure', 'alert']);
    expect([0, 499, 500, 999, 1000].map((t) => beaconLit(cfg, reasons, t))).toEqual([
      true,
      true,
      false,
      false,
      true,
    ]);
  });

  it('blinks for an alert at or above alertFrom only', () => {
    expect(beaconReasons(cfg, { ...calm, alert: 'yellow' })).toEqual([]);
    expect(beaconReasons(cfg, { ...calm, alert: 'orange' })).toEqual(['alert']);
    const early = Beacon.parse({ pin: 9, alertFrom: 'yellow' });
    expect(beaconReasons(early, { ...calm, alert: 'yellow' })).toEqual(['alert']);
  });
});
