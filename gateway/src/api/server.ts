/**
 * The local web page's HTTP server (fastify): the page, its script and style, the state as JSON
 * and a server-sent event stream that pushes new values, events and status without reloading.
 * Read-only: only GET routes exist. See docs/web.md.
 */
import { createRequire } from 'node:module';
import type { fastify as createFastify, FastifyInstance, FastifyReply } from 'fastify';
import { LantianError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { checkRequest } from './auth.js';
import type { LiveView, LogFollower } from './live.js';
import { PAGE_HTML, PAGE_SCRIPT, PAGE_STYLE } from './page.js';

export interface WebServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Basic password or bearer token; undefined only on a loopback address (the config checks). */
  password?: string;
  /** Delay between a log commit and the push that carries it, ms; commits in between share it. Default 250. */
  pushDelayMs?: number;
  /** Period of status pushes while a page is open, ms. Default 2000. */
  statusMs?: number;
  /** A camera's newest picture from the log, for GET /api/cameras/<id>/latest.jpg. */
  snapshot?: (camera: string) => { seq: number; contentType: string; bytes: Uint8Array } | undefined;
  logger?: Logger;
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * fastify and its dependencies (some 1 MB of heap and a few MB resident) load with the first
 * web server, so a gateway without a `web` section never carries them (docs/footprint.md).
 */
function fastify(): typeof createFastify {
  return (createRequire(import.meta.url)('fastify') as { fastify: typeof createFastify }).fastify;
}

export class WebServer {
  private readonly app: FastifyInstance;
  private readonly clients = new Set<FastifyReply>();
  private pushTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly logger: Logger;

  constructor(
    private readonly view: LiveView,
    private readonly log: LogFollower,
    private readonly options: WebServerOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.app = fastify()({ logger: false, forceCloseConnections: true });
    this.app.addHook('onRequest', async (req, reply) => {
      void reply.headers(SECURITY_HEADERS);
      const result = checkRequest(options.password, req.headers.authorization, req.ip);
      if (result === 'ok') return;
      this.logger.warn({ ip: req.ip, url: req.url, result }, 'request refused');
      if (result === 'remote') return reply.code(403).send({ error: 'only this machine may connect' });
      return reply
        .code(401)
        .header('www-authenticate', 'Basic realm="lantian", charset="UTF-8"')
        .send({ error: result === 'missing' ? 'credentials needed' : 'wrong credentials' });
    });
    const text = (type: string, body: string) => (_: unknown, reply: FastifyReply) =>
      reply.type(type).send(body);
    this.app.get('/', text('text/html; charset=utf-8', PAGE_HTML));
    this.app.get('/app.js', text('text/javascript; charset=utf-8', PAGE_SCRIPT));
    this.app.get('/app.css', text('text/css; charset=utf-8', PAGE_STYLE));
    this.app.get('/api/state', () => this.view.snapshot());
    this.app.get<{ Params: { camera: string } }>('/api/cameras/:camera/latest.jpg', (req, reply) => {
      const blob = options.snapshot?.(req.params.camera);
      if (!blob) return reply.code(404).send({ error: `no picture from camera ${req.params.camera}` });
      return reply
        .type(blob.contentType)
        .header('x-lantian-seq', String(blob.seq))
        .send(Buffer.from(blob.bytes));
    });
    this.app.get('/api/stream', (req, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'text/event-stream; charset=utf-8',
        connection: 'keep-alive',
      });
      this.clients.add(reply);
      send(reply, 'snapshot', this.view.snapshot());
      req.raw.on('close', () => this.clients.delete(reply));
      this.armStatus();
    });
  }

  /** Starts listening and following the log; resolves with the page's URL. */
  async listen(): Promise<string> {
    this.unsubscribe = this.log.onAppend(() => this.schedulePush());
    const { host, port } = this.options;
    let address: string;
    try {
      address = await this.app.listen({ host, port });
    } catch (e) {
      this.unsubscribe();
      throw new LantianError('API_LISTEN_FAILED', `the web page cannot listen on ${host}:${port}`, {
        cause: e,
        context: { host, port },
      });
    }
    this.logger.info({ url: address }, 'web page listening');
    return address;
  }

  get url(): string {
    const a = this.app.server.address();
    if (a === null || typeof a === 'string') return String(a);
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    clearTimeout(this.pushTimer);
    clearTimeout(this.statusTimer);
    for (const c of this.clients) c.raw.end();
    this.clients.clear();
    await this.app.close();
  }

  private schedulePush(): void {
    if (this.pushTimer) return;
    this.pushTimer = setTimeout(() => {
      this.pushTimer = undefined;
      const delta = this.view.catchUp();
      if (this.clients.size === 0) return;
      if (Object.keys(delta.latest).length > 0 || delta.events.length > 0) this.broadcast('delta', delta);
    }, this.options.pushDelayMs ?? 250);
  }

  /** Status goes out on a timer re-armed after each push, and only while a page is open. */
  private armStatus(): void {
    if (this.statusTimer || this.clients.size === 0) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      if (this.clients.size === 0) return;
      this.broadcast('status', this.view.status());
      this.armStatus();
    }, this.options.statusMs ?? 2000);
  }

  private broadcast(event: string, data: unknown): void {
    for (const c of this.clients) send(c, event, data);
  }
}

function send(reply: FastifyReply, event: string, data: unknown): void {
  reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
