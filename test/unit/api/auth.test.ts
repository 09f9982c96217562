import { describe, expect, it } from 'vitest';
import { checkRequest, presentedSecret } from '../../../gateway/src/api/auth.js';
import { Web } from '../../../gateway/src/config/schema.js';

const basic = (user: string, pw: string) => 'Basic ' + Buffer.from(`${user}:${pw}`).toString('base64');

describe('who may see the web page', () => {
  it('takes the password from Basic (any user name, colons allowed in it) or Bearer', () => {
    expect(presentedSecret(basic('installer', 'a:b'))).toBe('a:b');
    expect(presentedSecret('Bearer tok-1')).toBe('tok-1');
    expect(presentedSecret('Digest x')).toBeUndefined();
    expect(presentedSecret(undefined)).toBeUndefined();
  });

  it('asks every address for the password once one is set, loopback included', () => {
    expect(checkRequest('pw', undefined, '127.0.0.1')).toBe('missing');
    expect(checkRequest('pw', basic('x', 'wrong'), '10.0.0.5')).toBe('wrong');
    expect(checkRequest('pw', basic('x', 'pw'), '10.0.0.5')).toBe('ok');
    expect(checkRequest('pw', 'Bearer pw', '::1')).toBe('ok');
  });

  it('without a password lets only this machine in', () => {
    expect(checkRequest(undefined, undefined, '127.0.0.1')).toBe('ok');
    expect(checkRequest(undefined, undefined, '::ffff:127.0.0.1')).toBe('ok');
    expect(checkRequest(undefined, undefined, '192.168.1.20')).toBe('remote');
  });

  it('the config refuses a page on a network address without a password', () => {
    const open = Web.safeParse({ host: '0.0.0.0' });
    expect(open.success).toBe(false);
    expect(open.error?.issues[0]?.path).toEqual(['password']);
    expect(Web.safeParse({ host: '0.0.0.0', password: { secret: 'web' } }).success).toBe(true);
    expect(Web.parse({})).toEqual({ host: '127.0.0.1', port: 8080 });
  });
});
