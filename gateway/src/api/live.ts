/**
 * What the local web page shows, kept in memory: the newest value of every point with a short
 * history for its sparkline, recent events, and the gateway's status. It follows the log the
 * way an uplink does (onAppend, then read from its own position), so the page shows exactly what
 * was committed and never a value the log refused. It keeps no cursor: a restart starts again
 * from the newest records.
 */
import type { Flag } from '../core/flags.js';
import type { Quality } from '../core/reading.js';
import type { LogRecord, LogStats } from '../store/index.js';

/** The log as the page needs it (the real Log satisfies it). */
export interface LogFollower {
  readonly lastSeq: number;
  read(after: number, limit: number): LogRecord[];
  onAppend(listener: (lastSeq: number) => void): () => void;
  stats(): LogStats;
  /** The newest blob of a kind from a source (a camera's last picture). */
  latestBlob?(
    kind: string,
    source?: string,
  ): { seq: number; contentType: string; bytes: Uint8Array } | undefined;
}

/** One point's column on the page, taken from the device's profile. */
export interface PointMeta {
  key: string;
  name: string;
  unit: string;
  range?: [number, number];
}

export interface DeviceMeta {
  id: string;
  name?: string;
  profile: string;
  bus: string;
  unitId: number;
  periodMs: number;
  points: PointMeta[];
}

export interface PointLive {
  ts: number;
  seq: number;
  value: number | string | null;
  flag: Flag;
  quality?: Quality[];
}

export interface EventLive {
  seq: number;
  ts: number;
  kind: string;
  payload: unknown;
}

/** A sparkline sample: [ts, value]; null values (flag B) leave a hole. */
export type Sample = [number, number | null];

/** Everything the page renders; also GET /api/state. */
export interface LiveSnapshot {
  gateway: { id: string; name?: string; site: string };
  devices: DeviceMeta[];
  latest: Record<string, PointLive>;
  history: Record<string, Sample[]>;
  events: EventLive[];
  status: unknown;
}

/** Newly committed readings and events, pushed to the page as one message. */
export interface LiveDelta {
  latest: Record<string, PointLive>;
  events: EventLive[];
}

export interface LiveViewOptions {
  gateway: LiveSnapshot['gateway'];
  devices: DeviceMeta[];
  /** Samples kept per point for its sparkline. Default 120. */
  historyLength?: number;
  /** Events kept for the page. Default 50. */
  eventCount?: number;
  /** Records read back from the log at start, so the page is not empty. Default 5000. */
  backfill?: number;
  /** The gateway's status (health, uplinks, log), taken each time it is pushed. */
  status: () => unknown;
}

const READ_CHUNK = 1000;

export class LiveView {
  private readonly latest = new Map<string, PointLive>();
  private readonly history = new Map<string, Sample[]>();
  private readonly events: EventLive[] = [];
  private readonly historyLength: number;
  private readonly eventCount: number;
  private position: number;

  constructor(
    private readonly log: LogFollower,
    private readonly options: LiveViewOptions,
  ) {
    this.historyLength = options.historyLength ?? 120;
    this.eventCount = options.eventCount ?? 50;
    this.position = Math.max(0, log.lastSeq - (options.backfill ?? 5000));
    this.catchUp();
  }

  /** Reads what the log committed since the last call and folds it in; returns what was new. */
  catchUp(): LiveDelta {
    const delta: LiveDelta = { latest: {}, events: [] };
    for (;;) {
      const records = this.log.read(this.position, READ_CHUNK);
      for (const r of records) this.fold(r, delta);
      if (records.length < READ_CHUNK) break;
    }
    // Reads skip nothing, but a gap in seqs (other record kinds, evictions) is normal.
    this.position = Math.max(this.position, this.log.lastSeq);
    return delta;
  }

  private fold(r: LogRecord, delta: LiveDelta): void {
    this.position = Math.max(this.position, r.seq);
    if (r.type === 'reading') {
      const ref = `${r.device}/${r.point}`;
      const live: PointLive = { ts: r.ts, seq: r.seq, value: r.value, flag: r.flag };
      if (r.quality && r.quality.length > 0) live.quality = r.quality;
      this.latest.set(ref, live);
      delta.latest[ref] = live;
      if (typeof r.value === 'number' || r.value === null) {
        let h = this.history.get(ref);
        if (!h) this.history.set(ref, (h = []));
        h.push([r.ts, r.value]);
        if (h.length > this.historyLength) h.splice(0, h.length - this.historyLength);
      }
    } else if (r.type === 'event') {
      const e: EventLive = { seq: r.seq, ts: r.ts, kind: r.kind, payload: r.payload };
      this.events.push(e);
      if (this.events.length > this.eventCount) this.events.shift();
      delta.events.push(e);
    }
  }

  status(): unknown {
    return this.options.status();
  }

  snapshot(): LiveSnapshot {
    return {
      gateway: this.options.gateway,
      devices: this.options.devices,
      latest: Object.fromEntries(this.latest),
      history: Object.fromEntries([...this.history].map(([k, v]) => [k, [...v]])),
      events: [...this.events],
      status: this.status(),
    };
  }
}
