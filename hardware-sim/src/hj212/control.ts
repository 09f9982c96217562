/**
 * `lantian-sim hj212`: an HJ 212 platform on a TCP port with a small HTTP control interface on
 * loopback (JSON in and out):
 *
 *   GET  /            connected, counts of received and refused frames, the last 20 transcript lines
 *   POST /request     {"cn": "2051", "cp": "BeginTime=…;EndTime=…"} -> {qn, qnRtn, exeRtn, data}
 *   POST /notify      {"cn": "2012"}                                -> {qn}
 *   POST /down        an outage: stop listening, drop connections
 *   POST /up          listen again on the same port
 *   POST /answering   {"on": false} withholds 9014 answers
 */
import { createServer } from 'node:http';
import type { Command } from 'commander';
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

/** Adds `lantian-sim hj212 --port PORT …` to the simulator's command line. */
export function registerHj212Platform(program: Command): void {
  program
    .command('hj212')
    .description('an HJ 212 platform the gateway uploads to; prints "hj212 listening on <port>"')
    .requiredOption('--port <port>', 'TCP port (0: any free port)', num)
    .option('--edition <year>', '2017 or 2025', '2017')
    .requiredOption('--mn <mn>', 'MN the platform expects')
    .requiredOption('--password <pw>', 'PW the platform expects')
    .option('--crc <variant>', 'hj212, modbus or modbus-swapped', 'hj212')
    .option('--sm4-key <key>', 'SM4 key (16 characters) for 2025 data areas')
    .option('--transcript <file>', 'write F>/P> frames to this file')
    .option('--schedule <json>', 'requests on a schedule: [{"afterMs":…,"everyMs":…,"cn":…,"cp":…}]')
    .option('--control-port <port>', 'HTTP control interface on 127.0.0.1', num, 0)
    .action(
      async (o: {
        port: number;
        edition: string;
        mn: string;
        password: string;
        crc: string;
        sm4Key?: string;
        transcript?: string;
        schedule?: string;
        controlPort: number;
      }) => {
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
        process.stdout.write(`hj212 listening on ${p.port}\ncontrol listening on ${control.url}\n`);
        await new Promise<void>((resolve) => {
          const stop = () => {
            control.close();
            void p.stop().then(resolve, resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    );
}
