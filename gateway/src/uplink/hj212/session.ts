/**
 * One HJ 212 platform: a TCP connection the gateway opens (and reopens with backoff), uploads
 * from the log behind the platform's own cursor, and answers to the platform's requests.
 * An upload is done only when the platform answered it with 9014 (the A bit asks for that);
 * unanswered, it is sent again after OverTime, ReCount times, then the link counts as down and
 * the cursor stays where it was. Each platform has its own session, socket and cursor, so one
 * platform's outage holds back neither the other platforms nor MQTT.
 */
import { connect, type Socket } from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';
import { LantianError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { Cursor, Log } from '../../store/index.js';
import { Backlog } from './backlog.js';
import { buildFrame } from './build.js';
import type { CrcVariant } from './crc.js';
import type { FactorCodes } from './mapping.js';
import { cpOf, makeFlag, wantsAnswer, type CpItem, type Edition, type Packet } from './packet.js';
import { handleRequest, type RequestContext } from './requests.js';
import {
  PlatformState,
  type LastAnswer,
  type PlatformValues,
  type SessionHistory,
} from './platform-state.js';
import { sm4Key } from './sm4.js';
import { splitPacket } from './split.js';
import { FrameStream } from './stream.js';
import { QnSource } from './time.js';

export interface Hj212SessionOptions {
  /** Platform name from the config; the cursor is `hj212:<name>`. */
  name: string;
  host: string;
  port: number;
  edition: Edition;
  st: string;
  mn: string;
  password: string;
  crc: CrcVariant;
  timezone: string;
  devices: readonly string[];
  /** The outlet this platform receives, if it was configured by outlet. */
  outlet?: string;
  codes: FactorCodes;
  rtdIntervalS: number;
  minIntervalMin: number;
  send: { realtime: boolean; minute: boolean; hour: boolean; day: boolean };
  /** OverTime, ms. */
  timeoutMs: number;
  /** ReCount. */
  retries: number;
  /** 2025 heartbeat (9015) period when idle, ms. */
  heartbeatMs?: number;
  sm4Key?: Buffer;
  /** Largest clock correction a 1012 request may apply, ms (0 refuses all). Default 300 000. */
  maxTimeStepMs?: number;
  /**
   * HJ 212-2025 registration: on connecting, upload the DAU's hardware ids with 1001 (DAU id
   * i23005, CPU id i23006, MACs i23007/i23008); the platform may assign an MN with 1002.
   */
  registration?: { dauId: string; cpuId?: string; mac1?: string; mac2?: string };
  /** HJ 212-2025: ask the platform for a new SM4 key (1014) on connecting. */
  requestKey?: boolean;
  /**
   * File keeping what the platform set (MN, password, key, intervals) across restarts; absent:
   * those changes last until the process ends.
   */
  stateFile?: string;
  /** Reconnect backoff, ms: doubles from min to max. Defaults 1000 and 60 000. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Late readings are waited for this long after a real-time window ends, ms. Default 2000. */
  graceMs?: number;
}

export interface Hj212SessionDeps {
  clock?: Clock;
  logger?: Logger;
  /** Applies a clock correction (CN 1012); returns false when the system refuses it. */
  setClock?: (targetMs: number) => boolean;
}

export type Hj212State = 'connecting' | 'connected' | 'down' | 'stopped';

export interface Hj212Status {
  platform: string;
  state: Hj212State;
  /** Every log seq up to this one is delivered (or not for this platform). */
  cursor: number;
  /** Records behind the cursor not yet done. */
  backlog: number;
  /** The last packet the platform sent and what came of it; kept across restarts in the state file. */
  lastAnswer: LastAnswer | null;
  uploads: number;
  resends: number;
  lastError: string | null;
}

/** The configured values a platform may replace, as the state file compares them. */
export function configuredValues(o: Hj212SessionOptions): PlatformValues {
  return {
    mn: o.mn,
    password: o.password,
    sm4Key: o.sm4Key?.toString('hex') ?? '',
    timeoutMs: o.timeoutMs,
    retries: o.retries,
    rtdIntervalS: o.rtdIntervalS,
    minIntervalMin: o.minIntervalMin,
  };
}

export class Hj212Session {
  readonly cursor: Cursor;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly backlog: Backlog;
  private readonly qns: QnSource;
  private socket: Socket | undefined;
  private state: Hj212State = 'stopped';
  private running = false;
  private loop: Promise<void> | undefined;
  /** Every pending sleep, so that an answer, a wake-up or stop() can cancel it (no listener piles up). */
  private readonly sleeps = new Set<AbortController>();
  private stopped: () => void = () => undefined;
  private stopping: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  /** Packets waiting for their 9014 / 9013, by QN: the CN sent and what to call on the answer. */
  private readonly acks = new Map<string, { cn: string; answered: () => void }>();
  private requests: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private lastSend = 0;
  private linkClosed: Promise<void> = Promise.resolve();
  private counters = { uploads: 0, resends: 0 };
  private lastAnswer: LastAnswer | null = null;
  /** The last answer is written to the state file at most once a second (and when idle or stopping). */
  private answerSavedAt = -Infinity;
  private answerUnsaved = false;
  private lastError: string | null = null;
  /** Values the platform may change at run time (1000, 1062, 1064, 1072, 2011/2012, 1002, 1014). */
  readonly live: {
    password: string;
    mn: string;
    timeoutMs: number;
    retries: number;
    rtdIntervalS: number;
    minIntervalMin: number;
    realtimeOn: boolean;
    sm4Key: Buffer | undefined;
  };

  private readonly saved: PlatformState | undefined;

  /** Keeps what the platform set for the next start; a failure is logged, the change still holds. */
  remember(values: Partial<PlatformValues>): void {
    this.save(() => this.saved?.set(values));
  }

  private record(history: SessionHistory): void {
    this.save(() => this.saved?.record(history));
  }

  private save(write: () => void): void {
    try {
      write();
    } catch (e) {
      this.lastError = (e as LantianError).code;
      this.logger.error({ err: e }, 'cannot save the platform state: what changed lasts until a restart');
    }
  }

  private noteAnswer(answer: LastAnswer): void {
    this.lastAnswer = answer;
    this.answerUnsaved = true;
    if (this.clock.monotonic() - this.answerSavedAt >= 1000) this.saveAnswer();
  }

  private saveAnswer(): void {
    if (!this.answerUnsaved || this.lastAnswer === null) return;
    this.answerUnsaved = false;
    this.answerSavedAt = this.clock.monotonic();
    this.record({ lastAnswer: this.lastAnswer });
  }

  constructor(
    private readonly log: Log,
    readonly options: Hj212SessionOptions,
    private readonly deps: Hj212SessionDeps = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.logger = (deps.logger ?? silentLogger).child({ hj212: options.name });
    this.cursor = log.cursor(`hj212:${options.name}`);
    this.qns = new QnSource(options.timezone);
    this.live = {
      password: options.password,
      mn: options.mn,
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      rtdIntervalS: options.rtdIntervalS,
      minIntervalMin: options.minIntervalMin,
      realtimeOn: true,
      sm4Key: options.sm4Key,
    };
    if (options.stateFile !== undefined) {
      this.saved = new PlatformState(options.stateFile, configuredValues(options));
      const { sm4Key: key, ...rest } = this.saved.overrides();
      Object.assign(this.live, rest);
      if (key !== undefined) this.live.sm4Key = sm4Key(key);
      this.lastAnswer = this.saved.history.lastAnswer ?? null;
    }
    this.backlog = new Backlog(
      log,
      this.cursor,
      {
        devices: new Set(options.devices),
        ...(options.outlet === undefined ? {} : { outlet: options.outlet }),
        codes: options.codes,
        timezone: options.timezone,
        send: options.send,
        rtdMs: () => this.live.rtdIntervalS * 1000,
        realtimeOn: () => this.live.realtimeOn,
        graceMs: options.graceMs ?? 2000,
        lingerMs: 1000,
      },
      this.clock,
    );
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new Promise((resolve) => (this.stopped = resolve));
    this.unsubscribe = this.log.onAppend(() => this.wake?.());
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopped();
    for (const c of this.sleeps) c.abort();
    this.unsubscribe?.();
    this.wake?.();
    this.socket?.destroy();
    await this.loop;
    await this.requests;
    this.saveAnswer();
    this.state = 'stopped';
  }

  status(): Hj212Status {
    const head = this.log.lastSeq;
    return {
      platform: this.options.name,
      state: this.state,
      cursor: this.cursor.prefix,
      backlog: Math.max(0, head - this.cursor.prefix - this.cursor.doneAbovePrefix()),
      lastAnswer: this.lastAnswer,
      ...this.counters,
      lastError: this.lastError,
    };
  }

  private async run(): Promise<void> {
    const min = this.options.reconnectMinMs ?? 1000;
    const max = this.options.reconnectMaxMs ?? 60_000;
    let delay = min;
    while (this.running) {
      try {
        this.state = 'connecting';
        await this.open();
        this.state = 'connected';
        this.logger.info({ host: this.options.host, port: this.options.port }, 'connected');
        delay = min;
        await this.uploadLoop();
      } catch (e) {
        this.lastError = e instanceof Error ? e.message : String(e);
        if (this.running) this.logger.warn({ err: this.lastError }, 'platform link down');
      }
      this.socket?.destroy();
      this.socket = undefined;
      this.saveAnswer();
      if (!this.running) break;
      this.state = 'down';
      await this.sleep(delay);
      delay = Math.min(delay * 2, max);
    }
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: this.options.host, port: this.options.port });
      const frames = new FrameStream({
        crc: this.options.crc,
        ...(this.live.sm4Key ? { sm4Key: this.live.sm4Key } : {}),
      });
      const fail = (e: Error) => {
        s.destroy();
        reject(e);
      };
      s.once('error', fail);
      s.once('connect', () => {
        s.off('error', fail);
        s.on('error', (e) => (this.lastError = e.message));
        s.on('close', () => {
          if (this.socket === s) this.socket = undefined;
          this.wake?.();
        });
        this.socket = s;
        this.linkClosed = new Promise((done) => {
          s.once('close', () => done());
          void this.stopping.then(done);
        });
        resolve();
      });
      s.on('data', (chunk: Buffer) => {
        for (const item of frames.push(chunk)) {
          if (!item.ok) {
            this.logger.warn(
              { code: item.error.code, err: item.error.message },
              'bad frame from the platform',
            );
            continue;
          }
          this.logger.debug({ frame: item.raw }, 'received');
          this.received(item.parsed.packet);
        }
      });
    });
  }

  private received(p: Packet): void {
    const ts = this.clock.now();
    if (p.cn === '9014' || p.cn === '9013') {
      const waiting = this.acks.get(p.qn);
      this.noteAnswer({
        ts,
        cn: p.cn,
        qn: p.qn,
        result: waiting ? `answered ${waiting.cn}` : 'no packet waits for this QN',
      });
      waiting?.answered();
      return;
    }
    this.noteAnswer({ ts, cn: p.cn, qn: p.qn, result: 'request received' });
    this.requests = this.requests
      .then(async () => {
        const result = await handleRequest(this.context(), p);
        // What the gateway answered, unless the platform sent something else meanwhile.
        if (this.lastAnswer?.qn === p.qn && this.lastAnswer.cn === p.cn)
          this.noteAnswer({ ...this.lastAnswer, result });
      })
      .catch((e: unknown) => this.logger.warn({ err: (e as Error).message, cn: p.cn }, 'request failed'));
  }

  private context(): RequestContext {
    return {
      session: this,
      log: this.log,
      clock: this.clock,
      logger: this.logger,
      reply: (p) => this.write(p),
      deliver: (p) => this.deliver(p),
      packet: (cn, cp, o) => this.packet(cn, cp, o),
      ...(this.deps.setClock ? { setClock: this.deps.setClock } : {}),
      maxTimeStepMs: this.options.maxTimeStepMs ?? 300_000,
    };
  }

  /** A packet from this gateway with its own header fields. */
  packet(
    cn: string,
    cp: CpItem[],
    o: { qn?: string; answer?: boolean; st?: string; rf?: boolean } = {},
  ): Packet {
    return {
      qn: o.qn ?? this.qns.next(this.clock.now()),
      st: o.st ?? this.options.st,
      cn,
      pw: this.live.password,
      mn: this.live.mn,
      flag: makeFlag(this.options.edition, { answer: o.answer ?? false }),
      ...(o.rf && this.options.edition === 2025 ? { rf: true } : {}),
      cp,
    };
  }

  private write(p: Packet): void {
    const s = this.socket;
    if (!s || s.destroyed)
      throw new LantianError('UPLINK_NOT_CONNECTED', `${this.options.name}: not connected`);
    const frame = buildFrame(p, {
      crc: this.options.crc,
      ...(this.live.sm4Key ? { sm4Key: this.live.sm4Key } : {}),
    });
    this.logger.debug({ frame }, 'send');
    s.write(frame);
    this.lastSend = this.clock.monotonic();
  }

  /**
   * Sends a packet (split if long) and, when it asks for an answer, waits for each part's 9014
   * (or 9013), sending it again after OverTime up to ReCount times. False: the link is down.
   */
  async deliver(p: Packet): Promise<boolean> {
    for (const part of splitPacket(p, () => this.qns.next(this.clock.now()))) {
      if (!wantsAnswer(part.flag)) {
        this.write(part);
        continue;
      }
      let answered = false;
      for (let attempt = 0; attempt <= this.live.retries && !answered; attempt++) {
        if (attempt > 0) this.counters.resends++;
        const got = new Promise<void>((answered) => this.acks.set(part.qn, { cn: part.cn, answered }));
        const timeout = this.timer(this.live.timeoutMs);
        try {
          this.write(part);
        } catch {
          timeout.cancel();
          this.acks.delete(part.qn);
          return false;
        }
        answered = await Promise.race([
          got.then(() => true),
          timeout.promise.then(() => false),
          this.closed().then(() => false),
        ]);
        timeout.cancel();
        this.acks.delete(part.qn);
        if (!this.socket) break;
      }
      if (!answered) return false;
    }
    return true;
  }

  private closed(): Promise<void> {
    return this.linkClosed;
  }

  /** HJ 212-2025 steps on connecting: registration (1001) and a key request (1014), each answered by 9013. */
  private async introduce(): Promise<void> {
    if (this.options.edition !== 2025) return;
    const r = this.options.registration;
    if (r) {
      const ids: Record<string, string> = { 'i23005-Info': r.dauId };
      if (r.cpuId) ids['i23006-Info'] = r.cpuId;
      if (r.mac1) ids['i23007-Info'] = r.mac1;
      if (r.mac2) ids['i23008-Info'] = r.mac2;
      if (!(await this.deliver(this.packet('1001', cpOf(ids), { answer: true }))))
        throw new LantianError('HJ212_TIMEOUT', `${this.options.name}: registration (1001) unanswered`);
      this.record({ registeredAt: this.clock.now() });
    }
    if (this.options.requestKey) {
      const created = this.qns.next(this.clock.now());
      if (!(await this.deliver(this.packet('1014', cpOf({ SKCreateTime: created }), { answer: true }))))
        throw new LantianError('HJ212_TIMEOUT', `${this.options.name}: key request (1014) unanswered`);
    }
  }

  private async uploadLoop(): Promise<void> {
    const backfillBelow = this.log.lastSeq;
    await this.introduce();
    while (this.running && this.socket) {
      await this.requests;
      const { upload, waitMs } = this.backlog.next(backfillBelow);
      if (upload) {
        // HJ 212-2025 RF=1: the record waited in the log for the link (it is not live data).
        const rf = upload.seqs[0]! <= backfillBelow;
        const ok = await this.deliver(this.packet(upload.cn, upload.cp, { answer: true, rf }));
        if (!ok)
          throw new LantianError('HJ212_TIMEOUT', `${this.options.name}: upload ${upload.cn} unanswered`);
        for (const seq of upload.seqs) this.cursor.markDoneInMemory(seq, seq);
        this.cursor.persist();
        this.counters.uploads++;
        continue;
      }
      const hb = this.options.edition === 2025 ? this.options.heartbeatMs : undefined;
      let wait = waitMs ?? hb ?? 60_000;
      if (hb !== undefined) {
        const due = this.lastSend + hb - this.clock.monotonic();
        if (due <= 0) {
          this.write(this.packet('9015', [], { answer: true }));
          continue;
        }
        wait = Math.min(wait, due);
      }
      this.saveAnswer();
      await this.idle(wait);
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.timer(Math.max(10, ms));
      const done = () => {
        // Only clear our own wake-up: a later idle() may already have set its own.
        if (this.wake === done) this.wake = undefined;
        t.cancel();
        resolve();
      };
      this.wake = done;
      void t.promise.then(done);
    });
  }

  private sleep(ms: number): Promise<void> {
    return this.timer(ms).promise;
  }

  /** A sleep on the injected clock that resolves early (never rejects) when cancelled or stopped. */
  private timer(ms: number): { promise: Promise<void>; cancel: () => void } {
    const c = new AbortController();
    this.sleeps.add(c);
    const promise = this.clock
      .sleep(ms, c.signal)
      .catch(() => undefined)
      .finally(() => this.sleeps.delete(c));
    return { promise, cancel: () => c.abort() };
  }
}
