/**
 * The two authentications a camera asks for, held to published examples: HTTP digest to the
 * RFC 7616 section 3.9.1 example (MD5 and SHA-256), the ONVIF UsernameToken digest to the ONVIF
 * Application Programmer's Guide example. Both the gateway's client and the simulator's check
 * are held to them, so neither can agree with the other on a mistake.
 */
import { describe, expect, it } from 'vitest';
import { digestAuthorization, parseChallenge } from '../../../gateway/src/cameras/digest.js';
import { usernameToken } from '../../../gateway/src/cameras/onvif.js';
import { DigestGuard, parseDigestParams } from '../../../hardware-sim/src/camera/digest.js';
import { UsernameTokenGuard } from '../../../hardware-sim/src/camera/onvif.js';

const RFC = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  uri: '/dir/index.html',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
};

describe('HTTP digest against RFC 7616', () => {
  for (const [algorithm, response] of [
    ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
    ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
  ] as const) {
    it(`answers the example challenge with the published ${algorithm} response`, () => {
      const challenge = parseChallenge(
        `Digest realm="${RFC.realm}", qop="auth, auth-int", algorithm=${algorithm}, nonce="${RFC.nonce}", opaque="${RFC.opaque}"`,
      );
      expect(challenge).toMatchObject({ realm: RFC.realm, nonce: RFC.nonce, qop: 'auth', algorithm });
      const header = digestAuthorization(challenge!, RFC, 'GET', RFC.uri, 1, RFC.cnonce);
      const p = parseDigestParams(header)!;
      expect(p.get('response')).toBe(response);
      expect([p.get('nc'), p.get('qop'), p.get('uri'), p.get('opaque')]).toEqual([
        '00000001',
        'auth',
        RFC.uri,
        RFC.opaque,
      ]);
    });
  }

  it('the simulated camera accepts the published answer to its own nonce and refuses a wrong password', () => {
    const guard = new DigestGuard(
      RFC.realm,
      () => RFC,
      () => 0,
    );
    const nonce = /nonce="([^"]+)"/.exec(guard.challenge())![1]!;
    const challenge = { realm: RFC.realm, nonce, qop: 'auth', algorithm: 'MD5', stale: false };
    const good = digestAuthorization(challenge, RFC, 'GET', RFC.uri, 1);
    const bad = digestAuthorization(challenge, { ...RFC, password: 'circle of life' }, 'GET', RFC.uri, 1);
    expect(guard.check('GET', RFC.uri, good)).toBe('ok');
    expect(guard.check('GET', RFC.uri, bad)).toBe('wrong');
    expect(guard.check('GET', '/other', good)).toBe('wrong');
    expect(guard.check('GET', RFC.uri, undefined)).toBe('missing');
  });

  it('reads realms with spaces, brackets and commas whole, beside a Basic challenge', () => {
    const c = parseChallenge([
      'Basic realm="x"',
      'Digest qop="auth", realm="IP Camera(C6596), gate 2", nonce="abc", stale=TRUE',
    ]);
    expect(c).toMatchObject({
      realm: 'IP Camera(C6596), gate 2',
      nonce: 'abc',
      stale: true,
      algorithm: 'MD5',
    });
    expect(parseChallenge('Basic realm="x"')).toBeUndefined();
    expect(parseChallenge(undefined)).toBeUndefined();
  });
});

describe('ONVIF UsernameToken digest', () => {
  const example = {
    username: 'user',
    password: 'userpassword',
    nonce: Buffer.from('LKqI6G/AikKCQrN0zqZFlg==', 'base64'),
    created: '2010-09-16T07:50:45Z',
  };

  it('gives the published PasswordDigest for the example nonce and time', () => {
    const xml = usernameToken(example, example.created, example.nonce);
    expect(xml).toContain('>tuOSpGlFlIXsozq4HFNeeGeFLEI=</wsse:Password>');
    expect(xml).toContain('<wsse:Username>user</wsse:Username>');
  });

  it('the simulated camera takes a fresh token once, and refuses a replay, a wrong password or a stale time', () => {
    const now = Date.parse(example.created) + 1000;
    const guard = new UsernameTokenGuard(
      () => example,
      () => now,
    );
    const token = usernameToken(example, example.created, example.nonce);
    expect(guard.check(token)).toBe('ok');
    expect(guard.check(token)).toBe('wrong');
    expect(guard.check(usernameToken({ ...example, password: 'x' }, example.created))).toBe('wrong');
    expect(guard.check(usernameToken(example, '2010-09-16T07:30:00Z'))).toBe('wrong');
    expect(guard.check('<Envelope/>')).toBe('missing');
  });
});
