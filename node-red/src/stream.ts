/**
 * What the `lantian gateway` node makes of a gateway's MQTT stream: every payload checked against
 * the contract (gateway/src/uplink/mqtt/contract.ts), its seal checked with the integrity library
 * when a public key is given, and continuity tracked by seq. Records become one item each
 * (reading, aggregate, event, blob); what a platform must know about the stream (holes, duplicate
 * deliveries, failed seals, contract breaks, state and health) becomes a report.
 */
import type { KeyObject } from 'node:crypto';
import { RangeSet, type SeqRange } from '../../gateway/src/store/ranges.js';
import {
  aggBatchSchema,
  blobMessageSchema,
  dataBatchSchema,
  eventMessageSchema,
  healthSchema,
  stateSchema,
  topics,
  type GapEventPayload,
  type Topics,
} from '../../gateway/src/uplink/mqtt/contract.js';
import { fingerprint } from '../../gateway/src/uplink/integrity/keys.js';
import { checkSignature, type Seal } from '../../gateway/src/uplink/integrity/seal.js';

/** `verified`: the seal holds under the key; `failed`: it does not (altered, or another key). */
export type Integrity = 'verified' | 'failed' | 'unsigned' | 'unchecked';

export interface RecordItem {
  kind: 'reading' | 'aggregate' | 'event' | 'blob';
  topic: string;
  payload: unknown;
  gateway: string;
  seq: number;
  lane: 'live' | 'replay';
  integrity: Integrity;
  /** The record as the contract carries it. */
  record: Record<string, unknown>;
}

export type ReportKind =
  'gap' | 'late' | 'duplicate' | 'announced_gap' | 'integrity' | 'invalid' | 'state' | 'health';

export interface Report {
  kind: ReportKind;
  topic: string;
  payload: Record<string, unknown>;
}

export interface StreamCounters {
  messages: number;
  records: number;
  duplicates: number;
  invalid: number;
  failedSeals: number;
  maxSeq: number;
  /** Missing seqs since the first one received that no gap event explains. */
  holes: SeqRange[];
}

type Json = Record<string, unknown>;

export class GatewayStream {
  private readonly t: Topics;
  private readonly seen = new RangeSet();
  private readonly announced = new RangeSet();
  private readonly keyPrint: string | undefined;
  private firstSeq: number | undefined;
  private readonly c = { messages: 0, records: 0, duplicates: 0, invalid: 0, failedSeals: 0 };

  constructor(
    private readonly gatewayId: string,
    topicRoot: string,
    private readonly publicKey?: KeyObject,
  ) {
    this.t = topics(topicRoot);
    this.keyPrint = publicKey ? fingerprint(publicKey) : undefined;
  }

  /** One MQTT message in; the records it carries (duplicates left out) and the reports it causes. */
  push(topic: string, payload: Buffer | string): { items: RecordItem[]; reports: Report[] } {
    this.c.messages++;
    const reports: Report[] = [];
    let body: unknown;
    try {
      body = JSON.parse(payload.toString());
    } catch {
      return this.invalid(topic, 'payload is not JSON');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      return this.invalid(topic, 'payload is not a JSON object');
    const json = body as Json;
    // The seal is checked on the message as received; the contract is checked without it.
    const { seal, ...unsealed } = json;
    if (topic === this.t.state || topic === this.t.health) {
      const r = (topic === this.t.state ? stateSchema : healthSchema).safeParse(unsealed);
      if (!r.success) return this.invalid(topic, r.error.issues[0]?.message ?? 'contract');
      const kind = topic === this.t.state ? 'state' : 'health';
      return { items: [], reports: [{ kind, topic: this.reportTopic(kind), payload: r.data }] };
    }
    const parsed = this.records(topic, unsealed);
    if (typeof parsed === 'string') return this.invalid(topic, parsed);
    const integrity = this.integrity(json, seal);
    if (integrity === 'failed') {
      this.c.failedSeals++;
      reports.push({
        kind: 'integrity',
        topic: this.reportTopic('integrity'),
        payload: {
          topic,
          seqs: [parsed.records[0]!.seq, parsed.records.at(-1)!.seq],
          detail:
            (seal as Partial<Seal>).key !== this.keyPrint
              ? `signed by ${String((seal as Partial<Seal>).key)}, expected ${this.keyPrint}`
              : 'the signature does not match the content: altered in transit or in storage',
        },
      });
    }
    const items: RecordItem[] = [];
    const before = this.seen.last()?.[1];
    const dups: number[] = [];
    const late: number[] = [];
    for (const rec of parsed.records) {
      const seq = rec['seq'] as number;
      if (this.seen.has(seq)) {
        dups.push(seq);
        continue;
      }
      this.firstSeq = Math.min(this.firstSeq ?? seq, seq);
      if (before !== undefined && seq < before) late.push(seq);
      this.seen.add(seq);
      this.c.records++;
      items.push(this.item(parsed.kind, rec, parsed.lane, integrity));
      if (parsed.kind === 'event' && rec['kind'] === 'gap') {
        const g = rec['payload'] as GapEventPayload;
        this.announced.add(g.from, g.to);
        reports.push({ kind: 'announced_gap', topic: this.reportTopic('announced_gap'), payload: { ...g } });
      }
    }
    if (dups.length) {
      this.c.duplicates += dups.length;
      reports.push({
        kind: 'duplicate',
        topic: this.reportTopic('duplicate'),
        payload: { seqs: runs(dups), count: dups.length, lane: parsed.lane },
      });
    }
    if (late.length) {
      reports.push({
        kind: 'late',
        topic: this.reportTopic('late'),
        payload: { seqs: runs(late), lane: parsed.lane, holes: this.holes() },
      });
    }
    const after = this.seen.last()?.[1];
    if (before !== undefined && after !== undefined && after > before) {
      const fresh = this.unexplained(before + 1, after);
      if (fresh.length)
        reports.push({
          kind: 'gap',
          topic: this.reportTopic('gap'),
          payload: { missing: fresh, holes: this.holes() },
        });
    }
    return { items, reports };
  }

  counters(): StreamCounters {
    return { ...this.c, maxSeq: this.seen.last()?.[1] ?? 0, holes: this.holes() };
  }

  private holes(): SeqRange[] {
    const last = this.seen.last()?.[1];
    if (last === undefined || this.firstSeq === undefined) return [];
    return this.unexplained(this.firstSeq, last);
  }

  private unexplained(from: number, to: number): SeqRange[] {
    return this.seen.missingIn(from, to).flatMap(([a, b]) => this.announced.missingIn(a, b));
  }

  private integrity(json: Json, seal: unknown): Integrity {
    if (!this.publicKey) return 'unchecked';
    if (seal === undefined || seal === null) return 'unsigned';
    const s = seal as Partial<Seal>;
    return s.key === this.keyPrint && checkSignature(json, this.publicKey) ? 'verified' : 'failed';
  }

  private records(
    topic: string,
    body: Json,
  ): { kind: RecordItem['kind']; lane: 'live' | 'replay'; records: Json[] } | string {
    const pick = <T extends { lane: 'live' | 'replay' }>(
      r: { success: true; data: T } | { success: false; error: { issues: { message: string }[] } },
      kind: RecordItem['kind'],
      records: (d: T) => Json[],
    ) =>
      r.success
        ? { kind, lane: r.data.lane, records: records(r.data) }
        : (r.error.issues[0]?.message ?? 'contract');
    if (topic === this.t.data) return pick(dataBatchSchema.safeParse(body), 'reading', (d) => d.readings);
    if (topic === this.t.agg) return pick(aggBatchSchema.safeParse(body), 'aggregate', (d) => d.aggregates);
    if (topic === this.t.events) return pick(eventMessageSchema.safeParse(body), 'event', (d) => [d]);
    if (topic.startsWith(this.t.blob(''))) return pick(blobMessageSchema.safeParse(body), 'blob', (d) => [d]);
    return `topic ${topic} is not part of the contract`;
  }

  private item(
    kind: RecordItem['kind'],
    rec: Json,
    lane: 'live' | 'replay',
    integrity: Integrity,
  ): RecordItem {
    const base = { kind, gateway: this.gatewayId, seq: rec['seq'] as number, lane, integrity, record: rec };
    const g = this.gatewayId;
    switch (kind) {
      case 'reading':
        return {
          ...base,
          topic: `${g}/${String(rec['device'])}/${String(rec['point'])}`,
          payload: rec['value'],
        };
      case 'aggregate':
        return {
          ...base,
          topic: `${g}/${String(rec['device'])}/${String(rec['point'])}/${String(rec['period'])}`,
          payload: rec['avg'],
        };
      case 'event':
        return { ...base, topic: `${g}/events/${String(rec['kind'])}`, payload: rec['payload'] };
      case 'blob':
        return {
          ...base,
          topic: `${g}/blob/${String(rec['kind'])}`,
          payload: Buffer.from(String(rec['data']), 'base64'),
        };
    }
  }

  private reportTopic(kind: ReportKind): string {
    return `${this.gatewayId}/stream/${kind}`;
  }

  private invalid(topic: string, detail: string): { items: RecordItem[]; reports: Report[] } {
    this.c.invalid++;
    return {
      items: [],
      reports: [{ kind: 'invalid', topic: this.reportTopic('invalid'), payload: { topic, detail } }],
    };
  }
}

/** Consecutive numbers as ranges: [1,2,3,7] -> [[1,3],[7,7]]. */
function runs(seqs: readonly number[]): SeqRange[] {
  const sorted = [...seqs].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last && s === last[1] + 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}
