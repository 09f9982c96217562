/**
 * Reading and validating scenario files. Every problem names the file, the path inside it and
 * the line, in the format the gateway's own loaders use.
 */
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import {
  formatPath,
  problemsError,
  readYamlFile,
  zodProblems,
  type Problem,
} from '../../../gateway/src/core/index.js';
import {
  ModbusDeviceInput,
  ScenarioFile,
  UartDeviceInput,
  type DeviceSpec,
  type Scenario,
  type ScenarioSource,
} from './schema.js';

const INLINE: ScenarioSource = { file: '<scenario>', baseDir: process.cwd(), lineOf: () => undefined };

/** Validates a scenario object (already parsed from YAML or built in code). */
export function parseScenario(obj: unknown, source: ScenarioSource = INLINE): Scenario {
  const parsed = ScenarioFile.safeParse(obj);
  if (!parsed.success) throw problemsError('SIM_SCENARIO_INVALID', zodProblems(source, parsed.error));
  const problems: Problem[] = [];
  const devices: DeviceSpec[] = [];
  parsed.data.devices.forEach((raw, i) => {
    const schema: z.ZodType<DeviceSpec> = 'uart' in raw ? UartDeviceInput : ModbusDeviceInput;
    const d = schema.safeParse(raw);
    if (d.success) devices.push(d.data);
    else problems.push(...zodProblems(source, d.error, ['devices', i]));
  });
  if (problems.length > 0) throw problemsError('SIM_SCENARIO_INVALID', problems);
  return { ...parsed.data, devices, source };
}

/** Reads and validates a scenario YAML file. */
export function loadScenario(file: string): Scenario {
  const y = readYamlFile(file, 'SIM_SCENARIO_NOT_FOUND', 'SIM_SCENARIO_YAML');
  return parseScenario(y.data, { file, baseDir: dirname(resolve(file)), lineOf: (path) => y.lineOf(path) });
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
  const p: Problem = { file: src.file, path: formatPath(path), message, line: src.lineOf(path) };
  if (hint) p.hint = hint;
  return p;
}
