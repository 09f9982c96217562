/**
 * `lantian-sim run SCENARIO --hj212 PORT …`: one simulator process plays the stack's analysers
 * and a 2025 platform with SM4. The unmodified gateway polls the one and uploads to the other;
 * the platform is steered through its control interface and writes its transcript.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { Gateway } from '../../../gateway/src/gateway.js';
import { MN, WORKED } from '../../fixtures/hj212/packets.js';
import { packageRoot } from '../../helpers/cli.js';
import { MN_PROVINCE, PROVINCE_KEY, writeHj212Site } from '../../helpers/hj212-site.js';

const dir = mkdtempSync(join(tmpdir(), 'lantian-sim-run-hj212-'));
const children: ChildProcess[] = [];
let gateway: Gateway | undefined;
afterAll(async () => {
  await gateway?.stop();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const sim = (args: string[]) => {
  const child = spawn(process.execPath, ['bin/lantian-sim.js', ...args], {
    cwd: packageRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, stderr: () => stderr };
};

/** The lines `run` prints up to its last one, `control listening on …`. */
function started(child: ChildProcess): Promise<string[]> {
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('control listening on ')) resolve(lines);
    });
    child.once('exit', (code) => reject(new Error(`lantian-sim exited with ${code}: ${lines.join('\n')}`)));
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 30_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Each process starts through tsx, which takes seconds on a loaded machine.
describe('lantian-sim run --hj212', { timeout: 180_000 }, () => {
  it('plays the devices and a 2025 platform in one process, steered and transcribed, and stops on SIGTERM', async () => {
    // The example stack on a free port (the example itself listens on a fixed one).
    const scenario = join(dir, 'stack.yaml');
    writeFileSync(
      scenario,
      readFileSync(join(packageRoot, 'examples/sim/stack.yaml'), 'utf8').replace(/port: 20108\b/, 'port: 0'),
    );
    const transcript = join(dir, 'province.txt');
    const run = sim([
      'run',
      scenario,
      '--hj212',
      '0',
      '--hj212-edition',
      '2025',
      '--hj212-mn',
      MN_PROVINCE,
      '--hj212-password',
      'prov01',
      '--hj212-sm4-key',
      PROVINCE_KEY,
      '--hj212-transcript',
      transcript,
    ]);
    const lines = await started(run.child);
    expect(lines).toEqual([
      expect.stringMatching(/^bus stack1 listening on rtu-tcp:\/\/127\.0\.0\.1:\d+$/),
      expect.stringMatching(/^hj212 listening on \d+$/),
      expect.stringMatching(/^hj212 control listening on http:\/\/127\.0\.0\.1:\d+\/$/),
      expect.stringMatching(/^control listening on http:\/\/127\.0\.0\.1:\d+$/),
    ]);
    const port = (i: number) => Number(/(\d+)\/?$/.exec(lines[i]!)![1]);
    const control = lines[2]!.split(' ').pop()!;

    const file = writeHj212Site(dir, { busPort: port(0), city: 0, province: port(1), only: 'province' });
    gateway = new Gateway(loadSiteConfig(file));
    gateway.start();
    const g = gateway;
    const start = Date.UTC(2026, 0, 1);
    g.log.appendAggregates(
      [0, 1].map((i) => ({
        device: 'stack1-uv',
        point: 'so2',
        period: 'minute' as const,
        start: start + i * 60_000,
        min: 1,
        avg: 2,
        max: 3,
        count: 12,
        flag: 'N' as const,
      })),
    );
    const text = () => readFileSync(transcript, 'utf8');
    const minutes = () => text().match(/^F> ##\d{4}QN=\d+;ST=31;CN=2051;.*\\r\\n$/gm) ?? [];
    await until(() => minutes().length === 2, 'two encrypted minute packets in the transcript');
    // Encrypted data areas (HJ 212-2025), each answered by the platform.
    expect(minutes().every((l) => l.includes('CP=&&{0x'))).toBe(true);
    expect(text()).toMatch(/^P> ##\d{4}QN=\d+;ST=91;CN=9014;/m);
    // The devices of the same process answer the gateway's polls.
    await until(
      () =>
        g.log.read(0, 1000).some((r) => r.type === 'reading' && r.device === 'stack1-uv' && r.value !== null),
      'a reading from the simulated analyser',
    );

    const res = await fetch(new URL('request', control), {
      method: 'POST',
      body: JSON.stringify({ cn: '1061' }),
    });
    const answer = (await res.json()) as { qnRtn: number; exeRtn: number; data: string[] };
    expect(answer).toMatchObject({ qnRtn: 1, exeRtn: 1 });
    expect(answer.data[0]).toContain('RtdInterval=60');

    await g.stop();
    gateway = undefined;
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('still runs the platform alone as `lantian-sim hj212 --port PORT …`, answering the worked 2051 with its 9014', async () => {
    const alone = sim(['hj212', '--port', '0', '--mn', MN, '--password', '123456']);
    const lines = await started(alone.child);
    expect(lines[0]).toMatch(/^hj212 listening on \d+$/);
    const socket = connect(Number(lines[0]!.split(' ').pop()), '127.0.0.1');
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.write(WORKED['CEMS minute data (2051)']!);
    await until(() => got.endsWith('\r\n'), 'the answer');
    expect(got).toBe(WORKED['data answer (9014)']);
    socket.destroy();
    alone.child.kill('SIGTERM');
    expect(await alone.exited).toBe(0);
  });

  it('refuses platform options without a platform, and a platform without its MN and password', async () => {
    const stray = sim(['run', 'examples/sim/stack.yaml', '--hj212-mn', MN_PROVINCE]);
    const incomplete = sim(['run', 'examples/sim/stack.yaml', '--hj212', '0', '--hj212-password', 'x']);
    expect(await stray.exited).toBe(2);
    expect(stray.stderr()).toContain('--hj212-mn needs --hj212 PORT');
    expect(await incomplete.exited).toBe(2);
    expect(incomplete.stderr()).toContain('--hj212 needs --hj212-mn and --hj212-password');
  });
});
