/**
 * The `lantian-sim` command line, run as a child process: `run` prints one line per bus and the
 * control URL, steering commands change the running simulator, SIGTERM stops it cleanly.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURE_PROFILES } from '../../fixtures/sim/profiles.js';
import { failure, mbpollRtu, onCleanup, tcpClient, useCleanup } from './helpers.js';
import { requireTool } from '../../helpers/tools.js';

useCleanup();

const BIN = fileURLToPath(new URL('../../../bin/lantian-sim.js', import.meta.url));
const scenario = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/sim/scenarios/${name}`, import.meta.url));

function cli(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Starts `lantian-sim run` and waits for its control line; returns the lines it printed. */
async function start(file: string): Promise<{ child: ChildProcess; lines: string[]; control: string }> {
  const child = spawn(process.execPath, [BIN, 'run', file, '--profiles', FIXTURE_PROFILES], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onCleanup(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const lines: string[] = [];
  const rl = createInterface({ input: child.stdout });
  const control = await new Promise<string>((resolve, reject) => {
    rl.on('line', (line) => {
      lines.push(line);
      const m = /^control listening on (\S+)$/.exec(line);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`lantian-sim exited with ${code}`)));
  });
  return { child, lines, control };
}

describe('lantian-sim command line', () => {
  requireTool('mbpoll', 'socat').it(
    'runs a scenario, prints each bus address, is steered from the CLI and stops on SIGTERM',
    async () => {
      const { child, lines, control } = await start(scenario('cli.yaml'));
      expect(lines[0]).toMatch(/^bus net listening on tcp:\/\/127\.0\.0\.1:\d+$/);
      expect(lines[1]).toMatch(/^bus line listening on \/\S+$/);
      expect(lines[2]).toMatch(/^bus dtu listening on rtu-tcp:\/\/127\.0\.0\.1:\d+$/);
      expect(control).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      const path = lines[1]!.split(' ').pop()!;
      const read = await mbpollRtu(path, ['-a', '1', '-r', '12', '-c', '1', '-t', '4:float', '-B']);
      expect(Object.fromEntries(read.values)).toEqual({ 12: 35.5 });

      const port = Number(lines[0]!.split(':').pop());
      const injected = await cli(
        ['inject', '--device', 'uv', '--kind', 'exception', '--exception-code', '6', '--count', '1'],
        {
          LANTIAN_SIM_CONTROL: control,
        },
      );
      expect(injected.code, injected.stderr).toBe(0);
      expect(JSON.parse(injected.stdout)).toMatchObject({ spec: { kind: 'exception', exceptionCode: 6 } });
      const c = await tcpClient(port, 1);
      expect((await failure(() => c.readHoldingRegisters(12, 2))).modbusCode).toBe(6);

      const set = await cli(['set', 'uv', 'so2', '77.25', '--control', control]);
      expect(set.code, set.stderr).toBe(0);
      expect((await c.readHoldingRegisters(12, 2)).buffer.readFloatBE(0)).toBe(77.25);

      const stats = await cli(['stats', 'line', '--control', control]);
      expect(JSON.parse(stats.stdout)).toMatchObject({ bus: 'line', transactions: 1, replies: 1 });

      const bad = await cli(['set', 'uv', 'nothing', '1', '--control', control]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('SIM_CONTROL_INVALID');

      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      // socat is gone with its pty, and the temporary directory with it.
      expect(existsSync(path)).toBe(false);
    },
    60_000,
  );

  it('exits with code 2 and names file and path for an invalid scenario', async () => {
    const r = await cli(['run', scenario('broken-refs.yaml'), '--profiles', FIXTURE_PROFILES]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SIM_SCENARIO_INVALID');
    expect(r.stderr).toContain('broken-refs.yaml:devices[0].profile');
  }, 30_000);

  it('exits with code 2 listing schema and reference problems together, and on a file that is not there', async () => {
    const r = await cli(['run', scenario('mixed-problems.yaml'), '--profiles', FIXTURE_PROFILES]);
    expect(r.code).toBe(2);
    for (const path of [
      'buses[0].prot',
      'devices[0].profile',
      'devices[1].bus',
      'devices[2].unitt',
      'faults[0].device',
    ])
      expect(r.stderr).toContain(`mixed-problems.yaml:${path}: `);
    const missing = await cli(['run', scenario('not-there.yaml')]);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining('SIM_SCENARIO_NOT_FOUND')]);
  }, 60_000);
});
