/**
 * `lantian poll` end to end: the real CLI in a child process, a site config in a temp dir, and
 * the simulator: a Thermo 43i on Modbus TCP in its span check, an SDL SCS-900UV behind a serial
 * device server, and a unit id on that bus where nothing answers.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../../hardware-sim/src/index.js';
import { linkTo, startSim } from '../../fixtures/acquisition/sim.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// Each test starts the CLI through tsx; a loaded two-core machine can take seconds per start.
const SLOW = { timeout: 90_000 };

let sim: Simulator;
let dir: string;
let file: string;

beforeAll(async () => {
  sim = await startSim(
    [
      { name: 'lab', kind: 'tcp' },
      { name: 'stack', kind: 'rtu-tcp' },
    ],
    [
      { id: 'lab-so2', profile: 'thermo.43i', unit: 1, bus: 'lab', example: 'span check at 402 ppb' },
      { id: 'stack-gas', profile: 'sdl.scs-900uv', unit: 1, bus: 'stack', example: 0, coldStart: false },
    ],
  );
  const port = (bus: string) => {
    const link = linkTo(sim, bus);
    return link.kind === 'rtu' ? 0 : link.port;
  };
  dir = mkdtempSync(join(tmpdir(), 'lantian-poll-'));
  file = join(dir, 'site.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'site: { id: test-site, name: Test site }',
      'gateway: { id: test-gw }',
      'buses:',
      `  lab: { kind: tcp, host: 127.0.0.1, port: ${port('lab')} }`,
      `  stack: { kind: rtu-over-tcp, host: 127.0.0.1, port: ${port('stack')}, timeoutMs: 300, retries: 0 }`,
      'devices:',
      '  lab-so2: { profile: thermo.43i, bus: lab, unitId: 1, periodMs: 500 }',
      '  stack-gas: { profile: sdl.scs-900uv, bus: stack, unitId: 1, periodMs: 500 }',
      '  stack-dust: { profile: sdl.scs-900cpm, bus: stack, unitId: 9, periodMs: 500 }',
      'storage: { path: log.db }',
      '',
    ].join('\n'),
  );
}, 30_000);

afterAll(async () => {
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

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

/** Table rows (cells) for a point, in output order: one per device that has the point. */
const rows = (stdout: string, point: string): string[][] =>
  stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((cells) => cells[0] === point);
const row = (stdout: string, point: string): string[] | undefined => rows(stdout, point)[0];

describe('lantian poll', () => {
  it('--once prints each device with decoded values, units, flags and qualities', SLOW, async () => {
    const r = await run(['poll', '--config', file, '--once']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^lab-so2 \(thermo\.43i, bus lab, unit 1\) at .*: 4 points, 0 B$/m);
    expect(row(r.stdout, 'so2')?.slice(0, 5)).toEqual(['so2', '402', 'ppb', 'C', 'device_status']);
    expect(row(r.stdout, 'span_mode')?.slice(0, 3)).toEqual(['span_mode', '1', 'N']);
    expect(r.stdout).toMatch(/^stack-gas \(sdl\.scs-900uv, bus stack, unit 1\) at .*: 8 points, 0 B$/m);
    expect(rows(r.stdout, 'so2')[1]?.slice(0, 4)).toEqual(['so2', '35.2', 'mg/m3', 'N']);
    expect(r.stdout).toMatch(
      /^stack-dust \(sdl\.scs-900cpm, bus stack, unit 9\) at .*: (\d+) points, \1 B \(last error TRANSPORT_TIMEOUT\)$/m,
    );
    expect(row(r.stdout, 'dust')).toEqual(['dust', '-', 'mg/m3', 'B', 'timeout']);
  });

  it('--device limits the poll to the named devices; an unknown one is an error (exit 2)', SLOW, async () => {
    const r = await run(['poll', '--config', file, '--device', 'lab-so2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('lab-so2');
    expect(r.stdout).not.toContain('stack-');
    const bad = await run(['poll', '--config', file, '--device', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"nope"');
  });

  it('--watch refreshes the tables with health until interrupted, then exits 0', SLOW, async () => {
    const child = spawn(
      process.execPath,
      ['bin/lantian.js', 'poll', '--config', file, '--watch', '--refresh', '300'],
      {
        cwd: root,
      },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 60_000;
      while ((stdout.match(/^lab-so2 /gm) ?? []).length < 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(stdout).toMatch(/state ok: [1-9]\d* polls/);
    expect(stdout).toMatch(/state (failing|backoff): /);
    expect(row(stdout, 'so2')?.slice(0, 4)).toEqual(['so2', '402', 'ppb', 'C']);
  });
});
