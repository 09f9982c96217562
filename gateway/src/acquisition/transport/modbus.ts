/**
 * The Modbus transport: RTU on a local serial port, Modbus TCP (MBAP) and RTU over TCP to a
 * transparent device server, framed here (frames.ts) on a serial port or socket (channel.ts).
 *
 * What it guarantees (see docs/acquisition.md):
 * - every read has a timeout, and a link that drops fails the pending reads at once;
 * - a reply is taken only if it answers a pending request: unit id, function and byte count,
 *   and on Modbus TCP the transaction id. Anything else is set aside; a frame that answers a
 *   request which already timed out is reported to `onLateReply` listeners;
 * - on Modbus TCP several reads may be pending at once (the bus's `maxInFlight`), each known by
 *   its transaction id; on RTU one at a time;
 * - on RTU (local or over TCP) a request goes out only once the line has been silent for the
 *   frame gap, and what is left in the receive buffer then is dropped as noise.
 */
import { LantianError, isTimeout } from '../../core/errors.js';
import { SampleWindow } from '../health.js';
import { interFrameSilenceMs } from '../line.js';
import { openChannel, type Channel } from './channel.js';
import { damagedReplyIn, fit, mbapRequest, rtuRequest, scanMbap, scanRtu, type Reply } from './frames.js';
import type { Frame, LateReply, LinkSettings, Transport } from './types.js';

/** Received bytes kept while looking for a frame; more than this is noise. */
const MAX_BUFFER = 1024;
/** Requests that timed out are remembered this long, to recognise their late replies. */
const LATE_MEMORY_MS = 60_000;
const LATE_MEMORY_COUNT = 16;
/** Fewest ms of silence awaited before an RTU request: ptys and sockets carry no finer timing. */
const MIN_QUIET_MS = 2;
/** The key of the one pending read on an RTU link, which has no transaction ids. */
const RTU_KEY = -1;

export function describeLink(link: LinkSettings): string {
  switch (link.kind) {
    case 'rtu':
      return `rtu ${link.path} ${link.line.baud}`;
    case 'tcp':
      return `tcp ${link.host}:${link.port ?? 502}`;
    case 'rtu-tcp':
      return `rtu-tcp ${link.host}:${link.port}`;
  }
}

interface Pending {
  frame: Frame;
  tid?: number;
  settle: (err: LantianError | undefined, data?: number[]) => void;
}

interface TimedOut {
  frame: Frame;
  tid?: number;
  at: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ModbusTransport implements Transport {
  readonly kind: LinkSettings['kind'];
  private channel: Channel | undefined;
  /** Reads awaiting their reply, by transaction id (Modbus TCP) or RTU_KEY. */
  private readonly pending = new Map<number, Pending>();
  private rx: Buffer = Buffer.alloc(0);
  private lastRxAt = -Infinity;
  private nextTid = 0;
  private timedOut: TimedOut[] = [];
  private readonly dropListeners: ((cause?: unknown) => void)[] = [];
  private readonly lateListeners: ((r: LateReply) => void)[] = [];
  private readonly where: string;
  private readonly quietMs: number;
  /** Bytes dropped as noise or as frames that answered nothing pending. */
  discardedBytes = 0;
  /**
   * The gateway's own turnaround: a read settled (reply received, or given up on) -> the next
   * request written, ms. Includes any wait the bus chose (silence, minimum gap, an idle line).
   */
  readonly turnaround = new SampleWindow(4096);
  private lastSettledAt: number | undefined;
  /** Whether the last read ended in a timeout. */
  private lastTimedOut = false;

  constructor(private readonly link: LinkSettings) {
    this.kind = link.kind;
    this.where = describeLink(link);
    this.quietMs =
      link.kind === 'tcp' ? 0 : Math.max(MIN_QUIET_MS, interFrameSilenceMs(link.line ?? { baud: 9600 }));
  }

  get isOpen(): boolean {
    return this.channel !== undefined;
  }

  onDrop(listener: (cause?: unknown) => void): void {
    this.dropListeners.push(listener);
  }

  onLateReply(listener: (r: LateReply) => void): void {
    this.lateListeners.push(listener);
  }

  async open(timeoutMs: number): Promise<void> {
    await this.close();
    let timer: NodeJS.Timeout | undefined;
    let gaveUp = false;
    const opening = openChannel(this.link, {
      onData: (d) => this.received(channelRef, d),
      onClose: (cause) => this.dropped(channelRef, cause),
    });
    const channelRef: { c?: Channel } = {};
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        gaveUp = true;
        reject(new Error(`no connection within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      channelRef.c = await Promise.race([opening, timedOut]);
    } catch (cause) {
      // A connection that completes after the timeout is closed, not leaked.
      if (gaveUp)
        void opening.then(
          (c) => c.close(),
          () => undefined,
        );
      throw new LantianError('TRANSPORT_CONNECT_FAILED', `${this.where}: cannot open (${messageOf(cause)})`, {
        cause,
        context: { link: this.where },
      });
    } finally {
      clearTimeout(timer);
    }
    this.channel = channelRef.c;
    this.rx = Buffer.alloc(0);
    this.timedOut = [];
  }

  private dropped(ref: { c?: Channel }, cause: unknown): void {
    if (!ref.c || ref.c !== this.channel) return;
    this.channel = undefined;
    this.settleAll(
      new LantianError('TRANSPORT_CLOSED', `${this.where}: link closed during a request`, {
        cause,
        context: { link: this.where },
      }),
    );
    for (const l of this.dropListeners) l(cause);
  }

  private received(ref: { c?: Channel }, bytes: Buffer): void {
    if (ref.c !== this.channel) return;
    this.lastRxAt = performance.now();
    this.rx = this.rx.length === 0 ? bytes : Buffer.concat([this.rx, bytes]);
    if (this.kind === 'tcp') {
      const scan = scanMbap(this.rx);
      if ('desync' in scan) {
        this.discard(this.rx.length);
        this.rx = Buffer.alloc(0);
        // The stream lost its framing: no pending read can be told its answer any more.
        this.settleAll(this.error('MODBUS_BAD_REPLY', `malformed reply: ${scan.desync}`));
        return;
      }
      this.rx = scan.rest;
      for (const r of scan.frames) this.dispatch(r);
      return;
    }
    const scan = scanRtu(this.rx);
    this.discard(scan.skipped);
    this.rx = scan.rest;
    for (const r of scan.frames) this.dispatch(r);
    const p = this.pending.get(RTU_KEY);
    if (p && damagedReplyIn(this.rx, p.frame)) {
      this.rx = Buffer.alloc(0);
      p.settle(this.error('MODBUS_CRC', 'reply failed its CRC check', p.frame));
      return;
    }
    if (this.rx.length > MAX_BUFFER) {
      this.discard(this.rx.length - MAX_BUFFER);
      this.rx = this.rx.subarray(this.rx.length - MAX_BUFFER);
    }
  }

  /** One complete frame: the pending request's answer, a late reply, or noise. */
  private dispatch(r: Reply): void {
    const p = this.pending.get(this.kind === 'tcp' ? (r.tid ?? RTU_KEY) : RTU_KEY);
    if (p) {
      const f = fit(p.frame, r);
      if (f.kind === 'data') return p.settle(undefined, f.values);
      if (f.kind === 'exception') {
        return p.settle(
          new LantianError('MODBUS_EXCEPTION', `device answered Modbus exception ${f.code}`, {
            context: { ...this.context(p.frame), exceptionCode: f.code },
          }),
        );
      }
      if (this.kind === 'tcp' || (r.unitId === p.frame.unitId && !this.lateFor(r))) {
        // Over TCP the transaction id says it is ours; on RTU it came from our unit and answers
        // nothing that timed out: either way a malformed answer.
        return p.settle(this.error('MODBUS_BAD_REPLY', `malformed reply: ${f.why}`, p.frame));
      }
    }
    const late = this.lateFor(r);
    if (late) {
      this.timedOut.splice(this.timedOut.indexOf(late), 1);
      for (const l of this.lateListeners) {
        l({ unitId: late.frame.unitId, function: late.frame.function, ageMs: performance.now() - late.at });
      }
    }
    this.discard(r.pdu.length + 3);
  }

  /** The timed-out request `r` answers, if any. */
  private lateFor(r: Reply): TimedOut | undefined {
    const now = performance.now();
    this.timedOut = this.timedOut.filter((t) => now - t.at < LATE_MEMORY_MS);
    return this.timedOut.find((t) =>
      this.kind === 'tcp' ? t.tid === r.tid : fit(t.frame, r).kind !== 'mismatch',
    );
  }

  /** Fails every pending read with `err`. */
  private settleAll(err: LantianError): void {
    for (const p of [...this.pending.values()]) p.settle(err);
  }

  private discard(n: number): void {
    this.discardedBytes += n;
  }

  private context(frame: Frame): Record<string, unknown> {
    return { link: this.where, unitId: frame.unitId, function: frame.function, address: frame.address };
  }

  private error(code: 'MODBUS_BAD_REPLY' | 'MODBUS_CRC', message: string, frame?: Frame): LantianError {
    return new LantianError(code, `${this.where}: ${message}`, {
      context: frame ? this.context(frame) : { link: this.where },
    });
  }

  /** On an RTU line: waits until nothing has been received for the frame gap, at most `limitMs`. */
  private async quiet(limitMs: number): Promise<boolean> {
    const end = performance.now() + limitMs;
    for (;;) {
      const left = this.lastRxAt + this.quietMs - performance.now();
      if (left <= 0) return true;
      if (performance.now() + left > end) return false;
      await sleep(Math.ceil(left));
    }
  }

  async read(frame: Frame, timeoutMs: number): Promise<number[]> {
    const context = this.context(frame);
    if (!this.channel) {
      throw new LantianError('TRANSPORT_CLOSED', `${this.where}: link is not open`, { context });
    }
    // A local line always; a device server's line only after a timeout, when a late reply may
    // be on its way (otherwise the device server has framed the reply and owns the silence).
    if (this.kind === 'rtu' || (this.kind === 'rtu-tcp' && this.lastTimedOut)) {
      if (!(await this.quiet(timeoutMs))) {
        throw new LantianError('TRANSPORT_TIMEOUT', `${this.where}: the line never fell silent`, { context });
      }
    }
    if (this.kind !== 'tcp') {
      // Whatever is left is the rest of a garbled or late frame: it can answer nothing now.
      this.discard(this.rx.length);
      this.rx = Buffer.alloc(0);
      // The bus sends to a unit again only after its late-reply window: older requests of this
      // unit are no longer waited for, so its replies are matched to this request alone.
      this.timedOut = this.timedOut.filter((t) => t.frame.unitId !== frame.unitId);
    }
    const channel = this.channel;
    if (!channel) throw new LantianError('TRANSPORT_CLOSED', `${this.where}: link is not open`, { context });
    const tid = this.kind === 'tcp' ? this.freeTid() : undefined;
    const key = tid ?? RTU_KEY;
    return new Promise<number[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.remember({ frame, tid, at: performance.now() });
        settle(
          new LantianError('TRANSPORT_TIMEOUT', `${this.where}: no answer within ${timeoutMs} ms`, {
            context,
          }),
        );
      }, timeoutMs);
      const settle = (err: LantianError | undefined, data?: number[]): void => {
        if (this.pending.get(key) !== pending) return;
        this.pending.delete(key);
        this.lastSettledAt = performance.now();
        this.lastTimedOut = isTimeout(err);
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(data ?? []);
      };
      const pending: Pending = { frame, tid, settle };
      this.pending.set(key, pending);
      const sent = performance.now();
      if (this.lastSettledAt !== undefined) this.turnaround.add(sent - this.lastSettledAt);
      channel.write(tid === undefined ? rtuRequest(frame) : mbapRequest(tid, frame));
    });
  }

  /** The next transaction id that no pending read holds. */
  private freeTid(): number {
    do this.nextTid = (this.nextTid + 1) & 0xffff;
    while (this.pending.has(this.nextTid));
    return this.nextTid;
  }

  private remember(t: TimedOut): void {
    this.timedOut.push(t);
    if (this.timedOut.length > LATE_MEMORY_COUNT) this.timedOut.shift();
  }

  async close(): Promise<void> {
    const channel = this.channel;
    this.channel = undefined;
    this.settleAll(
      new LantianError('TRANSPORT_CLOSED', `${this.where}: closed`, { context: { link: this.where } }),
    );
    if (channel) await channel.close();
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export const modbusTransport = (link: LinkSettings): Transport => new ModbusTransport(link);
