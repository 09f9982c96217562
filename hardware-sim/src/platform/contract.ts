/**
 * The platform's reading of the MQTT contract: the published JSON Schema (docs/mqtt-schema.json)
 * checked with ajv, plus the rules a JSON Schema cannot state (a batch's first/last/count agree
 * with its items, which ascend by seq; a gap event's payload), written here again on purpose.
 * Nothing of the gateway's own contract code is used, so a bug there cannot hide itself here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

export type Lane = 'live' | 'replay';

export interface PlatformReading {
  seq: number;
  ts: number;
  device: string;
  point: string;
  value: number | string | null;
  flag: string;
  quality?: string[];
  raw?: number[];
  /** Slots of the device that overran before this reading's poll: B samples at their due times. */
  missed?: { slots: number; from: number; periodMs: number };
}

export interface GapAnnouncement {
  from: number;
  to: number;
  count: number;
  reason: string;
  kinds: string[];
  uplinks: string[];
}

/** A blob message: the whole blob, or one part of a blob cut to fit the message size. */
export interface BlobPart {
  seq: number;
  kind: string;
  contentType: string;
  source?: string;
  trigger?: Record<string, unknown>;
  bytes: Buffer;
  /** Absent for a blob sent whole. */
  chunk?: { index: number; count: number; size: number; sha256: string };
}

export interface PlatformEvent {
  seq: number;
  ts: number;
  lane: Lane;
  kind: string;
  payload: unknown;
}

interface TxCounters {
  requests: number;
  timeouts: number;
  crcErrors: number;
  exceptions: number;
  badReplies: number;
  latencyP95Ms: number | null;
}

/**
 * The retained health message as the platform reads it: the fields the contract's JSON Schema
 * requires (checked before a message gets this type); newer fields pass through unnamed.
 */
export interface PlatformHealth {
  gateway: string;
  ts: number;
  boot: number;
  logId: string;
  log: { lastSeq: number; bytes: number; quotaBytes: number | null };
  uplink: {
    lane: Lane;
    ackedThrough: number;
    backlog: number;
    oldestUndeliveredTs: number | null;
    oldestUndeliveredAgeMs: number | null;
    inFlight: number;
  };
  counters: Record<string, number>;
  devices: Record<string, { readings: number; flagged: number; lastTs: number }>;
  acquisition?: {
    buses: ({ bus: string; connected: boolean } & TxCounters)[];
    devices: ({
      device: string;
      bus: string;
      state: string;
      polls: number;
      failedPolls: number;
    } & TxCounters)[];
    /** Acquisition held back by an overloaded gateway (absent from older gateways). */
    admission?: { holding: boolean; holds: number; heldMs: number };
  };
  [more: string]: unknown;
}

export interface PlatformState {
  gateway: string;
  state: 'online' | 'offline';
  ts: number;
  [more: string]: unknown;
}

/** What the platform takes from a payload, by topic; `invalid` says why one was refused. */
export type Message =
  | { topic: 'data'; lane: Lane; logId?: string; seqs: number[]; readings: PlatformReading[] }
  | { topic: 'agg'; lane: Lane; logId?: string; seqs: number[] }
  | { topic: 'blob'; lane: Lane; logId?: string; seqs: number[]; blob: BlobPart }
  | {
      topic: 'events';
      lane: Lane;
      logId?: string;
      seqs: number[];
      event: PlatformEvent;
      gap?: GapAnnouncement;
    }
  | { topic: 'state'; body: PlatformState }
  | { topic: 'health'; body: PlatformHealth; logId?: string }
  | { topic: 'other' }
  | { topic: 'invalid'; why: string };

/** Where the published schema lives: docs/ at the package root, looked up from this file. */
export function findSchemaFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'docs', 'mqtt-schema.json');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('docs/mqtt-schema.json not found above hardware-sim/src/platform');
}

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A batch's head against its items: the rules the JSON Schema leaves to prose. */
function batchProblem(body: Json, items: unknown[]): string | undefined {
  const seqs = items.map((x) => (isObject(x) ? x.seq : undefined));
  if (body.count !== items.length) return `count ${String(body.count)} but ${items.length} items`;
  if (seqs[0] !== body.first || seqs.at(-1) !== body.last) return 'first/last do not match the items';
  for (let i = 1; i < seqs.length; i++) {
    if (!((seqs[i] as number) > (seqs[i - 1] as number))) return `items not in ascending seq at ${i}`;
  }
  return undefined;
}

function gapOf(payload: unknown): GapAnnouncement | string {
  if (!isObject(payload)) return 'gap payload is not an object';
  const { from, to, count, reason, kinds, uplinks } = payload;
  const seq = (x: unknown) => Number.isInteger(x) && (x as number) > 0;
  if (!seq(from) || !seq(to) || (to as number) < (from as number)) return 'gap range is not from <= to';
  if (!Number.isInteger(count) || (count as number) < 0) return 'gap count is not a count';
  if (typeof reason !== 'string') return 'gap reason missing';
  if (!Array.isArray(kinds) || !Array.isArray(uplinks)) return 'gap kinds/uplinks missing';
  return {
    from: from as number,
    to: to as number,
    count: count as number,
    reason,
    kinds: kinds as string[],
    uplinks: uplinks as string[],
  };
}

/** The log epoch a payload names, where the contract carries one (health, or a record's seal). */
function logIdOf(body: Json): string | undefined {
  const id = body.logId ?? body.log_id ?? (isObject(body.seal) ? body.seal.log : undefined);
  return typeof id === 'string' ? id : undefined;
}

export class ContractReader {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(schemaFile = findSchemaFile()) {
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as { $defs?: Record<string, unknown> };
    const ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true });
    ajv.addKeyword('x-topic');
    for (const [name, def] of Object.entries(schema.$defs ?? {})) {
      this.validators.set(name, ajv.compile(def as object));
    }
    for (const needed of ['data', 'events', 'state', 'health']) {
      if (!this.validators.has(needed)) throw new Error(`${schemaFile} has no definition "${needed}"`);
    }
  }

  /** Reads one payload published under the gateway's topic root (`sub` is the part after it). */
  read(sub: string, payload: Buffer): Message {
    const def = sub.startsWith('blob/') ? 'blob' : sub;
    const validate = this.validators.get(def);
    if (!validate) return { topic: 'other' };
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return { topic: 'invalid', why: `${sub}: not JSON` };
    }
    if (!validate(body) || !isObject(body)) {
      const e = validate.errors?.[0];
      return {
        topic: 'invalid',
        why: `${sub}: ${e ? `${e.instancePath || '/'} ${e.message}` : 'not an object'}`,
      };
    }
    const lane = body.lane as Lane;
    const logId = logIdOf(body);
    const epoch = logId === undefined ? {} : { logId };
    switch (def) {
      case 'data':
      case 'agg': {
        const items = (def === 'data' ? body.readings : body.aggregates) as Json[];
        const problem = batchProblem(body, items);
        if (problem) return { topic: 'invalid', why: `${sub}: ${problem}` };
        const seqs = items.map((x) => x.seq as number);
        if (def === 'agg') return { topic: 'agg', lane, seqs, ...epoch };
        return { topic: 'data', lane, seqs, readings: items as unknown as PlatformReading[], ...epoch };
      }
      case 'events': {
        const event = body as unknown as PlatformEvent;
        if (event.kind !== 'gap') return { topic: 'events', lane, seqs: [event.seq], event, ...epoch };
        const gap = gapOf(event.payload);
        if (typeof gap === 'string') return { topic: 'invalid', why: `${sub}: ${gap}` };
        return { topic: 'events', lane, seqs: [event.seq], event, gap, ...epoch };
      }
      case 'blob': {
        const chunk = body.chunk as BlobPart['chunk'];
        if (chunk && chunk.index >= chunk.count)
          return { topic: 'invalid', why: `${sub}: chunk index past count` };
        const blob: BlobPart = {
          seq: body.seq as number,
          kind: body.kind as string,
          contentType: body.contentType as string,
          bytes: Buffer.from(body.data as string, 'base64'),
          ...(typeof body.source === 'string' ? { source: body.source } : {}),
          ...(isObject(body.trigger) ? { trigger: body.trigger } : {}),
          ...(chunk ? { chunk } : {}),
        };
        return { topic: 'blob', lane, seqs: [body.seq as number], blob, ...epoch };
      }
      case 'state':
        return { topic: 'state', body: body as PlatformState };
      case 'health':
        return { topic: 'health', body: body as PlatformHealth, ...epoch };
      default:
        return { topic: 'other' };
    }
  }
}
