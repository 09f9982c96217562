/**
 * `lantian scan`: which devices answer on a line, at which line settings and unit ids, and
 * which profile each one matches. The plan (every line setting × every unit id) and its
 * worst-case time are known before the first byte goes out, and the scan never runs past that
 * budget: a dead line costs exactly what was announced.
 */
import { charMs, type LineSettings } from '../acquisition/line.js';
import type { LinkSettings } from '../acquisition/transport/types.js';
import { LantianError } from '../core/errors.js';
import type { ProfileRegistry } from '../profiles/loader.js';
import { fingerprint, readIdentity, type Candidate, type Identity, type ReadCache } from './identify.js';
import { Prober } from './prober.js';

export type ScanTarget =
  | { kind: 'serial'; port: string }
  | { kind: 'rtu-over-tcp'; host: string; port: number }
  | { kind: 'tcp'; host: string; port: number };

export type Parity = 'none' | 'even' | 'odd';

export interface ScanOptions {
  target: ScanTarget;
  /** Serial lines only: the device server's line is set on the device server. */
  bauds: number[];
  parities: Parity[];
  units: number[];
  /** Reply timeout per probe, ms. */
  timeoutMs: number;
  /** Pause between requests beyond the frame silence, ms. */
  gapMs: number;
  connectTimeoutMs: number;
  /** Candidates kept per device. */
  maxCandidates: number;
}

export interface LineSetting {
  baud: number;
  parity: Parity;
}

export interface Found {
  /** Undefined on Modbus TCP and RTU over TCP, where the scan does not choose the line. */
  line?: LineSetting;
  unitId: number;
  latencyMs: number;
  identity?: Identity;
  notes: string[];
  candidates: Candidate[];
}

export interface ScanPlan {
  settings: (LineSetting | undefined)[];
  probes: number;
  /** Worst case for the presence probes: every unit silent at every setting. */
  budgetMs: number;
  /** Worst case added by identifying one device (FC 43 and every profile's fingerprint reads). */
  perDeviceMs: number;
}

export interface ScanResult {
  plan: ScanPlan;
  found: Found[];
  /** Settings at which bytes came back that formed no frame: a near miss of baud or parity. */
  garbled: { line?: LineSetting; unitId: number; bytes: number }[];
  unopened: { line?: LineSetting; error: string }[];
  elapsedMs: number;
  requests: number;
  /** Probes left out because the budget ran out (slow replies, many devices to identify). */
  skippedProbes: number;
}

export interface ScanProgress {
  done: number;
  total: number;
  line?: LineSetting;
  unitId: number;
  found: number;
}

/** A read of one register at address 0: any answer, an exception included, proves a device. */
const PRESENCE = Buffer.from([0x03, 0x00, 0x00, 0x00, 0x01]);

const serialLine = (s: LineSetting): LineSettings => ({
  baud: s.baud,
  parity: s.parity,
  dataBits: 8,
  stopBits: 1,
});

function link(target: ScanTarget, s: LineSetting | undefined): LinkSettings {
  switch (target.kind) {
    case 'serial':
      return { kind: 'rtu', path: target.port, line: serialLine(s!) };
    case 'rtu-over-tcp':
      return { kind: 'rtu-tcp', host: target.host, port: target.port };
    case 'tcp':
      return { kind: 'tcp', host: target.host, port: target.port };
  }
}

/** Probes × (timeout + gap + the request's wire time); the settings are tried slowest first. */
export function planScan(o: ScanOptions, profiles: ProfileRegistry): ScanPlan {
  const settings: (LineSetting | undefined)[] =
    o.target.kind === 'serial'
      ? o.bauds.flatMap((baud) => o.parities.map((parity) => ({ baud, parity })))
      : [undefined];
  const wireMs = (s: LineSetting | undefined) => (s ? 8 * charMs(serialLine(s)) : 0);
  const perProbe = (s: LineSetting | undefined) => o.timeoutMs + o.gapMs + wireMs(s);
  const budgetMs = Math.ceil(
    settings.reduce((sum, s) => sum + o.connectTimeoutMs / 10 + o.units.length * perProbe(s), 0),
  );
  const fingerprintReads = profiles
    .all()
    .reduce((n, p) => n + (p.identification?.probe ? 1 : 0) + Math.min(3, p.points.length), 1);
  return {
    settings,
    probes: settings.length * o.units.length,
    budgetMs,
    perDeviceMs: Math.ceil(fingerprintReads * perProbe(settings[0])),
  };
}

/** Runs the plan; `progress` is called after every presence probe. */
export async function runScan(
  o: ScanOptions,
  profiles: ProfileRegistry,
  progress: (p: ScanProgress) => void = () => undefined,
): Promise<ScanResult> {
  const plan = planScan(o, profiles);
  const started = performance.now();
  const result: ScanResult = {
    plan,
    found: [],
    garbled: [],
    unopened: [],
    elapsedMs: 0,
    requests: 0,
    skippedProbes: 0,
  };
  // The announced budget holds: presence probes plus the allowance for each device found.
  const deadline = () => started + plan.budgetMs + result.found.length * plan.perDeviceMs;
  let done = 0;
  for (const line of plan.settings) {
    if (performance.now() + o.timeoutMs + o.gapMs > deadline()) {
      result.skippedProbes += o.units.length;
      continue;
    }
    let prober: Prober;
    try {
      prober = await Prober.open(link(o.target, line), o.gapMs, o.connectTimeoutMs);
    } catch (e) {
      if (o.target.kind !== 'serial') throw e;
      result.unopened.push({ ...(line ? { line } : {}), error: e instanceof Error ? e.message : String(e) });
      done += o.units.length;
      continue;
    }
    try {
      for (const unitId of o.units) {
        if (performance.now() + o.timeoutMs + o.gapMs > deadline()) {
          result.skippedProbes++;
          continue;
        }
        const a = await prober.request(unitId, PRESENCE, o.timeoutMs);
        done++;
        if (a.kind === 'garbled') result.garbled.push({ ...(line ? { line } : {}), unitId, bytes: a.bytes });
        if (a.kind === 'reply' || a.kind === 'exception') {
          result.found.push(await identify(prober, unitId, line, a.ms, o, profiles));
        }
        progress({ done, total: plan.probes, unitId, found: result.found.length, ...(line ? { line } : {}) });
      }
    } finally {
      result.requests += prober.requests;
      await prober.close();
    }
  }
  result.elapsedMs = Math.round(performance.now() - started);
  return result;
}

async function identify(
  prober: Prober,
  unitId: number,
  line: LineSetting | undefined,
  latencyMs: number,
  o: ScanOptions,
  profiles: ProfileRegistry,
): Promise<Found> {
  const { identity, note } = await readIdentity(prober, unitId, o.timeoutMs);
  const candidates: Candidate[] = [];
  const cache: ReadCache = new Map();
  for (const profile of profiles.all()) {
    const c = await fingerprint(prober, unitId, profile, identity, o.timeoutMs, cache);
    if (c && c.confidence > 0) candidates.push(c);
  }
  candidates.sort(
    (a, b) => b.confidence - a.confidence || b.weight - a.weight || a.profile.localeCompare(b.profile),
  );
  const found: Found = {
    unitId,
    latencyMs,
    notes: [note],
    candidates: candidates.slice(0, o.maxCandidates),
  };
  if (line) found.line = line;
  if (identity) found.identity = identity;
  return found;
}

/** "1-5,9,12-14" -> [1..5, 9, 12..14]; refuses anything outside `min`..`max`. */
export function parseList(text: string, min: number, max: number, what: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m?.[2] === undefined ? lo : Number(m[2]);
    if (!m || lo > hi || lo < min || hi > max) {
      throw new LantianError(
        'CONFIG_INVALID',
        `${what}: "${part.trim()}" is not a number or range within ${min}-${max}`,
        {
          context: { what, text },
        },
      );
    }
    for (let v = lo; v <= hi; v++) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}
