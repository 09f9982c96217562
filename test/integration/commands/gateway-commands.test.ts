/**
 * Commands against a whole gateway: built from a site config with commands and sealing on, its
 * devices in the hardware simulator over real sockets (raw RTU over TCP), a real Mosquitto
 * between it and a platform that signs its commands with `signCommand`.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../../gateway/src/core/clock.js';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { GatewayHost } from '../../../gateway/src/uplink/commands/host.js';
import type { LogRecord } from '../../../gateway/src/store/records.js';
import type { CommandResult } from '../../../gateway/src/uplink/commands/index.js';
import { signCommand } from '../../../gateway/src/uplink/commands/sign.js';
import { createKeyPair } from '../../../gateway/src/uplink/integrity/keys.js';
import {
  parseScenario,
  startSimulator,
  withFreePorts,
  type Simulator,
} from '../../../hardware-sim/src/index.js';
import { FIXTURE_PROFILES } from '../../fixtures/sim/profiles.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { writeSimSite } from '../../helpers/sim-site.js';
import { requireTool } from '../../helpers/tools.js';

const tools = requireTool('mosquitto');
const GW = 'gw-cmds';
const ROOT = `lantian/v1/${GW}`;

const scenario = withFreePorts(
  parseScenario({
    name: 'commands',
    seed: 3,
    profiles: FIXTURE_PROFILES,
    buses: [{ name: 'line', kind: 'rtu-tcp', host: '127.0.0.1', port: 0 }],
    devices: [
      { id: 'uv', profile: 'fixture.cems-uv', unit: 1, bus: 'line' },
      { id: 'dust', profile: 'boling.dust-detector', unit: 2, bus: 'line' },
    ],
  }),
);

interface Received {
  topic: string;
  payload: string;
}

describe(tools.title('commands to a running gateway'), () => {
  let broker: MosquittoBroker;
  let sim: Simulator;
  let dir: string;
  let host: GatewayHost;
  let file: string;
  let platform: MqttClient;
  const platformKeys = generateKeyPairSync('ed25519');
  const results: CommandResult[] = [];
  const received: Received[] = [];
  let n = 0;
  /** The gateway's wall clock, which a test steps apart from the monotonic clock. */
  let wallOffset = 0;
  const clock: Clock = { ...systemClock, now: () => Date.now() + wallOffset };

  beforeAll(async () => {
    if (!tools.available) return;
    broker = await startMosquitto();
    sim = await startSimulator(scenario);
    dir = mkdtempSync(join(tmpdir(), 'lantian-gw-cmds-'));
    const keys = createKeyPair(join(dir, 'keys'));
    writeFileSync(join(dir, 'platform.pub'), platformKeys.publicKey.export({ format: 'pem', type: 'spki' }));
    file = writeSimSite(sim, scenario, dir, {
      periodMs: 300,
      sections: {
        gateway: { id: GW },
        uplinks: {
          mqtt: {
            url: broker.url,
            signingKey: keys.privateKey,
            batch: { maxReadings: 20 },
            commands: { platformKey: 'platform.pub', maxAgeS: 60 },
          },
        },
      },
    });
    const loadOptions = { siteProfilesDir: FIXTURE_PROFILES };
    host = new GatewayHost(loadSiteConfig(file, loadOptions), { loadOptions, drainMs: 500, clock });
    platform = await mqtt.connectAsync(broker.url, { clientId: 'platform-gw-cmds' });
    platform.on('message', (topic, p) => {
      if (topic.endsWith('/result')) results.push(JSON.parse(p.toString()) as CommandResult);
      else received.push({ topic, payload: p.toString() });
    });
    await platform.subscribeAsync([`${ROOT}/cmd/+/result`, `${ROOT}/data`, `${ROOT}/events`], { qos: 1 });
    await host.start();
    await waitFor(
      () => host.gateway.uplinks.get('mqtt')!.status().ackedThrough >= 40,
      'first readings delivered',
    );
  }, 60_000);

  afterAll(async () => {
    if (!tools.available) return;
    await platform?.endAsync();
    await host?.stop();
    await sim?.stop();
    await broker?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function waitFor(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Signs and sends a command; resolves with its result. */
  async function command(name: string, args: unknown = {}, timeoutMs = 30_000): Promise<CommandResult> {
    const id = `op-${++n}`;
    const c = signCommand(id, args, platformKeys.privateKey, Date.now());
    await platform.publishAsync(`${ROOT}/cmd/${name}`, JSON.stringify(c), { qos: 1 });
    let r: CommandResult | undefined;
    await waitFor(
      () => (r = results.find((x) => x.id === id)) !== undefined,
      `the result of ${name}`,
      timeoutMs,
    );
    return r!;
  }

  /** After a restart: pings until the new gateway's command connection answers (a clean session drops what came before it subscribed). */
  async function answersAgain(): Promise<void> {
    for (let i = 0; i < 15; i++) {
      const r = await command('ping', {}, 2000).catch(() => undefined);
      if (r) return expect(r.ok).toBe(true);
    }
    throw new Error('the restarted gateway does not answer commands');
  }

  const events = (kind: string): (LogRecord & { type: 'event' })[] =>
    host.gateway.log
      .readEvents(0, 100_000)
      .filter((r): r is LogRecord & { type: 'event' } => r.type === 'event' && r.kind === kind);

  /** Data messages received that hold `seq`. */
  const dataHolding = (seq: number) =>
    received.filter((m) => {
      if (!m.topic.endsWith('/data')) return false;
      const b = JSON.parse(m.payload) as { first: number; last: number };
      return b.first <= seq && seq <= b.last;
    });

  describe('resend', () => {
    it.skipIf(!tools.available)(
      'sends a delivered seq range again on the replay lane, each message with the signature it first had',
      async () => {
        const firstData = JSON.parse(received.find((m) => m.topic.endsWith('/data'))!.payload) as {
          first: number;
          last: number;
        };
        const seq = firstData.first + 1;
        const before = dataHolding(seq).length;
        const r = await command('resend', { from: seq, to: seq + 5 });
        expect(r).toMatchObject({
          ok: true,
          result: { from: seq, to: seq + 5, messages: expect.any(Number) },
        });
        await waitFor(() => dataHolding(seq).length > before, 'the resent message');
        const [first, again] = dataHolding(seq);
        const a = JSON.parse(first!.payload) as Record<string, unknown> & { seal: { sig: string } };
        const b = JSON.parse(again!.payload) as Record<string, unknown> & { seal: { sig: string } };
        expect(b['lane']).toBe('replay');
        expect(b.seal.sig).toBe(a.seal.sig);
        expect({ ...b, lane: a['lane'] }).toEqual(a);
      },
      60_000,
    );

    it.skipIf(!tools.available)(
      'turns a time range into the seqs from the first to the last record stamped in it, and sends them',
      async () => {
        const readings = host.gateway.log.read(0, 100_000).filter((r) => r.type === 'reading');
        const fromTs = readings[10]!.ts;
        const toTs = fromTs + 400;
        const r = await command('resend', { fromTs, toTs });
        expect(r.ok).toBe(true);
        const inside = readings.filter((x) => x.ts >= fromTs && x.ts <= toTs).map((x) => x.seq);
        expect(r.result).toMatchObject({ from: Math.min(...inside), to: Math.max(...inside) });
      },
    );

    it.skipIf(!tools.available)(
      'refuses a range not sent yet, a range too large, and a time range with nothing in it',
      async () => {
        const last = host.gateway.log.lastSeq;
        const ahead = await command('resend', { from: last + 1000, to: last + 1001 });
        expect(ahead).toMatchObject({ ok: false, refusal: { reason: 'out_of_range' } });
        expect(ahead.refusal!.message).toMatch(/not held sealed/);
        const huge = await command('resend', { from: 1, to: 1_000_000 });
        expect(huge).toMatchObject({ ok: false, refusal: { reason: 'out_of_range' } });
        const empty = await command('resend', { fromTs: 1000, toTs: 2000 });
        expect(empty).toMatchObject({ ok: false, refusal: { reason: 'out_of_range' } });
        const backwards = await command('resend', { from: 9, to: 3 });
        expect(backwards).toMatchObject({ ok: false, refusal: { reason: 'out_of_range' } });
        expect(
          events('command_refused').filter((e) => (e.payload as { name: string }).name === 'resend'),
        ).toHaveLength(4);
      },
    );
  });

  describe('restart-acquisition', () => {
    it.skipIf(!tools.available)(
      'stops polling and starts again on fresh links: readings go on, and no poll cut short counts as failed or leaves a bad reading',
      async () => {
        const health = () => host.gateway.acquisition.health();
        const failedBefore = health().devices.map((d) => d.failedPolls);
        const connectsBefore = health().buses[0]!.connects;
        const seqBefore = host.gateway.log.lastSeq;
        const r = await command('restart-acquisition');
        expect(r).toMatchObject({ ok: true, result: { restartedInMs: expect.any(Number) } });
        const seqRestarted = host.gateway.log.lastSeq;
        const readingsAfter = (seq: number) =>
          host.gateway.log.read(seq, 100_000).filter((x) => x.type === 'reading');
        await waitFor(
          () =>
            ['uv', 'dust'].every((d) =>
              readingsAfter(seqRestarted).some((x) => x.type === 'reading' && x.device === d),
            ),
          'readings from every device after the restart',
        );
        expect(health().buses[0]!.connects).toBeGreaterThan(connectsBefore);
        expect(health().devices.map((d) => d.failedPolls)).toEqual(failedBefore);
        expect(readingsAfter(seqBefore).filter((x) => x.type === 'reading' && x.flag === 'B')).toEqual([]);
        expect(events('command').at(-1)).toMatchObject({
          payload: { name: 'restart-acquisition', id: r.id },
        });
      },
      60_000,
    );
  });

  describe('write', () => {
    it.skipIf(!tools.available)(
      'writes a register (FC06), a 32-bit integer (FC16) and a coil (FC05) the profiles mark writable, reads each back, and records it',
      async () => {
        const cases = [
          { device: 'uv', point: 'range_code', value: 3 },
          { device: 'dust', point: 'tsp_limit', value: 123_456 },
          { device: 'dust', point: 'tsp_limit', value: -7 },
          { device: 'uv', point: 'zero_valve', value: 1 },
        ];
        for (const c of cases) {
          const r = await command('write', c);
          expect(r, JSON.stringify(c)).toMatchObject({ ok: true, result: { ...c, readBack: c.value } });
          expect(events('point_written').at(-1)).toMatchObject({ payload: { ...c, readBack: c.value } });
        }
        const last = await command('write', { device: 'dust', point: 'tsp_limit', value: 5000 });
        expect(last.result).toMatchObject({ before: -7, readBack: 5000 });
      },
      60_000,
    );

    it.skipIf(!tools.available)(
      'refuses an unknown device, an unknown point, a read-only point and a value its type cannot hold, sending nothing',
      async () => {
        const refused = async (args: Record<string, unknown>, reason: string) => {
          const r = await command('write', args);
          expect(r, JSON.stringify(args)).toMatchObject({ ok: false, refusal: { reason } });
          return r.refusal!.message;
        };
        const written = events('point_written').length;
        await refused({ device: 'stack9', point: 'so2', value: 1 }, 'unknown_device');
        expect(await refused({ device: 'uv', point: 'so3', value: 1 }, 'unknown_point')).toMatch(
          /range_code/,
        );
        expect(await refused({ device: 'uv', point: 'so2', value: 1 }, 'not_writable')).toMatch(/read-only/);
        await refused({ device: 'uv', point: 'range_code', value: 70_000 }, 'out_of_range');
        await refused({ device: 'uv', point: 'range_code', value: 1.5 }, 'out_of_range');
        await refused({ device: 'uv', point: 'zero_valve', value: 2 }, 'out_of_range');
        await refused({ device: 'uv', point: 'range_code', value: '3' }, 'bad_arguments');
        expect(events('point_written')).toHaveLength(written);
      },
    );
  });

  describe('refusals', () => {
    it.skipIf(!tools.available)(
      'refuses bad JSON, a wrong schema, a missing or bad signature and a replayed nonce, and a command that throws becomes a refusal while polling goes on',
      async () => {
        const raw = async (name: string, payload: string) => {
          const before = results.length;
          await platform.publishAsync(`${ROOT}/cmd/${name}`, payload, { qos: 1 });
          let r: CommandResult | undefined;
          await waitFor(
            () => (r = results.slice(before).find((x) => x.name === name)) !== undefined,
            `the refusal on ${name}`,
          );
          return r!;
        };
        const k = platformKeys.privateKey;
        expect((await raw('ping', '{"v":1,')).refusal?.reason).toBe('malformed');
        expect((await raw('ping', JSON.stringify({ v: 1, id: 'x', ts: 0 }))).refusal?.reason).toBe('invalid');
        const { sig: _sig, ...unsigned } = signCommand('u1', {}, k, Date.now());
        expect((await raw('ping', JSON.stringify(unsigned))).refusal?.reason).toBe('invalid');
        const forged = signCommand('f1', {}, generateKeyPairSync('ed25519').privateKey, Date.now());
        expect((await raw('ping', JSON.stringify(forged))).refusal?.reason).toBe('bad_signature');
        const once = signCommand('r1', {}, k, Date.now());
        expect((await raw('ping', JSON.stringify(once))).ok).toBe(true);
        expect((await raw('ping', JSON.stringify(once))).refusal?.reason).toBe('replayed');

        host.gateway.commands.register('explode', {
          summary: 'Throws, as a command with a bug would.',
          args: z.object({}).strict(),
          run: () => {
            throw new TypeError('a bug in a command');
          },
        });
        const seq = host.gateway.log.lastSeq;
        const boom = await command('explode');
        expect(boom).toMatchObject({
          ok: false,
          refusal: { reason: 'failed', message: expect.stringMatching(/a bug/) },
        });
        await waitFor(
          () => host.gateway.log.read(seq, 10).some((x) => x.type === 'reading'),
          'readings after it',
        );
        const reasons = events('command_refused').map((e) => (e.payload as { reason: string }).reason);
        for (const reason of ['malformed', 'invalid', 'bad_signature', 'replayed', 'failed'])
          expect(reasons).toContain(reason);
      },
    );
  });

  describe('audit trail', () => {
    it.skipIf(!tools.available)(
      'records a step of the wall clock as a clock_step event, and sends it and every refusal to the platform sealed',
      async () => {
        wallOffset += 5000;
        await waitFor(() => events('clock_step').length > 0, 'the clock_step event', 40_000);
        expect(events('clock_step')[0]!.payload).toMatchObject({ stepMs: expect.any(Number) });
        expect(Math.abs((events('clock_step')[0]!.payload as { stepMs: number }).stepMs - 5000)).toBeLessThan(
          1000,
        );
        const sent = (kind: string) =>
          received
            .filter((m) => m.topic.endsWith('/events'))
            .map((m) => JSON.parse(m.payload) as { kind: string; seal?: { sig: string } })
            .filter((m) => m.kind === kind);
        await waitFor(() => sent('clock_step').length > 0, 'the clock_step message');
        for (const kind of ['clock_step', 'command', 'command_refused', 'point_written'])
          expect(
            sent(kind).every((m) => typeof m.seal?.sig === 'string') && sent(kind).length > 0,
            kind,
          ).toBe(true);
      },
      60_000,
    );
  });

  describe('config', () => {
    const sha256 = (t: string | Buffer) => createHash('sha256').update(t).digest('hex');
    const configChanges = () => events('config_change').map((e) => e.payload as Record<string, unknown>);

    it.skipIf(!tools.available)(
      'refuses text that is not YAML and a config that fails validation, with every problem, and leaves the file alone',
      async () => {
        const before = readFileSync(file);
        const bad = await command('config', { text: 'devices: {' });
        expect(bad).toMatchObject({ ok: false, refusal: { reason: 'invalid_config' } });
        const doc = parse(before.toString()) as Record<string, Record<string, Record<string, unknown>>>;
        doc['devices']!['uv']!['periodMs'] = 1;
        doc['devices']!['dust']!['profile'] = 'no.such-profile';
        const invalid = await command('config', { text: stringify(doc) });
        expect(invalid).toMatchObject({ ok: false, refusal: { reason: 'invalid_config' } });
        expect(invalid.refusal!.message).toMatch(/devices\.uv\.periodMs/);
        expect(invalid.refusal!.message).toMatch(/no\.such-profile/);
        expect(readFileSync(file)).toEqual(before);
      },
    );

    it.skipIf(!tools.available)(
      'writes a valid config atomically, keeps the old one, restarts the gateway with it and records a config_change with both hashes',
      async () => {
        const oldText = readFileSync(file, 'utf8');
        const doc = parse(oldText) as Record<string, Record<string, Record<string, unknown>>>;
        doc['devices']!['uv']!['periodMs'] = 450;
        const text = stringify(doc);
        const old = host.gateway;
        const r = await command('config', { text });
        expect(r).toMatchObject({
          ok: true,
          result: { oldHash: sha256(oldText), newHash: sha256(text), restarting: true },
        });
        await host.settled();
        expect(host.gateway).not.toBe(old);
        expect(readFileSync(file, 'utf8')).toBe(text);
        expect(readFileSync(`${file}.bak`, 'utf8')).toBe(oldText);
        expect(host.gateway.loaded.config.devices['uv']!.periodMs).toBe(450);
        expect(configChanges().at(-1)).toMatchObject({
          oldHash: sha256(oldText),
          newHash: sha256(text),
          applied: true,
        });
        await waitFor(
          () =>
            received.some(
              (m) =>
                m.topic.endsWith('/events') &&
                m.payload.includes('"config_change"') &&
                m.payload.includes('"seal"'),
            ),
          'the config_change event, sealed, at the platform',
        );
        // The new gateway takes commands and polls.
        await answersAgain();
        const seq = host.gateway.log.lastSeq;
        await waitFor(
          () => host.gateway.log.read(seq, 10).some((x) => x.type === 'reading'),
          'readings after the restart',
        );
      },
      60_000,
    );

    it.skipIf(!tools.available)(
      'rolls back to the old config when the gateway cannot start with a new one that validates, and says why',
      async () => {
        const oldText = readFileSync(file, 'utf8');
        const doc = parse(oldText) as Record<string, Record<string, unknown>>;
        // Valid as a config, but a log cannot be opened under a regular file.
        doc['storage'] = { ...doc['storage'], path: join(file, 'log.db') };
        const text = stringify(doc);
        const r = await command('config', { text });
        expect(r).toMatchObject({ ok: true, result: { newHash: sha256(text) } });
        await host.settled();
        expect(readFileSync(file, 'utf8')).toBe(oldText);
        expect(configChanges().at(-1)).toMatchObject({
          oldHash: sha256(oldText),
          newHash: sha256(text),
          applied: false,
          rolledBack: true,
          error: expect.stringMatching(/^STORE_/),
        });
        await answersAgain();
      },
      60_000,
    );
  });
});
