/**
 * Takes commands from `cmd/<name>`, answers each on `cmd/<name>/result` with the caller's id, and
 * puts every accepted command (`command`) and every refusal (`command_refused`) on record as an
 * event in the log, forwarded and sealed like every record. It has its own MQTT connection (a
 * clean session: a command missed while the gateway was away is the platform's to send again, and
 * would be stale anyway), so commands never wait behind the publisher's backlog and never block it.
 *
 * Checks, in order: size, JSON, schema, the platform's signature, age, nonce, known command,
 * arguments. The nonce is taken only once the signature holds, so nobody can use up a nonce.
 */
import { verify as edVerify, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { MqttClient } from 'mqtt';
import { systemClock, type Clock } from '../../core/clock.js';
import { isLantianError } from '../../core/errors.js';
import { childLogger, silentLogger, type Logger } from '../../core/logger.js';
import type { Log } from '../../store/log.js';
import { connectClient } from '../mqtt/connect.js';
import { CONTRACT_VERSION } from '../mqtt/contract.js';
import { clientIdOf, clientOptions, topicsOf, type ResolvedMqttOptions } from '../mqtt/options.js';
import {
  commandSchema,
  MAX_COMMAND_BYTES,
  type CommandMessage,
  type CommandResult,
  type Refusal,
} from './contract.js';
import { NonceBook } from './nonces.js';
import { CommandRefusal, type CommandRegistry } from './registry.js';

export interface CommandSettings {
  /** The platform's Ed25519 public key: every command must carry its signature. */
  platformKey: KeyObject;
  /** Largest difference between a command's `ts` and the gateway clock, ms. */
  maxAgeMs: number;
}

class Refused extends Error {
  constructor(
    readonly reason: Refusal,
    message: string,
    readonly id: string | null = null,
  ) {
    super(message);
  }
}

/** The platform's signature over the command without `sig` (RFC 8785 encoding). */
export function commandSignatureHolds(message: Record<string, unknown>, key: KeyObject): boolean {
  const { sig, ...rest } = message;
  if (typeof sig !== 'string') return false;
  const bytes = Buffer.from(sig, 'base64');
  if (bytes.length !== 64 || bytes.toString('base64') !== sig) return false;
  const text = canonicalize(rest);
  return text !== undefined && edVerify(null, Buffer.from(text), key, bytes);
}

export class CommandHandler {
  private client: MqttClient | undefined;
  private readonly nonces: NonceBook;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly prefix: string;

  constructor(
    private readonly log: Log,
    private readonly registry: CommandRegistry,
    private readonly mqttOptions: ResolvedMqttOptions,
    private readonly settings: CommandSettings,
    env: { clock?: Clock; logger?: Logger } = {},
  ) {
    this.clock = env.clock ?? systemClock;
    this.logger = childLogger(env.logger ?? silentLogger, 'mqtt', { part: 'commands' });
    this.nonces = new NonceBook(log.database, 2 * settings.maxAgeMs);
    this.prefix = topicsOf(mqttOptions).state.replace(/state$/, 'cmd/');
  }

  private markSubscribed: () => void = () => undefined;
  /** Resolves once the handler listens for commands (tests, and programs that must know). */
  readonly subscribed = new Promise<void>((resolve) => (this.markSubscribed = resolve));

  start(): void {
    if (this.client) return;
    const base = clientOptions(this.mqttOptions, this.clock.now());
    const { will: _noWill, ...options } = base;
    const client = connectClient(this.mqttOptions.url, {
      ...options,
      clientId: `${clientIdOf(this.mqttOptions)}-cmd`,
      clean: true,
      resubscribe: true,
      reconnectOnConnackError: true,
    });
    this.client = client;
    client.on('connect', () => {
      client.subscribe(`${this.prefix}+`, { qos: 1 }, (err) => {
        if (err) this.logger.error({ err: err.message }, 'cannot subscribe to commands');
        else this.markSubscribed();
      });
    });
    client.on('error', (e) => this.logger.warn({ err: e.message }, 'command connection error'));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.endAsync();
  }

  private onMessage(topic: string, payload: Buffer): void {
    const name = topic.slice(this.prefix.length);
    if (name.includes('/')) return; // a result topic of another subscriber's making
    void this.handle(name, payload).catch((e: unknown) =>
      this.logger.error({ err: e, name }, 'a command could not be answered'),
    );
  }

  /** Checks and runs one command; answers it and puts it on record. Never throws for bad input. */
  async handle(name: string, payload: Buffer): Promise<CommandResult> {
    let command: CommandMessage | undefined;
    let result: CommandResult;
    try {
      command = this.check(name, payload);
      const def = this.registry.get(name)!;
      const args = def.args.safeParse(command.args);
      if (!args.success)
        throw new Refused(
          'bad_arguments',
          args.error.issues.map((i) => `${i.path.join('.') || 'args'}: ${i.message}`).join('; '),
          command.id,
        );
      this.audit('command', { name, id: command.id, args: command.args });
      let value: unknown;
      try {
        value = await def.run(args.data);
      } catch (e) {
        if (e instanceof CommandRefusal) throw new Refused(e.reason, e.message, command.id);
        throw new Refused('failed', isLantianError(e) ? `${e.code}: ${e.message}` : String(e), command.id);
      }
      result = this.result(name, command.id, { ok: true, result: value });
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      this.audit('command_refused', { name, id: e.id, reason: e.reason, message: e.message });
      this.logger.warn({ name, id: e.id, reason: e.reason, detail: e.message }, 'command refused');
      result = this.result(name, e.id, { ok: false, refusal: { reason: e.reason, message: e.message } });
    }
    this.client?.publish(`${this.prefix}${name}/result`, JSON.stringify(result), { qos: 1 });
    return result;
  }

  private check(name: string, payload: Buffer): CommandMessage {
    if (payload.length > MAX_COMMAND_BYTES)
      throw new Refused('oversized', `${payload.length} bytes, more than ${MAX_COMMAND_BYTES}`);
    let raw: unknown;
    try {
      raw = JSON.parse(payload.toString('utf8'));
    } catch {
      throw new Refused('malformed', 'the payload is not JSON');
    }
    const rawId = (raw as { id?: unknown } | null)?.id;
    const id = typeof rawId === 'string' ? rawId.slice(0, 64) : null;
    const parsed = commandSchema.safeParse(raw);
    if (!parsed.success)
      throw new Refused(
        'invalid',
        parsed.error.issues.map((i) => `${i.path.join('.') || '/'}: ${i.message}`).join('; '),
        id,
      );
    if (!commandSignatureHolds(raw as Record<string, unknown>, this.settings.platformKey))
      throw new Refused('bad_signature', "the platform's signature does not hold", id);
    const now = this.clock.now();
    const c = parsed.data;
    if (Math.abs(now - c.ts) > this.settings.maxAgeMs)
      throw new Refused(
        'stale',
        `signed at ${c.ts}, ${now - c.ts} ms from the gateway clock (limit ${this.settings.maxAgeMs})`,
        id,
      );
    if (!this.nonces.take(c.nonce, now))
      throw new Refused('replayed', `nonce ${c.nonce} was used before`, id);
    if (!this.registry.get(name)) {
      const why = this.registry.whyUnavailable(name);
      if (why !== undefined) throw new Refused('unavailable', why, id);
      throw new Refused(
        'unknown_command',
        `no command ${name}; known: ${this.registry.names().join(', ')}`,
        id,
      );
    }
    return c;
  }

  private result(
    name: string,
    id: string | null,
    outcome: Pick<CommandResult, 'ok' | 'result' | 'refusal'>,
  ): CommandResult {
    return {
      v: CONTRACT_VERSION,
      gateway: this.mqttOptions.gatewayId,
      id,
      name,
      ts: this.clock.now(),
      ...outcome,
    };
  }

  /** An audit event; a log that cannot write must not stop the answer. */
  private audit(kind: string, payload: Record<string, unknown>): void {
    try {
      this.log.appendEvent({ ts: this.clock.now(), kind, payload });
    } catch (e) {
      this.logger.error({ err: e, kind }, 'cannot record the command');
    }
  }
}
