/**
 * A Modbus RTU bus with the serial wire-time model: one transaction at a time (half duplex); a
 * request that arrives while the bus is busy waits its turn. A reply leaves when the request's
 * wire time, a silence, the device's turnaround and the reply's own wire time have passed, on
 * an absolute time line, so timer jitter never accumulates from one transaction to the next.
 */
import type { Logger } from '../../../gateway/src/core/index.js';
import { bytesTimeMs, silenceMs, type LineSettings } from '../wire/model.js';
import { waitUntil } from '../wire/precise-timer.js';
import type { ActiveFault } from '../faults.js';
import { BusStats } from './stats.js';
import { decide, noteAnswered, rtuReply, type BusContext } from './transact.js';

export interface RtuRequest {
  /** A complete RTU frame (address, PDU, CRC) whose CRC has been checked. */
  frame: Buffer;
  /** Puts reply bytes on the link the request came from; false when they could not be sent. */
  send(bytes: Buffer): boolean;
  /** Breaks the link the request came from (the connection-drop fault). */
  drop(fault: ActiveFault): void;
}

export class RtuBus {
  readonly stats: BusStats;
  private readonly queue: RtuRequest[] = [];
  private readonly abort = new AbortController();
  private running = false;
  /** performance.now() ms at which the line is next free (after the closing silence). */
  private freeAt = 0;

  constructor(
    private readonly ctx: BusContext,
    readonly line: LineSettings,
    kind: 'rtu-tcp' | 'pty',
    private readonly log: Logger,
  ) {
    this.stats = new BusStats(ctx.name, kind, line);
  }

  submit(req: RtuRequest): void {
    if (this.abort.signal.aborted) return;
    this.queue.push(req);
    if (!this.running) void this.pump();
  }

  close(): void {
    this.abort.abort();
    this.queue.length = 0;
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      for (let req = this.queue.shift(); req && !this.abort.signal.aborted; req = this.queue.shift()) {
        await this.serve(req);
      }
    } finally {
      this.running = false;
    }
  }

  private async serve(req: RtuRequest): Promise<void> {
    const silence = silenceMs(this.line);
    const start = Math.max(performance.now(), this.freeAt);
    const reqEnd = start + bytesTimeMs(req.frame.length, this.line);
    const unitId = req.frame[0]!;
    const pdu = req.frame.subarray(1, req.frame.length - 2);
    this.log.debug({ bus: this.ctx.name, frame: req.frame.toString('hex') }, 'request');
    const d = decide(this.ctx, unitId, pdu, reqEnd);
    if (d.kind !== 'reply') {
      if (d.kind === 'drop') req.drop(d.fault);
      this.freeAt = reqEnd + silence;
      this.stats.record({
        unitId,
        reqBytes: req.frame.length,
        respBytes: 0,
        turnaroundMs: 0,
        start,
        end: this.freeAt,
        dropped: d.kind === 'drop',
      });
      return;
    }
    const reply = rtuReply(d);
    const turnaroundMs = d.turnaroundMs + d.extraDelayMs;
    const deadline = reqEnd + silence + turnaroundMs + bytesTimeMs(reply.length, this.line);
    await waitUntil(deadline, this.abort.signal);
    if (this.abort.signal.aborted) return;
    if (req.send(reply)) noteAnswered(d, pdu, this.ctx.now());
    const sentAt = performance.now();
    this.log.debug({ bus: this.ctx.name, frame: reply.toString('hex'), lateMs: sentAt - deadline }, 'reply');
    d.device.noteReplyEnd(deadline);
    this.freeAt = deadline + silence;
    this.stats.record({
      unitId,
      reqBytes: req.frame.length,
      respBytes: reply.length,
      turnaroundMs,
      start,
      end: sentAt + silence,
      exception: ((d.pdu[0] ?? 0) & 0x80) !== 0,
      collision: d.others.length > 0,
      lateMs: sentAt - deadline,
    });
  }
}
