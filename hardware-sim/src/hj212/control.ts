/**
 * `lantian-sim hj212` (or `lantian-sim run SCENARIO --hj212 PORT`, beside the scenario's devices):
 * an HJ 212 platform on a TCP port with a small HTTP control interface on loopback (JSON in and out):
 *
 *   GET  /            connected, counts of received and refused frames, the last 20 transcript lines
 *   POST /request     {"cn": "2051", "cp": "BeginTime=…;EndTime=…"} -> {qn, qnRtn, exeRtn, data}
 *   POST /notify      {"cn": "2012"}                                -> {qn}
 *   POST /down        an outage: stop listening, drop connections
 *   POST /up          listen again on the same port
 *   POST /answering   {"on": false} withholds 9014 answers
 */
import { createServer } from 'node:http';
import { Option, type Command } from 'commander';
import { startHj212Platform, type Hj212Platform, type PlatformOptions } from './platform.js';
import type { SimCrc } from './wire.js';

async function body(req: AsyncIterable<unknown>): Promise<Record<string, unknown>> {
  let text = '';
  for await (const c of req) text += String(c);
  return text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

export async function serveControl(p: Hj212Platform, port: number): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const b = await body(req);
        const str = (k: string) => (typeof b[k] === 'string' ? b[k] : '');
        let out: unknown;
        const route = `${req.method} ${req.url}`;
        if (route === 'GET /')
          out = {
            connected: p.connected,
            received: p.received.length,
            refused: p.refused,
            transcript: p.transcript.slice(-20),
          };
        else if (route === 'POST /request') {
          const r = await p.request(str('cn'), str('cp'));
          out = { ...r, data: r.data.map((d) => d.raw) };
        } else if (route === 'POST /notify') out = { qn: p.notify(str('cn'), str('cp')) };
        else if (route === 'POST /down') out = await p.down().then(() => ({ up: false }));
        else if (route === 'POST /up') out = await p.up().then(() => ({ up: true }));
        else if (route === 'POST /answering') {
          p.setAnswering(b.on !== false);
          out = { answering: b.on !== false };
        } else {
          res.writeHead(404).end(JSON.stringify({ message: `no route ${route}` }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
      } catch (e) {
        res.writeHead(400).end(JSON.stringify({ message: (e as Error).message }));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const a = server.address();
  const url = `http://127.0.0.1:${a && typeof a === 'object' ? a.port : port}/`;
  return { url, close: () => server.close() };
}

const num = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a port or count: ${v}`);
  return n;
};

/** The platform's settings as the command line gives them (strings as typed). */
export interface PlatformCliOptions {
  port: number;
  edition: string;
  mn: string;
  password: string;
  crc: string;
  sm4Key?: string;
  transcript?: string;
  schedule?: string;
  controlPort: number;
}

/** Starts the platform and its control interface, prints where they listen; returns a stop. */
export async function startPlatformFromCli(o: PlatformCliOptions, prefix = ''): Promise<() => Promise<void>> {
  const options: PlatformOptions = {
    port: o.port,
    edition: o.edition === '2025' ? 2025 : 2017,
    mn: o.mn,
    password: o.password,
    crc: o.crc as SimCrc,
    ...(o.sm4Key ? { sm4Key: Buffer.from(o.sm4Key, 'latin1') } : {}),
    ...(o.transcript ? { transcript: o.transcript } : {}),
    ...(o.schedule ? { schedule: JSON.parse(o.schedule) as PlatformOptions['schedule'] } : {}),
  };
  const p = await startHj212Platform(options);
  const control = await serveControl(p, o.controlPort);
  process.stdout.write(`hj212 listening on ${p.port}\n${prefix}control listening on ${control.url}\n`);
  return () => {
    control.close();
    return p.stop();
  };
}

const EDITIONS = ['2017', '2025'];
const CRCS = ['hj212', 'modbus', 'modbus-swapped'];

/** Adds `lantian-sim hj212 --port PORT …` to the simulator's command line. */
export function registerHj212Platform(program: Command): void {
  program
    .command('hj212')
    .description('an HJ 212 platform the gateway uploads to; prints "hj212 listening on <port>"')
    .requiredOption('--port <port>', 'TCP port (0: any free port)', num)
    .addOption(new Option('--edition <year>', 'HJ 212 edition').choices(EDITIONS).default('2017'))
    .requiredOption('--mn <mn>', 'MN the platform expects')
    .requiredOption('--password <pw>', 'PW the platform expects')
    .addOption(new Option('--crc <variant>', 'CRC the platform uses').choices(CRCS).default('hj212'))
    .option('--sm4-key <key>', 'SM4 key (16 characters) for 2025 data areas')
    .option('--transcript <file>', 'write F>/P> frames to this file')
    .option('--schedule <json>', 'requests on a schedule: [{"afterMs":…,"everyMs":…,"cn":…,"cp":…}]')
    .option('--control-port <port>', 'HTTP control interface on 127.0.0.1', num, 0)
    .action(async (o: PlatformCliOptions) => {
      const stop = await startPlatformFromCli(o);
      await new Promise<void>((resolve) => {
        const done = () => void stop().then(resolve, resolve);
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
    });
}

/** `lantian-sim run SCENARIO --hj212 PORT …`: the same platform beside the scenario's devices. */
export interface RunPlatformOptions {
  hj212?: number;
  hj212Edition: string;
  hj212Mn?: string;
  hj212Password?: string;
  hj212Crc: string;
  hj212Sm4Key?: string;
  hj212Transcript?: string;
  hj212Schedule?: string;
  hj212ControlPort: number;
}

export function addPlatformRunOptions(c: Command): Command {
  return c
    .option(
      '--hj212 <port>',
      'also play an HJ 212 platform on this TCP port (0: any free port); prints "hj212 listening on <port>"',
      num,
    )
    .addOption(new Option('--hj212-edition <year>', 'its HJ 212 edition').choices(EDITIONS).default('2017'))
    .option('--hj212-mn <mn>', 'MN the platform expects (needed with --hj212)')
    .option('--hj212-password <pw>', 'PW the platform expects (needed with --hj212)')
    .addOption(new Option('--hj212-crc <variant>', 'CRC the platform uses').choices(CRCS).default('hj212'))
    .option('--hj212-sm4-key <key>', 'SM4 key (16 characters) for 2025 data areas')
    .option('--hj212-transcript <file>', "write the platform's F>/P> frames to this file")
    .option(
      '--hj212-schedule <json>',
      'platform requests on a schedule: [{"afterMs":…,"everyMs":…,"cn":…,"cp":…}]',
    )
    .option(
      '--hj212-control-port <port>',
      'the platform\'s HTTP control interface on 127.0.0.1; prints "hj212 control listening on <url>"',
      num,
      0,
    );
}

/** The platform `run --hj212` asks for, or undefined; throws PlatformOptionError for a wrong mix. */
export function runPlatformOptions(o: RunPlatformOptions): PlatformCliOptions | undefined {
  if (o.hj212 === undefined) {
    // Platform settings without a platform are a mistake, not something to ignore.
    const stray = (
      ['hj212Mn', 'hj212Password', 'hj212Sm4Key', 'hj212Transcript', 'hj212Schedule'] as const
    ).find((k) => o[k] !== undefined);
    if (stray !== undefined)
      throw new PlatformOptionError(
        `--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --hj212 PORT`,
      );
    return undefined;
  }
  if (o.hj212Mn === undefined || o.hj212Password === undefined)
    throw new PlatformOptionError('--hj212 needs --hj212-mn and --hj212-password');
  return {
    port: o.hj212,
    edition: o.hj212Edition,
    mn: o.hj212Mn,
    password: o.hj212Password,
    crc: o.hj212Crc,
    ...(o.hj212Sm4Key === undefined ? {} : { sm4Key: o.hj212Sm4Key }),
    ...(o.hj212Transcript === undefined ? {} : { transcript: o.hj212Transcript }),
    ...(o.hj212Schedule === undefined ? {} : { schedule: o.hj212Schedule }),
    controlPort: o.hj212ControlPort,
  };
}

/** A command line that cannot start the platform (exit code 2). */
export class PlatformOptionError extends Error {}
