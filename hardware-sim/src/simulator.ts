/**
 * Composition of a running simulator from a scenario: profiles loaded, devices built, buses
 * listening (Modbus TCP, RTU over TCP, ptys), the fault timeline armed, the control interface up.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  childLogger,
  silentLogger,
  systemClock,
  type Clock,
  type Logger,
} from '../../gateway/src/core/index.js';
import {
  DEFAULT_PROFILES_DIR,
  ProfileRegistry,
  loadProfileFile,
  profileFiles,
  type Profile,
} from '../../gateway/src/profiles/index.js';
import type { BusStatsSnapshot } from './bus/stats.js';
import type { BusContext } from './bus/transact.js';
import { openModbusBus, openUartBus } from './buses.js';
import { SimControl, type RuntimeBus, type RuntimeDevice, type SimBusInfo } from './control/control.js';
import { startControlServer, type ControlServer } from './control/http.js';
import { ModbusDevice } from './device/modbus-device.js';
import { FaultBook, isAction } from './faults.js';
import {
  buildBehaviours,
  buildWindows,
  checkScenario,
  faultKindsFor,
  findExample,
} from './scenario/compile.js';
import { inspectScenarioFile } from './scenario/load.js';
import { isUart, type CameraSpec, type Scenario, type UartDeviceSpec } from './scenario/schema.js';
import { SimCamera } from './camera/server.js';

export interface SimulatorOptions {
  /**
   * Profile directories (`<vendor>/<model>.yaml` inside). Default: the package's device-profiles/.
   * Directories named in the scenario's `profiles` are added to these.
   */
  profilesDir?: string | string[];
  /** A ready registry; replaces profilesDir. */
  profiles?: ProfileRegistry;
  /** Port of the HTTP control interface on 127.0.0.1; 0 picks a free one. Default: no HTTP interface. */
  controlPort?: number;
  /** Wall clock for behaviours, schedules and fault durations. Default: the system clock. */
  clock?: Clock;
  logger?: Logger;
}

export interface Simulator {
  buses: SimBusInfo[];
  control: SimControl;
  /** http://127.0.0.1:PORT when the HTTP control interface runs. */
  controlUrl?: string;
  /** The scenario's cameras, listening; `setFault` steers each. */
  cameras: SimCamera[];
  stats(bus: string): BusStatsSnapshot;
  stop(): Promise<void>;
}

function registryFor(s: Scenario, o: SimulatorOptions): ProfileRegistry {
  if (o.profiles) return o.profiles;
  const given = o.profilesDir === undefined ? [DEFAULT_PROFILES_DIR] : [o.profilesDir].flat();
  const extra = [s.profiles ?? []].flat().map((d) => resolve(s.source?.baseDir ?? process.cwd(), d));
  const profiles: Profile[] = [];
  for (const dir of [...given, ...extra]) {
    if (!existsSync(dir)) continue;
    profiles.push(...profileFiles(dir).map((f) => loadProfileFile(f, join(dir, 'templates'))));
  }
  return new ProfileRegistry(profiles);
}

export async function startSimulator(
  scenario: Scenario | string,
  options: SimulatorOptions = {},
): Promise<Simulator> {
  // From a file, every problem is reported at once: what the schema found, then the references.
  const { scenario: s, problems } =
    typeof scenario === 'string' ? inspectScenarioFile(scenario) : { scenario, problems: [] };
  const clock = options.clock ?? systemClock;
  const log = childLogger(options.logger ?? silentLogger, 'sim');
  const profileOf = checkScenario(s, registryFor(s, options), problems);
  const startMs = clock.now();
  const faults = new FaultBook(s.seed);
  const devices = new Map<string, RuntimeDevice>();
  s.devices.forEach((d, i) => {
    if (isUart(d)) return;
    const behaviours = buildBehaviours(s, i, s.seed);
    const profile = profileOf.get(d.id)!;
    const example = d.example === undefined ? undefined : findExample(profile, d.example);
    const device = new ModbusDevice({
      id: d.id,
      profile,
      unitId: d.unit,
      ...(d.turnaroundMs === undefined ? {} : { turnaroundMs: d.turnaroundMs }),
      ...(d.functions ? { functions: d.functions } : {}),
      addressing: d.addressing,
      ...(example ? { example, frozenStatus: true } : {}),
      behaviours,
      windows: buildWindows(s, d.schedule, startMs),
      ...(d.revision ? { revision: d.revision } : {}),
      coldStart: d.coldStart,
      clock,
      startMs,
    });
    devices.set(d.id, { kind: 'modbus', id: d.id, bus: d.bus, device });
  });

  const buses = new Map<string, RuntimeBus>();
  const timers: NodeJS.Timeout[] = [];
  let tmp: string | undefined;
  const tempDir = () => (tmp ??= mkdtempSync(join(tmpdir(), 'lantian-sim-')));
  const cameras: SimCamera[] = [];
  const stopAll = async () => {
    timers.forEach(clearTimeout);
    await Promise.allSettled([...buses.values()].map((b) => b.close()));
    await Promise.allSettled(cameras.map((c) => c.close()));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  };
  try {
    for (const spec of s.buses) {
      const ctx: BusContext = {
        name: spec.name,
        faults,
        now: () => clock.now(),
        devices: [...devices.values()].flatMap((d) =>
          d.kind === 'modbus' && d.bus === spec.name ? [d.device] : [],
        ),
      };
      const uartSpec = s.devices.find((d): d is UartDeviceSpec => isUart(d) && d.bus === spec.name);
      let bus: RuntimeBus;
      if (uartSpec) {
        const index = s.devices.indexOf(uartSpec);
        const opened = await openUartBus(
          spec,
          uartSpec,
          {
            id: uartSpec.id,
            bus: spec.name,
            line: spec.line,
            intervalMs: uartSpec.intervalMs,
            turnaroundMs: uartSpec.turnaroundMs,
            behaviours: buildBehaviours(s, index, s.seed),
            faults,
            clock,
            startMs,
            log,
          },
          tempDir,
          log,
        );
        bus = opened.bus;
        devices.set(uartSpec.id, { kind: 'uart', id: uartSpec.id, bus: spec.name, device: opened.sensor });
      } else {
        bus = await openModbusBus(spec, ctx, tempDir, log);
      }
      buses.set(spec.name, bus);
      log.info({ bus: spec.name, address: bus.info.address }, 'bus listening');
    }
    for (const spec of s.cameras ?? []) {
      const camera = startScenarioCamera(spec, clock, timers);
      cameras.push(camera);
      await camera.listen();
      log.info({ camera: spec.id, url: camera.url }, 'camera listening');
    }
  } catch (e) {
    await stopAll();
    throw e;
  }

  const control = new SimControl({
    faults,
    clock,
    buses,
    devices,
    kindsFor: (busName, deviceId) => {
      const spec = s.buses.find((b) => b.name === busName)!;
      const dev = s.devices.find((d) => d.id === deviceId);
      return faultKindsFor(
        spec,
        dev,
        s.devices.filter((d) => d.bus === busName),
      );
    },
  });
  for (const f of s.faults) {
    const { at, for: forMs, ...rest } = f;
    const delay = 'afterMs' in at ? at.afterMs : at.atMs - clock.now();
    // A fault dated before the start is still on for what is left of it; a past action is over.
    const left = forMs === undefined ? undefined : forMs + Math.min(delay, 0);
    if (delay < 0 && (isAction(rest) || (left !== undefined && left <= 0))) continue;
    const spec = { ...rest, ...(left === undefined ? {} : { durationMs: left }) };
    const fire = () => {
      try {
        control.inject(spec);
      } catch (err) {
        log.error({ err, fault: spec }, 'timeline fault refused');
      }
    };
    timers.push(setTimeout(fire, Math.max(0, Math.min(delay, 2 ** 31 - 1))));
  }
  let http: ControlServer | undefined;
  if (options.controlPort !== undefined) {
    try {
      http = await startControlServer(control, options.controlPort, log);
    } catch (e) {
      await stopAll();
      throw e;
    }
  }
  let stopped: Promise<void> | undefined;
  return {
    buses: [...buses.values()].map((b) => b.info),
    control,
    cameras,
    ...(http ? { controlUrl: http.url } : {}),
    stats: (bus) => control.stats(bus),
    stop: () =>
      (stopped ??= (async () => {
        await http?.close();
        await stopAll();
      })()),
  };
}

/** A camera of the scenario with its fault timeline armed (each fault ends after its `for`). */
function startScenarioCamera(spec: CameraSpec, clock: Clock, timers: NodeJS.Timeout[]): SimCamera {
  const camera = new SimCamera({
    id: spec.id,
    style: spec.style,
    host: spec.host,
    port: spec.port,
    username: spec.username,
    password: spec.password,
    onvif: spec.onvif,
    frames: { frameMs: spec.frameMs },
    fault: spec.fault,
    now: () => clock.now(),
  });
  for (const f of spec.faults) {
    const delay = 'afterMs' in f.at ? f.at.afterMs : f.at.atMs - clock.now();
    const at = (ms: number, fn: () => void) =>
      timers.push(setTimeout(fn, Math.max(0, Math.min(ms, 2 ** 31 - 1))));
    at(delay, () => camera.setFault(f.kind));
    if (f.for !== undefined) at(delay + f.for, () => camera.setFault('none'));
  }
  return camera;
}
