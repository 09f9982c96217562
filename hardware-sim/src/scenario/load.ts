/**
 * Reading and validating scenario files. Every problem names the file, the path inside it and
 * the line, in the format the gateway's own loaders use.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import {
  closest,
  formatPath,
  problemsError,
  readYamlFile,
  zodProblems,
  type Problem,
} from '../../../gateway/src/core/index.js';
import { FaultFields } from '../faults.js';
import {
  Bus,
  Line,
  ModbusDeviceInput,
  ScenarioFault,
  ScenarioFile,
  ScheduleEntry,
  UartDeviceInput,
  type DeviceSpec,
  type Scenario,
  type ScenarioSource,
} from './schema.js';

const INLINE: ScenarioSource = { file: '<scenario>', baseDir: process.cwd(), lineOf: () => undefined };

/** A scenario and every problem found in it so far; the scenario holds the entries that parsed. */
export interface ScenarioInspection {
  scenario: Scenario;
  problems: Problem[];
}

/**
 * Validates a scenario object entry by entry, so one broken bus, device or fault hides nothing
 * else: the problems of all of them, and a scenario of the entries that passed (with their
 * places in the file, so later checks name the right path).
 */
export function inspectScenario(obj: unknown, source: ScenarioSource = INLINE): ScenarioInspection {
  const problems: Problem[] = [];
  const parsed = ScenarioFile.safeParse(obj);
  if (!parsed.success) problems.push(...located(source, parsed.error));
  const raw = isObject(obj) ? obj : {};
  const entries = <T>(key: string, parse: (v: unknown, i: number) => T | undefined) => {
    const list = Array.isArray(raw[key]) ? (raw[key] as unknown[]) : [];
    const kept: T[] = [];
    const at: number[] = [];
    list.forEach((v, i) => {
      const d = parse(v, i);
      if (d !== undefined) {
        kept.push(d);
        at.push(i);
      }
    });
    return { kept, at };
  };
  const quiet =
    <T>(schema: z.ZodType<T>) =>
    (v: unknown) => {
      const r = schema.safeParse(v);
      return r.success ? r.data : undefined;
    };
  const devices = entries('devices', (v, i) => {
    const schema: z.ZodType<DeviceSpec> = isObject(v) && 'uart' in v ? UartDeviceInput : ModbusDeviceInput;
    const d = schema.safeParse(v);
    if (!d.success) problems.push(...located(source, d.error, ['devices', i]));
    return d.success ? d.data : undefined;
  });
  const buses = entries('buses', quiet(Bus));
  const faults = entries('faults', quiet(ScenarioFault));
  const top = parsed.success
    ? parsed.data
    : {
        ...ScenarioFile.partial().safeParse(withoutBad(raw)).data,
        seed: typeof raw.seed === 'number' ? raw.seed : 1,
      };
  const scenario: Scenario = {
    ...top,
    buses: buses.kept,
    devices: devices.kept,
    faults: faults.kept,
    cameras: parsed.success ? parsed.data.cameras : [],
    source,
    places: { buses: buses.at, devices: devices.at, faults: faults.at },
    declared: { buses: namesIn(raw.buses, 'name'), devices: namesIn(raw.devices, 'id') },
  };
  return { scenario, problems };
}

/** Validates a scenario object (already parsed from YAML or built in code). */
export function parseScenario(obj: unknown, source: ScenarioSource = INLINE): Scenario {
  const { scenario, problems } = inspectScenario(obj, source);
  if (problems.length > 0) throw problemsError('SIM_SCENARIO_INVALID', byLine(problems));
  return scenario;
}

/** The top-level settings that parse on their own, for a scenario whose entries are broken. */
function withoutBad(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['name', 'description', 'utcOffset', 'profiles'] as const) {
    const one = ScenarioFile.pick({ [key]: true } as Record<typeof key, true>).safeParse({ [key]: raw[key] });
    if (one.success && raw[key] !== undefined) out[key] = raw[key];
  }
  return out;
}

const namesIn = (list: unknown, key: string): string[] =>
  Array.isArray(list) ? list.flatMap((e) => (isObject(e) && typeof e[key] === 'string' ? [e[key]] : [])) : [];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Problems in file order; those without a line keep their place at the end. */
export const byLine = (problems: Problem[]): Problem[] =>
  problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || a.i - b.i)
    .map(({ p }) => p);

/** Option names valid at a place in a scenario, for hints on unknown keys. */
function keysAt(path: readonly PropertyKey[], value: unknown): string[] {
  const shape = (o: { shape: Record<string, unknown> }) => Object.keys(o.shape);
  const [head, , sub, , subsub] = path;
  if (path.length === 0) return shape(ScenarioFile);
  if (head === 'buses') return path.length === 2 ? shape(Bus) : sub === 'line' ? shape(Line) : [];
  if (head === 'faults' && path.length === 2) return [...shape(FaultFields), 'at', 'for'];
  if (head === 'devices' && path.length === 2)
    return shape(isObject(value) && 'uart' in value ? UartDeviceInput : ModbusDeviceInput);
  if (head === 'devices' && sub === 'schedule' && path.length === 4) return shape(ScheduleEntry);
  void subsub;
  return [];
}

/** zod issues as located problems; an unknown key is named in its path with the nearest valid key. */
function located(source: ScenarioSource, error: z.ZodError, prefix: readonly PropertyKey[] = []): Problem[] {
  const out: Problem[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(path, undefined);
      for (const key of issue.keys) {
        const near = closest(key, known);
        const at = [...path, key];
        out.push({
          file: source.file,
          path: formatPath(at),
          message: 'unknown key',
          line: source.lineOf(at),
          hint: near === undefined ? 'remove it or check its spelling' : `did you mean ${near}?`,
        });
      }
    } else out.push(...zodProblems(source, new z.ZodError([issue]), prefix));
  }
  return out;
}

/** Reads and validates a scenario YAML file. */
export function loadScenario(file: string): Scenario {
  return parseScenario(...scenarioFile(file));
}

/** A scenario file's problems so far (YAML and schema) and the entries that passed. */
export function inspectScenarioFile(file: string): ScenarioInspection {
  return inspectScenario(...scenarioFile(file));
}

function scenarioFile(file: string): [unknown, ScenarioSource] {
  const y = readYamlFile(file, 'SIM_SCENARIO_NOT_FOUND', 'SIM_SCENARIO_YAML');
  return [y.data, { file, baseDir: dirname(resolve(file)), lineOf: (path) => y.lineOf(path) }];
}

/**
 * The scenario with every TCP bus on a free port (port 0), for tests that run an example
 * scenario written with fixed ports beside others.
 */
export function withFreePorts(s: Scenario): Scenario {
  return { ...s, buses: s.buses.map((b) => (b.kind === 'pty' ? b : { ...b, port: 0 })) };
}

/** A located problem for a later check (one that needs profiles or files). */
export function problemAt(
  s: Scenario,
  path: readonly PropertyKey[],
  message: string,
  hint?: string,
): Problem {
  const src = s.source ?? INLINE;
  const place = placeInFile(s, path);
  const p: Problem = { file: src.file, path: formatPath(place), message, line: src.lineOf(place) };
  if (hint) p.hint = hint;
  return p;
}

/** A path into the parsed scenario as a path into the file (entries that failed are not in it). */
function placeInFile(s: Scenario, path: readonly PropertyKey[]): PropertyKey[] {
  const [head, i, ...rest] = path;
  const places = s.places?.[head as keyof NonNullable<Scenario['places']>];
  if (places && typeof i === 'number') return [head!, places[i] ?? i, ...rest];
  return [...path];
}
