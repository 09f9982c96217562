/**
 * The spray / fog-cannon linkage rule as a pure state machine: inputs in, "on or off and why"
 * out. Time is passed in; nothing here touches a board or a clock.
 *
 * Precedence, highest first:
 * 1. manual override from the platform (the operator decides, at once);
 * 2. wind cut-off (spray drifts off site in high wind, at once);
 * 3. an orange or red alert forces a schedule: `alertOnMs` on, `alertOffMs` off, from the
 *    moment the alert began;
 * 4. the dust rule: on once the dust point stayed above `onAbove` for `holdMs` (and the relay has
 *    been off for `minOffMs`); off once it is below `offBelow` (and it has been on for
 *    `minOnMs`); off after `maxRunMs` of continuous running, then off for at least `minOffMs`.
 *    Without a valid dust value the relay keeps its state (bounded by `maxRunMs`).
 */
export type AlertLevel = 'none' | 'blue' | 'yellow' | 'orange' | 'red';
export const ALERT_LEVELS: readonly AlertLevel[] = ['none', 'blue', 'yellow', 'orange', 'red'];

export interface LinkageRule {
  onAbove: number;
  offBelow: number;
  holdMs: number;
  minOnMs: number;
  minOffMs: number;
  maxRunMs: number;
  windCutOff?: number;
  alertOnMs: number;
  alertOffMs: number;
}

export interface LinkageInputs {
  now: number;
  /** Latest valid dust value; undefined when there is none. */
  dust?: number;
  wind?: number;
  alert: AlertLevel;
  manual?: 'on' | 'off';
}

export type LinkageReason =
  'initial' | 'manual' | 'wind' | 'alert_schedule' | 'dust_high' | 'dust_low' | 'max_run';

export interface LinkageDecision {
  on: boolean;
  reason: LinkageReason;
  changed: boolean;
}

export class Linkage {
  private on = false;
  private reason: LinkageReason = 'initial';
  private since = -Infinity;
  private aboveSince: number | undefined;
  private restUntil = -Infinity;
  private alertSince: number | undefined;

  constructor(private readonly rule: LinkageRule) {}

  get state(): { on: boolean; reason: LinkageReason; since: number } {
    return { on: this.on, reason: this.reason, since: this.since };
  }

  step(i: LinkageInputs): LinkageDecision {
    const { rule } = this;
    const high = i.dust !== undefined && i.dust > rule.onAbove;
    this.aboveSince = high ? (this.aboveSince ?? i.now) : undefined;
    const forced = i.alert === 'orange' || i.alert === 'red';
    this.alertSince = forced ? (this.alertSince ?? i.now) : undefined;

    if (i.manual) return this.set(i.manual === 'on', 'manual', i.now);
    if (rule.windCutOff !== undefined && i.wind !== undefined && i.wind > rule.windCutOff)
      return this.set(false, 'wind', i.now);
    if (this.alertSince !== undefined) {
      const cycle = rule.alertOnMs + rule.alertOffMs;
      const phase = (i.now - this.alertSince) % cycle;
      return this.set(phase < rule.alertOnMs, 'alert_schedule', i.now);
    }
    const ranFor = i.now - this.since;
    if (this.on) {
      if (ranFor >= rule.maxRunMs) {
        this.restUntil = i.now + rule.minOffMs;
        return this.set(false, 'max_run', i.now);
      }
      if (i.dust !== undefined && i.dust < rule.offBelow && ranFor >= rule.minOnMs)
        return this.set(false, 'dust_low', i.now);
    } else if (
      this.aboveSince !== undefined &&
      i.now - this.aboveSince >= rule.holdMs &&
      ranFor >= rule.minOffMs &&
      i.now >= this.restUntil
    ) {
      return this.set(true, 'dust_high', i.now);
    }
    return { on: this.on, reason: this.reason, changed: false };
  }

  private set(on: boolean, reason: LinkageReason, now: number): LinkageDecision {
    if (on === this.on) return { on, reason: this.reason, changed: false };
    this.on = on;
    this.reason = reason;
    this.since = now;
    return { on, reason, changed: true };
  }
}
