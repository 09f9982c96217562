/**
 * The receiving side, for tests, the demo and platform integrators: subscribes to one gateway,
 * checks every payload against the contract, reassembles the stream by seq and reports what a
 * platform must know: duplicates (by seq), reordering within a lane, gaps the gateway announced
 * (with their reason) and holes nobody explained.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { RangeSet, type SeqRange } from '../../store/ranges.js';
import {
  aggBatchSchema,
  blobMessageSchema,
  dataBatchSchema,
  defaultTopicRoot,
  eventMessageSchema,
  healthSchema,
  stateSchema,
  topics,
  type EventMessage,
  type GapEventPayload,
  type HealthMessage,
  type Lane,
  type StateMessage,
  type WireReading,
} from './contract.js';

export interface ReceiverOptions {
  url: string;
  gatewayId: string;
  /** Default `lantian/v1/<gatewayId>/`. */
  topicRoot?: string;
  /** Default a fresh random id; give a stable one to resume a persistent session. */
  clientId?: string;
  /** Persistent session (default) so the broker keeps messages while the receiver is away. */
  clean?: boolean;
  /** First seq the receiver expects; seqs below it are not holes. Default 1. */
  fromSeq?: number;
  /** Keep every reading by seq (for content checks); default false. */
  keepReadings?: boolean;
  /** Extra mqtt.js options (TLS files, credentials). */
  client?: IClientOptions;
}

export interface LaneStats {
  messages: number;
  /** Highest seq seen on this lane. */
  lastSeq: number;
}

export interface ReceiverStats {
  messages: number;
  /** Payloads that broke the contract (ignored otherwise). */
  invalid: number;
  /** Distinct seqs received. */
  records: number;
  maxSeq: number;
  /** Deliveries of a seq already received. */
  duplicates: number;
  duplicateRanges: SeqRange[];
  /** Messages that brought new seqs lower than their lane had already reached. */
  reorders: number;
  /** The first few of those: lane, lowest new seq, and the seq the lane had reached. */
  reordered: { lane: Lane; seq: number; after: number; topic: string }[];
  lanes: Record<Lane, LaneStats>;
  gaps: GapEventPayload[];
  /** Missing seqs (from `fromSeq` to `maxSeq`) that no gap event explains. */
  holes: SeqRange[];
  state?: StateMessage;
  health?: HealthMessage;
}

export interface Receiver {
  stats(): ReceiverStats;
  /** Resolves with the stats once `predicate` holds (checked after every message). */
  waitFor(predicate: (s: ReceiverStats) => boolean, timeoutMs?: number): Promise<ReceiverStats>;
  readings: ReadonlyMap<number, WireReading>;
  events: EventMessage[];
  close(): Promise<void>;
}

/** Consecutive numbers as ranges: [1,2,3,7] -> [[1,3],[7,7]]. */
function runs(seqs: readonly number[]): SeqRange[] {
  const out: [number, number][] = [];
  for (const s of seqs) {
    const last = out.at(-1);
    if (last && s === last[1] + 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

export async function createReceiver(options: ReceiverOptions): Promise<Receiver> {
  const t = topics(options.topicRoot ?? defaultTopicRoot(options.gatewayId));
  const seen = new RangeSet();
  const dupSeqs = new RangeSet();
  const announced = new RangeSet();
  const readings = new Map<number, WireReading>();
  const events: EventMessage[] = [];
  const lanes: Record<Lane, LaneStats> = {
    live: { messages: 0, lastSeq: 0 },
    replay: { messages: 0, lastSeq: 0 },
  };
  const gaps: GapEventPayload[] = [];
  const c = { messages: 0, invalid: 0, duplicates: 0, reorders: 0 };
  let state: StateMessage | undefined;
  let health: HealthMessage | undefined;
  const waiters = new Set<() => void>();

  const reordered: ReceiverStats['reordered'] = [];
  const take = (lane: Lane, seqs: readonly number[], topic: string) => {
    const l = lanes[lane];
    l.messages++;
    let first: { seq: number; after: number } | undefined;
    for (const [a, b] of runs(seqs)) {
      const missing = seen.missingIn(a, b);
      const fresh = missing.reduce((n, [x, y]) => n + y - x + 1, 0);
      if (fresh < b - a + 1) {
        c.duplicates += b - a + 1 - fresh;
        let at = a;
        for (const [x, y] of [...missing, [b + 1, b + 1] as const]) {
          if (x > at) dupSeqs.add(at, x - 1);
          at = y + 1;
        }
      }
      if (fresh > 0 && missing[0]![0] < l.lastSeq) first ??= { seq: missing[0]![0], after: l.lastSeq };
      seen.add(a, b);
      l.lastSeq = Math.max(l.lastSeq, b);
    }
    if (!first) return;
    c.reorders++;
    if (reordered.length < 20) reordered.push({ lane, topic, ...first });
  };

  const onMessage = (topic: string, payload: Buffer) => {
    c.messages++;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      c.invalid++;
    }
    // JSON.parse never returns undefined: undefined here means the payload was not JSON.
    if (body !== undefined && !parse(topic, body)) c.invalid++;
    for (const w of waiters) w();
  };

  const parse = (topic: string, body: unknown): boolean => {
    if (topic === t.data) {
      const r = dataBatchSchema.safeParse(body);
      if (!r.success) return false;
      if (options.keepReadings) for (const x of r.data.readings) readings.set(x.seq, x);
      take(
        r.data.lane,
        r.data.readings.map((x) => x.seq),
        topic,
      );
      return true;
    }
    if (topic === t.agg) {
      const r = aggBatchSchema.safeParse(body);
      if (r.success)
        take(
          r.data.lane,
          r.data.aggregates.map((x) => x.seq),
          topic,
        );
      return r.success;
    }
    if (topic === t.events) {
      const r = eventMessageSchema.safeParse(body);
      if (!r.success) return false;
      events.push(r.data);
      if (r.data.kind === 'gap' && !seen.has(r.data.seq)) {
        const g = r.data.payload as GapEventPayload;
        gaps.push(g);
        announced.add(g.from, g.to);
      }
      take(r.data.lane, [r.data.seq], topic);
      return true;
    }
    if (topic.startsWith(t.blob(''))) {
      const r = blobMessageSchema.safeParse(body);
      // A blob cut into parts is one record: counted once, at its last part.
      const chunk = r.success ? r.data.chunk : undefined;
      if (r.success && (!chunk || chunk.index === chunk.count - 1)) take(r.data.lane, [r.data.seq], topic);
      return r.success;
    }
    if (topic === t.state) {
      const r = stateSchema.safeParse(body);
      if (r.success) state = r.data;
      return r.success;
    }
    if (topic === t.health) {
      const r = healthSchema.safeParse(body);
      if (r.success) health = r.data;
      return r.success;
    }
    return true;
  };

  const stats = (): ReceiverStats => {
    const maxSeq = seen.last()?.[1] ?? 0;
    const from = options.fromSeq ?? 1;
    const holes =
      maxSeq < from ? [] : seen.missingIn(from, maxSeq).flatMap(([a, b]) => announcedMissing(a, b));
    const s: ReceiverStats = {
      ...c,
      records: seen.size,
      maxSeq,
      duplicateRanges: dupSeqs.toArray(),
      reordered: [...reordered],
      lanes: { live: { ...lanes.live }, replay: { ...lanes.replay } },
      gaps: [...gaps],
      holes,
    };
    if (state) s.state = state;
    if (health) s.health = health;
    return s;
  };
  const announcedMissing = (a: number, b: number): SeqRange[] => announced.missingIn(a, b);

  const client: MqttClient = await mqtt.connectAsync(options.url, {
    clientId: options.clientId ?? `lantian-receiver-${Math.random().toString(36).slice(2, 10)}`,
    clean: options.clean ?? false,
    protocolVersion: 4,
    reconnectPeriod: 250,
    ...options.client,
  });
  client.on('message', onMessage);
  // Re-subscribe on every connect: a broker restarted without persistence forgets subscriptions.
  client.on('connect', (ack) => {
    if (!ack.sessionPresent) void client.subscribeAsync(t.all, { qos: 1 }).catch(() => undefined);
  });
  await client.subscribeAsync(t.all, { qos: 1 });

  return {
    stats,
    readings,
    events,
    waitFor(predicate, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const s = stats();
          if (!predicate(s)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(s);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `receiver: condition not met within ${timeoutMs} ms; stats ${JSON.stringify(summary(stats()))}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      waiters.clear();
      await client.endAsync(true);
    },
  };
}

/** The stats without long lists, for messages and logs. */
export function summary(s: ReceiverStats): Record<string, unknown> {
  return {
    messages: s.messages,
    invalid: s.invalid,
    records: s.records,
    maxSeq: s.maxSeq,
    duplicates: s.duplicates,
    reorders: s.reorders,
    reordered: s.reordered.slice(0, 5),
    lanes: s.lanes,
    gaps: s.gaps.length,
    holes: s.holes.slice(0, 5),
  };
}
