/**
 * The platform, played by the simulator's side: an independent MQTT subscriber that reads the
 * gateway's stream as plain JSON checked against the published JSON Schema (see contract.ts) and
 * keeps what a receiving platform must know, per log epoch (`logId`: a new one means the
 * gateway's seqs started again): records received, duplicates (by seq), reordering within a
 * lane, gaps the gateway announced (with their reason) and holes nobody explained.
 *
 * Tests and the demo count with this, never with the gateway's own receiver or contract code:
 * it looks like gateway/src/uplink/mqtt/receiver.ts in places, on purpose written apart from it,
 * so that a bug there (or in the zod contract it checks with) cannot hide itself here.
 */
import { createHash } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  ContractReader,
  type BlobPart,
  type GapAnnouncement,
  type Lane,
  type PlatformEvent,
  type PlatformHealth,
  type PlatformState,
  type PlatformReading,
} from './contract.js';
import { SeqSet, type SeqRange } from './seq-set.js';

export interface PlatformOptions {
  url: string;
  gatewayId: string;
  /** Default `lantian/v1/<gatewayId>/`. */
  topicRoot?: string;
  /** Default a fresh random id; give a stable one to resume a persistent session. */
  clientId?: string;
  /** Persistent session (default) so the broker keeps messages while the platform is away. */
  clean?: boolean;
  /** First seq expected in the first epoch; seqs below it are not holes. Default 1. */
  fromSeq?: number;
  /** Keep every reading by seq (for content checks); default false. */
  keepReadings?: boolean;
  /** The JSON Schema file; default docs/mqtt-schema.json. */
  schemaFile?: string;
  /** Extra mqtt.js options (TLS files, credentials). */
  client?: IClientOptions;
}

export interface LaneStats {
  messages: number;
  /** Highest seq seen on this lane. */
  lastSeq: number;
}

/** One sequence space: the records of one log (one `logId`). */
export interface EpochStats {
  /** The log's id, '' until the gateway named it (in health, or in the payloads themselves). */
  logId: string;
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
  /** Gap events received: ranges the gateway announced as gone, with the reason. */
  gaps: GapAnnouncement[];
  /** Missing seqs (from the first expected to `maxSeq`) that no gap event explains. */
  holes: SeqRange[];
}

/** The current epoch's figures at the top level, every epoch in `epochs`. */
export interface PlatformStats extends EpochStats {
  messages: number;
  /** Payloads that broke the contract (ignored otherwise). */
  invalid: number;
  /** Why, for the first few. */
  invalidReasons: string[];
  epochs: EpochStats[];
  state?: PlatformState;
  health?: PlatformHealth;
}

export interface ReadingInfo {
  logId: string;
  lane: Lane;
}

export interface PlatformWitness {
  stats(): PlatformStats;
  /** Resolves with the stats once `predicate` holds (checked after every message). */
  waitFor(predicate: (s: PlatformStats) => boolean, timeoutMs?: number): Promise<PlatformStats>;
  /** Readings of the current epoch by seq (with keepReadings). */
  readonly readings: ReadonlyMap<number, PlatformReading>;
  /** Readings of every epoch (with keepReadings). */
  readingsOf(logId: string): ReadonlyMap<number, PlatformReading> | undefined;
  events: PlatformEvent[];
  /** Blobs received whole (parts joined and checked against their SHA-256), by seq, newest 50. */
  readonly blobs: ReadonlyMap<number, ReceivedBlob>;
  /** Called once for every reading the first time its seq arrives (duplicates are not repeated). */
  onReading(listener: (r: PlatformReading, info: ReadingInfo) => void): void;
  close(): Promise<void>;
}

const SAMPLES = 20;
const KEPT_BLOBS = 50;

/** A blob as the platform holds it: its parts joined. */
export interface ReceivedBlob extends Omit<BlobPart, 'chunk'> {
  /** Messages it came in. */
  parts: number;
}

/**
 * Joins the parts of cut blobs. Returns the whole blob when `part` completes one (or is one),
 * a reason when the joined bytes do not match the size and SHA-256 the parts announced, and
 * undefined while parts are missing.
 */
class BlobAssembly {
  private readonly open = new Map<number, (Buffer | undefined)[]>();

  take(part: BlobPart): ReceivedBlob | string | undefined {
    const whole = (bytes: Buffer, parts: number): ReceivedBlob => ({
      seq: part.seq,
      kind: part.kind,
      contentType: part.contentType,
      ...(part.source === undefined ? {} : { source: part.source }),
      ...(part.trigger === undefined ? {} : { trigger: part.trigger }),
      bytes,
      parts,
    });
    const c = part.chunk;
    if (!c) return whole(part.bytes, 1);
    let parts = this.open.get(part.seq);
    if (!parts || parts.length !== c.count)
      this.open.set(part.seq, (parts = new Array<Buffer | undefined>(c.count).fill(undefined)));
    parts[c.index] = part.bytes;
    if (parts.some((p) => p === undefined)) return undefined;
    this.open.delete(part.seq);
    const bytes = Buffer.concat(parts as Buffer[]);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== c.size || sha !== c.sha256)
      return `blob ${part.seq}: joined parts give ${bytes.length} bytes with another SHA-256 than announced`;
    return whole(bytes, c.count);
  }
}

class Epoch {
  readonly seen = new SeqSet();
  private readonly dups = new SeqSet();
  private readonly announced = new SeqSet();
  readonly readings = new Map<number, PlatformReading>();
  readonly gaps: GapAnnouncement[] = [];
  readonly lanes: Record<Lane, LaneStats> = {
    live: { messages: 0, lastSeq: 0 },
    replay: { messages: 0, lastSeq: 0 },
  };
  private duplicates = 0;
  private reorders = 0;
  private readonly reordered: EpochStats['reordered'] = [];

  constructor(
    public logId: string,
    private readonly fromSeq: number,
  ) {}

  /** Takes a message's seqs; returns the seqs that were new. */
  take(lane: Lane, seqs: readonly number[], topic: string): Set<number> {
    const l = this.lanes[lane];
    l.messages++;
    const fresh = new Set<number>();
    let first: { seq: number; after: number } | undefined;
    for (const s of seqs) {
      if (this.seen.add(s) === 0) {
        this.duplicates++;
        this.dups.add(s);
        continue;
      }
      fresh.add(s);
      if (s < l.lastSeq) first ??= { seq: s, after: l.lastSeq };
      l.lastSeq = Math.max(l.lastSeq, s);
    }
    if (first) {
      this.reorders++;
      if (this.reordered.length < SAMPLES) this.reordered.push({ lane, topic, ...first });
    }
    return fresh;
  }

  announce(g: GapAnnouncement): void {
    this.gaps.push(g);
    this.announced.add(g.from, g.to);
  }

  stats(): EpochStats {
    const maxSeq = this.seen.last();
    const holes =
      maxSeq < this.fromSeq
        ? []
        : this.seen.missingIn(this.fromSeq, maxSeq).flatMap(([a, b]) => this.announced.missingIn(a, b));
    return {
      logId: this.logId,
      records: this.seen.size,
      maxSeq,
      duplicates: this.duplicates,
      duplicateRanges: this.dups.toArray(),
      reorders: this.reorders,
      reordered: [...this.reordered],
      lanes: { live: { ...this.lanes.live }, replay: { ...this.lanes.replay } },
      gaps: [...this.gaps],
      holes,
    };
  }
}

export async function startPlatform(options: PlatformOptions): Promise<PlatformWitness> {
  const contract = new ContractReader(options.schemaFile);
  const root = options.topicRoot ?? `lantian/v1/${options.gatewayId}/`;
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const epochs: Epoch[] = [new Epoch('', options.fromSeq ?? 1)];
  let current = epochs[0]!;
  const events: PlatformEvent[] = [];
  const blobs = new Map<number, ReceivedBlob>();
  const assembly = new BlobAssembly();
  const listeners: ((r: PlatformReading, info: ReadingInfo) => void)[] = [];
  const c = { messages: 0, invalid: 0 };
  const invalidReasons: string[] = [];
  let state: PlatformState | undefined;
  let health: PlatformHealth | undefined;
  const waiters = new Set<() => void>();

  /**
   * The epoch a message belongs to. The first named log adopts what came before it; a log not
   * seen before starts a new sequence space and becomes current; an older one stays where it was.
   */
  const epochFor = (logId: string | undefined): Epoch => {
    if (logId === undefined || logId === current.logId) return current;
    if (current.logId === '') {
      current.logId = logId;
      return current;
    }
    const known = epochs.find((e) => e.logId === logId);
    if (known) return known;
    current = new Epoch(logId, 1);
    epochs.push(current);
    return current;
  };

  const onMessage = (topic: string, payload: Buffer) => {
    c.messages++;
    const m = topic.startsWith(prefix) ? contract.read(topic.slice(prefix.length), payload) : undefined;
    switch (m?.topic) {
      case undefined:
      case 'other':
        break;
      case 'invalid':
        c.invalid++;
        if (invalidReasons.length < SAMPLES) invalidReasons.push(m.why);
        break;
      case 'state':
        state = m.body;
        break;
      case 'health':
        health = m.body;
        epochFor(m.logId);
        break;
      case 'blob': {
        // A cut blob is one record: it counts when its last missing part arrives.
        const done = assembly.take(m.blob);
        if (done === undefined) break;
        if (typeof done === 'string') {
          c.invalid++;
          if (invalidReasons.length < SAMPLES) invalidReasons.push(done);
          break;
        }
        blobs.set(done.seq, done);
        if (blobs.size > KEPT_BLOBS) blobs.delete(blobs.keys().next().value!);
        epochFor(m.logId).take(m.lane, m.seqs, topic);
        break;
      }
      case 'data':
      case 'agg':
      case 'events': {
        const epoch = epochFor(m.logId);
        if (m.topic === 'events') {
          // A gap event names a range gone from the log; a repeat of the event announces nothing new.
          if (m.gap && !epoch.seen.has(m.event.seq)) epoch.announce(m.gap);
          events.push(m.event);
        }
        const fresh = epoch.take(m.lane, m.seqs, topic);
        if (m.topic !== 'data') break;
        for (const r of m.readings) {
          if (!fresh.has(r.seq)) continue;
          if (options.keepReadings) epoch.readings.set(r.seq, r);
          for (const l of listeners) l(r, { logId: epoch.logId, lane: m.lane });
        }
        break;
      }
    }
    for (const w of waiters) w();
  };

  const stats = (): PlatformStats => ({
    ...current.stats(),
    ...c,
    invalidReasons: [...invalidReasons],
    epochs: epochs.map((e) => e.stats()),
    ...(state ? { state } : {}),
    ...(health ? { health } : {}),
  });

  const client: MqttClient = await mqtt.connectAsync(options.url, {
    clientId: options.clientId ?? `lantian-platform-${Math.random().toString(36).slice(2, 10)}`,
    clean: options.clean ?? false,
    protocolVersion: 4,
    reconnectPeriod: 250,
    ...options.client,
  });
  client.on('message', onMessage);
  // Re-subscribe on every connect: a broker restarted without persistence forgets subscriptions.
  client.on('connect', (ack) => {
    if (!ack.sessionPresent) void client.subscribeAsync(`${prefix}#`, { qos: 1 }).catch(() => undefined);
  });
  await client.subscribeAsync(`${prefix}#`, { qos: 1 });

  return {
    stats,
    get readings() {
      return current.readings;
    },
    readingsOf: (logId) => epochs.find((e) => e.logId === logId)?.readings,
    events,
    blobs,
    onReading: (l) => void listeners.push(l),
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
              `platform: condition not met within ${timeoutMs} ms; stats ${JSON.stringify(summary(stats()))}`,
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
export function summary(s: PlatformStats): Record<string, unknown> {
  return {
    logId: s.logId,
    epochs: s.epochs.length,
    messages: s.messages,
    invalid: s.invalid,
    invalidReasons: s.invalidReasons.slice(0, 3),
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
