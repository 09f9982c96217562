/**
 * The status beacon (config `siteIo.beacon`): steady while all is well, blinking while anything
 * needs a person on site. Pure: the reasons and the time in, the lamp level out. Blinking runs on
 * the monotonic clock (on for `blinkMs`, off for `blinkMs`), so the controller only has to look
 * often enough. While the board link is down nothing can be driven; the board's reset leaves the
 * pin LOW, so a beacon wired active-high goes dark, which on site reads as "controller lost".
 */
import type { BeaconConfig } from '../../gateway/src/config/schema-site-io.js';
import { ALERT_LEVELS, type AlertLevel } from './linkage.js';

/** Why the beacon blinks, in a fixed order so a change of reasons is a change of the list. */
export type BeaconReason = 'stale_inputs' | 'input_fault' | 'door_open' | 'mains_failure' | 'alert';

export interface BeaconInputs {
  staleInputs: boolean;
  inputFault: boolean;
  doorOpen: boolean;
  mainsFailure: boolean;
  alert: AlertLevel;
}

export function beaconReasons(cfg: BeaconConfig, i: BeaconInputs): BeaconReason[] {
  const out: BeaconReason[] = [];
  if (i.staleInputs) out.push('stale_inputs');
  if (i.inputFault) out.push('input_fault');
  if (i.doorOpen) out.push('door_open');
  if (i.mainsFailure) out.push('mains_failure');
  if (ALERT_LEVELS.indexOf(i.alert) >= ALERT_LEVELS.indexOf(cfg.alertFrom)) out.push('alert');
  return out;
}

/** The lamp: lit steadily without reasons; otherwise lit in the first half of each blink period. */
export function beaconLit(cfg: BeaconConfig, reasons: readonly BeaconReason[], monotonicMs: number): boolean {
  return reasons.length === 0 || Math.floor(monotonicMs / cfg.blinkMs) % 2 === 0;
}
