/**
 * The scenario file: buses, devices (from device profiles, or UART sensors), behaviours, status
 * schedules and a fault timeline. Durations are written with a unit (`500ms`, `30s`, `10m`,
 * `1h`, `1d`; a bare number means seconds); times are `+30s` after the start or an ISO date-time.
 */
import { z } from 'zod';
import { FaultFields, oneTarget } from '../faults.js';
import { DEVICE_STATES } from '../device/status.js';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const RELATIVE = /^\+(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration: `30s`, `500ms`, `10m`, `1h`, or a number of seconds. */
export const Duration = z
  .union([z.number().min(0), z.string().regex(DURATION, 'a duration like 500ms, 30s, 10m, 1h or 1d')])
  .transform((d) => {
    if (typeof d === 'number') return d * 1000;
    const m = DURATION.exec(d)!;
    return Number(m[1]) * UNIT_MS[m[2]!]!;
  });

export type When = { afterMs: number } | { atMs: number };

/** `+30s` after the simulator starts, or an ISO date-time with its offset. */
export const When = z
  .string()
  .refine((s) => RELATIVE.test(s) || (/\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s))), {
    message: 'a time like +30s (after start) or 2026-01-01T08:00:00+08:00',
  })
  .transform((s): When => {
    const m = RELATIVE.exec(s);
    return m ? { afterMs: Number(m[1]) * UNIT_MS[m[2]!]! } : { atMs: Date.parse(s) };
  });

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - only');

export const Line = z
  .object({
    baud: z.number().int().min(300).max(921_600).default(9600).describe('Bits per second.'),
    dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
    parity: z.enum(['none', 'even', 'odd']).default('none'),
    stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
    checkSettings: z
      .boolean()
      .default(false)
      .describe(
        'pty: frames sent while the gateway’s end is set to another baud arrive as noise (read with stty; a pty keeps no parity).',
      ),
  })
  .strict();

export const Bus = z
  .object({
    name,
    kind: z
      .enum(['tcp', 'rtu-tcp', 'pty'])
      .describe(
        'tcp: Modbus TCP; rtu-tcp: raw RTU frames over TCP (serial device server); pty: a serial line.',
      ),
    host: z.string().default('127.0.0.1').describe('tcp, rtu-tcp: address to listen on.'),
    port: z.number().int().min(0).max(65535).default(0).describe('tcp, rtu-tcp: port; 0 picks a free one.'),
    link: z.string().optional().describe('pty: path of the end the gateway opens. Default: in a temp dir.'),
    line: Line.default({
      baud: 9600,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      checkSettings: false,
    }).describe('rtu-tcp, pty: serial line settings for the wire-time model.'),
    unknownUnit: z
      .enum(['silent', 'gateway-exception'])
      .default('gateway-exception')
      .describe('tcp: answer for a unit id with no device: nothing, or exception 0B as a gateway does.'),
  })
  .strict();

const num = z.number();

export const BehaviourInput = z.union([
  z.number(),
  z.string(),
  z.object({ constant: z.union([z.number(), z.string()]) }).strict(),
  z
    .object({
      ramp: z
        .object({
          from: num,
          to: num,
          period: Duration,
          shape: z.enum(['sawtooth', 'triangle', 'once']).default('sawtooth'),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      sine: z
        .object({
          mean: num,
          amplitude: num,
          period: Duration,
          phase: Duration.default(0),
          noise: z.number().min(0).default(0).describe('Standard deviation of the added noise.'),
          noiseStep: Duration.default(1000).describe('How long one noise sample holds.'),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      randomWalk: z
        .object({
          start: num,
          sigma: z.number().min(0).describe('Standard deviation of one step.'),
          step: Duration.default(1000),
          min: num.optional(),
          max: num.optional(),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      csv: z
        .object({
          file: z.string().min(1).describe('CSV file, relative to the scenario; first line is the header.'),
          column: z.union([z.string(), z.number().int().min(0)]),
          timeColumn: z
            .string()
            .optional()
            .describe('Column of seconds (or ISO times) of each row; default: one row per interval.'),
          interval: Duration.default(1000),
          loop: z.boolean().default(true),
          interpolate: z.boolean().default(false),
        })
        .strict(),
    })
    .strict(),
]);
export type BehaviourInput = z.output<typeof BehaviourInput>;

export const ScheduleEntry = z
  .object({
    state: z.enum(DEVICE_STATES),
    daily: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM')
      .optional()
      .describe('Every day at this local time (see utcOffset).'),
    at: When.optional().describe('Once (or first) at this time.'),
    every: Duration.optional().describe('With at: repeat with this period.'),
    for: Duration.describe('How long the state lasts.'),
  })
  .strict()
  .refine((e) => (e.daily === undefined) !== (e.at === undefined), { message: 'give either daily or at' });

export const ModbusDeviceInput = z
  .object({
    id: name,
    profile: z.string().min(1).describe('Device-profile id, e.g. sdl.scs-900uv.'),
    unit: z.number().int().min(1).max(247).describe('Unit id (slave address).'),
    bus: z.string(),
    turnaroundMs: z
      .number()
      .min(0)
      .max(5000)
      .optional()
      .describe("Default: the profile's turnaroundMs quirk."),
    functions: z
      .array(z.number().int().min(1).max(127))
      .optional()
      .describe('Default: what the profile needs.'),
    addressing: z.enum(['span', 'points']).default('span'),
    example: z
      .union([z.string(), z.number().int().min(0)])
      .optional()
      .describe('Serve this profile example (name or index) exactly.'),
    coldStart: z.boolean().default(true).describe('The boot delay applies when the simulator starts.'),
    revision: z.string().optional(),
    points: z.record(z.string(), BehaviourInput).default({}),
    schedule: z.array(ScheduleEntry).default([]),
  })
  .strict();

export const UartDeviceInput = z
  .object({
    id: name,
    uart: z.enum(['pms5003', 'sds011']),
    bus: z.string(),
    mode: z.enum(['active', 'passive', 'query']).optional().describe('Default: active.'),
    intervalMs: z.number().min(50).max(3_600_000).default(1000).describe('Active mode: ms between frames.'),
    turnaroundMs: z.number().min(0).max(5000).default(10),
    sensorId: z.number().int().min(0).max(0xfffe).default(0x60a1).describe('SDS011 id (bytes id1 id2).'),
    points: z.record(z.string(), BehaviourInput).default({}),
  })
  .strict();

/** An IP camera served over HTTP (hardware-sim/src/camera): digest-protected snapshot, ONVIF, faults. */
export const CameraInput = z
  .object({
    id: name,
    style: z.enum(['hikvision', 'dahua']).describe('Snapshot path and realm: Hikvision ISAPI or Dahua CGI.'),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(0).describe('0 picks a free one.'),
    username: z.string().min(1).default('admin'),
    password: z.string().min(1),
    onvif: z.boolean().default(true).describe('Answer ONVIF GetSnapshotUri on /onvif/*.'),
    frameMs: z
      .number()
      .int()
      .min(50)
      .max(3_600_000)
      .default(1000)
      .describe('A new picture every this many ms.'),
    fault: z.enum(['none', 'wrong-password', 'timeout', 'server-error', 'trickle']).default('none'),
    faults: z
      .array(
        z
          .object({
            at: When.default({ afterMs: 0 }),
            for: Duration.optional(),
            kind: z.enum(['none', 'wrong-password', 'timeout', 'server-error', 'trickle']),
          })
          .strict(),
      )
      .default([])
      .describe('Fault timeline of this camera; after `for`, the camera is healthy again.'),
  })
  .strict();
export type CameraSpec = z.output<typeof CameraInput>;

export const ScenarioFault = FaultFields.omit({ durationMs: true })
  .extend({ at: When.default({ afterMs: 0 }), for: Duration.optional() })
  .refine(oneTarget, { message: 'name exactly one target: device or bus' });

export const ScenarioFile = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    seed: z.number().int().default(1).describe('Seed of every random behaviour and fault.'),
    utcOffset: z
      .string()
      .regex(/^[+-]\d{2}:\d{2}$/)
      .optional()
      .describe('Time zone of daily schedules, e.g. +08:00. Default: the machine local time zone.'),
    profiles: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .describe('Extra profile directories, relative to the scenario.'),
    buses: z.array(Bus).min(1),
    devices: z.array(z.record(z.string(), z.unknown())).default([]),
    faults: z.array(ScenarioFault).default([]),
    cameras: z.array(CameraInput).default([]),
  })
  .strict();

export type BusSpec = z.output<typeof Bus>;
export type ModbusDeviceSpec = z.output<typeof ModbusDeviceInput>;
export type UartDeviceSpec = z.output<typeof UartDeviceInput>;
export type DeviceSpec = ModbusDeviceSpec | UartDeviceSpec;
export type ScenarioFaultSpec = z.output<typeof ScenarioFault>;
export type ScheduleSpec = z.output<typeof ScheduleEntry>;

/** A parsed scenario. `source` locates it so later checks can name file, path and line. */
export interface Scenario extends Omit<z.output<typeof ScenarioFile>, 'devices'> {
  devices: DeviceSpec[];
  source?: ScenarioSource;
  /**
   * Where each bus, device and fault sits in the file, when some entries failed to parse and
   * were left out; absent when every entry is at its own index.
   */
  places?: { buses: number[]; devices: number[]; faults: number[] };
  /** Bus names and device ids the file declares, also of entries that failed to parse. */
  declared?: { buses: string[]; devices: string[] };
}

export interface ScenarioSource {
  file: string;
  /** Directory relative paths (CSV files, profile dirs) are resolved from. */
  baseDir: string;
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

export const isUart = (d: DeviceSpec): d is UartDeviceSpec => 'uart' in d;
