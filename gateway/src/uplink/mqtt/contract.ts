/**
 * The MQTT contract, version 1: topics under `lantian/v1/<gatewayId>/` and one zod schema per
 * payload. The publisher builds payloads to these types, the receiver checks them, and
 * docs/mqtt-schema.json is generated from them (see write-schema.ts). Every record carries its
 * gateway-wide `seq`: a platform de-duplicates by seq and finds holes by seq.
 */
import { z } from 'zod';
import { FLAG_PRECEDENCE, type Flag } from '../../core/flags.js';

export const CONTRACT_VERSION = 1;

const seq = z.number().int().positive().describe('Gateway-wide sequence number; never repeats.');
const ts = z.number().int().nonnegative().describe('UTC milliseconds.');
const flag = z.enum(FLAG_PRECEDENCE as [Flag, ...Flag[]]).describe('HJ 212 data flag.');
const header = {
  v: z.literal(CONTRACT_VERSION),
  gateway: z.string().min(1).describe('Gateway id.'),
};

export const sealSchema = z
  .object({
    alg: z.literal('ed25519'),
    key: z
      .string()
      .regex(/^SHA256:[A-Za-z0-9+/]{43}$/)
      .describe('Fingerprint of the signing key.'),
    log: z.string().min(1).describe('Log epoch (logId) of the seqs; a new epoch starts new chains.'),
    chain: z
      .string()
      .regex(/^(data|agg|events|blob\/[^/#+]+)$/)
      .describe('data, agg, events or blob/<kind>: one chain per record topic and epoch.'),
    prev: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable()
      .describe('Hex SHA-256 of the previous sealed message of this chain; null for its first.'),
    sig: z
      .string()
      .regex(/^[A-Za-z0-9+/]{86}==$/)
      .describe('Base64 Ed25519 signature over the RFC 8785 encoding of the message without lane and sig.'),
  })
  .strict()
  .describe('Signature and hash-chain link of a record message (docs/integrity.md).');
export type SealField = z.infer<typeof sealSchema>;
/** Present on every record message of a gateway that has a signing key. */
const sealField = { seal: sealSchema.optional() };

export const laneSchema = z
  .enum(['live', 'replay'])
  .describe('live: appended while connected; replay: sent from the backlog after an outage or restart.');
export type Lane = z.infer<typeof laneSchema>;

export const readingSchema = z
  .object({
    seq,
    ts: ts.describe('Acquisition time, UTC milliseconds.'),
    device: z.string().min(1),
    point: z.string().min(1),
    value: z.union([z.number(), z.string(), z.null()]).describe('In the point unit; null when not read.'),
    flag,
    quality: z.array(z.string()).optional().describe('Reasons behind the flag.'),
    raw: z.array(z.number().int().min(0).max(0xffff)).optional().describe('Register words as received.'),
    missed: z
      .object({
        slots: z.number().int().min(1).describe('How many slots.'),
        from: ts.describe('Due time of the first, UTC milliseconds.'),
        periodMs: z.number().int().min(1).describe('The others follow this far apart, ms.'),
      })
      .strict()
      .optional()
      .describe(
        "Due slots of the reading's device that passed unpolled just before its poll (the bus could not keep up): each is one B sample with quality overrun, at its due time.",
      ),
  })
  .strict();
export type WireReading = z.infer<typeof readingSchema>;

const batchHead = {
  ...header,
  lane: laneSchema,
  first: seq.describe('seq of the first item.'),
  last: seq.describe('seq of the last item.'),
  count: z.number().int().positive().describe('Number of items.'),
};

/**
 * What a JSON Schema cannot state of a batch: first/last/count agree with the items, which
 * ascend by seq. The problem found, or undefined. (The zod schemas and the outgoing check,
 * outgoing-check.ts, both apply it.)
 */
export function batchProblem(
  b: { first: number; last: number; count: number },
  items: readonly { seq: number }[],
): string | undefined {
  if (b.count !== items.length) return 'count does not match the items';
  if (items[0]?.seq !== b.first || items.at(-1)?.seq !== b.last) return 'first/last do not match the items';
  for (let i = 1; i < items.length; i++) {
    if (items[i]!.seq <= items[i - 1]!.seq) return 'items are not in ascending seq order';
  }
  return undefined;
}

function checkBatch(
  b: { first: number; last: number; count: number },
  items: readonly { seq: number }[],
  ctx: z.RefinementCtx,
): void {
  const problem = batchProblem(b, items);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
}

export const dataBatchSchema = z
  .object({ ...batchHead, readings: z.array(readingSchema).min(1), ...sealField })
  .strict()
  .superRefine((b, ctx) => checkBatch(b, b.readings, ctx))
  .describe('Topic data: readings in ascending seq (seqs of other record kinds may lie between).');
export type DataBatch = z.infer<typeof dataBatchSchema>;

const optNum = (d: string) => z.number().nullable().optional().describe(d);
/** What processing adds to an aggregate (gateway/src/processing/types.ts); all optional. */
const aggregateDetail = {
  inputs: z.number().int().nonnegative().optional().describe('Inputs of any flag in the period.'),
  required: z.number().int().nonnegative().optional().describe('Valid inputs the period needs (HJ 75).'),
  outlet: z.string().min(1).optional().describe('Outlet (stack) the series belongs to.'),
  hj212: z.string().min(1).optional().describe('HJ 212 factor code, e.g. a21026.'),
  unit: z.string().optional().describe('Unit of min, avg and max.'),
  zsMin: optNum('Minimum converted to the reference O2 (HJ 212 ZsMin).'),
  zsAvg: optNum('Average converted to the reference O2 (HJ 212 ZsAvg).'),
  zsMax: optNum('Maximum converted to the reference O2 (HJ 212 ZsMax).'),
  cou: optNum('Amount over the period (HJ 212 Cou): kg for a pollutant, m3 for the flow.'),
  derivation: z
    .object({ conversions: z.array(z.string()), inputs: z.record(z.string(), z.number()) })
    .strict()
    .optional()
    .describe('Conversions applied and the period means they used.'),
};

export const aggregateSchema = z
  .object({
    seq,
    device: z.string().min(1),
    point: z.string().min(1),
    period: z
      .enum(['minute', 'quarter_hour', 'hour', 'day'])
      .describe('quarter_hour: the 15-minute averages of dust points (construction sites).'),
    start: ts.describe('Start of the period, UTC milliseconds.'),
    min: z.number().nullable(),
    avg: z.number().nullable(),
    max: z.number().nullable(),
    count: z.number().int().nonnegative(),
    flag,
    ...aggregateDetail,
  })
  .strict();
export const aggBatchSchema = z
  .object({ ...batchHead, aggregates: z.array(aggregateSchema).min(1), ...sealField })
  .strict()
  .superRefine((b, ctx) => checkBatch(b, b.aggregates, ctx))
  .describe('Topic agg: minute, quarter-hour (dust), hour and day aggregates in ascending seq.');
export type AggBatch = z.infer<typeof aggBatchSchema>;

export const gapPayloadSchema = z
  .object({
    from: seq.describe('First seq of the range whose records of `kinds` are gone.'),
    to: seq.describe('Last seq of that range.'),
    count: z.number().int().nonnegative().describe('Records evicted.'),
    reason: z.enum(['quota']),
    kinds: z.array(z.enum(['reading', 'event', 'aggregate', 'blob'])),
    uplinks: z.array(z.string()).describe('Uplinks that had not delivered the range.'),
  })
  .strict();
export type GapEventPayload = z.infer<typeof gapPayloadSchema>;

export const eventMessageSchema = z
  .object({
    ...header,
    lane: laneSchema,
    seq,
    ts,
    kind: z.string().min(1).describe('gap, alarm, exceedance, config_change, device_offline, ...'),
    payload: z.unknown(),
    ...sealField,
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.kind !== 'gap') return;
    const r = gapPayloadSchema.safeParse(e.payload);
    if (!r.success) ctx.addIssue({ code: 'custom', message: 'gap payload is not valid', path: ['payload'] });
  })
  .describe('Topic events: one event per message.');
export type EventMessage = z.infer<typeof eventMessageSchema>;

export const blobTriggerSchema = z
  .object({
    reason: z
      .enum(['event', 'periodic', 'command'])
      .describe('event: an event in the log asked for it; periodic: the schedule; command: the platform.'),
    event: seq.optional().describe('seq of the event that asked for it.'),
    eventKind: z.string().min(1).optional().describe('Kind of that event, e.g. exceedance.'),
    device: z.string().min(1).optional().describe('Device the event names.'),
    point: z.string().min(1).optional().describe('Point the event names.'),
    readings: z
      .array(seq)
      .optional()
      .describe('seqs of the newest readings of that device (point) when the picture was taken.'),
    command: z.string().min(1).optional().describe("The command's id, for reason command."),
  })
  .strict()
  .describe('What asked for the blob: the records it is evidence beside.');
export type BlobTriggerMessage = z.infer<typeof blobTriggerSchema>;

export const blobChunkSchema = z
  .object({
    index: z.number().int().nonnegative().describe('0-based position of this part.'),
    count: z.number().int().min(2).describe('Parts the blob was cut into; all carry the same seq.'),
    size: z.number().int().nonnegative().describe('Bytes of the whole blob.'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .describe('Hex SHA-256 of the whole blob, to check the reassembled bytes.'),
  })
  .strict()
  .describe(
    'Present when the blob did not fit in one message (maxMessageBytes): `data` holds this part; join the parts in index order.',
  );

export const blobMessageSchema = z
  .object({
    ...header,
    lane: laneSchema,
    seq,
    ts,
    kind: z.string().min(1),
    contentType: z.string().min(1),
    source: z.string().min(1).optional().describe('Where it came from: the camera id.'),
    trigger: blobTriggerSchema.optional(),
    chunk: blobChunkSchema.optional(),
    data: z.string().describe('The bytes, base64 (of this part, when chunk is present).'),
    ...sealField,
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.chunk && b.chunk.index >= b.chunk.count)
      ctx.addIssue({ code: 'custom', message: 'chunk.index must be below chunk.count', path: ['chunk'] });
  })
  .describe(
    'Topic blob/<kind>: one blob (camera snapshot, ...) per message, or one part of it when it is larger than the message size limit.',
  );
export type BlobMessage = z.infer<typeof blobMessageSchema>;

const refusalSchema = z
  .object({
    ts: ts.describe('When the broker refused the login.'),
    reason: z.string().describe('The CONNACK refusal, e.g. "Connection refused: Not authorized".'),
    count: z.number().int().positive().describe('Refusals in a row, up to this one.'),
  })
  .strict();

export type LoginRefusal = z.infer<typeof refusalSchema>;

export const stateSchema = z
  .object({
    ...header,
    state: z.enum(['online', 'offline']),
    ts: ts.describe('When the gateway said it; for the last will, when it connected.'),
    reason: z
      .enum(['stopped', 'config_reload', 'connection_lost'])
      .optional()
      .describe(
        'Why offline: the gateway stopped, or stopped to reload its config (both said by the gateway before its DISCONNECT), or connection_lost (the last will: the connection ended without a DISCONNECT).',
      ),
    lastRefusal: refusalSchema
      .optional()
      .describe('On online: the broker refused the login since the previous connection; the last refusal.'),
  })
  .strict()
  .describe('Topic state, retained; the last will sets offline.');
export type StateMessage = z.infer<typeof stateSchema>;

const counter = z.number().int().nonnegative();
const txCounters = {
  requests: counter.describe('Requests sent, retries included.'),
  timeouts: counter,
  crcErrors: counter,
  exceptions: counter.describe('Modbus exception replies.'),
  badReplies: counter.describe('Malformed replies: wrong length, unit id or function.'),
  lateReplies: counter.describe('Replies that came after their request had timed out; discarded.'),
  latencyP95Ms: z.number().nonnegative().nullable().describe('95th percentile request-to-reply time, ms.'),
};
/** How the buses and devices are doing, from the acquisition engine. */
export const acquisitionHealthSchema = z
  .object({
    buses: z.array(z.object({ bus: z.string(), connected: z.boolean(), ...txCounters }).strict()),
    devices: z.array(
      z
        .object({
          device: z.string(),
          bus: z.string(),
          state: z.enum(['ok', 'failing', 'backoff', 'unknown']),
          ...txCounters,
          polls: counter,
          failedPolls: counter,
          overruns: counter.describe('Periods merged into a later poll because the bus could not keep up.'),
          lastGoodReplyTs: ts.nullable(),
        })
        .strict(),
    ),
    admission: z
      .object({
        holding: z.boolean().describe('Acquisition is held back now.'),
        holds: counter.describe('Times acquisition was held back since the gateway started.'),
        heldMs: counter.describe('Time acquisition was held back since the gateway started, ms.'),
      })
      .strict()
      .optional()
      .describe(
        'Overload: acquisition is held back while the main thread is saturated and the live lane of this uplink falls behind; the slots that pass meanwhile are recorded as overrun on the next readings (docs/acquisition.md, "Overload"). Absent without an MQTT uplink.',
      ),
  })
  .strict();
export type AcquisitionHealthMessage = z.infer<typeof acquisitionHealthSchema>;
export const hj212HealthSchema = z
  .array(
    z
      .object({
        platform: z.string().describe('Platform name from the site config.'),
        state: z.enum(['connecting', 'connected', 'down', 'stopped']),
        cursor: z.number().int().describe('Every log seq up to this one is delivered to the platform.'),
        backlog: z.number().int().describe('Records behind the cursor not yet done.'),
        lastAnswer: z
          .object({
            cn: z.string(),
            qn: z.string(),
            ts,
            result: z
              .string()
              .describe(
                "What it said or what came of it: 'answered 2051' for a 9014 / 9013, the gateway's QnRtn / ExeRtn for a request.",
              ),
          })
          .strict()
          .nullable()
          .describe('The last packet the platform sent (9014, 9013 or a request), kept across restarts.'),
        uploads: z.number().int(),
        resends: z.number().int(),
        lastError: z.string().nullable(),
      })
      .strict(),
  )
  .describe('HJ 212 platforms: link state, cursor, backlog and last answer of each.');
export type Hj212HealthMessage = z.infer<typeof hj212HealthSchema>;

export const processingHealthSchema = z
  .object({
    samples: counter.describe('Readings aggregated.'),
    late: counter.describe('Readings of a minute already finalised, not aggregated.'),
    ignored: counter.describe('Readings of points processing does not aggregate.'),
    aggregates: z
      .object({ minute: counter, quarter_hour: counter.optional(), hour: counter, day: counter })
      .strict(),
    events: counter.describe('Limit and calibration events raised or cleared.'),
    quality: z.record(z.string(), counter).describe('Readings marked by each data-quality check.'),
    waitingForLog: z
      .boolean()
      .describe('The log holds queued readings: no period closes until they are written.'),
  })
  .strict()
  .describe('Emission processing since the gateway started.');
export type ProcessingHealthMessage = z.infer<typeof processingHealthSchema>;

export const camerasHealthSchema = z
  .array(
    z
      .object({
        camera: z.string().describe('Camera id from the site config.'),
        state: z
          .enum(['unknown', 'online', 'offline'])
          .describe('By the last attempt: online (a picture came), offline (it failed), unknown (none yet).'),
        snapshots: counter.describe('Pictures stored since the gateway started.'),
        failures: counter.describe('Attempts that failed since the gateway started.'),
        lastSnapshot: z.object({ seq, ts, bytes: counter }).strict().nullable(),
        lastError: z
          .object({ code: z.string().describe('CAMERA_* error code.'), message: z.string(), ts })
          .strict()
          .nullable(),
      })
      .strict(),
  )
  .describe('Site cameras: online or offline, pictures taken, the last error.');
export type CamerasHealthMessage = z.infer<typeof camerasHealthSchema>;

export const healthSchema = z
  .object({
    ...header,
    ts,
    boot: counter.describe('How many times this log has been opened (gateway starts).'),
    logId: z.string().describe('Made when the log file was created; a new one means seqs restarted.'),
    log: z.object({
      lastSeq: counter,
      bytes: counter.describe('Disk used by the log.'),
      quotaBytes: counter.nullable(),
    }),
    uplink: z.object({
      lane: z.enum(['live', 'replay']).describe('replay while a backlog is being sent.'),
      ackedThrough: counter.describe('Every seq up to this one is delivered (or announced as a gap).'),
      backlog: counter.describe('Records not yet delivered.'),
      oldestUndeliveredTs: ts.nullable(),
      oldestUndeliveredAgeMs: counter.nullable(),
      inFlight: counter.describe('Messages published and not yet acknowledged.'),
      lastRefusal: refusalSchema
        .nullable()
        .describe('The last time the broker refused the login (since the gateway started), or null.'),
      signingKey: z
        .string()
        .nullable()
        .optional()
        .describe('Fingerprint of the key that seals record messages (SHA256:…), or null when unsealed.'),
    }),
    counters: z.object({
      gapEvents: counter.describe('Gap events the log has recorded.'),
      droppedRecords: counter.describe('Records evicted before every uplink had them.'),
      publishErrors: counter,
      reconnects: counter,
      refusedLogins: counter.describe('Logins the broker refused (CONNACK), since the gateway started.'),
      pendingReadings: counter.describe(
        'Readings waiting in memory because the log cannot write (disk full).',
      ),
      unloggedReadings: counter.describe(
        'Readings that never reached the log; each range is an unlogged event.',
      ),
      logWriteFailures: counter.describe(
        'Log writes that failed since the gateway started (batches and cursors).',
      ),
    }),
    devices: z.record(
      z.string(),
      z.object({ readings: counter, flagged: counter.describe('Readings not flagged N.'), lastTs: ts }),
    ),
    acquisition: acquisitionHealthSchema.optional(),
    hj212: hj212HealthSchema.optional(),
    processing: processingHealthSchema.optional(),
    cameras: camerasHealthSchema.optional(),
  })
  .strict()
  .describe('Topic health, retained: published on connect and periodically.');
export type HealthMessage = z.infer<typeof healthSchema>;

export interface Topics {
  state: string;
  data: string;
  agg: string;
  events: string;
  health: string;
  blob(kind: string): string;
  /** Everything of this gateway, for a subscriber. */
  all: string;
}

export function defaultTopicRoot(gatewayId: string): string {
  return `lantian/v${CONTRACT_VERSION}/${gatewayId}/`;
}

export function topics(root: string): Topics {
  const r = root.endsWith('/') ? root : `${root}/`;
  return {
    state: `${r}state`,
    data: `${r}data`,
    agg: `${r}agg`,
    events: `${r}events`,
    health: `${r}health`,
    blob: (kind) => `${r}blob/${kind}`,
    all: `${r}#`,
  };
}

/** Every published schema by topic, for the JSON Schema file and the docs. */
export const SCHEMAS = {
  state: stateSchema,
  data: dataBatchSchema,
  agg: aggBatchSchema,
  events: eventMessageSchema,
  'blob/<kind>': blobMessageSchema,
  health: healthSchema,
} as const;
