/**
 * Readings the log could not commit (disk full, I/O error) wait here, in arrival order, and are
 * retried. The queue is bounded: when it is full the oldest batch leaves it and is counted,
 * point by point, in an overflow summary that becomes an `unlogged` event as soon as the log
 * accepts writes again. Nothing is dropped without a record of exactly what it was.
 */
import type { ReadingDraft } from '../core/reading.js';

/** One device/point whose readings never reached the log. */
export interface UnloggedPoint {
  device: string;
  point: string;
  count: number;
  /** Oldest and newest reading timestamp lost, UTC ms. */
  firstTs: number;
  lastTs: number;
}

/** Payload of an `unlogged` event: readings that overflowed the queue while the log could not write. */
export interface UnloggedPayload {
  count: number;
  firstTs: number;
  lastTs: number;
  devices: string[];
  points: UnloggedPoint[];
  /** Why the log refused them (the first failure's store code and SQLite code). */
  reason: string;
}

export interface PendingStatus {
  /** Readings waiting in memory for the log to accept writes again. */
  pendingReadings: number;
  /** Readings that overflowed the queue and are not yet recorded by an `unlogged` event. */
  overflowReadings: number;
}

export class PendingReadings {
  private readonly batches: ReadingDraft[][] = [];
  private readings = 0;
  private overflow = new Map<string, UnloggedPoint>();
  private overflowCount = 0;
  private reason = '';

  constructor(private readonly maxReadings: number) {}

  get empty(): boolean {
    return this.batches.length === 0 && this.overflowCount === 0;
  }

  status(): PendingStatus {
    return { pendingReadings: this.readings, overflowReadings: this.overflowCount };
  }

  /** Queues a batch behind the others; the oldest batches overflow when over the bound. */
  push(drafts: readonly ReadingDraft[], reason: string): void {
    if (this.reason === '') this.reason = reason;
    this.batches.push([...drafts]);
    this.readings += drafts.length;
    while (this.readings > this.maxReadings && this.batches.length > 0) {
      const oldest = this.batches.shift()!;
      this.readings -= oldest.length;
      for (const r of oldest) this.countLost(r);
    }
  }

  /** The oldest waiting batch, if any. */
  peek(): readonly ReadingDraft[] | undefined {
    return this.batches[0];
  }

  /** The oldest batch was committed. */
  shift(): void {
    const b = this.batches.shift();
    if (b) this.readings -= b.length;
  }

  /** The overflow summary to record, or undefined when nothing overflowed. */
  unlogged(): UnloggedPayload | undefined {
    if (this.overflowCount === 0) return undefined;
    const points = [...this.overflow.values()].sort(
      (a, b) => a.device.localeCompare(b.device) || a.point.localeCompare(b.point),
    );
    return {
      count: this.overflowCount,
      firstTs: Math.min(...points.map((p) => p.firstTs)),
      lastTs: Math.max(...points.map((p) => p.lastTs)),
      devices: [...new Set(points.map((p) => p.device))],
      points,
      reason: this.reason,
    };
  }

  /** The overflow summary was recorded. */
  clearUnlogged(): void {
    this.overflow = new Map();
    this.overflowCount = 0;
    if (this.batches.length === 0) this.reason = '';
  }

  private countLost(r: ReadingDraft): void {
    const key = `${r.device}\u0000${r.point}`;
    const p = this.overflow.get(key);
    if (p) {
      p.count++;
      p.firstTs = Math.min(p.firstTs, r.ts);
      p.lastTs = Math.max(p.lastTs, r.ts);
    } else {
      this.overflow.set(key, { device: r.device, point: r.point, count: 1, firstTs: r.ts, lastTs: r.ts });
    }
    this.overflowCount++;
  }
}
