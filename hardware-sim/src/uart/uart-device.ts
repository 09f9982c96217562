/**
 * What UART particulate sensors on a pty have in common: a command parser over the byte stream,
 * an active mode that sends a frame on a fixed cadence (each send scheduled against the start,
 * so the cadence does not drift), values from behaviours, the wire time of each frame, and the
 * faults that can hit a frame (silence, late, bad checksum, cut short, noise, power cycle).
 */
import { LantianError, type Clock, type Logger } from '../../../gateway/src/core/index.js';
import type { Behaviour } from '../device/behaviours.js';
import type { ActiveFault, FaultBook } from '../faults.js';
import { damage } from '../bus/transact.js';
import { bytesTimeMs, type LineSettings } from '../wire/model.js';
import { waitUntil } from '../wire/precise-timer.js';

export interface UartLink {
  write(bytes: Buffer): boolean;
  /** Breaks the line for `offMs` (drop fault). */
  restart(offMs: number): Promise<void>;
}

export interface UartDeviceOptions {
  id: string;
  bus: string;
  line: LineSettings;
  /** Ms between active-mode frames. */
  intervalMs: number;
  /** Ms between a command's last byte and the sensor's answer. */
  turnaroundMs: number;
  behaviours: ReadonlyMap<string, Behaviour>;
  faults: FaultBook;
  clock: Clock;
  startMs: number;
  log: Logger;
}

export abstract class UartDevice {
  private link: UartLink | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextFrameAt = 0;
  private offUntil = -Infinity;
  private rx: Buffer = Buffer.alloc(0);
  private readonly abort = new AbortController();
  private readonly overrides = new Map<string, number>();
  /** performance.now() ms at which the sensor's transmit line is next free. */
  private txFreeAt = 0;
  framesSent = 0;

  protected constructor(protected readonly o: UartDeviceOptions) {}

  get id(): string {
    return this.o.id;
  }

  /** Whether the sensor streams frames by itself at the moment. */
  protected abstract streaming(): boolean;
  /** Parses commands from the head of `rx`; returns the bytes consumed (0: need more). */
  protected abstract parse(rx: Buffer): number;
  /** The data frame for the current values. */
  protected abstract dataFrame(): Buffer;
  /** The frame with its checksum made wrong (the checksum-error fault). */
  protected abstract breakChecksum(frame: Buffer): Buffer;

  /** Ms between active-mode frames. */
  protected cadenceMs(): number {
    return this.o.intervalMs;
  }

  attach(link: UartLink): void {
    this.link = link;
    this.nextFrameAt = performance.now() + this.cadenceMs();
    this.schedule();
  }

  detach(): void {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  powerCycle(offMs: number): void {
    this.offUntil = performance.now() + offMs;
  }

  protected powered(): boolean {
    return performance.now() >= this.offUntil;
  }

  /** Holds a field at a value (undefined: back to its behaviour). */
  setOverride(key: string, value: number | undefined): void {
    if (!this.fields.includes(key)) {
      throw new LantianError('SIM_CONTROL_INVALID', `sensor ${this.o.id} has no value "${key}"`, {
        context: { device: this.o.id, point: key, known: this.fields },
      });
    }
    if (value === undefined) this.overrides.delete(key);
    else this.overrides.set(key, value);
  }

  /** Names of the values the sensor reports. */
  abstract readonly fields: readonly string[];

  /** Whether a field is driven (by a behaviour or an override) rather than left at 0. */
  protected driven(key: string): boolean {
    return this.overrides.has(key) || this.o.behaviours.has(key);
  }

  /** Value of a sensor field now, from its override or behaviour; 0 when neither is set. */
  protected value(key: string): number {
    const held = this.overrides.get(key);
    if (held !== undefined) return held;
    const t = (this.o.clock.now() - this.o.startMs) / 1000;
    const v = this.o.behaviours.get(key)?.(t);
    return typeof v === 'number' ? v : Number(v ?? 0) || 0;
  }

  /** Bytes from the pty (commands from the host). */
  receive(chunk: Buffer): void {
    if (!this.powered()) return;
    this.rx = Buffer.concat([this.rx, chunk]);
    for (;;) {
      const used = this.parse(this.rx);
      if (used === 0) break;
      this.rx = this.rx.subarray(used);
    }
  }

  /**
   * Bytes to skip to reach `header` at the head of `rx`: 0 when it is there (or may be, with
   * one byte so far), so the command parsers resynchronise after noise.
   */
  protected static skipTo(rx: Buffer, header: Buffer): number {
    const start = rx.indexOf(header);
    if (start >= 0) return start;
    return rx.length > 1 ? rx.length - 1 : 0;
  }

  /** Restarts the active-mode cadence from now (after a mode change or wake-up). */
  protected restartCadence(delayMs = this.cadenceMs()): void {
    this.nextFrameAt = performance.now() + delayMs;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (this.streaming() && this.powered()) this.send(this.dataFrame(), 0);
        const now = performance.now();
        while (this.nextFrameAt <= now) this.nextFrameAt += this.cadenceMs();
        this.schedule();
      },
      Math.max(0, this.nextFrameAt - performance.now()),
    );
  }

  /**
   * Sends a frame after `afterMs` (turnaround, plus the command's wire time for answers),
   * applying any fault; the frame's last byte leaves after its own wire time.
   */
  protected send(frame: Buffer, commandBytes: number): void {
    const fault = this.o.faults.take(this.o.id, this.o.bus, this.o.clock.now());
    if (fault?.spec.kind === 'no-answer') return;
    if (fault?.spec.kind === 'drop') {
      void this.link?.restart(fault.spec.offMs ?? 1000);
      return;
    }
    const out = this.damaged(frame, fault);
    const start = Math.max(performance.now(), this.txFreeAt);
    const wait = commandBytes > 0 ? bytesTimeMs(commandBytes, this.o.line) + this.o.turnaroundMs : 0;
    const extra = fault?.spec.kind === 'late-answer' ? (fault.spec.delayMs ?? 500) : 0;
    const deadline = start + wait + extra + bytesTimeMs(out.length, this.o.line);
    this.txFreeAt = deadline;
    void waitUntil(deadline, this.abort.signal).then(() => {
      if (this.abort.signal.aborted) return;
      if (this.link?.write(out)) this.framesSent++;
      this.o.log.debug({ device: this.o.id, frame: out.toString('hex') }, 'uart frame');
    });
  }

  private damaged(frame: Buffer, fault: ActiveFault | undefined): Buffer {
    if (fault?.spec.kind === 'checksum-error') return this.breakChecksum(frame);
    return damage(frame, fault);
  }
}
