/**
 * `lantian poll` end to end: the real CLI in a child process, a site config in a temp dir, a
 * Modbus TCP server answering with a profile's example and a bus where nothing answers.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ModbusSerial from 'modbus-serial';
import { afterEach, describe, expect, it } from 'vitest';
import { loadProfiles } from '../../../gateway/src/profiles/index.js';
import { registerImage } from '../../fixtures/acquisition/examples.js';
import { rawServer } from '../../fixtures/acquisition/frames.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// Each test starts the CLI through tsx; a loaded two-core machine can take seconds per start.
const SLOW = { timeout: 90_000 };

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** ServerTCP answering unit 1 with the 43i's "span check" example: SO2 402 ppb, span coil on. */
async function thermo(): Promise<number> {
  const profile = loadProfiles().get('thermo.43i');
  const image = registerImage(profile.examples.find((e) => e.name.startsWith('span'))!);
  const server = new ModbusSerial.ServerTCP(
    {
      getMultipleHoldingRegisters: (a: number, n: number) => image.read(3, a, n),
      getCoil: (a: number) => image.read(1, a, 1)[0] === 1,
    },
    { host: '127.0.0.1', port: '0' as unknown as number, unitID: 1 },
  );
  await new Promise((r) => server.on('initialized', r));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server as unknown as { _server: { address(): { port: number } } })._server.address().port;
}

async function siteConfig(): Promise<string> {
  const port = await thermo();
  const silent = await rawServer(() => undefined); // accepts, never answers
  cleanup.push(() => silent.close());
  const dir = mkdtempSync(join(tmpdir(), 'lantian-poll-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'site.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'site: { id: test-site, name: Test site }',
      'gateway: { id: test-gw }',
      'buses:',
      `  lab: { kind: tcp, host: 127.0.0.1, port: ${port} }`,
      `  stack: { kind: rtu-over-tcp, host: 127.0.0.1, port: ${silent.port}, timeoutMs: 200, retries: 0 }`,
      'devices:',
      '  lab-so2: { profile: thermo.43i, bus: lab, unitId: 1, periodMs: 500 }',
      '  stack-gas: { profile: sdl.scs-900uv, bus: stack, unitId: 1, periodMs: 500 }',
      'storage: { path: log.db }',
      '',
    ].join('\n'),
  );
  return file;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/lantian.js', ...args],
      { cwd: root, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

const row = (stdout: string, point: string): string[] | undefined =>
  stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((cells) => cells[0] === point);

describe('lantian poll', () => {
  it('--once prints each device with decoded values, units, flags and qualities', SLOW, async () => {
    const file = await siteConfig();
    const r = await run(['poll', '--config', file, '--once']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^lab-so2 \(thermo\.43i, bus lab, unit 1\) at .*: 4 points, 0 B$/m);
    expect(row(r.stdout, 'so2')?.slice(0, 5)).toEqual(['so2', '402', 'ppb', 'C', 'device_status']);
    expect(row(r.stdout, 'span_mode')?.slice(0, 3)).toEqual(['span_mode', '1', 'N']);
    expect(r.stdout).toMatch(/^stack-gas \(sdl\.scs-900uv, bus stack, unit 1\) at .*: 8 points, 8 B/m);
    expect(row(r.stdout, 'nox')).toEqual(['nox', '-', 'mg/m3', 'B', 'timeout']);
  });

  it('--device limits the poll to the named devices; an unknown one is an error (exit 2)', SLOW, async () => {
    const file = await siteConfig();
    const r = await run(['poll', '--config', file, '--device', 'lab-so2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('lab-so2');
    expect(r.stdout).not.toContain('stack-gas');
    const bad = await run(['poll', '--config', file, '--device', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"nope"');
  });

  it('--watch refreshes the tables with health until interrupted, then exits 0', SLOW, async () => {
    const file = await siteConfig();
    const child = spawn(
      process.execPath,
      ['bin/lantian.js', 'poll', '--config', file, '--watch', '--refresh', '300'],
      {
        cwd: root,
      },
    );
    cleanup.push(() => void child.kill('SIGKILL'));
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const deadline = Date.now() + 60_000;
    while ((stdout.match(/^lab-so2 /gm) ?? []).length < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/state ok: [1-9]\d* polls/);
    expect(stdout).toMatch(/state (failing|backoff): /);
    expect(row(stdout, 'so2')?.slice(0, 4)).toEqual(['so2', '402', 'ppb', 'C']);
  });
});
