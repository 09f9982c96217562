/**
 * The demo's verdict, from the devices' side: the books (every value the simulated devices
 * served against every reading the platform received), what the platform saw of the stream,
 * and the flags the timeline must have produced.
 */
import type { PlatformReading, PlatformStats } from '../hardware-sim/src/platform/index.js';
import type { DeviceBooks } from './books.js';
import type { Check } from './parts.js';
import { BROKER_DOWN, CALIBRATION, SILENT } from './timeline.js';

/** The flags each device's readings arrived with, by acquisition time. */
export class FlagLog {
  private readonly byDevice = new Map<string, { ts: number; flag: string }[]>();

  note(r: PlatformReading): void {
    const list = this.byDevice.get(r.device) ?? [];
    list.push({ ts: r.ts, flag: r.flag });
    this.byDevice.set(r.device, list);
  }

  of(device: string): { ts: number; flag: string }[] {
    return [...(this.byDevice.get(device) ?? [])].sort((a, b) => a.ts - b.ts);
  }
}

export interface Verdict {
  ok: boolean;
  checks: Check[];
  summary: string;
}

/** Ran long enough for a step at `atS` to show (5 s for its readings to arrive), or not judged. */
const reached = (ranForS: number, atS: number, pass: boolean) => (ranForS < atS + 5 ? undefined : pass);

function deviceLine(d: DeviceBooks): string {
  const extra = [
    d.loggedNotSent > 0 ? `${d.loggedNotSent} logged, not yet sent` : '',
    d.cutShort > 0 ? `${d.cutShort} in the poll the stop cut short` : '',
    d.readAgain > 0 ? `${d.readAgain} read again after a late reply` : '',
    d.unexplained > 0 ? `${d.unexplained} delivered that the device never served` : '',
    d.flaggedB > 0 ? `${d.flaggedB} flagged B` : '',
  ].filter(Boolean);
  return `${d.device}: ${d.answered} requests answered, ${d.served} values served, ${d.delivered} delivered, ${d.lost} lost${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

export function judge(books: DeviceBooks[], s: PlatformStats, flags: FlagLog, ranForS: number): Verdict {
  const checks: Check[] = [];
  for (const d of books) {
    checks.push({ ok: d.lost === 0 && d.unexplained === 0 && d.delivered > 0, text: deviceLine(d) });
  }
  const silent = flags.of(SILENT.device);
  const firstB = silent.findIndex((r) => r.flag === 'B');
  const recovered = firstB >= 0 && silent.slice(firstB).some((r) => r.flag !== 'B');
  checks.push({
    ok: reached(ranForS, SILENT.fromS + SILENT.forS, recovered),
    text: `${SILENT.device} flagged B while silent and recovered after`,
  });
  checks.push({
    ok: reached(
      ranForS,
      CALIBRATION.fromS,
      flags.of(CALIBRATION.device).some((r) => r.flag === 'C'),
    ),
    text: `${CALIBRATION.device} readings flagged C during calibration`,
  });
  checks.push({
    ok: reached(ranForS, BROKER_DOWN.fromS + BROKER_DOWN.forS, s.lanes.replay.messages > 0),
    text: `broker restart caught up: ${s.lanes.replay.messages} replay messages`,
  });
  // A site this size leaves the gateway idle most of the time: it must never have held
  // acquisition back for overload (docs/acquisition.md, "Overload: admission").
  const admission = s.health?.acquisition?.admission;
  checks.push({
    ok: admission === undefined ? undefined : admission.holds === 0,
    text: admission
      ? `the gateway kept up: acquisition held back ${admission.holds} times for overload`
      : 'the gateway kept up: no health message yet',
  });
  checks.push({
    ok: s.invalid === 0 && s.holes.length === 0,
    text: `platform: ${s.records} records, ${s.invalid} payloads breaking the contract, ${s.holes.length} holes, ${s.gaps.length} gap events, ${s.duplicates} duplicates (identified by seq)`,
  });
  const sum = (k: keyof Omit<DeviceBooks, 'device'>) => books.reduce((n, d) => n + d[k], 0);
  const extra = [
    sum('loggedNotSent') > 0
      ? `${sum('loggedNotSent')} logged, not yet sent (they go out on the next start)`
      : '',
    sum('cutShort') > 0 ? `${sum('cutShort')} in polls the stop cut short (discarded, by design)` : '',
    sum('readAgain') > 0 ? `${sum('readAgain')} read again after a late reply` : '',
    sum('unexplained') > 0 ? `${sum('unexplained')} delivered that no device served` : '',
  ].filter(Boolean);
  const summary =
    `${sum('served')} values served by the devices (${sum('answered')} requests answered), ` +
    `${sum('delivered')} delivered, ${sum('lost')} lost${extra.length ? `; ${extra.join('; ')}` : ''}`;
  return { ok: checks.every((c) => c.ok !== false), checks, summary };
}

export function checkLine(c: Check, ranForS: number): string {
  if (c.ok === undefined) return `not reached (stopped at ${ranForS.toFixed(0)} s): ${c.text}`;
  return `${c.ok ? 'ok' : 'FAILED'}: ${c.text}`;
}
