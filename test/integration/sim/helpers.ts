/**
 * Test helpers for the simulator: start a scenario on fixture profiles, run mbpoll, and talk to
 * the simulator with independent clients (modbus-serial, raw sockets, serialport on the pty).
 * The CRC here is written bit by bit from the Modbus serial-line specification, apart from the
 * simulator's own table-driven CRC, so the two check each other.
 */
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import { createRequire } from 'node:module';
import type { ModbusRTU as Client } from 'modbus-serial/ModbusRTU.js';
import { afterEach } from 'vitest';
import { parseScenario, startSimulator, type Simulator } from '../../../hardware-sim/src/index.js';
import { FIXTURE_PROFILES } from '../../fixtures/sim/profiles.js';

const running: Simulator[] = [];
const closers: (() => unknown)[] = [];

/** Registers cleanup: every simulator and client started in a test is stopped after it. */
export function useCleanup(): void {
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });
}

export function onCleanup(fn: () => unknown): void {
  closers.push(fn);
}

export async function sim(scenario: Record<string, unknown>, controlPort?: number): Promise<Simulator> {
  const s = await startSimulator(parseScenario(scenario), {
    profilesDir: FIXTURE_PROFILES,
    ...(controlPort === undefined ? {} : { controlPort }),
  });
  running.push(s);
  return s;
}

export function bus(s: Simulator, name: string) {
  const b = s.buses.find((x) => x.name === name);
  if (!b) throw new Error(`no bus ${name}`);
  return b;
}

/** CRC-16/MODBUS bit by bit: init 0xFFFF, reflected polynomial 0xA001, low byte first. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >> 1) ^ 0xa001 : crc >> 1;
  }
  return crc;
}

export function rtu(hex: string): Buffer {
  const body = Buffer.from(hex.replace(/\s+/g, ''), 'hex');
  const crc = crc16(body);
  return Buffer.concat([body, Buffer.from([crc & 0xff, crc >> 8])]);
}

export const crcOk = (frame: Buffer) =>
  frame.length >= 4 && crc16(frame.subarray(0, -2)) === frame.readUInt16LE(frame.length - 2);

export interface MbpollResult {
  code: number;
  out: string;
  /** Values by reference number, as mbpoll prints them. */
  values: Map<number, number>;
  /** The failure mbpoll reported, as a Modbus exception code or a kind of error. */
  failure?: number | string;
}

/** libmodbus error texts (as mbpoll prints them) for the outcomes the tests expect. */
const FAILURES: [RegExp, MbpollResult['failure']][] = [
  [/Illegal function/, 1],
  [/Illegal data address/, 2],
  [/Illegal data value/, 3],
  [/Slave device or server failure/, 4],
  [/timed out/i, 'timeout'],
  [/Invalid CRC/i, 'crc'],
  [/Invalid data/i, 'invalid'],
];

export function mbpoll(args: string[]): Promise<MbpollResult> {
  return new Promise((resolve) => {
    execFile('mbpoll', args, { timeout: 15_000 }, (err, stdout, stderr) => {
      const out = `${stdout}${stderr}`;
      const values = new Map<number, number>();
      for (const m of out.matchAll(/^\[(\d+)\]:\s+(-?[\d.]+(?:e[+-]?\d+)?)/gm))
        values.set(Number(m[1]), Number(m[2]));
      const failed = /failed[^:]*: (.*)$/m.exec(out)?.[1];
      const failure =
        failed === undefined ? undefined : (FAILURES.find(([re]) => re.test(failed))?.[1] ?? failed);
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out, values, ...(failure === undefined ? {} : { failure }) });
    });
  });
}

export const mbpollTcp = (port: number, args: string[]) =>
  mbpoll(['-m', 'tcp', '-p', String(port), '-0', '-1', '-o', '2', ...args, '127.0.0.1']);
export const mbpollRtu = (path: string, args: string[]) =>
  mbpoll(['-m', 'rtu', '-b', '9600', '-P', 'none', '-0', '-1', '-o', '2', ...args, path]);

// modbus-serial is CommonJS whose typings declare an ES default export; require() gives the class.
const ModbusRTU = createRequire(import.meta.url)('modbus-serial') as new () => Client;

function client(timeoutMs: number): Client {
  const c = new ModbusRTU();
  c.setTimeout(timeoutMs);
  onCleanup(() => new Promise<void>((r) => (c.isOpen ? c.close(() => r()) : r())));
  return c;
}

export async function tcpClient(port: number, unit: number, timeoutMs = 1000): Promise<Client> {
  const c = client(timeoutMs);
  await c.connectTCP('127.0.0.1', { port });
  c.setID(unit);
  return c;
}

/** RTU over TCP, as modbus-serial talks to a transparent serial device server. */
export async function rtuTcpClient(port: number, unit: number, timeoutMs = 1000): Promise<Client> {
  const c = client(timeoutMs);
  await c.connectTelnet('127.0.0.1', { port });
  c.setID(unit);
  return c;
}

export async function ptyClient(path: string, unit: number, timeoutMs = 1000): Promise<Client> {
  const c = client(timeoutMs);
  await c.connectRTUBuffered(path, { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
  c.setID(unit);
  return c;
}

/** A byte stream for raw frames: collects everything that arrives. */
export interface RawLink {
  send(bytes: Buffer): void;
  /** Waits until `n` bytes have arrived or `ms` passed; returns and clears what arrived. */
  receive(n: number, ms: number): Promise<Buffer>;
  closed(): boolean;
}

function rawLink(
  write: (b: Buffer) => void,
  on: (f: (d: Buffer) => void) => void,
  isClosed: () => boolean,
): RawLink {
  let buf = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  on((d) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  });
  return {
    send: write,
    closed: isClosed,
    receive: async (n, ms) => {
      const until = Date.now() + ms;
      while (buf.length < n && Date.now() < until && !isClosed()) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, Math.min(20, until - Date.now()));
        });
      }
      const out = buf;
      buf = Buffer.alloc(0);
      return out;
    },
  };
}

export async function rawTcp(port: number): Promise<RawLink> {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.setNoDelay(true);
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  onCleanup(() => socket.destroy());
  return rawLink(
    (b) => socket.write(b),
    (f) => socket.on('data', f),
    () => closed,
  );
}

export async function rawPty(path: string): Promise<RawLink & { port: SerialPort }> {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  let closed = false;
  port.on('close', () => (closed = true));
  port.on('error', () => undefined);
  onCleanup(() => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())));
  const link = rawLink(
    (b) => port.write(b),
    (f) => port.on('data', f),
    () => closed,
  );
  return { ...link, port };
}

/** Runs `fn` and returns the error it throws (fails the test when it does not throw). */
export async function failure(fn: () => Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await fn();
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}
