/**
 * The MQTT uplink's options on their own: the defaults and refusals of `resolveOptions`, every
 * option the mqtt.js client is given (the persistent session, the retained offline will, the
 * credentials, the TLS files read from disk), the state message, the topics, the client id, and
 * the hint given when TLS and plain MQTT are mixed up.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { isLantianError } from '../../../../gateway/src/core/errors.js';
import { CONTRACT_VERSION } from '../../../../gateway/src/uplink/mqtt/contract.js';
import {
  clientIdOf,
  clientOptions,
  resolveOptions,
  stateMessage,
  tlsMismatchHint,
  topicsOf,
  type MqttUplinkOptions,
} from '../../../../gateway/src/uplink/mqtt/options.js';
import { tempDir } from '../../../helpers/store-fixtures.js';

const base: MqttUplinkOptions = { url: 'mqtt://127.0.0.1:1883', gatewayId: 'gw-1' };
const tmp = tempDir('lantian-mqtt-options-');
afterAll(() => tmp.remove());

/** The error `fn` throws (the test fails when it throws none). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('nothing was thrown');
}

/** The problems of an UPLINK_OPTIONS_INVALID refusal of `options`, with its message. */
function problemsOf(options: unknown): { problems: string[]; message: string } {
  const e = thrown(() => resolveOptions(options as MqttUplinkOptions));
  if (!isLantianError(e) || e.code !== 'UPLINK_OPTIONS_INVALID') throw e;
  return { problems: e.context.problems as string[], message: e.message };
}

/** A PEM file (an Ed25519 key, made for the test): the client only reads the bytes. */
function pemFile(name: string): { file: string; bytes: Buffer } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  const file = tmp.file(name);
  writeFileSync(file, pem);
  return { file, bytes: Buffer.from(pem) };
}

describe('resolving the uplink options', () => {
  it('fills in the defaults of every optional setting', () => {
    const o = resolveOptions(base);
    expect(o).toMatchObject({
      url: 'mqtt://127.0.0.1:1883',
      gatewayId: 'gw-1',
      uplinkId: 'mqtt',
      topicRoot: 'lantian/v1',
      keepaliveS: 30,
      reconnectPeriodMs: 2000,
      validateOutgoing: true,
    });
    expect(o.clientId).toBeUndefined();
    expect(o.tls).toBeUndefined();
  });

  it('keeps what is set, and turns certificate checks off only when asked', () => {
    const o = resolveOptions({
      ...base,
      url: 'mqtts://broker.example.cn:8883',
      uplinkId: 'mqtt-2',
      validateOutgoing: false,
      tls: { ca: '/etc/ca.pem', cert: '/etc/c.pem', key: '/etc/c.key', servername: 'broker' },
    });
    expect(o.uplinkId).toBe('mqtt-2');
    expect(o.validateOutgoing).toBe(false);
    expect(o.tls).toEqual({
      ca: '/etc/ca.pem',
      cert: '/etc/c.pem',
      key: '/etc/c.key',
      servername: 'broker',
      insecureSkipVerifyInTestsOnly: false,
    });
  });

  it('refuses a gateway id with a character outside letters, digits, _ . -, anywhere in it', () => {
    for (const gatewayId of ['gw 1', ' gw1', 'gw1 ', 'gw/1']) {
      expect(problemsOf({ ...base, gatewayId }).problems).toEqual(['gatewayId: letters, digits, _ . - only']);
    }
    expect(resolveOptions({ ...base, gatewayId: 'Gw_1.a-b' }).gatewayId).toBe('Gw_1.a-b');
  });

  it('refuses with UPLINK_OPTIONS_INVALID naming each problem by its path', () => {
    const { problems, message } = problemsOf({
      ...base,
      uplinkId: '',
      password: 'secret',
      tls: { ca: 'ca.pem' },
    });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^uplinkId: /);
    expect(problems).toContain('username: password needs a username');
    expect(problems).toContain('url: tls is set but the url is not mqtts:// or wss://');
    expect(message).toBe(`MQTT uplink options: ${problems.join('; ')}`);
  });

  it('refuses an unknown TLS setting', () => {
    const { problems } = problemsOf({ ...base, url: 'mqtts://b:8883', tls: { ca: 'a', pass: 'x' } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^tls: .*pass/);
  });
});

describe('the mqtt.js client options', () => {
  it('ask for MQTT 3.1.1, a persistent session, no reconnect on a refused login, no write cache', () => {
    const o = resolveOptions({ ...base, keepaliveS: 45, reconnectPeriodMs: 700 });
    const opts = clientOptions(o, 1234);
    expect(opts).toMatchObject({
      clientId: 'lantian-gw-1',
      protocolVersion: 4,
      clean: false,
      keepalive: 45,
      reconnectPeriod: 700,
      connectTimeout: 10_000,
      resubscribe: false,
      reconnectOnConnackError: false,
      queueQoSZero: false,
      writeCache: false,
    });
  });

  it('leave a retained offline will on the state topic, saying the connection was lost', () => {
    const o = resolveOptions(base);
    const will = clientOptions(o, 1234).will!;
    expect(will.topic).toBe('lantian/v1/gw-1/state');
    expect(will.qos).toBe(1);
    expect(will.retain).toBe(true);
    expect(JSON.parse(Buffer.from(will.payload as Buffer).toString())).toEqual({
      v: CONTRACT_VERSION,
      gateway: 'gw-1',
      state: 'offline',
      ts: 1234,
      reason: 'connection_lost',
    });
  });

  it('carry a user name and password only when they are set, and no TLS without tls settings', () => {
    const plain = clientOptions(resolveOptions(base), 0);
    for (const key of ['username', 'password', 'ca', 'cert', 'key', 'servername', 'rejectUnauthorized'])
      expect(key in plain, key).toBe(false);
    const user = clientOptions(resolveOptions({ ...base, username: 'u' }), 0);
    expect(user.username).toBe('u');
    expect('password' in user).toBe(false);
    const both = clientOptions(resolveOptions({ ...base, username: 'u', password: 'p' }), 0);
    expect(both).toMatchObject({ username: 'u', password: 'p' });
  });

  it('read each TLS file given, pass the server name, and verify the broker unless told not to', () => {
    const ca = pemFile('ca.pem');
    const cert = pemFile('client.pem');
    const key = pemFile('client.key');
    const url = 'mqtts://127.0.0.1:8883';
    const all = clientOptions(
      resolveOptions({
        ...base,
        url,
        tls: { ca: ca.file, cert: cert.file, key: key.file, servername: 'broker.example.cn' },
      }),
      0,
    );
    expect(all.ca).toEqual(ca.bytes);
    expect(all.cert).toEqual(cert.bytes);
    expect(all.key).toEqual(key.bytes);
    expect(all.servername).toBe('broker.example.cn');
    expect(all.rejectUnauthorized).toBe(true);

    const none = clientOptions(
      resolveOptions({ ...base, url, tls: { insecureSkipVerifyInTestsOnly: true } }),
      0,
    );
    for (const k of ['ca', 'cert', 'key', 'servername']) expect(k in none, k).toBe(false);
    expect(none.rejectUnauthorized).toBe(false);
  });

  it('refuse an unreadable TLS file with UPLINK_TLS naming the file and what it was', () => {
    const ca = pemFile('ca-ok.pem');
    const url = 'mqtts://127.0.0.1:8883';
    const cases = [
      { tls: { ca: tmp.file('no-ca.pem') }, what: 'CA certificate' },
      { tls: { ca: ca.file, cert: tmp.file('no-cert.pem') }, what: 'client certificate' },
      { tls: { ca: ca.file, key: tmp.file('no-key.pem') }, what: 'client key' },
    ];
    for (const { tls, what } of cases) {
      const file = Object.values(tls).find((f) => f !== ca.file)!;
      const e = thrown(() => clientOptions(resolveOptions({ ...base, url, tls }), 0));
      expect(isLantianError(e) && e.code).toBe('UPLINK_TLS');
      const err = e as Error & { context: unknown; cause: unknown };
      expect(err.context).toEqual({ file, what });
      expect(err.message).toMatch(new RegExp(`^${file}: cannot read the MQTT ${what} \\(ENOENT`));
      expect((err.cause as { code?: string }).code).toBe('ENOENT');
    }
  });
});

describe('the state message, topics and client id', () => {
  it('states the gateway, the state, the time and any extra field', () => {
    const o = resolveOptions(base);
    expect(JSON.parse(stateMessage(o, 'online', 5))).toEqual({
      v: CONTRACT_VERSION,
      gateway: 'gw-1',
      state: 'online',
      ts: 5,
    });
    expect(JSON.parse(stateMessage(o, 'offline', 6, { reason: 'stopped' }))).toMatchObject({
      state: 'offline',
      reason: 'stopped',
    });
  });

  it('puts the topics under <topicRoot>/<gateway id>', () => {
    const t = topicsOf(resolveOptions({ ...base, topicRoot: 'site/a' }));
    expect([t.state, t.data, t.health, t.all]).toEqual([
      'site/a/gw-1/state',
      'site/a/gw-1/data',
      'site/a/gw-1/health',
      'site/a/gw-1/#',
    ]);
  });

  it('uses the client id set, or lantian-<gateway id>', () => {
    expect(clientIdOf(resolveOptions(base))).toBe('lantian-gw-1');
    expect(clientIdOf(resolveOptions({ ...base, clientId: 'site-7' }))).toBe('site-7');
    expect(clientOptions(resolveOptions({ ...base, clientId: 'site-7' }), 0).clientId).toBe('site-7');
  });
});

describe('the hint for TLS and plain MQTT mixed up', () => {
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1883'), { code: 'ECONNREFUSED' });

  it('says a TLS URL probably points at a plain port when the handshake is dropped', () => {
    const url = 'mqtts://127.0.0.1:1883';
    const expected = `the broker at ${url} dropped the TLS handshake: that port probably speaks plain MQTT; use mqtt:// (or ws://), or the broker's TLS port`;
    expect(tlsMismatchHint(url, reset)).toBe(expected);
    // By the code alone, and by each message OpenSSL or Node give without a code.
    expect(tlsMismatchHint(url, Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(
      expected,
    );
    for (const message of [
      'Client network socket disconnected before secure TLS connection was established',
      'SSL routines:ssl3_get_record:wrong version number',
      'packet length too long',
      'Unexpected EOF',
    ])
      expect(tlsMismatchHint(url, new Error(message)), message).toBe(expected);
    expect(tlsMismatchHint('wss://127.0.0.1:1883', reset)).toBe(
      `the broker at wss://127.0.0.1:1883 dropped the TLS handshake: that port probably speaks plain MQTT; use mqtt:// (or ws://), or the broker's TLS port`,
    );
  });

  it('says a plain URL probably points at a TLS port when the broker closes or resets', () => {
    const url = 'mqtt://127.0.0.1:8883';
    const expected = `the broker at ${url} closed the connection before answering CONNECT: that port probably expects TLS; use mqtts:// (or wss://) with tls settings, or the broker's plain port`;
    expect(tlsMismatchHint(url, undefined)).toBe(expected);
    expect(tlsMismatchHint(url, reset)).toBe(expected);
  });

  it('gives no hint for other failures', () => {
    expect(tlsMismatchHint('mqtts://127.0.0.1:8883', refused)).toBeUndefined();
    expect(tlsMismatchHint('mqtts://127.0.0.1:8883', undefined)).toBeUndefined();
    expect(tlsMismatchHint('mqtt://127.0.0.1:1883', refused)).toBeUndefined();
    // A plain URL and a message that only looks like a reset: the code decides.
    expect(tlsMismatchHint('mqtt://127.0.0.1:1883', new Error('read ECONNRESET'))).toBeUndefined();
  });
});
