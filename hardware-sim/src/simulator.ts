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
import { RtuBus } from './bus/rtu-bus.js';
import { BusStats } from './bus/stats.js';
import type { BusContext } from './bus/transact.js';
import { SimControl, type RuntimeBus, type RuntimeDevice, type SimBusInfo } from './control/control.js';
import { startControlServer, type ControlServer } from './control/http.js';
import { ModbusDevice } from './device/modbus-device.js';
import { FaultBook } from './faults.js';
import { RtuRequestFramer } from './modbus/framing.js';
import {
  buildBehaviours,
  buildWindows,
  checkScenario,
  faultKindsFor,
  findExample,
} from './scenario/compile.js';
import { loadScenario } from './scenario/load.js';
import { isUart, type BusSpec, type Scenario, type UartDeviceSpec } from './scenario/schema.js';
import { ModbusTcpServer, RtuOverTcpServer } from './transport/tcp.js';
import { PtyLine } from './transport/pty.js';
import { Pms5003 } from './uart/pms5003.js';
import { Sds011 } from './uart/sds011.js';
import type { UartDevice, UartDeviceOptions } from './uart/uart-device.js';
import { silenceMs } from './wire/model.js';
import type { BusStatsSnapshot } from './bus/stats.js';

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
  const s = typeof scenario === 'string' ? loadScenario(scenario) : scenario;
  const clock = options.clock ?? systemClock;
  const log = childLogger(options.logger ?? silentLogger, 'sim');
  const profileOf = checkScenario(s, registryFor(s, options));
  const startMs = clock.now();
  const faults = new FaultBook(s.seed);
  const devices = new Map<string, RuntimeDevice>();
  s.devices.forEach((d, i) => {
    const behaviours = buildBehaviours(s, i, s.seed);
    if (isUart(d)) return;
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
  const stopAll = async () => {
    timers.forEach(clearTimeout);
    await Promise.allSettled([...buses.values()].map((b) => b.close()));
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
        const sensor = makeUart(uartSpec, spec, {
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
        });
        devices.set(uartSpec.id, { kind: 'uart', id: uartSpec.id, bus: spec.name, device: sensor });
        bus = await uartBus(spec, sensor, tempDir, log);
      } else {
        bus = await modbusBus(spec, ctx, tempDir, log);
      }
      buses.set(spec.name, bus);
      log.info({ bus: spec.name, address: bus.info.address }, 'bus listening');
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
    const spec = { ...rest, ...(forMs === undefined ? {} : { durationMs: forMs }) };
    timers.push(setTimeout(() => control.inject(spec), Math.max(0, Math.min(delay, 2 ** 31 - 1))));
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
    ...(http ? { controlUrl: http.url } : {}),
    stats: (bus) => control.stats(bus),
    stop: () =>
      (stopped ??= (async () => {
        await http?.close();
        for (const d of devices.values()) if (d.kind === 'uart') d.device.detach();
        await stopAll();
      })()),
  };
}

function makeUart(d: UartDeviceSpec, _bus: BusSpec, o: UartDeviceOptions): UartDevice {
  if (d.uart === 'pms5003') return new Pms5003(o, d.mode === 'passive' ? 'passive' : 'active');
  return new Sds011(o, d.mode === 'query' ? 'query' : 'active', d.sensorId);
}

function ptyPaths(spec: BusSpec, tempDir: () => string): { link: string; simLink: string } {
  const link = spec.link ? resolve(spec.link) : join(tempDir(), spec.name);
  return { link, simLink: join(tempDir(), `${spec.name}.sim`) };
}

async function uartBus(
  spec: BusSpec,
  sensor: UartDevice,
  tempDir: () => string,
  log: Logger,
): Promise<RuntimeBus> {
  const pty = await PtyLine.open({
    ...ptyPaths(spec, tempDir),
    bus: spec.name,
    log,
    onData: (c) => sensor.receive(c),
  });
  sensor.attach(pty);
  const stats = new BusStats(spec.name, 'pty');
  return {
    info: { name: spec.name, kind: 'pty', address: pty.path, path: pty.path },
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    breakLinks: (offMs) => void pty.restart(offMs),
    close: () => pty.close(),
  };
}

async function modbusBus(
  spec: BusSpec,
  ctx: BusContext,
  tempDir: () => string,
  log: Logger,
): Promise<RuntimeBus> {
  if (spec.kind === 'tcp') {
    const server = new ModbusTcpServer(ctx, { unknownUnit: spec.unknownUnit }, log);
    const port = await server.listen(spec.host, spec.port);
    return {
      info: { name: spec.name, kind: 'tcp', address: `tcp://${spec.host}:${port}`, port },
      stats: () => server.stats.snapshot(),
      resetStats: () => server.stats.reset(),
      breakLinks: () => server.dropAll(),
      close: () => server.close(),
    };
  }
  const rtu = new RtuBus(ctx, spec.line, spec.kind, log);
  if (spec.kind === 'rtu-tcp') {
    const server = new RtuOverTcpServer(rtu, spec.line, spec.name);
    const port = await server.listen(spec.host, spec.port);
    return {
      info: { name: spec.name, kind: 'rtu-tcp', address: `rtu-tcp://${spec.host}:${port}`, port },
      stats: () => rtu.stats.snapshot(),
      resetStats: () => rtu.stats.reset(),
      breakLinks: () => server.dropAll(),
      close: async () => {
        rtu.close();
        await server.close();
      },
    };
  }
  // The framer and the line refer to each other; the line exists once open() resolves.
  const link: { pty?: PtyLine } = {};
  const framer = new RtuRequestFramer({
    idleMs: Math.max(silenceMs(spec.line), 5),
    frameTimeoutMs: 200,
    onDiscard: (bytes) => rtu.stats.discard(bytes.length),
    onFrame: (frame) =>
      rtu.submit({
        frame,
        send: (bytes) => void link.pty?.write(bytes),
        drop: (fault) => void link.pty?.restart(fault.spec.offMs ?? 1000),
      }),
  });
  const line = await PtyLine.open({
    ...ptyPaths(spec, tempDir),
    bus: spec.name,
    log,
    onData: (c) => framer.push(c),
  });
  link.pty = line;
  return {
    info: { name: spec.name, kind: 'pty', address: line.path, path: line.path },
    stats: () => rtu.stats.snapshot(),
    resetStats: () => rtu.stats.reset(),
    breakLinks: (offMs) => void line.restart(offMs),
    close: async () => {
      rtu.close();
      framer.close();
      await line.close();
    },
  };
}
