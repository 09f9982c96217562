/**
 * Brokers for the MQTT tests: the embedded Aedes broker, and a real Mosquitto run as a child
 * process on a free port (with persistence, so a stop/start keeps sessions like a production
 * broker). Every MQTT suite runs against both; Mosquitto is skipped, visibly, where it is not
 * on PATH, and fails under LANTIAN_TEST_STRICT (CI). Each suite runs its own Mosquitto on a free
 * port bound to 127.0.0.1, so the suites can stop and restart it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedBroker } from '../../gateway/src/uplink/mqtt/broker.js';
import { STRICT_ENV, findOnPath, missingReason, strict } from './system-tools.js';

export interface TestBroker {
  kind: 'aedes' | 'mosquitto';
  url: string;
  port: number;
  /** The broker goes away: every connection drops, nothing listens. */
  stop(): Promise<void>;
  /** The broker comes back on the same port with its sessions. */
  start(): Promise<void>;
  close(): Promise<void>;
  /**
   * Whether the broker hands one subscriber the messages of one publisher in the order they
   * were sent. Mosquitto does. Aedes dispatches the packets of one socket read concurrently and
   * may deliver a reconnecting subscriber's queued messages after newer ones, so under load it
   * can reorder: lane order is asserted against Mosquitto, and with Aedes only reported.
   */
  keepsOrder: boolean;
}

export async function startAedes(): Promise<TestBroker> {
  const b = await startEmbeddedBroker({ port: 0 });
  return {
    kind: 'aedes',
    url: b.url,
    port: b.port,
    stop: b.stop,
    start: b.start,
    close: b.close,
    keepsOrder: false,
  };
}

export function mosquittoBinary(): string | undefined {
  return findOnPath('mosquitto');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface MosquittoOptions {
  /** Adds a WebSocket listener (`wsUrl`); with `tls`, a secure one (wss://). */
  websockets?: boolean;
  /** Certificate and key for the WebSocket listener. */
  tls?: { cert: string; key: string };
  /** Only users of this mosquitto_passwd file may connect. */
  passwordFile?: string;
  /** The TCP listener's port; default a free one. */
  port?: number;
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const bin = mosquittoBinary();
  if (!bin) throw new Error(missingReason('mosquitto'));
  const dir = mkdtempSync(join(tmpdir(), 'lantian-mosquitto-'));
  const port = options.port ?? (await freePort());
  const wsPort = options.websockets ? await freePort() : undefined;
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      // Mosquitto 2.0.11 will not run with a WebSocket listener alone, so the TCP one stays.
      `listener ${port} 127.0.0.1`,
      ...(wsPort === undefined
        ? []
        : [
            `listener ${wsPort} 127.0.0.1`,
            'protocol websockets',
            ...(options.tls ? [`certfile ${options.tls.cert}`, `keyfile ${options.tls.key}`] : []),
          ]),
      ...(options.passwordFile
        ? ['allow_anonymous false', `password_file ${options.passwordFile}`]
        : ['allow_anonymous true']),
      'persistence true',
      `persistence_location ${dir}/`,
      'max_queued_messages 1000000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type information', // the 'running' line, which says the listener is up
      // As root, mosquitto would switch to its own user and could not write its database here.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
    ].join('\n') + '\n',
  );
  let child: ChildProcess | undefined;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const p = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = p;
      let log = '';
      // Never leave a broker behind: one that does not come up in time is killed.
      const timer = setTimeout(() => {
        p.kill('SIGKILL');
        reject(new Error(`mosquitto did not start within 10 s: ${log}`));
      }, 10_000);
      const onData = (d: Buffer) => {
        log += d.toString();
        if (!/ running/.test(log)) return;
        clearTimeout(timer);
        p.stderr.off('data', onData);
        p.stderr.resume(); // keep draining, stop collecting
        resolve();
      };
      p.stderr.on('data', onData);
      p.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`mosquitto exited (${code}) before it ran: ${log}`));
      });
    });
  const stop = async () => {
    const p = child;
    child = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGTERM'); // mosquitto saves its sessions on SIGTERM
    await exited;
  };
  try {
    await start();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    kind: 'mosquitto',
    keepsOrder: true,
    url: `mqtt://127.0.0.1:${port}`,
    port,
    ...(wsPort === undefined ? {} : { wsUrl: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${wsPort}` }),
    stop,
    start,
    reload() {
      // SIGHUP: mosquitto reads its password file again.
      child?.kill('SIGHUP');
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface MosquittoBroker extends TestBroker {
  /** The WebSocket listener's URL, when asked for. */
  wsUrl?: string;
  /** Makes the running broker read its configuration files again (SIGHUP). */
  reload(): void;
}

export interface BrokerKind {
  kind: TestBroker['kind'];
  /** Why the suite is skipped, or undefined when it runs. */
  skip: string | undefined;
  start(): Promise<TestBroker>;
}

/** The brokers every MQTT suite runs against. */
/**
 * Both brokers, or only those LANTIAN_TEST_BROKERS names (comma-separated, e.g. `aedes`): the
 * mutation run (bench/mutation) tries each mutant against the embedded broker only.
 */
export function brokerKinds(): BrokerKind[] {
  const only = process.env.LANTIAN_TEST_BROKERS?.split(',').filter(Boolean);
  const missing = missingReason('mosquitto');
  if (missing && strict() && only?.includes('mosquitto') !== false)
    throw new Error(`${STRICT_ENV} is set: ${missing}`);
  const kinds: BrokerKind[] = [
    { kind: 'aedes', skip: undefined, start: startAedes },
    { kind: 'mosquitto', skip: missing, start: () => startMosquitto() },
  ];
  return only ? kinds.filter((k) => only.includes(k.kind)) : kinds;
}

/** Suite title that says why it is skipped. */
export function brokerTitle(b: BrokerKind): string {
  return b.skip ? `${b.kind} (skipped: ${b.skip})` : b.kind;
}
