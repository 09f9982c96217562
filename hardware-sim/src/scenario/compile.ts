/**
 * From a validated scenario to what the simulator runs: cross-references checked against the
 * profiles (bus, profile, point, example, state, fault target), behaviours built (CSV files
 * read), schedules turned into windows on the wall-clock time line.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { didYouMean, LantianError, problemsError, type Problem } from '../../../gateway/src/core/index.js';
import type { Profile, ProfileRegistry, ResolvedPoint } from '../../../gateway/src/profiles/index.js';
import { createBehaviour, type Behaviour, type BehaviourSpec } from '../device/behaviours.js';
import { encodeField, encodeWords } from '../device/encode.js';
import { dailyWindow, parseUtcOffset, type StateWindow } from '../device/schedule.js';
import { STATE_FLAG, expressibleFlags } from '../device/status.js';
import { FAULTS_FOR, type FaultKind } from '../faults.js';
import { PMS5003_FIELDS } from '../uart/pms5003.js';
import { byLine, problemAt } from './load.js';
import {
  isUart,
  type BehaviourInput,
  type BusSpec,
  type DeviceSpec,
  type ModbusDeviceSpec,
  type Scenario,
  type ScheduleSpec,
} from './schema.js';

export const UART_FIELDS = { pms5003: [...PMS5003_FIELDS], sds011: ['pm2_5', 'pm10'] } as const;

/** Fault kinds a device or a bus can show. */
export function faultKindsFor(
  bus: BusSpec,
  device: DeviceSpec | undefined,
  busDevices: DeviceSpec[],
): readonly FaultKind[] {
  const uart = device ? isUart(device) : busDevices.some(isUart);
  if (uart) return FAULTS_FOR.uart;
  return bus.kind === 'tcp' ? FAULTS_FOR.modbusTcp : FAULTS_FOR.modbusRtu;
}

/**
 * Checks every cross-reference; throws SIM_SCENARIO_INVALID listing all problems, with those
 * found while reading the file (`earlier`), in file order.
 */
export function checkScenario(
  s: Scenario,
  profiles: ProfileRegistry,
  earlier: readonly Problem[] = [],
): Map<string, Profile> {
  const problems: Problem[] = [...earlier];
  const at = (path: PropertyKey[], message: string, hint?: string) =>
    problems.push(problemAt(s, path, message, hint));
  const buses = new Map<string, BusSpec>();
  s.buses.forEach((b, i) => {
    if (buses.has(b.name)) at(['buses', i, 'name'], `bus name "${b.name}" is used twice`);
    else buses.set(b.name, b);
  });
  const profileOf = new Map<string, Profile>();
  const checkProfile = (d: ModbusDeviceSpec, i: number): void => {
    if (!profiles.has(d.profile)) {
      const known = profiles.all().map((p) => p.id);
      at(
        ['devices', i, 'profile'],
        `no device profile "${d.profile}"`,
        didYouMean(d.profile, known, 'profile'),
      );
      return;
    }
    const profile = profiles.get(d.profile);
    profileOf.set(d.id, profile);
    checkModbusDevice(d, i, profile, at);
  };
  const ids = new Set<string>();
  const units = new Map<string, string>();
  s.devices.forEach((d, i) => {
    if (ids.has(d.id)) at(['devices', i, 'id'], `device id "${d.id}" is used twice`);
    ids.add(d.id);
    const bus = buses.get(d.bus);
    // A bus the file declares but that is broken itself has its own problem already.
    const declared = s.declared?.buses.includes(d.bus) ?? false;
    if (!bus && !declared)
      at(
        ['devices', i, 'bus'],
        `no bus named "${d.bus}"`,
        didYouMean(d.bus, s.declared?.buses ?? buses.keys(), 'bus'),
      );
    if (!bus) return isUart(d) ? undefined : checkProfile(d, i);
    const onBus = s.devices.filter((o) => o.bus === d.bus);
    if (isUart(d)) {
      if (bus.kind !== 'pty')
        at(['devices', i, 'bus'], `a UART sensor needs a pty bus, "${d.bus}" is ${bus.kind}`);
      if (onBus.length > 1) at(['devices', i, 'bus'], `a UART sensor must be alone on its line "${d.bus}"`);
      const fields: readonly string[] = UART_FIELDS[d.uart];
      for (const key of Object.keys(d.points))
        if (!fields.includes(key))
          at(['devices', i, 'points', key], `${d.uart} has no value "${key}"`, fields.join(', '));
      const modes = d.uart === 'pms5003' ? ['active', 'passive'] : ['active', 'query'];
      if (d.mode && !modes.includes(d.mode))
        at(['devices', i, 'mode'], `${d.uart} modes are ${modes.join(', ')}`);
      return;
    }
    const key = `${d.bus}#${d.unit}`;
    if (units.has(key))
      at(['devices', i, 'unit'], `unit ${d.unit} on bus ${d.bus} is also device ${units.get(key)}`);
    units.set(key, d.id);
    checkProfile(d, i);
  });
  s.faults.forEach((f, i) => {
    const device = f.device === undefined ? undefined : s.devices.find((d) => d.id === f.device);
    if (f.device !== undefined && !device && s.declared?.devices.includes(f.device)) return;
    if (f.device !== undefined && !device) {
      const ids = s.devices.map((d) => d.id);
      return at(['faults', i, 'device'], `no device "${f.device}"`, didYouMean(f.device, ids, 'device'));
    }
    const bus = buses.get(device?.bus ?? f.bus ?? '');
    if (!bus)
      return at(['faults', i, 'bus'], `no bus "${f.bus}"`, didYouMean(f.bus ?? '', buses.keys(), 'bus'));
    const kinds = faultKindsFor(
      bus,
      device,
      s.devices.filter((d) => d.bus === bus.name),
    );
    if (!kinds.includes(f.kind))
      at(['faults', i, 'kind'], `${f.kind} cannot happen here`, `possible: ${kinds.join(', ')}`);
  });
  if (problems.length > 0) throw problemsError('SIM_SCENARIO_INVALID', byLine(problems));
  return profileOf;
}

function checkModbusDevice(
  d: ModbusDeviceSpec,
  i: number,
  profile: Profile,
  at: (path: PropertyKey[], message: string, hint?: string) => void,
): void {
  for (const [key, b] of Object.entries(d.points)) {
    const point = profile.points.find((p) => p.key === key);
    if (!point) {
      const keys = profile.points.map((p) => p.key);
      at(
        ['devices', i, 'points', key],
        `profile ${profile.id} has no point "${key}"`,
        didYouMean(key, keys, 'point'),
      );
      continue;
    }
    const constant = typeof b === 'object' && 'constant' in b ? b.constant : b;
    const fixed = typeof constant === 'number' || typeof constant === 'string';
    const datetime = point.type === 'bcd' && point.bcdFormat === 'datetime';
    const ok = fixed ? encodes(point, constant) : !datetime;
    if (!ok) at(['devices', i, 'points', key], `point ${key} (${point.type}) cannot hold this value`);
  }
  if (d.example !== undefined && !findExample(profile, d.example))
    at(['devices', i, 'example'], `profile ${profile.id} has no example ${JSON.stringify(d.example)}`);
  const flags = expressibleFlags(profile.status);
  d.schedule.forEach((e, j) => {
    if (!flags.has(STATE_FLAG[e.state]))
      at(
        ['devices', i, 'schedule', j, 'state'],
        `profile ${profile.id} has no status mapping that shows ${e.state}`,
      );
  });
}

function encodes(point: ResolvedPoint, value: number | string): boolean {
  try {
    if (point.type === 'bits') encodeField(point, value);
    else encodeWords(point, value);
    return true;
  } catch (e) {
    if (e instanceof LantianError) return false;
    throw e;
  }
}

export function findExample(profile: Profile, ref: string | number): Profile['examples'][number] | undefined {
  return typeof ref === 'number' ? profile.examples[ref] : profile.examples.find((e) => e.name === ref);
}

/** Builds the behaviours of one device's points; CSV files are read here. */
export function buildBehaviours(s: Scenario, deviceIndex: number, seed: number): Map<string, Behaviour> {
  const d = s.devices[deviceIndex]!;
  const out = new Map<string, Behaviour>();
  for (const [key, input] of Object.entries(d.points)) {
    const spec = toSpec(s, input, ['devices', deviceIndex, 'points', key]);
    out.set(key, createBehaviour(spec, seed, `${d.id}/${key}`));
  }
  return out;
}

function toSpec(s: Scenario, b: BehaviourInput, path: PropertyKey[]): BehaviourSpec {
  if (typeof b === 'number' || typeof b === 'string') return { constant: b };
  if ('constant' in b) return b;
  if ('ramp' in b) return { ramp: { ...b.ramp, periodS: b.ramp.period / 1000 } };
  if ('sine' in b) {
    const { period, phase, noiseStep, ...rest } = b.sine;
    return { sine: { ...rest, periodS: period / 1000, phaseS: phase / 1000, noiseStepS: noiseStep / 1000 } };
  }
  if ('randomWalk' in b) {
    const { step, ...rest } = b.randomWalk;
    return { randomWalk: { ...rest, stepS: step / 1000 } };
  }
  return {
    csv: { rows: readCsv(s, b.csv, [...path, 'csv']), loop: b.csv.loop, interpolate: b.csv.interpolate },
  };
}

function readCsv(
  s: Scenario,
  c: Extract<BehaviourInput, { csv: unknown }>['csv'],
  path: PropertyKey[],
): [number, number][] {
  const file = resolve(s.source?.baseDir ?? process.cwd(), c.file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new LantianError('SIM_SCENARIO_NOT_FOUND', `${file}: cannot read CSV file`, {
      cause,
      context: { file },
    });
  }
  const bad = (message: string): never => {
    throw problemsError('SIM_SCENARIO_INVALID', [problemAt(s, path, `${c.file}: ${message}`)]);
  };
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim());
  const col = typeof c.column === 'number' ? c.column : header.indexOf(c.column);
  if (col < 0 || col >= header.length)
    bad(`no column ${JSON.stringify(c.column)} (header: ${header.join(', ')})`);
  const tcol = c.timeColumn === undefined ? -1 : header.indexOf(c.timeColumn);
  if (c.timeColumn !== undefined && tcol < 0) bad(`no time column "${c.timeColumn}"`);
  const rows: [number, number][] = [];
  lines.forEach((line, n) => {
    const cells = line.split(',').map((x) => x.trim());
    const v = Number(cells[col]);
    if (cells[col] === '' || !Number.isFinite(v)) bad(`line ${n + 2}: "${cells[col] ?? ''}" is not a number`);
    let t = (n * c.interval) / 1000;
    if (tcol >= 0) {
      const raw = cells[tcol] ?? '';
      t = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : Date.parse(raw) / 1000;
      if (!Number.isFinite(t)) bad(`line ${n + 2}: time "${raw}" is neither seconds nor an ISO time`);
    }
    rows.push([t, v]);
  });
  if (rows.length === 0) bad('no data rows');
  const t0 = rows[0]![0];
  return rows.map(([t, v]) => [t - t0, v]);
}

/** Schedule entries as windows on the wall-clock time line. */
export function buildWindows(s: Scenario, schedule: readonly ScheduleSpec[], startMs: number): StateWindow[] {
  const offset = s.utcOffset ? parseUtcOffset(s.utcOffset) : -new Date(startMs).getTimezoneOffset();
  return schedule.map((e) => {
    if (e.daily !== undefined) return dailyWindow(e.state, e.daily, e.for, offset, startMs);
    const when = e.at!;
    const firstMs = 'afterMs' in when ? startMs + when.afterMs : when.atMs;
    return { state: e.state, firstMs, periodMs: e.every ?? Infinity, durationMs: e.for };
  });
}
