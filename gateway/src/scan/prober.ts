/**
 * One line under scan: raw request PDUs to one unit id at a time, on a serial port, a serial
 * device server (RTU over TCP) or Modbus TCP. It keeps to the bus rules the gateway keeps:
 * one request in flight, the RTU frame silence (t3.5) after any byte received, and a gap of its
 * own between requests, so a scan never floods a line that other masters or devices share.
 *
 * Unlike the acquisition transport it carries any function (FC 43 / MEI 14 among them) and
 * tells apart silence from garbled bytes, which on a serial line hint at a wrong baud or parity.
 */
import { LantianError } from '../core/errors.js';
import { charMs, interFrameSilenceMs } from '../acquisition/line.js';
import { openChannel, type Channel } from '../acquisition/transport/channel.js';
import { crc16, mbapFrame, rtuFrame, scanMbap } from '../acquisition/transport/frames.js';
import type { LinkSettings } from '../acquisition/transport/types.js';

export type Answer =
  | { kind: 'reply'; pdu: Buffer; ms: number }
  | { kind: 'exception'; code: number; ms: number }
  | { kind: 'silent' }
  /** Bytes came back but no frame from this unit with a good CRC: noise or wrong line settings. */
  | { kind: 'garbled'; bytes: number };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Length of the RTU reply frame at `i` as its header announces it; undefined while incomplete. */
export function rtuReplyLength(buf: Buffer, i: number): number | undefined {
  const fn = buf[i + 1];
  if (fn === undefined) return undefined;
  if (fn & 0x80) return 5;
  if (fn >= 1 && fn <= 4) return buf[i + 2] === undefined ? undefined : 5 + buf[i + 2]!;
  if (fn !== 0x2b) return 0;
  // unit, 2B, 0E, code, conformity, more, next, count, then (id, length, value) per object, CRC.
  if (buf.length < i + 8) return undefined;
  let at = i + 8;
  for (let n = buf[i + 7]!; n > 0; n--) {
    if (buf[at + 1] === undefined) return undefined;
    at += 2 + buf[at + 1]!;
  }
  return at + 2 - i;
}

export class Prober {
  requests = 0;
  private rx = Buffer.alloc(0);
  private lastActivity = -Infinity;
  private waiting: (() => void) | undefined;
  private tid = 0;
  private readonly quietMs: number;

  private constructor(
    private readonly link: LinkSettings,
    private channel: Channel | undefined,
    /** Pause between the end of one exchange and the next request, ms. */
    private readonly gapMs: number,
  ) {
    const silence = link.kind === 'tcp' ? 0 : interFrameSilenceMs(link.line ?? { baud: 9600 });
    this.quietMs = Math.max(gapMs, silence);
  }

  static async open(link: LinkSettings, gapMs: number, connectTimeoutMs: number): Promise<Prober> {
    let prober: Prober | undefined;
    let timer: NodeJS.Timeout | undefined;
    const opening = openChannel(link, {
      onData: (d) => prober?.received(d),
      onClose: () => prober && (prober.channel = undefined),
    });
    try {
      const channel = await Promise.race([
        opening,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no connection within ${connectTimeoutMs} ms`)),
            connectTimeoutMs,
          );
        }),
      ]);
      prober = new Prober(link, channel, gapMs);
      return prober;
    } catch (cause) {
      void opening.then((c) => c.close()).catch(() => undefined);
      throw new LantianError(
        'TRANSPORT_CONNECT_FAILED',
        `cannot open the line to scan it: ${String(cause)}`,
        {
          cause,
          context: { link },
        },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private received(d: Buffer): void {
    this.lastActivity = performance.now();
    this.rx = Buffer.concat([this.rx, d]);
    this.waiting?.();
  }

  /** Time `bytes` take on the serial line (0 on Modbus TCP), ms. */
  wireMs(bytes: number): number {
    return this.link.kind === 'tcp' ? 0 : bytes * charMs(this.link.line ?? { baud: 9600 });
  }

  /**
   * Sends one request PDU to `unitId` and waits for its answer, at most `timeoutMs`. `minGapMs`
   * lengthens the silence before it, for a device that needs more (a profile's quirk).
   */
  async request(unitId: number, pdu: Buffer, timeoutMs: number, minGapMs = 0): Promise<Answer> {
    if (!this.channel) throw new LantianError('TRANSPORT_CLOSED', 'the line under scan closed');
    // Silence first: nothing received (a late reply, another master) for the gap and t3.5.
    for (;;) {
      const left = this.lastActivity + Math.max(this.quietMs, minGapMs) - performance.now();
      if (left <= 0) break;
      await sleep(Math.ceil(left));
    }
    this.rx = Buffer.alloc(0);
    this.requests++;
    const started = performance.now();
    const tid = (this.tid = (this.tid + 1) & 0xffff);
    this.channel.write(this.frame(unitId, pdu, tid));
    this.lastActivity = performance.now();
    const deadline = started + timeoutMs;
    for (;;) {
      const found = this.find(unitId, tid);
      if (found) {
        const ms = Math.round((performance.now() - started) * 10) / 10;
        this.lastActivity = performance.now();
        return found[0]! & 0x80
          ? { kind: 'exception', code: found[1] ?? 0, ms }
          : { kind: 'reply', pdu: found, ms };
      }
      const left = deadline - performance.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiting = undefined;
    }
    this.lastActivity = performance.now();
    return this.rx.length > 0 ? { kind: 'garbled', bytes: this.rx.length } : { kind: 'silent' };
  }

  private frame(unitId: number, pdu: Buffer, tid: number): Buffer {
    return this.link.kind === 'tcp' ? mbapFrame(tid, unitId, pdu) : rtuFrame(unitId, pdu);
  }

  /** The reply PDU from `unitId` in what was received, if a whole good frame is there. */
  private find(unitId: number, tid: number): Buffer | undefined {
    if (this.link.kind === 'tcp') {
      const scan = scanMbap(this.rx);
      if ('desync' in scan) return undefined;
      return scan.frames.find((f) => f.tid === tid && f.unitId === unitId)?.pdu;
    }
    for (let i = 0; i + 5 <= this.rx.length; i++) {
      if (this.rx[i] !== unitId) continue;
      const len = rtuReplyLength(this.rx, i);
      if (!len || i + len > this.rx.length) continue;
      const f = this.rx.subarray(i, i + len);
      const crc = crc16(f.subarray(0, len - 2));
      if (f[len - 2] === (crc & 0xff) && f[len - 1] === crc >> 8) return Buffer.from(f.subarray(1, len - 2));
    }
    return undefined;
  }

  async close(): Promise<void> {
    const c = this.channel;
    this.channel = undefined;
    await c?.close();
  }
}
