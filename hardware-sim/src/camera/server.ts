/**
 * A simulated IP camera over real HTTP: a snapshot behind digest authentication on the path of
 * its style (Hikvision ISAPI `/ISAPI/Streaming/channels/101/picture`, Dahua CGI
 * `/cgi-bin/snapshot.cgi?channel=1`), an ONVIF endpoint that hands out that path
 * (GetSnapshotUri), and faults a real site shows: a changed password, a camera that accepts the
 * connection and never answers, server errors, and a picture that trickles out a few bytes at a time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { LantianError } from '../../../gateway/src/core/index.js';
import { DigestGuard, type DigestAlgorithm } from './digest.js';
import { FrameSource, type FrameOptions } from './frames.js';
import { answerOnvif, UsernameTokenGuard } from './onvif.js';

export const CAMERA_STYLES = ['hikvision', 'dahua'] as const;
export type CameraStyle = (typeof CAMERA_STYLES)[number];

export const CAMERA_FAULTS = ['none', 'wrong-password', 'timeout', 'server-error', 'trickle'] as const;
export type CameraFault = (typeof CAMERA_FAULTS)[number];

export interface SimCameraOptions {
  id: string;
  style: CameraStyle;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  username: string;
  password: string;
  algorithm?: DigestAlgorithm;
  /** Serve ONVIF on /onvif/*; default true. */
  onvif?: boolean;
  frames?: Partial<FrameOptions>;
  /** trickle: bytes per write and ms between writes. Default 16 bytes every 200 ms. */
  trickle?: { bytes: number; everyMs: number };
  fault?: CameraFault;
  now?: () => number;
}

export interface ServedSnapshot {
  frame: number;
  jpeg: Buffer;
  at: number;
  path: string;
}

export interface SimCameraStats {
  requests: number;
  snapshots: number;
  authFailures: number;
  onvifRequests: number;
  faulted: number;
}

/** Where each style keeps its picture for channel 1 (Hikvision: channel 1, main stream = 101). */
export function snapshotPath(style: CameraStyle): string {
  return style === 'hikvision' ? '/ISAPI/Streaming/channels/101/picture' : '/cgi-bin/snapshot.cgi?channel=1';
}

const REALM: Record<CameraStyle, string> = {
  // Real cameras put model or serial text with spaces and brackets in the realm.
  hikvision: 'IP Camera(C6596)',
  dahua: 'Login to 5J0A1B2PAZ',
};

export class SimCamera {
  readonly frames: FrameSource;
  readonly served: ServedSnapshot[] = [];
  private fault: CameraFault;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly digest: DigestGuard;
  private readonly token: UsernameTokenGuard;
  private readonly counts: SimCameraStats = {
    requests: 0,
    snapshots: 0,
    authFailures: 0,
    onvifRequests: 0,
    faulted: 0,
  };
  private readonly now: () => number;
  private port = 0;

  constructor(readonly options: SimCameraOptions) {
    this.now = options.now ?? Date.now;
    this.fault = options.fault ?? 'none';
    this.frames = new FrameSource(this.now, options.frames ?? {});
    // wrong-password: the camera's password was changed behind the gateway's back.
    const credentials = () => ({
      username: options.username,
      password: this.fault === 'wrong-password' ? `${options.password}-changed` : options.password,
    });
    this.digest = new DigestGuard(REALM[options.style], credentials, this.now, options.algorithm ?? 'MD5');
    this.token = new UsernameTokenGuard(credentials, this.now);
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get id(): string {
    return this.options.id;
  }

  /** http://host:port of the camera. */
  get url(): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }

  get snapshotUrl(): string {
    return this.url + snapshotPath(this.options.style);
  }

  setFault(fault: CameraFault): void {
    this.fault = fault;
  }

  get currentFault(): CameraFault {
    return this.fault;
  }

  stats(): SimCameraStats {
    return { ...this.counts };
  }

  async listen(): Promise<string> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (e) =>
        reject(
          new LantianError(
            'SIM_LISTEN_FAILED',
            `camera ${this.id} cannot listen on ${host}:${this.options.port ?? 0}`,
            {
              cause: e,
              context: { camera: this.id, host, port: this.options.port ?? 0 },
            },
          ),
        ),
      );
      this.server.listen(this.options.port ?? 0, host, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.url;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.counts.requests++;
    const uri = req.url ?? '/';
    if (this.fault === 'timeout') {
      // The connection stays open and nothing comes back, as from a hung camera.
      this.counts.faulted++;
      return;
    }
    if (this.fault === 'server-error') {
      this.counts.faulted++;
      res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
      return;
    }
    if (this.options.onvif !== false && uri.startsWith('/onvif/')) {
      this.onvif(req, res);
      return;
    }
    if (req.method !== 'GET' || uri !== snapshotPath(this.options.style)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    const verdict = this.digest.check('GET', uri, req.headers.authorization);
    if (verdict !== 'ok') {
      if (verdict === 'wrong') this.counts.authFailures++;
      res
        .writeHead(401, {
          'www-authenticate': this.digest.challenge(verdict === 'stale'),
          'content-type': 'text/plain',
        })
        .end('Unauthorized');
      return;
    }
    const { n, jpeg } = this.frames.current();
    this.counts.snapshots++;
    this.served.push({ frame: n, jpeg, at: this.now(), path: uri });
    if (this.served.length > 50) this.served.shift();
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length });
    if (this.fault === 'trickle') {
      this.counts.faulted++;
      this.trickle(res, jpeg);
      return;
    }
    res.end(jpeg);
  }

  /** Sends `jpeg` a few bytes at a time, as a camera on a failing link does. */
  private trickle(res: ServerResponse, jpeg: Buffer): void {
    const { bytes, everyMs } = this.options.trickle ?? { bytes: 16, everyMs: 200 };
    let at = 0;
    const next = () => {
      if (res.destroyed) return;
      const end = Math.min(jpeg.length, at + bytes);
      res.write(jpeg.subarray(at, end));
      at = end;
      if (at >= jpeg.length) res.end();
      else setTimeout(next, everyMs);
    };
    next();
  }

  private onvif(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.counts.onvifRequests++;
      const xml = Buffer.concat(chunks).toString('utf8');
      const answer = answerOnvif(xml, this.token, this.url, snapshotPath(this.options.style));
      if (answer.body.includes('ter:NotAuthorized')) this.counts.authFailures++;
      res
        .writeHead(answer.status, { 'content-type': 'application/soap+xml; charset=utf-8' })
        .end(answer.body);
    });
  }
}

export async function startCamera(options: SimCameraOptions): Promise<SimCamera> {
  const camera = new SimCamera(options);
  await camera.listen();
  return camera;
}
