import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BROKEN_SITE_PATHS } from '../../fixtures/config/broken/expected.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = 'test/fixtures/config';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs node with these arguments from the package root, as an installer would. */
function node(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: root, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

// Each test starts the CLI through tsx one to three times; a loaded two-core machine can take
// several seconds per start, so the budget is generous and speed is never asserted.
const SLOW = { timeout: 90_000 };

const run = (args: string[]) => node(['bin/lantian.js', ...args]);

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function tempCopyOfV0(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lantian-cli-'));
  dirs.push(dir);
  copyFileSync(join(root, fixtures, 'v0/site.yaml'), join(dir, 'site.yaml'));
  copyFileSync(join(root, fixtures, 'v0/secrets.yaml'), join(dir, 'secrets.yaml'));
  chmodSync(join(dir, 'secrets.yaml'), 0o600);
  return join(dir, 'site.yaml');
}

describe('lantian --version', SLOW, () => {
  it('prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const r = await run(['--version']);
    expect([r.code, r.stdout.trim()]).toEqual([0, version]);
  });
});

describe('lantian check-config', SLOW, () => {
  it('exits 0 on the example config and prints a one-line summary', async () => {
    const r = await run(['check-config', 'examples/site.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^examples\/site\.yaml: valid: version 1, .*5 devices/),
    ]);
    // Nothing but warnings on stderr (the example secrets file is readable by all in a checkout).
    for (const line of r.stderr.split('\n').filter(Boolean)) expect(line).toContain(': warning: ');
  });

  it('prints the polling plan with --plan', async () => {
    const r = await run(['check-config', 'examples/site.yaml', '--plan']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/bus stack1-485: RTU over TCP/);
    expect(r.stdout).toMatch(/stack1-gas +sdl\.scs-900uv/);
    expect(r.stdout).toMatch(/uplink mqtt: mqtt:\/\/127\.0\.0\.1:1883/);
    // A small site: the README's flags for it, V8's lite mode among them.
    expect(r.stdout).toMatch(
      /^ {2}load: \d+ points, \d+ readings\/s; node's flags for it \(README\.md, "On the gateway"\): --max-old-space-size=64 --max-semi-space-size=2 --v8-pool-size=1 --lite-mode --no-expose-wasm$/m,
    );
  });

  it('describes the site I/O controller with --plan: each pin, its signal and its rule', async () => {
    const r = await run(['check-config', 'examples/site-planned.yaml', '--plan']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/site I\/O: Firmata board on \/dev\/ttyACM0 at 57600 bit\/s/);
    expect(r.stdout).toMatch(/A0 +water_pressure: 4-20mA = 0…1000 kPa \(shunt 220 Ω, NE43 faults flag D\)/);
    expect(r.stdout).toMatch(/D2 +cabinet_door: contact \(door, active high\): opening is a tamper event/);
    expect(r.stdout).toMatch(
      /D9 +fog_cannon: relay \(fail-safe off\): on when stack1-dust\/dust > 150 for 60 s/,
    );
  });

  it('exits 2 on a broken config and names every broken place as FILE:PATH', async () => {
    const file = `${fixtures}/broken/site.yaml`;
    const r = await run(['check-config', file, '--profiles', `${fixtures}/profiles`]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    for (const path of BROKEN_SITE_PATHS) {
      expect(
        lines.some((l) => l.startsWith(`${file}:${path}: `)),
        path,
      ).toBe(true);
    }
    expect(lines.some((l) => l.startsWith(`${fixtures}/broken/secrets.yaml:hj212-pw: `))).toBe(true);
    expect(r.stderr).toMatch(/devices\.gas\.profile: .*\(line 24; hint: did you mean sdl\.scs-900uv\?\)/);
    // 23 mistakes, plus a refusal for each section it uses that does not run yet.
    const refusals = lines.filter((l) => l.includes(': not supported yet: ')).length;
    expect(r.stderr).toContain(`${file}: ${23 + refusals} errors`);
  });

  it('exits 2 on a file that does not exist', async () => {
    const r = await run(['check-config', 'no/such/site.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^no\/such\/site\.yaml:: cannot read the file \(no such file\)/);
  });

  it('exits 1 on an unexpected failure, such as a profile directory that is not there', async () => {
    const r = await run(['check-config', 'examples/site.yaml', '--profiles', 'no/such/dir']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^lantian: /);
  });
});

describe('lantian migrate-config', SLOW, () => {
  it('migrates a version-0 file, keeps the original, then leaves the current file alone', async () => {
    const file = tempCopyOfV0();
    const original = readFileSync(file, 'utf8');
    const profiles = ['--profiles', `${fixtures}/profiles`];
    const first = await run(['migrate-config', file, ...profiles]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`migrated from version 0 to 1; the original is ${file}.v0.bak`);
    expect(readFileSync(`${file}.v0.bak`, 'utf8')).toBe(original);

    // The migrated file is read as it is; what it uses that does not run yet is still refused.
    const check = await run(['check-config', file, ...profiles]);
    const errors = check.stderr
      .split('\n')
      .filter((l) => l.includes(`${file}:`) && !l.includes(': warning: '));
    for (const line of errors.slice(0, -1)) expect(line).toContain('not supported yet');
    expect(check.code).toBe(errors.length === 0 ? 0 : 2);
    const again = await run(['migrate-config', file, ...profiles]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already version 1');
    expect(existsSync(`${file}.v0.1.bak`)).toBe(false);
  });

  it('exits 2 on a version newer than it knows and leaves the file as it was', async () => {
    const file = tempCopyOfV0();
    const text = readFileSync(file, 'utf8').replace('version: 0', 'version: 7');
    writeFileSync(file, text);
    const r = await run(['migrate-config', file, '--profiles', `${fixtures}/profiles`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CONFIG_VERSION_UNSUPPORTED');
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(existsSync(`${file}.v7.bak`)).toBe(false);
  });
});
