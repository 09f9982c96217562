/**
 * Opening the buses of a scenario: a Modbus TCP server, an RTU bus behind a TCP server (a
 * serial device server) or on a pty, or a UART sensor on a pty. Each comes back as a RuntimeBus
 * the simulator and its control interface use alike.
 */
import { join, resolve } from 'node:path';
import type { Logger } from '../../gateway/src/core/index.js';
import { RtuBus } from './bus/rtu-bus.js';
import { BusStats } from './bus/stats.js';
import type { BusContext } from './bus/transact.js';
import type { RuntimeBus } from './control/control.js';
import { RtuRequestFramer } from './modbus/framing.js';
import type { BusSpec, UartDeviceSpec } from './scenario/schema.js';
import { ModbusTcpServer, RtuOverTcpServer } from './transport/tcp.js';
import { PtyLine } from './transport/pty.js';
import { Pms5003 } from './uart/pms5003.js';
import { Sds011 } from './uart/sds011.js';
import type { UartDevice, UartDeviceOptions } from './uart/uart-device.js';
import { silenceMs, type LineSettings } from './wire/model.js';
import { asHeard } from './transport/line-check.js';

/** Ms after its last byte at which an incomplete RTU request is thrown away. */
const FRAME_TIMEOUT_MS = 200;

/**
 * The request framer of an RTU line: a frame of unknown length ends at t3.5 of silence, but at
 * no less than 5 ms, since ptys and sockets carry no timing finer than that.
 */
export function rtuFramer(
  line: LineSettings,
  rtu: RtuBus,
  onFrame: (frame: Buffer) => void,
): RtuRequestFramer {
  return new RtuRequestFramer({
    idleMs: Math.max(silenceMs(line), 5),
    frameTimeoutMs: FRAME_TIMEOUT_MS,
    onDiscard: (bytes) => rtu.stats.discard(bytes.length),
    onFrame,
  });
}

function ptyPaths(spec: BusSpec, tempDir: () => string): { link: string; simLink: string } {
  const link = spec.link ? resolve(spec.link) : join(tempDir(), spec.name);
  return { link, simLink: join(tempDir(), `${spec.name}.sim`) };
}

/** A UART sensor alone on its pty; the sensor is stopped with the bus. */
export async function openUartBus(
  spec: BusSpec,
  d: UartDeviceSpec,
  options: Omit<UartDeviceOptions, 'onFrame'>,
  tempDir: () => string,
  log: Logger,
): Promise<{ bus: RuntimeBus; sensor: UartDevice }> {
  const stats = new BusStats(spec.name, 'pty');
  const o: UartDeviceOptions = {
    ...options,
    onFrame: (f) =>
      stats.record({
        unitId: 0,
        reqBytes: f.commandBytes,
        respBytes: f.bytes,
        turnaroundMs: options.turnaroundMs,
        start: f.start,
        end: f.end,
      }),
  };
  const sensor =
    d.uart === 'pms5003'
      ? new Pms5003(o, d.mode === 'passive' ? 'passive' : 'active')
      : new Sds011(o, d.mode === 'query' ? 'query' : 'active', d.sensorId);
  const pty = await PtyLine.open({
    ...ptyPaths(spec, tempDir),
    bus: spec.name,
    log,
    onData: (c) => sensor.receive(c),
  });
  sensor.attach(pty);
  const bus: RuntimeBus = {
    info: { name: spec.name, kind: 'pty', address: pty.path, path: pty.path },
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    breakLinks: (offMs) => void pty.restart(offMs),
    close: async () => {
      sensor.detach();
      await pty.close();
    },
  };
  return { bus, sensor };
}

/** A bus of Modbus devices: Modbus TCP, or an RTU line behind a TCP server or on a pty. */
export async function openModbusBus(
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
  const common = {
    stats: () => rtu.stats.snapshot(),
    resetStats: () => rtu.stats.reset(),
  };
  if (spec.kind === 'rtu-tcp') {
    const server = new RtuOverTcpServer(rtu, (r, onFrame) => rtuFramer(spec.line, r, onFrame), spec.name);
    const port = await server.listen(spec.host, spec.port);
    return {
      ...common,
      info: { name: spec.name, kind: 'rtu-tcp', address: `rtu-tcp://${spec.host}:${port}`, port },
      breakLinks: () => server.dropAll(),
      close: async () => {
        rtu.close();
        await server.close();
      },
    };
  }
  // The framer and the line refer to each other; the line exists once open() resolves.
  const link: { pty?: PtyLine } = {};
  const framer = rtuFramer(spec.line, rtu, (frame) =>
    rtu.submit({
      frame,
      send: (bytes) => link.pty?.write(bytes) ?? false,
      drop: (fault) => void link.pty?.restart(fault.spec.offMs ?? 1000),
    }),
  );
  const paths = ptyPaths(spec, tempDir);
  const line = await PtyLine.open({
    ...paths,
    bus: spec.name,
    log,
    onData: (c) => framer.push(spec.line.checkSettings ? asHeard(c, paths.link, spec.line) : c),
  });
  link.pty = line;
  return {
    ...common,
    info: { name: spec.name, kind: 'pty', address: line.path, path: line.path },
    breakLinks: (offMs) => void line.restart(offMs),
    close: async () => {
      rtu.close();
      framer.close();
      await line.close();
    },
  };
}
