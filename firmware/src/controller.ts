/**
 * The site I/O controller: the board's inputs become readings and events, the linkage rule
 * switches the relays, and every relay action is logged. It runs inside the gateway process
 * (docs/firmware.md says why) and talks to the board through `BoardLink`.
 *
 * Safety rules:
 * - an analog input with no report for `staleAfterMs` is stale: its readings are B/stale, and
 *   every relay goes to its fail-safe state until all inputs are fresh again;
 * - when the link is down every relay goes to its fail-safe state; the board cannot be told,
 *   so the state is applied first thing when the link returns (a board that resets drives its
 *   pins LOW meanwhile: docs/site-io.md says how to wire for that);
 * - a value from before a drop is never used: readings need a report newer than the last
 *   (re)connection.
 */
import type { Clock } from '../../gateway/src/core/clock.js';
import type { Logger } from '../../gateway/src/core/logger.js';
import type { ReadingDraft } from '../../gateway/src/core/reading.js';
import type { EventDraft } from '../../gateway/src/store/records.js';
import type { SiteIoConfig } from '../../gateway/src/config/schema-site-io.js';
import { BoardLink, type BoardPlan } from './board-link.js';
import { Linkage, type AlertLevel } from './linkage.js';
import { beaconLit, beaconReasons, type BeaconReason } from './beacon.js';
import { scale } from './scaling.js';

/** A dust or wind value older than this does not drive the linkage. */
const INPUT_MAX_AGE_MS = 120_000;

export interface SiteIoDeps {
  clock: Clock;
  logger: Logger;
  /** Readings in, as from any other source (log + processing). */
  accept(drafts: ReadingDraft[]): void;
  appendEvent(event: EventDraft): void;
  /** The current alert level (the latest `alert_level` event; none without one). */
  alertLevel(): AlertLevel;
}

interface RelayState {
  on: boolean;
  manual: 'on' | 'off' | undefined;
  /** When the manual override ends by itself (monotonic ms). */
  manualUntil: number;
  linkage: Linkage | undefined;
}

export class SiteIoController {
  readonly link: BoardLink;
  private readonly analog = new Map<number, { counts: number; at: number }>();
  private readonly digital = new Map<number, { level: 0 | 1; at: number }>();
  private readonly contactActive = new Map<string, boolean>();
  private readonly relays = new Map<string, RelayState>();
  private readonly latest = new Map<string, { value: number; ts: number }>();
  private upSince = Infinity;
  private failSafe: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextReadingAt = 0;
  /** Why the beacon blinks now (undefined before the first tick). */
  private beacon: BeaconReason[] | undefined;

  constructor(
    private readonly cfg: SiteIoConfig,
    private readonly deps: SiteIoDeps,
  ) {
    this.link = new BoardLink(boardPlan(cfg), deps.clock, deps.logger);
    for (const [name, r] of Object.entries(cfg.relays)) {
      const l = r.linkage;
      this.relays.set(name, {
        on: false,
        manual: undefined,
        manualUntil: Infinity,
        linkage: l
          ? new Linkage({
              onAbove: l.onAbove,
              offBelow: l.offBelow,
              holdMs: l.holdS * 1000,
              minOnMs: l.minOnS * 1000,
              minOffMs: l.minOffS * 1000,
              maxRunMs: l.maxRunS * 1000,
              ...(l.windCutOff === undefined ? {} : { windCutOff: l.windCutOff }),
              alertOnMs: l.alertOnS * 1000,
              alertOffMs: l.alertOffS * 1000,
            })
          : undefined,
      });
    }
    this.link.on('analog', (ch, counts) => this.analog.set(ch, { counts, at: deps.clock.monotonic() }));
    this.link.on('digital', (pin, level) => this.onDigital(pin, level));
    this.link.on('up', (info) => {
      this.upSince = deps.clock.monotonic();
      this.event('site_io_link', { state: 'up', firmware: info.firmware });
    });
    this.link.on('down', (reason) => {
      if (this.upSince !== Infinity) this.event('site_io_link', { state: 'down', reason });
      this.upSince = Infinity;
      this.contactActive.clear();
      this.enterFailSafe('link_down');
    });
    this.link.on('reboot', () => {
      this.upSince = deps.clock.monotonic();
      this.event('site_io_reboot', {});
    });
  }

  start(): void {
    this.link.start();
    this.nextReadingAt = this.deps.clock.monotonic() + this.cfg.periodS * 1000;
    // Often enough for the link watchdog's bound and for the beacon's blinking.
    const blink = this.cfg.beacon ? this.cfg.beacon.blinkMs / 2 : Infinity;
    const every = Math.min(1000, blink, Math.max(50, Math.floor(this.cfg.staleAfterMs / 3)));
    const tick = () => {
      this.tick();
      this.timer = setTimeout(tick, every);
    };
    this.timer = setTimeout(tick, every);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.link.stop();
  }

  /** The relays by name, for the platform's relay-override command. */
  get relayNames(): string[] {
    return [...this.relays.keys()];
  }

  /**
   * Manual override from the platform: 'on' or 'off' for `forMs` (then the rule again), or
   * undefined to hand back to the rule at once. Returns when the override ends (UTC ms).
   */
  override(relay: string, state: 'on' | 'off' | undefined, forMs = Infinity): number | undefined {
    const r = this.relays.get(relay);
    if (!r) throw new RangeError(`no relay "${relay}"`);
    r.manual = state;
    r.manualUntil = state === undefined ? Infinity : this.deps.clock.monotonic() + forMs;
    const until = state === undefined || forMs === Infinity ? undefined : this.deps.clock.now() + forMs;
    this.event('relay_override', {
      relay,
      state: state ?? 'auto',
      ...(until === undefined ? {} : { until }),
    });
    this.tick();
    return until;
  }

  relayOn(relay: string): boolean | undefined {
    return this.relays.get(relay)?.on;
  }

  /** Readings of an analyzer whose maintenance or calibration contact is active flag M or C. */
  flag(drafts: ReadingDraft[]): ReadingDraft[] {
    const marks = new Map<string, 'M' | 'C'>();
    for (const [name, c] of Object.entries(this.cfg.dryContacts)) {
      if (!c.device || !this.contactActive.get(name)) continue;
      if (c.role === 'calibration') marks.set(c.device, 'C');
      else if (c.role === 'maintenance' && marks.get(c.device) !== 'C') marks.set(c.device, 'M');
    }
    if (marks.size === 0) return drafts;
    return drafts.map((d) => {
      const mark = marks.get(d.device);
      return mark && d.flag === 'N'
        ? { ...d, flag: mark, quality: [...(d.quality ?? []), 'device_status'] }
        : d;
    });
  }

  /** Sees every reading the gateway accepts (the dust and wind points of the linkage). */
  observe(drafts: readonly ReadingDraft[]): void {
    for (const d of drafts) {
      if (d.flag === 'N' && typeof d.value === 'number')
        this.latest.set(`${d.device}/${d.point}`, { value: d.value, ts: d.ts });
    }
  }

  private fresh(point: string | undefined): number | undefined {
    const v = point === undefined ? undefined : this.latest.get(point);
    return v && this.deps.clock.now() - v.ts <= INPUT_MAX_AGE_MS ? v.value : undefined;
  }

  private staleInputs(): string[] {
    const now = this.deps.clock.monotonic();
    return Object.entries(this.cfg.analogInputs)
      .filter(([, a]) => {
        const seen = this.analog.get(Number(a.pin.slice(1)));
        return !seen || seen.at < this.upSince || now - seen.at > this.cfg.staleAfterMs;
      })
      .map(([name]) => name);
  }

  private tick(): void {
    const now = this.deps.clock.now();
    for (const [relay, r] of this.relays) {
      if (r.manual !== undefined && this.deps.clock.monotonic() >= r.manualUntil) {
        r.manual = undefined;
        r.manualUntil = Infinity;
        this.event('relay_override', { relay, state: 'auto', reason: 'expired' });
      }
    }
    const up = this.link.linkState === 'up';
    const stale = up ? this.staleInputs() : [];
    const settled = up && this.deps.clock.monotonic() - this.upSince > this.cfg.staleAfterMs;
    if (!up) this.enterFailSafe('link_down');
    else if (stale.length > 0 && settled) this.enterFailSafe('stale_inputs', stale);
    else if (stale.length === 0) {
      if (this.failSafe) this.event('site_io_failsafe', { state: 'cleared', was: this.failSafe });
      this.failSafe = undefined;
      const alert = this.deps.alertLevel();
      for (const [name, r] of this.relays) {
        const l = this.cfg.relays[name]!.linkage;
        if (!r.linkage || !l) {
          this.switch(name, r.manual === 'on', r.manual ? 'manual' : 'no_rule');
          continue;
        }
        const d = r.linkage.step({
          now,
          ...opt('dust', this.fresh(l.point)),
          ...opt('wind', this.fresh(l.windPoint)),
          alert,
          ...opt('manual', r.manual),
        });
        this.switch(name, d.on, d.reason);
      }
    }
    if (up) this.driveBeacon(stale.length > 0 && settled);
    if (this.deps.clock.monotonic() >= this.nextReadingAt) {
      this.nextReadingAt += this.cfg.periodS * 1000;
      this.emitReadings(now, up, stale);
    }
  }

  /** Steady while all is well, blinking for a fault or an alert; each change of reasons is an event. */
  private driveBeacon(stale: boolean): void {
    const b = this.cfg.beacon;
    if (!b) return;
    const active = (role: string) =>
      Object.entries(this.cfg.dryContacts).some(([n, c]) => c.role === role && this.contactActive.get(n));
    const inputFault = Object.values(this.cfg.analogInputs).some((a) => {
      const seen = this.analog.get(Number(a.pin.slice(1)));
      return seen !== undefined && scale(seen.counts, a).flag === 'D';
    });
    const reasons = beaconReasons(b, {
      staleInputs: stale,
      inputFault,
      doorOpen: active('door'),
      mainsFailure: active('mains'),
      alert: this.deps.alertLevel(),
    });
    if (this.beacon?.join() !== reasons.join()) {
      this.beacon = reasons;
      this.event('beacon', { state: reasons.length === 0 ? 'steady' : 'blinking', reasons });
    }
    this.link.setRelay(b.pin, beaconLit(b, reasons, this.deps.clock.monotonic()));
  }

  private enterFailSafe(reason: string, inputs?: string[]): void {
    if (this.failSafe !== reason) {
      this.failSafe = reason;
      this.event('site_io_failsafe', { state: 'entered', reason, ...(inputs ? { inputs } : {}) });
    }
    for (const [name, cfg] of Object.entries(this.cfg.relays))
      this.switch(name, cfg.failSafe === 'on', 'fail_safe');
  }

  private switch(name: string, on: boolean, reason: string): void {
    const r = this.relays.get(name)!;
    this.link.setRelay(this.cfg.relays[name]!.pin, on);
    if (r.on === on) return;
    r.on = on;
    const ts = this.deps.clock.now();
    this.event('relay', { relay: name, on, reason, applied: this.link.linkState === 'up' });
    this.deps.accept([{ ts, device: this.cfg.device, point: name, value: on ? 1 : 0, flag: 'N' }]);
  }

  private onDigital(pin: number, level: 0 | 1): void {
    this.digital.set(pin, { level, at: this.deps.clock.monotonic() });
    for (const [name, c] of Object.entries(this.cfg.dryContacts)) {
      if (c.pin !== pin) continue;
      const active = c.activeLow ? level === 0 : level === 1;
      const before = this.contactActive.get(name);
      this.contactActive.set(name, active);
      if (before === active) continue;
      const ts = this.deps.clock.now();
      this.deps.accept([{ ts, device: this.cfg.device, point: name, value: active ? 1 : 0, flag: 'N' }]);
      if (c.role === 'door' && (active || before !== undefined))
        this.event('tamper', { source: this.cfg.device, contact: name, open: active });
      else if (c.role === 'mains' && (active || before !== undefined))
        this.event(active ? 'mains_failure' : 'mains_restored', { contact: name });
      else if (c.role === 'maintenance' || c.role === 'calibration')
        this.event('analyzer_status', { contact: name, device: c.device, role: c.role, active });
    }
  }

  private emitReadings(ts: number, up: boolean, stale: string[]): void {
    const device = this.cfg.device;
    const drafts: ReadingDraft[] = [];
    for (const [name, a] of Object.entries(this.cfg.analogInputs)) {
      const seen = this.analog.get(Number(a.pin.slice(1)));
      if (!up || !seen || stale.includes(name)) {
        drafts.push({
          ts,
          device,
          point: name,
          value: null,
          flag: 'B',
          quality: [up ? 'stale' : 'link_down'],
        });
        continue;
      }
      const s = scale(seen.counts, a);
      drafts.push({
        ts,
        device,
        point: name,
        value: s.value,
        flag: s.flag,
        ...(s.quality ? { quality: s.quality } : {}),
        raw: [seen.counts],
      });
    }
    for (const name of Object.keys(this.cfg.dryContacts)) {
      const active = this.contactActive.get(name);
      drafts.push(
        active === undefined
          ? { ts, device, point: name, value: null, flag: 'B', quality: ['link_down'] }
          : { ts, device, point: name, value: active ? 1 : 0, flag: 'N' },
      );
    }
    for (const [name, r] of this.relays)
      drafts.push({ ts, device, point: name, value: r.on ? 1 : 0, flag: 'N' });
    if (drafts.length > 0) this.deps.accept(drafts);
  }

  private event(kind: string, payload: Record<string, unknown>): void {
    this.deps.appendEvent({
      ts: this.deps.clock.now(),
      kind,
      payload: { source: this.cfg.device, ...payload },
    });
  }
}

function opt<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

export function boardPlan(cfg: SiteIoConfig): BoardPlan {
  return {
    port: cfg.board.port,
    baud: cfg.board.baud,
    staleAfterMs: cfg.staleAfterMs,
    analog: Object.values(cfg.analogInputs).map((a) => Number(a.pin.slice(1))),
    contacts: Object.values(cfg.dryContacts).map((c) => c.pin),
    relays: [
      ...Object.values(cfg.relays).map((r) => ({ pin: r.pin, activeLow: r.activeLow })),
      ...(cfg.beacon ? [{ pin: cfg.beacon.pin, activeLow: cfg.beacon.activeLow }] : []),
    ],
  };
}
