/**
 * A UART particulate sensor (PMS5003, SDS011 in active mode) as an acquisition source: frames
 * from the serial port become readings, one set per frame. A checksum error gives B readings
 * with quality `crc_error`, a frame cut short `bad_reply`, a sensor silent for three frame
 * intervals `timeout`: flagged, value null, never a number from a damaged frame. A port that
 * fails or closes is reopened with backoff (1 s doubling to 30 s), with `link_down` readings
 * meanwhile.
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Quality, ReadingDraft } from '../../core/reading.js';
import { parserFor, type FrameParser, type FrameResult } from './frames.js';

/** The part of a serial port the source uses (serialport's SerialPort fits). */
export interface UartPort {
  on(event: 'data', cb: (chunk: Buffer) => void): unknown;
  on(event: 'error', cb: (e: Error) => void): unknown;
  on(event: 'close', cb: () => void): unknown;
  close(cb?: (e?: Error | null) => void): void;
  readonly isOpen: boolean;
}

export interface UartSensorConfig {
  port: string;
  model: 'pms5003' | 'sds011';
  baud: number;
  frameIntervalMs: number;
}

export interface UartSourceDeps {
  clock: Clock;
  logger: Logger;
  open(path: string, baud: number): UartPort;
  accept(drafts: ReadingDraft[]): void;
}

export class UartPmSource {
  private parser: FrameParser;
  private port: UartPort | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private lastFrameAt = 0;
  private failures = 0;
  private stopped = true;
  /** Frames by result, for health. */
  readonly counts = { ok: 0, checksum: 0, truncated: 0, timeout: 0 };

  constructor(
    readonly device: string,
    private readonly cfg: UartSensorConfig,
    private readonly deps: UartSourceDeps,
  ) {
    this.parser = parserFor(cfg.model);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.watchdog);
    clearTimeout(this.retry);
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }

  private connect(): void {
    if (this.stopped) return;
    this.parser = parserFor(this.cfg.model);
    let port: UartPort;
    try {
      port = this.deps.open(this.cfg.port, this.cfg.baud);
    } catch (e) {
      this.lost(String(e));
      return;
    }
    this.port = port;
    port.on('data', (chunk) => this.frames(this.parser.push(chunk)));
    port.on('error', (e) => this.lost(e.message));
    port.on('close', () => this.lost('port closed'));
    this.lastFrameAt = this.deps.clock.monotonic();
    this.arm();
  }

  private lost(reason: string): void {
    if (this.stopped || this.retry) return;
    clearTimeout(this.watchdog);
    this.port = undefined;
    this.failures++;
    this.deps.logger.warn({ device: this.device, reason }, 'UART sensor port lost');
    this.emitFlagged('link_down');
    const delay = Math.min(30_000, 1000 * 2 ** (this.failures - 1));
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect();
    }, delay);
  }

  /** Silence watchdog: three frame intervals without a frame. */
  private arm(): void {
    clearTimeout(this.watchdog);
    const limit = this.cfg.frameIntervalMs * 3;
    this.watchdog = setTimeout(() => {
      if (this.stopped || !this.port) return;
      const cut = this.parser.flush();
      if (cut.length > 0) this.frames(cut);
      else {
        this.counts.timeout++;
        this.emitFlagged('timeout');
      }
      this.arm();
    }, limit);
  }

  private frames(results: FrameResult[]): void {
    if (results.length === 0) return;
    this.lastFrameAt = this.deps.clock.monotonic();
    this.failures = 0;
    this.arm();
    for (const r of results) {
      this.counts[r.kind === 'ok' ? 'ok' : r.kind]++;
      if (r.kind === 'ok') {
        this.emit((point) => ({ value: r.values[point] ?? null, flag: 'N' }));
      } else this.emitFlagged(r.kind === 'checksum' ? 'crc_error' : 'bad_reply');
    }
  }

  private emitFlagged(reason: Quality): void {
    this.emit(() => ({ value: null, flag: 'B', quality: [reason] }));
  }

  /** One reading per point of the sensor, stamped now. */
  private emit(of: (point: string) => Pick<ReadingDraft, 'value' | 'flag' | 'quality'>): void {
    const ts = this.deps.clock.now();
    this.deps.accept(this.parser.points.map((point) => ({ ts, device: this.device, point, ...of(point) })));
  }
}
