import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Signer } from '../../../gateway/src/uplink/integrity/seal.js';
import { lantian } from '../../helpers/cli.js';

describe('lantian keys and lantian verify', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lantian-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('create a private key only its owner can read, refuse to replace it, and verify a capture made with it', async () => {
    const init = await lantian(['keys', 'init', '--dir', dir]);
    expect(init.code, init.stderr).toBe(0);
    const fp = /fingerprint (SHA256:\S+)/.exec(init.stdout)?.[1];
    expect(fp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(statSync(join(dir, 'gateway.key')).mode & 0o777).toBe(0o600);
    const again = await lantian(['keys', 'init', '--dir', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('INTEGRITY_KEY_EXISTS');
    expect((await lantian(['keys', 'show', '--dir', dir])).stdout).toContain(fp!);

    // A capture as mosquitto_sub -v prints it, sealed with the key just made.
    const signer = new Signer(createPrivateKey(readFileSync(join(dir, 'gateway.key'))));
    const lines = [1, 2, 3].map((b) => {
      const readings = [0, 1].map((i) => ({
        seq: b * 2 - 1 + i,
        ts: 1000 * b,
        device: 'gas',
        point: 'so2',
        value: 20 + b + i,
        flag: 'N',
      }));
      const m = signer.seal('log-1', 'data', {
        v: 1,
        gateway: 'gw1',
        lane: 'live',
        first: readings[0]!.seq,
        last: readings[1]!.seq,
        count: 2,
        readings,
      });
      return `lantian/v1/gw1/data ${JSON.stringify(m)}`;
    });
    const capture = join(dir, 'messages.txt');
    writeFileSync(
      capture,
      [`lantian/v1/gw1/state {"v":1,"gateway":"gw1","state":"online","ts":1}`, ...lines].join('\n') + '\n',
    );
    const ok = await lantian(['verify', '--key', join(dir, 'gateway.pub'), capture]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('gateway gw1 log log-1: 3 messages, 6 records, seqs 1–6');
    expect(ok.stdout).toContain('verify: ok');

    writeFileSync(
      capture,
      [lines[0], lines[1]!.replace('"value":23', '"value":2.3'), lines[2], 'not json at all'].join('\n'),
    );
    const bad = await lantian(['verify', '--key', join(dir, 'gateway.pub'), capture]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^bad_signature seqs 3–4 \(line 2, data, log log-1\)/m);
    expect(bad.stdout).toMatch(/^malformed \(line 4\)/m);
    expect(bad.stdout).toContain('verify: 2 finding(s)');
  }, 180_000);

  it('refuses a public key file that is not one', async () => {
    writeFileSync(join(dir, 'junk.pub'), 'hello');
    const r = await lantian(['verify', '--key', join(dir, 'junk.pub'), '-']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('INTEGRITY_KEY_INVALID');
  }, 60_000);
});
