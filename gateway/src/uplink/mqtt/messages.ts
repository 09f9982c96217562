/**
 * Log records to MQTT messages. A chunk of records (ascending seq) becomes one message per run
 * of consecutive records of one kind, so within a lane messages leave in seq order across topics.
 * A batch whose payload would exceed `maxBytes` is split in halves until each part fits (managed
 * brokers commonly refuse larger messages); a reading, aggregate or event is never split. A blob
 * larger than the limit is cut into parts, each its own message with the blob's seq and a `chunk`
 * field (index, count, size and SHA-256 of the whole). With a sealer, each message is sealed as
 * it is cut, in order (the size check leaves room for the seal), so every part is signed and
 * chained like any record message.
 */
import { createHash } from 'node:crypto';
import { LantianError } from '../../core/errors.js';
import type { LogRecord } from '../../store/records.js';
import { outgoingCheck } from './outgoing-check.js';
import {
  aggBatchSchema,
  blobMessageSchema,
  CONTRACT_VERSION,
  dataBatchSchema,
  eventMessageSchema,
  type AggBatch,
  type BlobMessage,
  type DataBatch,
  type EventMessage,
  type Lane,
  type Topics,
  type WireReading,
} from './contract.js';

export interface OutgoingMessage {
  topic: string;
  payload: string;
}

/** Seals each message as the next of its chain (see gateway/src/uplink/integrity/seal.ts). */
export interface MessageSealer {
  /** Bytes a seal adds to a payload at most: kept free below `maxBytes`. */
  readonly reserveBytes: number;
  /** The `seal` object of `body` as the next message of `chain` (data, agg, events, blob/<kind>). */
  seal(chain: string, body: object): object;
}

/**
 * The payload with its seal as the last field: the same bytes as `JSON.stringify({...body, seal})`,
 * without serialising the body twice.
 */
function withSeal(payload: string, sealer: MessageSealer | undefined, chain: string, body: object): string {
  if (!sealer) return payload;
  return `${payload.slice(0, -1)},"seal":${JSON.stringify(sealer.seal(chain, body))}}`;
}

type Of<T extends LogRecord['type']> = Extract<LogRecord, { type: T }>;

function wireReading(r: Of<'reading'>): WireReading {
  const w: WireReading = {
    seq: r.seq,
    ts: r.ts,
    device: r.device,
    point: r.point,
    value: r.value,
    flag: r.flag,
  };
  if (r.quality !== undefined) w.quality = r.quality;
  if (r.raw !== undefined) w.raw = r.raw;
  if (r.missed !== undefined) w.missed = r.missed;
  return w;
}

function checked(
  schema: { safeParse(v: unknown): { success: boolean; error?: unknown } },
  value: unknown,
  topic: string,
): void {
  // The batch topics have a compiled check (outgoing-check.ts); zod only explains a failure.
  const fast = outgoingCheck(schema);
  const problem = fast?.(value);
  if (fast && problem === undefined) return;
  const r = schema.safeParse(value);
  if (!r.success || fast) {
    throw new LantianError('UPLINK_PAYLOAD_INVALID', `outgoing message on ${topic} breaks the contract`, {
      cause: r.success ? problem : r.error,
      context: { topic },
    });
  }
}

/** first/last/count of a non-empty run. */
function span(items: readonly { seq: number }[]): { first: number; last: number; count: number } {
  return { first: items[0]!.seq, last: items.at(-1)!.seq, count: items.length };
}

export function toMessages(
  records: readonly LogRecord[],
  lane: Lane,
  gateway: string,
  t: Topics,
  validate: boolean,
  maxBytes = Infinity,
  sealer?: MessageSealer,
): OutgoingMessage[] {
  const out: OutgoingMessage[] = [];
  const limit = maxBytes - (sealer?.reserveBytes ?? 0);
  const emit = (topic: string, chain: string, body: object, schema: Parameters<typeof checked>[0]) => {
    if (validate) checked(schema, body, topic);
    out.push({ topic, payload: withSeal(JSON.stringify(body), sealer, chain, body) });
  };
  /** A batch of items, in as many messages as it takes to keep each within maxBytes. */
  const emitBatch = <T extends { seq: number }>(
    topic: string,
    chain: 'data' | 'agg',
    items: T[],
    build: (items: T[]) => object,
    schema: Parameters<typeof checked>[0],
  ) => {
    const body = build(items);
    const payload = JSON.stringify(body);
    if (items.length > 1 && Buffer.byteLength(payload) > limit) {
      const half = Math.ceil(items.length / 2);
      emitBatch(topic, chain, items.slice(0, half), build, schema);
      emitBatch(topic, chain, items.slice(half), build, schema);
      return;
    }
    if (validate) checked(schema, body, topic);
    out.push({ topic, payload: withSeal(payload, sealer, chain, body) });
  };
  const head = { v: CONTRACT_VERSION, gateway, lane } as const;
  /** One message, or parts that each fit, for a blob; the seal of chain blob/<kind> is longer. */
  const emitBlob = (b: Of<'blob'>) => {
    const chain = `blob/${b.kind}`;
    const room = limit - Math.max(0, chain.length - 'events'.length);
    const bytes = Buffer.from(b.bytes);
    const m: BlobMessage = {
      ...head,
      seq: b.seq,
      ts: b.ts,
      kind: b.kind,
      contentType: b.contentType,
      ...(b.source === undefined ? {} : { source: b.source }),
      ...(b.trigger === undefined ? {} : { trigger: b.trigger }),
      data: '',
    };
    const whole = { ...m, data: bytes.toString('base64') };
    if (Buffer.byteLength(JSON.stringify(whole)) <= room) {
      emit(t.blob(b.kind), chain, whole, blobMessageSchema);
      return;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // The frame of a part with the largest index and count it can have; base64 takes 4 per 3 bytes.
    const frame = { ...m, chunk: { index: bytes.length, count: bytes.length, size: bytes.length, sha256 } };
    const perPart = Math.floor((room - Buffer.byteLength(JSON.stringify(frame))) / 4) * 3;
    if (perPart <= 0) {
      throw new LantianError(
        'UPLINK_PAYLOAD_INVALID',
        `a blob's frame alone does not fit in ${maxBytes} bytes on ${t.blob(b.kind)}`,
        { context: { topic: t.blob(b.kind), seq: b.seq, maxBytes } },
      );
    }
    // At least two parts (base64 padding can leave a blob just over the limit whole and under it cut).
    const count = Math.max(2, Math.ceil(bytes.length / perPart));
    const step = Math.ceil(bytes.length / count);
    for (let index = 0; index < count; index++) {
      const data = bytes.subarray(index * step, (index + 1) * step).toString('base64');
      const part: BlobMessage = { ...m, chunk: { index, count, size: bytes.length, sha256 }, data };
      emit(t.blob(b.kind), chain, part, blobMessageSchema);
    }
  };
  for (let i = 0; i < records.length;) {
    const r = records[i]!;
    let j = i + 1;
    while (j < records.length && records[j]!.type === r.type) j++;
    const run = records.slice(i, j);
    i = j;
    switch (r.type) {
      case 'reading': {
        const build = (readings: WireReading[]): DataBatch => ({ ...head, ...span(readings), readings });
        emitBatch(t.data, 'data', (run as Of<'reading'>[]).map(wireReading), build, dataBatchSchema);
        break;
      }
      case 'aggregate': {
        const build = (aggregates: AggBatch['aggregates']): AggBatch => ({
          ...head,
          ...span(aggregates),
          aggregates,
        });
        emitBatch(
          t.agg,
          'agg',
          (run as Of<'aggregate'>[]).map(({ type: _t, ...a }) => a),
          build,
          aggBatchSchema,
        );
        break;
      }
      case 'event':
        for (const e of run as Of<'event'>[]) {
          const m: EventMessage = { ...head, seq: e.seq, ts: e.ts, kind: e.kind, payload: e.payload };
          emit(t.events, 'events', m, eventMessageSchema);
        }
        break;
      case 'blob':
        for (const b of run as Of<'blob'>[]) emitBlob(b);
        break;
      default: {
        const never: never = r;
        throw new Error(`unknown record ${JSON.stringify(never)}`);
      }
    }
  }
  return out;
}

/** Timestamp a record stands for: acquisition time, or the start of an aggregate's period. */
export function recordTs(r: LogRecord): number {
  return r.type === 'aggregate' ? r.start : r.ts;
}
