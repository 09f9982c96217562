/**
 * `lantian init` as an installer runs it: once with flags (a scripted install), once answering
 * the wizard's questions in a real pseudo-terminal (script gives it one). Both write a site
 * config that check-config accepts, a secrets file only the owner can read, and a key pair.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../gateway/src/uplink/mqtt/broker.js';
import { lantian, packageRoot } from '../../helpers/cli.js';

let dir: string;
let broker: EmbeddedBroker;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lantian-init-'));
  broker = await startEmbeddedBroker({ port: 0 });
});

afterAll(async () => {
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

const mode = (file: string) => statSync(file).mode & 0o777;

describe('lantian init', () => {
  it('with flags writes the config, a 0600 secrets file and the key pair, logs in to the broker and checks the config', async () => {
    const etc = join(dir, 'flags/etc');
    const base = ['init', '--yes', '--config', join(etc, 'site.yaml'), '--site-id', 'plant-a'];
    const run = await lantian([
      ...base,
      '--site-name',
      'Plant A',
      '--state-dir',
      join(dir, 'flags/state'),
      '--mqtt-url',
      broker.url,
      '--web-password',
      'web-secret-1',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^broker ${broker.url}: logged in \\(\\d+ ms\\)$`, 'm'));
    expect(run.stdout).toMatch(/site\.yaml: valid: version 1, site plant-a, gateway plant-a-gw1/);
    const config = parse(readFileSync(join(etc, 'site.yaml'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      site: { id: 'plant-a', name: 'Plant A' },
      uplinks: { mqtt: { url: broker.url } },
      web: { host: '0.0.0.0', password: { secret: 'web-password' } },
    });
    // The password is in the secrets file only, readable by its owner alone.
    expect(readFileSync(join(etc, 'site.yaml'), 'utf8')).not.toContain('web-secret-1');
    expect(parse(readFileSync(join(etc, 'secrets.yaml'), 'utf8'))).toEqual({
      'web-password': 'web-secret-1',
    });
    expect(mode(join(etc, 'secrets.yaml'))).toBe(0o600);
    expect(mode(join(dir, 'flags/state/gateway.key'))).toBe(0o600);

    // A second run keeps what is there.
    const again = await lantian([
      'init',
      '--yes',
      '--config',
      join(etc, 'site.yaml'),
      '--site-id',
      'plant-a',
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists; keep it, or pass --force/);
  }, 60_000);

  it('asks its questions in a terminal and writes what was answered', async () => {
    const etc = join(dir, 'tty/etc');
    const command = [
      'exec',
      process.execPath,
      'bin/lantian.js',
      'init',
      '--config',
      join(etc, 'site.yaml'),
      '--state-dir',
      join(dir, 'tty/state'),
      '--no-broker-test',
    ].join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: packageRoot,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    let seen = 0;
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    // Waits for each question, then types the answer and Enter as an installer would.
    const answer = async (question: string, text: string) => {
      const deadline = Date.now() + 30_000;
      while (out.indexOf(question, seen) < 0) {
        if (Date.now() > deadline) throw new Error(`no question "${question}" in:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      seen = out.indexOf(question, seen) + question.length;
      child.stdin.write(`${text}\r`);
    };
    await answer('Site id', 'works-2');
    await answer('Site name', 'Works 2 stack');
    await answer('Gateway id', ''); // the offered default
    await answer('Time zone', '');
    await answer('State directory', '');
    await answer('MQTT broker URL', 'mqtt://broker.example.cn:1883');
    await answer('MQTT user name', 'works2');
    await answer('MQTT password', 'mq-pass-9');
    await answer('Serve the web page', 'n');
    expect(await exited).toBe(0);
    expect(out).toMatch(/site\.yaml: valid: version 1, site works-2, gateway works-2-gw1/);
    expect(out).not.toContain('mq-pass-9');
    const config = parse(readFileSync(join(etc, 'site.yaml'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      site: { id: 'works-2', name: 'Works 2 stack', timezone: 'Asia/Shanghai' },
      gateway: { id: 'works-2-gw1' },
      uplinks: {
        mqtt: {
          url: 'mqtt://broker.example.cn:1883',
          username: 'works2',
          password: { secret: 'mqtt-password' },
        },
      },
    });
    expect(config.web).toBeUndefined();
    expect(parse(readFileSync(join(etc, 'secrets.yaml'), 'utf8'))).toEqual({ 'mqtt-password': 'mq-pass-9' });
    expect(mode(join(etc, 'secrets.yaml'))).toBe(0o600);
  }, 60_000);
});
