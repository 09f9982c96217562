/**
 * An HJ 212 platform (the authority's monitoring centre) for tests and the demo. The gateway
 * connects to it over TCP as a field unit would. It checks every frame (length, CRC, PW, MN),
 * answers uploads with 9014 when their A bit asks, notifications and heartbeats with 9013,
 * sends requests (time, intervals, history, start/stop) and waits for their 9011/9012, and
 * keeps a transcript: `F> ` frames from the gateway, `P> ` frames from the platform, each
 * with its CRLF written as the four characters `\r\n`.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createServer, type Server, type Socket } from 'node:net';
import { simFrame, simParse, SimWireError, type SimCrc, type SimPacket } from './wire.js';

export interface PlatformOptions {
  /** TCP port; 0 (default) picks a free one, kept across down()/up(). */
  port?: number;
  host?: string;
  edition?: 2017 | 2025;
  /** The MN and PW the platform expects; packets with others are recorded as refused. */
  mn: string;
  password: string;
  crc?: SimCrc;
  /** SM4 key (16 bytes) for 2025 data areas. */
  sm4Key?: Buffer;
  /** Transcript file, rewritten at start. */
  transcript?: string;
  /** Answer uploads that ask for it with 9014 (default true); false simulates a silent platform. */
  answerUploads?: boolean;
  /** Requests sent on a schedule after each connection: `afterMs` from the connect, then every `everyMs`. */
  schedule?: { afterMs: number; everyMs?: number; cn: string; cp?: string }[];
  /** MN the platform assigns with 1002 when a field unit registers with 1001 (2025). */
  assignMn?: string;
  /** Key the platform hands out with 1014 when a field unit asks for one (2025). */
  issueKey?: string;
}

export interface RequestResult {
  qn: string;
  qnRtn?: number;
  exeRtn?: number;
  /** Packets of the request's CN the gateway sent before its 9012 (time, intervals, history). */
  data: SimPacket[];
}

interface Waiter {
  qn: string;
  cn: string;
  result: RequestResult;
  done: (r: RequestResult) => void;
  fail: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class Hj212Platform {
  readonly received: SimPacket[] = [];
  readonly refused: { raw: string; reason: string }[] = [];
  readonly transcript: string[] = [];
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  private waiters: Waiter[] = [];
  private listeners = new Set<() => void>();
  private timers = new Set<NodeJS.Timeout>();
  private lastQn = 0;
  private boundPort = 0;
  private formerMn: string | undefined;
  private newPassword: string | undefined;
  private answering: boolean;
  readonly edition: 2017 | 2025;
  readonly crc: SimCrc;
  key: Buffer | undefined;
  connections = 0;

  constructor(private readonly o: PlatformOptions) {
    this.edition = o.edition ?? 2017;
    this.crc = o.crc ?? 'hj212';
    this.key = o.sm4Key;
    this.answering = o.answerUploads ?? true;
    if (o.transcript) {
      mkdirSync(dirname(o.transcript), { recursive: true });
      writeFileSync(o.transcript, '');
    }
  }

  get port(): number {
    return this.boundPort;
  }

  get connected(): boolean {
    return this.sockets.size > 0;
  }

  /** Listens (again, on the same port after down()). */
  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort || this.o.port || 0, this.o.host ?? '127.0.0.1', () => resolve());
    });
    this.server = server;
    const a = server.address();
    if (a && typeof a === 'object') this.boundPort = a.port;
  }

  /** An outage: stops listening and drops every connection. */
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async stop(): Promise<void> {
    await this.down();
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.fail(new Error('platform stopped'));
    }
    this.waiters = [];
  }

  /** Whether uploads get their 9014 (false: the gateway must resend). */
  setAnswering(on: boolean): void {
    this.answering = on;
  }

  /** Resolves when a received packet matches (also one received before the call). */
  waitFor(match: (p: SimPacket) => boolean, timeoutMs = 15_000, from = 0): Promise<SimPacket> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const p = this.received.slice(from).find(match);
        if (!p) return false;
        this.listeners.delete(listener);
        clearTimeout(timer);
        resolve(p);
        return true;
      };
      const listener = () => void check();
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`no matching packet from the gateway within ${timeoutMs} ms`));
      }, timeoutMs);
      this.listeners.add(listener);
      check();
    });
  }

  /** Sends a request (A bit set) and resolves with its 9011/9012 and the data sent in between. */
  request(cn: string, cp = '', timeoutMs = 15_000): Promise<RequestResult> {
    const qn = this.nextQn();
    if (cn === '1072') this.newPassword = /NewPW=([^;,&]*)/.exec(cp)?.[1];
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        qn,
        cn,
        result: { qn, data: [] },
        done: resolve,
        fail: reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new Error(`request ${cn} (QN ${qn}) got no 9012 within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(w);
      this.send({ qn, st: this.st(), cn, flag: this.flag(true) }, cp);
    });
  }

  /** Sends a notification (2012 stop real-time, 2022) that the gateway answers with 9013. */
  notify(cn: string, cp = ''): string {
    const qn = this.nextQn();
    this.send({ qn, st: this.st(), cn, flag: this.flag(false) }, cp);
    return qn;
  }

  private st(): string {
    return this.received.at(-1)?.st || '31';
  }

  private flag(answer: boolean): number {
    return (this.edition === 2025 ? 8 : 4) | (answer ? 1 : 0);
  }

  private nextQn(): string {
    this.lastQn = Math.max(Date.now(), this.lastQn + 1);
    const d = new Date(this.lastQn + 8 * 3_600_000);
    return d
      .toISOString()
      .replace(/[-:TZ.]/g, '')
      .slice(0, 17);
  }

  private write(line: string): void {
    this.transcript.push(line);
    if (this.o.transcript) appendFileSync(this.o.transcript, `${line}\n`);
  }

  private send(h: { qn: string; st: string; cn: string; flag: number }, cp: string, seal = false): void {
    const frame = simFrame(
      { ...h, pw: this.o.password, mn: this.o.mn },
      cp,
      this.crc,
      seal ? this.key : undefined,
    );
    this.write(`P> ${frame.replace('\r\n', '\\r\\n')}`);
    for (const s of this.sockets) s.write(frame);
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    this.connections++;
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const end = buffer.indexOf('\r\n');
        if (end < 0) break;
        const line = buffer.slice(0, end + 2);
        buffer = buffer.slice(end + 2);
        this.frame(line);
      }
    });
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => this.sockets.delete(socket));
    for (const s of this.o.schedule ?? []) {
      const fire = () => {
        if (!this.sockets.has(socket)) return;
        this.request(s.cn, s.cp ?? '').catch(() => undefined);
        if (s.everyMs) this.later(fire, s.everyMs);
      };
      this.later(fire, s.afterMs);
    }
  }

  private later(f: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      f();
    }, ms);
    this.timers.add(t);
  }

  private frame(raw: string): void {
    this.write(`F> ${raw.replace('\r\n', '\\r\\n')}`);
    let p: SimPacket;
    try {
      p = simParse(raw, this.crc, this.key);
    } catch (e) {
      // HJ 212 Table 2: a packet with a bad CRC ends there; the platform answers nothing.
      this.refused.push({ raw, reason: e instanceof SimWireError ? e.reason : String(e) });
      return;
    }
    if (p.mn !== this.o.mn && p.mn !== this.formerMn && p.cn !== '1001') {
      this.refused.push({ raw, reason: 'mn' });
      return;
    }
    if (p.pw === this.newPassword) {
      // The field unit took the password this platform set with 1072.
      this.o.password = p.pw;
      this.newPassword = undefined;
    }
    if (p.pw !== this.o.password) {
      this.refused.push({ raw, reason: 'pw' });
      return;
    }
    this.received.push(p);
    this.route(p);
    for (const l of [...this.listeners]) l();
  }

  private route(p: SimPacket): void {
    const answer = (cn: string) => this.send({ qn: p.qn, st: '91', cn, flag: this.flag(false) }, '');
    const w = this.waiters.find((x) => x.qn === p.qn && (p.cn === '9011' || p.cn === '9012'));
    if (p.cn === '9011' && w) {
      w.result.qnRtn = Number(p.fields.get('QnRtn'));
      if (w.result.qnRtn !== 1) this.finish(w);
      return;
    }
    if (p.cn === '9012' && w) {
      w.result.exeRtn = Number(p.fields.get('ExeRtn'));
      this.finish(w);
      return;
    }
    for (const x of this.waiters) if (x.cn === p.cn) x.result.data.push(p);
    if (p.cn === '9015' || p.cn === '1013') {
      if (p.flag & 1) answer('9013');
      return;
    }
    if (p.cn === '1001') {
      answer('9013');
      if (this.o.assignMn) {
        this.formerMn = p.mn;
        this.o.mn = this.o.assignMn;
        const id = p.fields.get('i23005-Info') ?? '';
        this.later(() => void this.request('1002', `i23005-Info=${id}`).catch(() => undefined), 10);
      }
      return;
    }
    if (p.cn === '1014' && p.fields.has('SKCreateTime')) {
      answer('9013');
      if (this.o.issueKey) {
        const next = this.o.issueKey;
        const cp = `SKCreateTime=${this.nextQn()},NewSK=${next}`;
        this.later(() => {
          const qn = this.nextQn();
          const w2 = this.request1014(qn, cp);
          void w2.then(() => (this.key = Buffer.from(next, 'latin1'))).catch(() => undefined);
        }, 10);
      }
      return;
    }
    if (p.cn >= '2000' && p.cn <= '2999' && p.flag & 1 && this.answering) answer('9014');
  }

  private request1014(qn: string, cp: string): Promise<RequestResult> {
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        qn,
        cn: '1014',
        result: { qn, data: [] },
        done: resolve,
        fail: reject,
        timer: setTimeout(() => reject(new Error('1014 unanswered')), 15_000),
      };
      this.waiters.push(w);
      // 1014 is on the must-encrypt list: it travels under the current key.
      this.send({ qn, st: this.st(), cn: '1014', flag: this.flag(true) }, cp, true);
    });
  }

  private finish(w: Waiter): void {
    clearTimeout(w.timer);
    this.waiters = this.waiters.filter((x) => x !== w);
    w.done(w.result);
  }
}

export async function startHj212Platform(o: PlatformOptions): Promise<Hj212Platform> {
  const p = new Hj212Platform(o);
  await p.up();
  return p;
}
