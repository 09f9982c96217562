/**
 * The control interface over HTTP on loopback, JSON in and out:
 *
 *   GET    /                              buses, devices and active faults
 *   GET    /stats                         statistics of every bus
 *   GET    /stats/:bus                    statistics of one bus
 *   POST   /stats/reset                   reset counters ({"bus": name} for one bus)
 *   GET    /served                        per device: requests answered, point values served
 *   GET    /faults                        active faults
 *   POST   /faults                        inject a fault (body: a fault spec) -> 201 with its id
 *   DELETE /faults                        clear every fault
 *   DELETE /faults/:id                    clear one fault
 *   PUT    /devices/:id/points/:point     {"value": 12.5} holds a value, {"value": null} releases it
 *   PUT    /devices/:id/states/:state     force calibration|maintenance|fault|stopped ({"durationMs": n})
 *   DELETE /devices/:id/states/:state     end a forced state
 *   POST   /devices/:id/power-cycle       {"offMs": n}
 *
 * Errors answer 400 (404 for an unknown route) with {code, message, context}.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { LantianError, type Logger } from '../../../gateway/src/core/index.js';
import type { SimControl } from './control.js';

export interface ControlServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > MAX_BODY) throw new LantianError('SIM_CONTROL_INVALID', 'request body too large');
  }
  if (text.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch (cause) {
    throw new LantianError('SIM_CONTROL_INVALID', 'request body is not JSON', { cause });
  }
  throw new LantianError('SIM_CONTROL_INVALID', 'request body must be a JSON object');
}

type Handler = (params: string[], body: Record<string, unknown>) => unknown;

function routes(c: SimControl): [string, RegExp, Handler, number?][] {
  const num = (v: unknown, name: string): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number') throw new LantianError('SIM_CONTROL_INVALID', `${name} must be a number`);
    return v;
  };
  return [
    ['GET', /^\/$/, () => ({ buses: c.buses(), devices: c.devices(), faults: c.faults() })],
    ['GET', /^\/stats$/, () => c.allStats()],
    ['GET', /^\/served$/, () => c.served()],
    ['GET', /^\/stats\/([^/]+)$/, ([bus]) => c.stats(bus!)],
    [
      'POST',
      /^\/stats\/reset$/,
      (_, b) => {
        c.resetStats(typeof b.bus === 'string' ? b.bus : undefined);
        return { ok: true };
      },
    ],
    ['GET', /^\/faults$/, () => c.faults()],
    ['POST', /^\/faults$/, (_, b) => c.inject(b), 201],
    ['DELETE', /^\/faults$/, () => ({ cleared: c.clear() })],
    ['DELETE', /^\/faults\/([^/]+)$/, ([id]) => ({ cleared: c.clear(id) })],
    [
      'PUT',
      /^\/devices\/([^/]+)\/points\/([^/]+)$/,
      ([id, point], b) => {
        const v = b.value;
        if (v !== null && typeof v !== 'number' && typeof v !== 'string')
          throw new LantianError('SIM_CONTROL_INVALID', 'value must be a number, a string or null');
        c.setPoint(id!, point!, v);
        return { ok: true };
      },
    ],
    [
      'PUT',
      /^\/devices\/([^/]+)\/states\/([^/]+)$/,
      ([id, state], b) => {
        c.setState(id!, state!, true, num(b.durationMs, 'durationMs'));
        return { ok: true };
      },
    ],
    [
      'DELETE',
      /^\/devices\/([^/]+)\/states\/([^/]+)$/,
      ([id, state]) => {
        c.setState(id!, state!, false);
        return { ok: true };
      },
    ],
    ['POST', /^\/devices\/([^/]+)\/power-cycle$/, ([id], b) => c.powerCycle(id!, num(b.offMs, 'offMs'))],
  ];
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (v === Infinity ? null : v));
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

export async function startControlServer(
  control: SimControl,
  port: number,
  log: Logger,
): Promise<ControlServer> {
  const table = routes(control);
  const server = createServer((req, res) => {
    void (async () => {
      const path = decodeURI((req.url ?? '/').split('?')[0] ?? '/');
      const route = table.find(([m, re]) => m === req.method && re.test(path));
      if (!route) {
        return send(res, 404, { code: 'SIM_CONTROL_INVALID', message: `no route ${req.method} ${path}` });
      }
      const [, re, handler, status] = route;
      try {
        const params = (re.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
        const body = await readJson(req);
        send(res, status ?? 200, handler(params, body) ?? { ok: true });
      } catch (e) {
        if (!(e instanceof LantianError)) {
          log.error({ err: e }, 'control request failed');
          return send(res, 500, { code: 'SIM_CONTROL_INVALID', message: 'internal error' });
        }
        send(res, 400, e.toJSON());
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) =>
      reject(
        new LantianError('SIM_LISTEN_FAILED', `control interface: cannot listen on 127.0.0.1:${port}`, {
          cause,
        }),
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
