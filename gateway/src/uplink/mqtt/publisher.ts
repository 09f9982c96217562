/**
 * The MQTT publisher: walks the log from its cursor and publishes at QoS 1 over a persistent
 * session, with a bounded window of unacknowledged messages.
 *
 * Two lanes. At every (re)connect, everything appended so far and not yet sent becomes the
 * replay lane; records appended from then on form the live lane. Live records go first, as
 * Nagle's algorithm sends a segment: at once when no live message awaits its PUBACK, otherwise
 * once they fill a batch, the outstanding live PUBACK arrives, or they have lingered
 * `batch.lingerMs`. So an idle gateway delivers a reading within a round trip and a busy one
 * batches by itself. Replay fills the rest of the window. Each lane is
 * in ascending seq order. A chunk of the log (a seq range) is marked done in the cursor only
 * when every message built from it has its PUBACK. Messages in flight when the connection
 * drops are resent by mqtt.js on reconnect (same session), so they are not replayed twice; a
 * restart of the gateway resends them as replay, which a platform sees as duplicates by seq.
 *
 * With a signing key, every record message is sealed when first built and kept in the seal
 * ledger until acknowledged (sealing.ts); a resend, in this process or after a restart, sends
 * the stored bytes before anything new is sealed, so each chain stays one line without forks.
 */
import { EventEmitter } from 'node:events';
import { ErrorWithReasonCode, type MqttClient } from 'mqtt';
import { connectClient } from './connect.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { isLantianError, LantianError } from '../../core/errors.js';
import { childLogger, silentLogger, type Logger } from '../../core/logger.js';
import type { Cursor } from '../../store/cursors.js';
import type { Log } from '../../store/log.js';
import type { LogRecord } from '../../store/records.js';
import { RangeSet } from '../../store/ranges.js';
import type {
  AcquisitionHealthMessage,
  CamerasHealthMessage,
  Hj212HealthMessage,
  Lane,
  LoginRefusal,
  ProcessingHealthMessage,
  Topics,
} from './contract.js';
import { buildHealth } from './health.js';
import { toMessages, type OutgoingMessage } from './messages.js';
import { loadPrivateKey } from '../integrity/keys.js';
import type { SealedMessage } from '../integrity/ledger.js';
import { onLane, RecordSealer } from './sealing.js';
import {
  clientOptions,
  resolveOptions,
  stateMessage,
  tlsMismatchHint,
  topicsOf,
  type MqttUplinkOptions,
  type ResolvedMqttOptions,
} from './options.js';

/** Why the publisher stops, said in the retained `offline` state. */
export type StopReason = 'stopped' | 'config_reload';
/** How long stop() waits for the broker's acknowledgements. */
const STOP_WAIT_MS = 2000;
/** How soon sealing is tried again after the seal ledger could not be written (a full disk). */
const SEAL_RETRY_MS = 1000;

interface Chunk {
  lane: Lane;
  from: number;
  to: number;
  pending: number;
  failed: boolean;
  /** The records of from..to when just read; dropped once sent (retries read again). */
  records?: LogRecord[];
  /** The sealed messages of the chunk as first sent: a resend sends exactly these. */
  sealed?: SealedMessage[];
}

export interface PublisherStatus {
  connected: boolean;
  lane: Lane;
  inFlight: number;
  ackedThrough: number;
  backlog: number;
  publishErrors: number;
  reconnects: number;
  /** Logins the broker refused since the start. */
  refusedLogins: number;
  /** The latest refusal, kept after a later login succeeds. */
  lastRefusal?: LoginRefusal;
  /** Set when publishing stopped on an error that retrying cannot fix (a bug, not an outage). */
  fault?: Error;
  /** Fingerprint of the key that seals record messages; absent or null when they go unsealed. */
  signingKey?: string | null;
}

export interface PublisherEvents {
  connected: [];
  disconnected: [];
  /** A chunk `from..to` was acknowledged and the cursor moved. */
  acked: [from: number, to: number, lane: Lane];
  fault: [Error];
  /** The connection attempt or the connection failed (TLS verification, refused, ...); it retries. */
  connectError: [Error];
  /** The broker refused the login (CONNACK); the next attempt follows after `retryInMs`. */
  refused: [refusal: LoginRefusal, retryInMs: number];
}

export class MqttPublisher extends EventEmitter<PublisherEvents> {
  readonly options: ResolvedMqttOptions;
  readonly topics: Topics;
  private readonly cursor: Cursor;
  /** Seq ranges taken by a chunk in this process: in flight or acknowledged. */
  private readonly claimed = new RangeSet();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private client: MqttClient | undefined;
  private connected = false;
  private everConnected = false;
  private stopping = false;
  private livePos = 0;
  private replayPos = 0;
  private replayEnd = 0;
  private liveSince: number | undefined;
  private inFlight = 0;
  /** Live messages awaiting their PUBACK: while there are any, new live records batch up. */
  private liveInFlight = 0;
  private retry: Chunk[] = [];
  private publishErrors = 0;
  private reconnects = 0;
  private refusedLogins = 0;
  /** Refusals since the last successful login. */
  private refusalsInRow = 0;
  private lastRefusal: LoginRefusal | undefined;
  private refusalTimer: NodeJS.Timeout | undefined;
  /** The current connection attempt got a CONNACK / reported an error. */
  private attemptConnected = false;
  private attemptFailed = false;
  private fault: Error | undefined;
  private pumpQueued = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly acquisitionHealth: (() => AcquisitionHealthMessage) | undefined;
  private readonly hj212Health: (() => Hj212HealthMessage) | undefined;
  private readonly processingHealth: (() => ProcessingHealthMessage) | undefined;
  private readonly camerasHealth: (() => CamerasHealthMessage | undefined) | undefined;
  private readonly sealer: RecordSealer | undefined;
  private sealRetryTimer: NodeJS.Timeout | undefined;

  /** Throws INTEGRITY_KEY_INVALID or INTEGRITY_KEY_UNSAFE when `signingKey` cannot be used. */
  constructor(
    private readonly log: Log,
    options: MqttUplinkOptions,
    env: {
      clock?: Clock;
      logger?: Logger;
      /** Adds the acquisition engine's bus and device health to each health message. */
      acquisitionHealth?: () => AcquisitionHealthMessage;
      hj212Health?: () => Hj212HealthMessage;
      processingHealth?: () => ProcessingHealthMessage;
      /** Site cameras, online or offline; undefined leaves the field out (no cameras). */
      camerasHealth?: () => CamerasHealthMessage | undefined;
    } = {},
  ) {
    super();
    this.options = resolveOptions(options);
    this.topics = topicsOf(this.options);
    this.cursor = log.cursor(this.options.uplinkId);
    this.clock = env.clock ?? systemClock;
    this.acquisitionHealth = env.acquisitionHealth;
    this.hj212Health = env.hj212Health;
    this.processingHealth = env.processingHealth;
    this.camerasHealth = env.camerasHealth;
    this.logger = childLogger(env.logger ?? silentLogger, 'mqtt', { uplink: this.options.uplinkId });
    if (this.options.signingKey !== undefined)
      this.sealer = new RecordSealer(loadPrivateKey(this.options.signingKey), log, this.options.uplinkId);
  }

  /** Connects and keeps reconnecting until stop(); throws UPLINK_TLS for unreadable TLS files. */
  start(): void {
    if (this.client) return;
    const client = connectClient(this.options.url, clientOptions(this.options, this.clock.now()));
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('error', (e) => {
      this.attemptFailed = true;
      if (e instanceof ErrorWithReasonCode && !this.connected) this.onRefused(e);
      else this.connectFailed(e);
    });
    client.on('close', () => {
      // Closed before any CONNACK and without an error: say what that usually means.
      if (!this.attemptConnected && !this.attemptFailed && !this.stopping) this.connectFailed(undefined);
      this.attemptConnected = this.attemptFailed = false;
    });
    this.unsubscribe = this.log.onAppend(() => this.onAppend());
    if (this.sealer) this.resumeSealed(this.sealer);
  }

  /**
   * Puts a key change on record, and queues the messages sealed before the last stop that were
   * never acknowledged: they go first, in sealing order, as the same bytes, before anything new
   * is sealed. So a platform sees each chain in one order, whatever was lost in flight.
   */
  private resumeSealed(sealer: RecordSealer): void {
    const previous = sealer.previousKey();
    if (previous !== undefined) {
      this.log.appendEvent({
        ts: this.clock.now(),
        kind: 'key_change',
        payload: { previous, current: sealer.fingerprint },
      });
      this.logger.warn(
        { previous, current: sealer.fingerprint },
        'record messages are sealed with a new key',
      );
    }
    const isDone = (from: number, to: number) => {
      for (let s = from; s <= to; s++) {
        if (!this.cursor.isDone(s)) return false;
        const d = this.cursor.doneRangeAtOrAfter(s);
        if (d && d[0] <= s) s = d[1];
      }
      return true;
    };
    for (const c of sealer.pending(isDone)) {
      this.claimed.add(c.from, c.to);
      this.retry.push({
        lane: 'replay',
        from: c.from,
        to: c.to,
        pending: 0,
        failed: false,
        sealed: c.messages,
      });
    }
    if (this.retry.length > 0)
      this.logger.info({ chunks: this.retry.length }, 'resending sealed messages that were not acknowledged');
  }

  /**
   * Says `offline` with its reason (retained), then sends MQTT DISCONNECT so the broker drops
   * the last will: the retained state stays the gateway's own word. Unacknowledged messages are
   * left to the next start. A broker that does not acknowledge within `STOP_WAIT_MS` gets the
   * connection cut instead, and its will then says `connection_lost`, which is the truth.
   */
  async stop(reason: StopReason = 'stopped'): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.unsubscribe?.();
    clearTimeout(this.lingerTimer);
    clearTimeout(this.healthTimer);
    clearTimeout(this.refusalTimer);
    clearTimeout(this.sealRetryTimer);
    const client = this.client;
    if (!client) return;
    if (this.connected) {
      const offline = stateMessage(this.options, 'offline', this.clock.now(), { reason });
      const said = client.publishAsync(this.topics.state, offline, { qos: 1, retain: true });
      await Promise.race([said.catch(() => undefined), this.clock.sleep(STOP_WAIT_MS)]);
      // end(false) sends DISCONNECT, but only once nothing is in flight: wait a moment, no more.
      const idle = () => Object.keys(client.outgoing).length === 0;
      if (!idle()) {
        await Promise.race([
          new Promise<void>((resolve) => client.once('outgoingEmpty', () => resolve())),
          this.clock.sleep(STOP_WAIT_MS),
        ]);
      }
      if (idle()) {
        await client.endAsync(false);
      } else {
        this.logger.warn(
          { inFlight: this.inFlight },
          'the broker did not acknowledge in time; connection cut',
        );
        await client.endAsync(true);
      }
    } else {
      await client.endAsync(true);
    }
    this.connected = false;
    this.logger.info({ reason }, 'stopped');
  }

  status(): PublisherStatus {
    const s: PublisherStatus = {
      connected: this.connected,
      lane: this.replayPending() ? 'replay' : 'live',
      inFlight: this.inFlight,
      ackedThrough: this.cursor.prefix,
      backlog: Math.max(0, this.log.lastSeq - this.cursor.prefix - this.cursor.doneAbovePrefix()),
      publishErrors: this.publishErrors,
      reconnects: this.reconnects,
      refusedLogins: this.refusedLogins,
      signingKey: this.sealer?.fingerprint ?? null,
    };
    if (this.lastRefusal) s.lastRefusal = this.lastRefusal;
    if (this.fault) s.fault = this.fault;
    return s;
  }

  /**
   * Records appended since the connect and not yet sent on the live lane; undefined while there
   * is no live lane (not connected, stopping, or stopped on a fault). Admission reads it
   * (acquisition/admission.ts): replay after an outage is not counted, live goes first.
   */
  liveLag(): number | undefined {
    if (!this.connected || this.stopping || this.fault) return undefined;
    return Math.max(0, this.livePending());
  }

  /**
   * Sends seqs `from..to` again on the replay lane, because the platform asked (the `resend`
   * command). Sealed messages go as the bytes stored when they were first sealed, so each carries
   * the signature and predecessor it had and no chain forks; whole messages go, so the first and
   * last may hold seqs beyond the range. Without a key the messages are built again from the log.
   * The cursor and the window are left alone: this is a copy, not a delivery.
   * Throws UPLINK_NOT_CONNECTED without a connection, UPLINK_RESEND_RANGE when part of the range
   * is not held (never sent yet, or sealed longer ago than the archive reaches) or it would take
   * more than `maxMessages` messages.
   */
  async resend(
    from: number,
    to: number,
    maxMessages = Infinity,
  ): Promise<{ from: number; to: number; messages: number }> {
    const client = this.client;
    if (!client || !this.connected)
      throw new LantianError('UPLINK_NOT_CONNECTED', 'the uplink is not connected; resend later', {
        context: { uplink: this.options.uplinkId },
      });
    const messages = this.sealer ? this.sealedRange(this.sealer, from, to) : this.builtRange(from, to);
    if (messages.length > maxMessages)
      throw new LantianError(
        'UPLINK_RESEND_RANGE',
        `seqs ${from}..${to} are ${messages.length} messages, more than ${maxMessages}: ask in parts`,
        { context: { uplink: this.options.uplinkId, from, to } },
      );
    await Promise.all(messages.map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })));
    return { from, to, messages: messages.length };
  }

  private sealedRange(sealer: RecordSealer, from: number, to: number): OutgoingMessage[] {
    const chunks = sealer.sealed(from, to).sort((a, b) => a.from - b.from);
    let next = from;
    for (const c of chunks) if (c.from <= next) next = Math.max(next, c.to + 1);
    if (next <= to) {
      throw new LantianError(
        'UPLINK_RESEND_RANGE',
        `seq ${next} is not held sealed: it was not sent yet, or it was sealed before the archive's ` +
          `oldest message${chunks[0] ? ` (held: from seq ${chunks[0].from})` : ''}`,
        { context: { uplink: this.options.uplinkId, from, to, missing: next } },
      );
    }
    return chunks.flatMap((c) =>
      c.messages.map((m) => ({ topic: m.topic, payload: onLane(m.payload, 'replay') })),
    );
  }

  private builtRange(from: number, to: number): OutgoingMessage[] {
    if (to > this.log.lastSeq)
      throw new LantianError(
        'UPLINK_RESEND_RANGE',
        `seq ${to} is not in the log yet (last ${this.log.lastSeq})`,
        {
          context: { uplink: this.options.uplinkId, from, to, lastSeq: this.log.lastSeq },
        },
      );
    const records = this.log.read(from - 1, to - from + 1, to);
    const o = this.options;
    return toMessages(records, 'replay', o.gatewayId, this.topics, o.validateOutgoing, o.maxMessageBytes);
  }

  private onConnect(): void {
    this.attemptConnected = true;
    if (this.stopping) return;
    const head = this.log.lastSeq;
    if (!this.everConnected) this.replayPos = this.cursor.prefix;
    else this.reconnects++;
    this.everConnected = true;
    // Whatever was appended while away, and not yet claimed, is replayed; live starts now.
    this.replayEnd = Math.max(this.replayEnd, head);
    this.livePos = head;
    this.liveSince = undefined;
    this.connected = true;
    this.logger.info({ head, ackedThrough: this.cursor.prefix, reconnects: this.reconnects }, 'connected');
    // After refused logins, `online` says so: the platform learns why it heard nothing.
    const online = stateMessage(
      this.options,
      'online',
      this.clock.now(),
      this.refusalsInRow > 0 && this.lastRefusal ? { lastRefusal: this.lastRefusal } : {},
    );
    this.refusalsInRow = 0;
    this.client?.publish(this.topics.state, online, { qos: 1, retain: true });
    this.publishHealth();
    this.emit('connected');
    this.schedule();
  }

  /**
   * The broker answered CONNACK with a refusal (bad credentials, not authorised, ...). mqtt.js
   * would give up for good; an operator may fix the password on the broker at any time, so try
   * again, waiting longer after each refusal up to `reconnectMaxMs`.
   */
  private onRefused(e: ErrorWithReasonCode): void {
    if (this.stopping) return;
    this.refusedLogins++;
    this.refusalsInRow++;
    const refusal: LoginRefusal = { ts: this.clock.now(), reason: e.message, count: this.refusalsInRow };
    this.lastRefusal = refusal;
    const o = this.options;
    const wait = Math.min(o.reconnectMaxMs, o.reconnectPeriodMs * 2 ** Math.min(this.refusalsInRow - 1, 30));
    this.logger.error(
      { err: e.message, code: e.code, refusals: this.refusalsInRow, retryInMs: wait, username: o.username },
      'the broker refused the login; nothing is delivered until it accepts it',
    );
    clearTimeout(this.refusalTimer);
    this.refusalTimer = setTimeout(() => {
      const c = this.client;
      // Keep the stores: messages in flight before the refusal are resent in the session.
      if (c && !this.stopping)
        c.reconnect({ incomingStore: c.incomingStore, outgoingStore: c.outgoingStore });
    }, wait);
    this.emit('refused', refusal, wait);
  }

  /** A connection attempt or connection failed: logged with a hint when TLS looks mixed up. */
  private connectFailed(e: (Error & { code?: unknown }) | undefined): void {
    const hint = this.connected ? undefined : tlsMismatchHint(this.options.url, e);
    const err = e ?? new Error('connection closed before CONNACK');
    this.logger.warn(
      { err: err.message, ...(hint ? { hint } : {}) },
      hint ? `mqtt connection failed: ${hint}` : 'mqtt error',
    );
    this.emit('connectError', hint ? new Error(`${err.message}: ${hint}`, { cause: err }) : err);
  }

  private onClose(): void {
    if (!this.connected) return;
    this.connected = false;
    clearTimeout(this.lingerTimer);
    clearTimeout(this.healthTimer);
    this.logger.warn({ inFlight: this.inFlight }, 'disconnected; the cursor stays where the acks left it');
    this.emit('disconnected');
  }

  private onAppend(): void {
    if (!this.connected) return;
    if (this.liveSince === undefined && this.log.lastSeq > this.livePos)
      this.liveSince = this.clock.monotonic();
    this.schedule();
  }

  private schedule(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      try {
        this.pump();
      } catch (e) {
        this.stall(e);
      }
    });
  }

  /** A payload that breaks the contract is a bug: stop publishing rather than skip or mangle data. */
  private stall(e: unknown): void {
    this.fault = e instanceof Error ? e : new Error(String(e));
    this.logger.error(
      { err: this.fault, code: isLantianError(e) ? e.code : undefined },
      'publishing stopped',
    );
    this.emit('fault', this.fault);
  }

  private pump(): void {
    if (!this.connected || this.stopping || this.fault) return;
    while (this.inFlight < this.options.inFlight) {
      const chunk = this.retry.shift() ?? (this.liveReady() ? this.nextLive() : this.nextReplay());
      if (!chunk) break;
      if (!this.send(chunk)) break;
    }
    this.armLinger();
  }

  private livePending(): number {
    return this.log.lastSeq - this.livePos;
  }

  private liveReady(): boolean {
    const pending = this.livePending();
    if (pending <= 0) return false;
    if (pending >= this.options.batch.maxReadings || this.liveInFlight === 0) return true;
    this.liveSince ??= this.clock.monotonic();
    return this.clock.monotonic() - this.liveSince >= this.options.batch.lingerMs;
  }

  private armLinger(): void {
    clearTimeout(this.lingerTimer);
    if (this.livePending() <= 0 || this.inFlight >= this.options.inFlight || this.liveSince === undefined)
      return;
    const wait = Math.max(0, this.liveSince + this.options.batch.lingerMs - this.clock.monotonic());
    this.lingerTimer = setTimeout(() => this.schedule(), wait);
  }

  private nextLive(): Chunk {
    const head = this.log.lastSeq;
    const from = this.livePos + 1;
    const records = this.log.read(this.livePos, this.options.batch.maxReadings, head);
    const to = records.length === this.options.batch.maxReadings ? records.at(-1)!.seq : head;
    this.livePos = to;
    this.liveSince = to < head ? this.clock.monotonic() : undefined;
    return { lane: 'live', from, to, pending: 0, failed: false, records };
  }

  private replayPending(): boolean {
    return this.everConnected && this.nextUnclaimed(this.replayPos) <= this.replayEnd;
  }

  /** First seq after `pos` that is neither done in the cursor nor claimed by a chunk. */
  private nextUnclaimed(pos: number): number {
    let at = Math.max(pos, this.cursor.prefix) + 1;
    for (;;) {
      const c = this.claimed.rangeAtOrAfter(at);
      const d = this.cursor.doneRangeAtOrAfter(at);
      if (c && c[0] <= at) at = c[1] + 1;
      else if (d && d[0] <= at) at = d[1] + 1;
      else return at;
    }
  }

  private nextReplay(): Chunk | undefined {
    const from = this.nextUnclaimed(this.replayPos);
    if (from > this.replayEnd) {
      this.replayPos = this.replayEnd;
      return undefined;
    }
    const upper = Math.min(
      this.replayEnd,
      (this.claimed.rangeAtOrAfter(from)?.[0] ?? Infinity) - 1,
      (this.cursor.doneRangeAtOrAfter(from)?.[0] ?? Infinity) - 1,
    );
    const records = this.log.read(from - 1, this.options.batch.maxReadings, upper);
    const to = records.length === this.options.batch.maxReadings ? records.at(-1)!.seq : upper;
    this.replayPos = to;
    return { lane: 'replay', from, to, pending: 0, failed: false, records };
  }

  /** Publishes a chunk; false when it could not be sealed yet (it waits in `retry`). */
  private send(chunk: Chunk): boolean {
    const client = this.client!;
    this.claimed.add(chunk.from, chunk.to);
    const messages = this.messagesOf(chunk);
    if (!messages) return false;
    chunk.pending = messages.length;
    chunk.failed = false;
    if (messages.length === 0) {
      // Every record of the range was evicted (and announced): nothing to send.
      this.done(chunk);
      return true;
    }
    this.inFlight += messages.length;
    if (chunk.lane === 'live') this.liveInFlight += messages.length;
    for (const m of messages) {
      client.publish(m.topic, m.payload, { qos: 1 }, (err) => this.onAck(chunk, err));
    }
    return true;
  }

  /**
   * The chunk's messages: the sealed ones it already has (on `chunk.lane`), or built from the log
   * and, with a key, sealed and recorded. Undefined when the seal ledger cannot be written: the
   * chunk is queued again and tried after SEAL_RETRY_MS, and nothing unrepeatable goes out.
   */
  private messagesOf(chunk: Chunk): OutgoingMessage[] | undefined {
    if (chunk.sealed)
      return chunk.sealed.map((m) => ({ topic: m.topic, payload: onLane(m.payload, chunk.lane) }));
    const records = chunk.records ?? this.log.read(chunk.from - 1, chunk.to - chunk.from + 1, chunk.to);
    delete chunk.records;
    const o = this.options;
    const build = (sealer?: Parameters<typeof toMessages>[6]) =>
      toMessages(
        records,
        chunk.lane,
        o.gatewayId,
        this.topics,
        o.validateOutgoing,
        o.maxMessageBytes,
        sealer,
      );
    if (!this.sealer) return build();
    try {
      chunk.sealed = this.sealer.seal(chunk.from, chunk.to, build);
      return chunk.sealed;
    } catch (e) {
      if (!isLantianError(e) || e.code !== 'STORE_WRITE_FAILED') throw e;
      this.logger.error(
        { err: e, from: chunk.from, to: chunk.to },
        'cannot record sealed messages; retrying',
      );
      this.retry.unshift(chunk);
      clearTimeout(this.sealRetryTimer);
      this.sealRetryTimer = setTimeout(() => this.schedule(), SEAL_RETRY_MS);
      return undefined;
    }
  }

  private onAck(chunk: Chunk, err: Error | undefined): void {
    this.inFlight--;
    if (chunk.lane === 'live') this.liveInFlight--;
    chunk.pending--;
    if (err && !this.stopping) {
      chunk.failed = true;
      this.publishErrors++;
      this.logger.warn({ err: err.message, from: chunk.from, to: chunk.to }, 'publish failed; will resend');
    }
    if (chunk.pending > 0 || this.stopping) return;
    if (chunk.failed) this.retry.push({ ...chunk, lane: 'replay' });
    else this.done(chunk);
    this.schedule();
  }

  private done(chunk: Chunk): void {
    this.cursor.markDone(chunk.from, chunk.to);
    if (chunk.sealed) this.sealer?.acknowledged(chunk.from, chunk.to);
    this.emit('acked', chunk.from, chunk.to, chunk.lane);
  }

  private publishHealth(): void {
    clearTimeout(this.healthTimer);
    if (!this.connected || this.stopping) return;
    const message = buildHealth(this.log, this.cursor, this.status(), this.options, this.clock.now());
    if (this.acquisitionHealth) message.acquisition = this.acquisitionHealth();
    if (this.hj212Health) message.hj212 = this.hj212Health();
    if (this.processingHealth) message.processing = this.processingHealth();
    const cameras = this.camerasHealth?.();
    if (cameras) message.cameras = cameras;
    this.client?.publish(this.topics.health, JSON.stringify(message), { qos: 1, retain: true });
    this.healthTimer = setTimeout(() => this.publishHealth(), this.options.healthIntervalMs);
  }
}
