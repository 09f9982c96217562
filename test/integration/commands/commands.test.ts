import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../gateway/src/core/clock.js';
import { openLog, type Log } from '../../../gateway/src/store/index.js';
import {
  CommandHandler,
  CommandRegistry,
  type CommandResult,
} from '../../../gateway/src/uplink/commands/index.js';
import { registerBuiltins } from '../../../gateway/src/uplink/commands/builtin.js';
import { resolveOptions } from '../../../gateway/src/uplink/mqtt/options.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import { requireTool } from '../../helpers/tools.js';
import { payloadValidators } from '../../helpers/asyncapi.js';

const tools = requireTool('mosquitto');
const GW = 'gw-cmd';
const ROOT = `lantian/v1/${GW}`;

let n = 0;
/** A command as the platform signs it. */
function signed(key: KeyObject, fields: Record<string, unknown> = {}): Record<string, unknown> {
  n++;
  const body = { v: 1, id: `c${n}`, ts: Date.now(), nonce: `nonce-${process.pid}-${n}`, args: {}, ...fields };
  const sig = sign(null, Buffer.from(canonicalize(body)!), key).toString('base64');
  return { ...body, sig };
}

describe(tools.title('commands through Mosquitto'), () => {
  let broker: MosquittoBroker;
  let tmp: TempDir;
  let log: Log;
  let handler: CommandHandler;
  let platform: MqttClient;
  const results: CommandResult[] = [];
  const platformKeys = generateKeyPairSync('ed25519');

  beforeAll(async () => {
    if (!tools.available) return;
    broker = await startMosquitto();
    tmp = tempDir('lantian-cmd-');
    log = openLog({ path: tmp.file('log.db') });
    const registry = new CommandRegistry();
    const options = resolveOptions({ url: broker.url, gatewayId: GW });
    registerBuiltins(registry, log, systemClock);
    handler = new CommandHandler(log, registry, options, {
      platformKey: platformKeys.publicKey,
      maxAgeMs: 60_000,
    });
    handler.start();
    await handler.subscribed;
    platform = await mqtt.connectAsync(broker.url, { clientId: 'platform-cmd' });
    platform.on('message', (_t, p) => results.push(JSON.parse(p.toString()) as CommandResult));
    await platform.subscribeAsync(`${ROOT}/cmd/+/result`, { qos: 1 });
  });
  afterAll(async () => {
    if (!tools.available) return;
    await platform.endAsync();
    await handler.stop();
    log.close();
    await broker.close();
    tmp.remove();
  });

  /** Publishes on cmd/<name> and resolves with the next result that `match` picks. */
  async function send(
    name: string,
    payload: string | Buffer,
    match: (r: CommandResult) => boolean,
  ): Promise<CommandResult> {
    const deadline = Date.now() + 20_000;
    await platform.publishAsync(`${ROOT}/cmd/${name}`, payload, { qos: 1 });
    for (;;) {
      const r = results.find(match);
      if (r) return r;
      if (Date.now() > deadline) throw new Error(`no result on ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const run = async (name: string, command: Record<string, unknown>) =>
    send(
      name,
      JSON.stringify(command),
      (r) => r.id === command['id'] && r.name === name && results.indexOf(r) >= 0,
    );

  const events = (kind: string) => log.read(0, 10_000).filter((r) => r.type === 'event' && r.kind === kind);

  it.skipIf(!tools.available)(
    'answers a signed ping with the caller id, and records it',
    async () => {
      const r = await run('ping', signed(platformKeys.privateKey));
      expect(r).toMatchObject({
        ok: true,
        gateway: GW,
        name: 'ping',
        result: { pong: true, lastSeq: expect.any(Number) },
      });
      expect(events('command').at(-1)).toMatchObject({ payload: { name: 'ping', id: r.id } });
    },
    60_000,
  );

  it.skipIf(!tools.available)('sets the alert level as an alert_level event in the log', async () => {
    const r = await run('alert-level', signed(platformKeys.privateKey, { args: { level: 'orange' } }));
    expect(r).toMatchObject({ ok: true, result: { seq: expect.any(Number) } });
    expect(events('alert_level').at(-1)).toMatchObject({ payload: { level: 'orange' } });
  });

  it.skipIf(!tools.available)(
    'refuses bad JSON, a wrong schema, a missing or bad signature, a stale or replayed command, an unknown command, bad arguments and a snapshot without cameras, each with its reason and an event',
    async () => {
      const k = platformKeys.privateKey;
      const refused = async (name: string, payload: string, reason: string) => {
        const before = results.length;
        const r = await send(name, payload, (x) => results.indexOf(x) >= before && x.name === name);
        expect(r, payload.slice(0, 60)).toMatchObject({ ok: false, refusal: { reason } });
        return r;
      };
      await refused('ping', 'not json', 'malformed');
      await refused('ping', 'x'.repeat(17 * 1024), 'oversized');
      await refused('ping', JSON.stringify({ v: 1, id: 'x' }), 'invalid');
      const { sig: _s, ...unsigned } = signed(k);
      await refused('ping', JSON.stringify(unsigned), 'invalid');
      const altered = signed(k, { args: { level: 'yellow' } });
      await refused('alert-level', JSON.stringify({ ...altered, args: { level: 'none' } }), 'bad_signature');
      const other = generateKeyPairSync('ed25519').privateKey;
      await refused('ping', JSON.stringify(signed(other)), 'bad_signature');
      await refused('ping', JSON.stringify(signed(k, { ts: Date.now() - 3_600_000 })), 'stale');
      const once = signed(k);
      expect((await run('ping', once)).ok).toBe(true);
      const again = await refused('ping', JSON.stringify(once), 'replayed');
      expect(again.id).toBe(once['id']);
      await refused('self-destruct', JSON.stringify(signed(k)), 'unknown_command');
      await refused('alert-level', JSON.stringify(signed(k, { args: { level: 'purple' } })), 'bad_arguments');
      await refused('snapshot', JSON.stringify(signed(k)), 'unavailable');
      const reasons = events('command_refused').map(
        (e) => (e as { payload: { reason: string } }).payload.reason,
      );
      expect(reasons).toEqual([
        'malformed',
        'oversized',
        'invalid',
        'invalid',
        'bad_signature',
        'bad_signature',
        'stale',
        'replayed',
        'unknown_command',
        'bad_arguments',
        'unavailable',
      ]);
      // None of it stopped the handler.
      expect((await run('ping', signed(k))).ok).toBe(true);
      // Every answer, refusals included, as docs/asyncapi.yaml describes it.
      const validate = payloadValidators().get('commandResult')!;
      for (const r of results) expect(validate(r), JSON.stringify(validate.errors)).toBe(true);
    },
    60_000,
  );
});
