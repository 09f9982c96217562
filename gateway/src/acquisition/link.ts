/**
 * A transport kept open: connects on first use, notices drops, reconnects with exponential
 * back-off and jitter. Reconnection is driven by the bus's own requests (no background timer):
 * while the back-off runs, a request fails at once with TRANSPORT_CLOSED, so devices get
 * flagged readings in every period and nothing waits on a dead link.
 */
import type { Clock } from '../core/clock.js';
import { LantianError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Transport } from './transport/types.js';

export interface ReconnectOptions {
  /** First back-off after a failed connect or repeated drops, ms (default 250). */
  initialMs?: number;
  /** Longest back-off, ms (default 30 000). */
  maxMs?: number;
  /** Time allowed for one connect attempt, ms (default 3000). */
  connectTimeoutMs?: number;
}

type LinkState =
  { kind: 'down'; retryAt: number } | { kind: 'connecting'; attempt: Promise<void> } | { kind: 'up' };

/** Exponential back-off with jitter: a uniform draw in [½, 1] of min(max, initial · 2^(n−1)). */
export function backoffMs(failures: number, initialMs: number, maxMs: number, random: () => number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, failures - 1));
  return base * (0.5 + 0.5 * random());
}

export interface LinkCounters {
  connects: number;
  connectFailures: number;
  drops: number;
  recycles: number;
}

export class Link {
  private state: LinkState = { kind: 'down', retryAt: -Infinity };
  /** Connect failures and drops since the last good transaction. */
  private failures = 0;
  private closed = false;
  readonly counters: LinkCounters = { connects: 0, connectFailures: 0, drops: 0, recycles: 0 };
  /** Monotonic time of the last successful connect. */
  connectedAt = -Infinity;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly connectTimeoutMs: number;

  constructor(
    private readonly transport: Transport,
    private readonly where: string,
    private readonly clock: Clock,
    private readonly random: () => number,
    private readonly log: Logger,
    options: ReconnectOptions = {},
  ) {
    this.initialMs = options.initialMs ?? 250;
    this.maxMs = options.maxMs ?? 30_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 3000;
    transport.onDrop(() => this.onDrop());
  }

  get connected(): boolean {
    return this.state.kind === 'up' && this.transport.isOpen;
  }

  private onDrop(): void {
    if (this.state.kind !== 'up') return;
    this.counters.drops++;
    this.failures++;
    // The first drop reconnects on the next request; a link that keeps dropping backs off.
    const wait =
      this.failures <= 1 ? 0 : backoffMs(this.failures - 1, this.initialMs, this.maxMs, this.random);
    this.state = { kind: 'down', retryAt: this.clock.monotonic() + wait };
    this.log.warn({ link: this.where, retryInMs: Math.round(wait) }, 'link dropped');
  }

  /** Resolves when the link is open; rejects with TRANSPORT_CLOSED during back-off, or TRANSPORT_CONNECT_FAILED. */
  async ensureOpen(): Promise<void> {
    const s = this.state;
    if (s.kind === 'up') {
      if (this.transport.isOpen) return;
      this.onDrop();
      return this.ensureOpen();
    }
    if (s.kind === 'connecting') return s.attempt;
    const now = this.clock.monotonic();
    if (now < s.retryAt) {
      throw new LantianError(
        'TRANSPORT_CLOSED',
        `${this.where}: link down, next attempt in ${Math.ceil(s.retryAt - now)} ms`,
        {
          context: { link: this.where, retryInMs: Math.ceil(s.retryAt - now) },
        },
      );
    }
    const attempt = this.connect();
    this.state = { kind: 'connecting', attempt };
    return attempt;
  }

  private async connect(): Promise<void> {
    try {
      await this.transport.open(this.connectTimeoutMs);
      if (this.closed) {
        await this.transport.close();
        throw new LantianError('TRANSPORT_CLOSED', `${this.where}: closed while connecting`, {
          context: { link: this.where },
        });
      }
      this.counters.connects++;
      this.connectedAt = this.clock.monotonic();
      this.state = { kind: 'up' };
      this.log.info({ link: this.where }, 'link open');
    } catch (e) {
      this.counters.connectFailures++;
      this.failures++;
      const wait = backoffMs(this.failures, this.initialMs, this.maxMs, this.random);
      this.state = { kind: 'down', retryAt: this.closed ? Infinity : this.clock.monotonic() + wait };
      this.log.warn({ link: this.where, err: e, retryInMs: Math.round(wait) }, 'link connect failed');
      throw e;
    }
  }

  /** A transaction succeeded: the link is healthy again, back-off starts from scratch. */
  markGood(): void {
    this.failures = 0;
  }

  /** Closes and reopens on the next request: clears half-open sockets and confused buffers. */
  async recycle(): Promise<void> {
    this.counters.recycles++;
    this.state = { kind: 'down', retryAt: this.clock.monotonic() };
    await this.transport.close();
  }

  /** After `close`: the link may open again, on the next request. */
  reopen(): void {
    this.closed = false;
    this.state = { kind: 'down', retryAt: -Infinity };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.state = { kind: 'down', retryAt: Infinity };
    await this.transport.close();
  }
}
