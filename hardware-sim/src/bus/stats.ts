/**
 * Counters of one bus: transactions, bytes, busy time and the mix of transaction shapes, from
 * which the theoretical maximum rate follows, so a benchmark can state bus efficiency as a ratio.
 */
import {
  theoreticalMaxRate,
  transactionWireTimeMs,
  type LineSettings,
  type MixEntry,
} from '../wire/model.js';

export interface UnitCounters {
  requests: number;
  replies: number;
  exceptions: number;
  silent: number;
}

export interface BusStatsSnapshot {
  bus: string;
  kind: 'tcp' | 'rtu-tcp' | 'pty';
  line?: LineSettings;
  transactions: number;
  replies: number;
  exceptions: number;
  /** Requests that got no answer (no such unit, device off or booting, no-answer fault). */
  silent: number;
  drops: number;
  collisions: number;
  bytesIn: number;
  bytesOut: number;
  /** Bytes thrown away as line noise (bad CRC, incomplete frames). */
  discardedBytes: number;
  /** RTU: ms the bus was busy as measured (reply actually written), silences included. */
  busyMs: number;
  /** RTU: ms the wire model says those transactions take. busyMs / modelMs is the timing fidelity. */
  modelMs: number;
  /** Ms from the first transaction's start to the last one's end. */
  windowMs: number;
  /** Transactions per second over the window. */
  servedRate: number;
  /** RTU: highest rate the line could carry for the mix served (transactions per second). */
  theoreticalMaxRate?: number;
  /** RTU: servedRate / theoreticalMaxRate. */
  efficiency?: number;
  meanTransactionMs: number;
  /**
   * How late replies left against their modelled time (ms; recent 1024 replies): the timer
   * fidelity of this run, robust to the odd stall of a shared machine when read as the median.
   */
  replyLateMs: { median: number; p90: number; max: number };
  perUnit: Record<number, UnitCounters>;
  mix: Required<MixEntry>[];
}

const LATE_SAMPLES = 1024;

function lateness(samples: readonly number[]): BusStatsSnapshot['replyLateMs'] {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { median: at(0.5), p90: at(0.9), max: s[s.length - 1] ?? 0 };
}

export class BusStats {
  private transactions = 0;
  private replies = 0;
  private exceptions = 0;
  private silent = 0;
  private drops = 0;
  private collisions = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private discarded = 0;
  private busyMs = 0;
  private modelMs = 0;
  private first: number | undefined;
  private last: number | undefined;
  private readonly perUnit = new Map<number, UnitCounters>();
  private readonly late: number[] = [];
  private readonly mix = new Map<string, Required<MixEntry>>();

  constructor(
    private readonly bus: string,
    private readonly kind: BusStatsSnapshot['kind'],
    private readonly line?: LineSettings,
  ) {}

  /**
   * Records one transaction. `start`/`end` are performance.now() ms of the transaction's start
   * and the end of its closing silence as measured; the model time is computed from the sizes.
   */
  record(t: {
    unitId: number;
    reqBytes: number;
    respBytes: number;
    turnaroundMs: number;
    start: number;
    end: number;
    exception?: boolean;
    dropped?: boolean;
    collision?: boolean;
    /** Ms the reply left after its modelled time. */
    lateMs?: number;
  }): void {
    this.transactions++;
    if (t.lateMs !== undefined) {
      this.late.push(t.lateMs);
      if (this.late.length > LATE_SAMPLES) this.late.shift();
    }
    const u = this.unit(t.unitId);
    u.requests++;
    this.bytesIn += t.reqBytes;
    this.bytesOut += t.respBytes;
    if (t.dropped) this.drops++;
    if (t.collision) this.collisions++;
    if (t.respBytes > 0) {
      this.replies++;
      u.replies++;
      if (t.exception) {
        this.exceptions++;
        u.exceptions++;
      }
    } else {
      this.silent++;
      u.silent++;
    }
    this.busyMs += t.end - t.start;
    if (this.line) this.modelMs += transactionWireTimeMs(t.reqBytes, t.respBytes, this.line, t.turnaroundMs);
    this.first = Math.min(this.first ?? t.start, t.start);
    this.last = Math.max(this.last ?? t.end, t.end);
    const key = `${t.reqBytes}/${t.respBytes}/${t.turnaroundMs}`;
    const m = this.mix.get(key) ?? {
      reqBytes: t.reqBytes,
      respBytes: t.respBytes,
      turnaroundMs: t.turnaroundMs,
      count: 0,
    };
    m.count++;
    this.mix.set(key, m);
  }

  discard(bytes: number): void {
    this.discarded += bytes;
    this.bytesIn += bytes;
  }

  private unit(id: number): UnitCounters {
    let u = this.perUnit.get(id);
    if (!u) {
      u = { requests: 0, replies: 0, exceptions: 0, silent: 0 };
      this.perUnit.set(id, u);
    }
    return u;
  }

  reset(): void {
    this.transactions = this.replies = this.exceptions = this.silent = this.drops = this.collisions = 0;
    this.bytesIn = this.bytesOut = this.discarded = this.busyMs = this.modelMs = 0;
    this.first = this.last = undefined;
    this.perUnit.clear();
    this.mix.clear();
    this.late.length = 0;
  }

  snapshot(): BusStatsSnapshot {
    const windowMs = this.first === undefined || this.last === undefined ? 0 : this.last - this.first;
    const servedRate = windowMs > 0 ? (this.transactions * 1000) / windowMs : 0;
    const mix = [...this.mix.values()].map((m) => ({ ...m }));
    const out: BusStatsSnapshot = {
      bus: this.bus,
      kind: this.kind,
      transactions: this.transactions,
      replies: this.replies,
      exceptions: this.exceptions,
      silent: this.silent,
      drops: this.drops,
      collisions: this.collisions,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      discardedBytes: this.discarded,
      busyMs: this.busyMs,
      modelMs: this.modelMs,
      windowMs,
      servedRate,
      meanTransactionMs: this.transactions > 0 ? this.busyMs / this.transactions : 0,
      replyLateMs: lateness(this.late),
      perUnit: Object.fromEntries(this.perUnit),
      mix,
    };
    if (this.line) {
      out.line = this.line;
      out.theoreticalMaxRate = theoreticalMaxRate(mix, this.line);
      out.efficiency = out.theoreticalMaxRate > 0 ? servedRate / out.theoreticalMaxRate : 0;
    }
    return out;
  }
}
