/**
 * The README's main job, end to end: the demo as a child process, the simulator, the embedded
 * broker, the real gateway and the platform witness all real. The verdict is counted from the
 * simulated devices' side, and every way of stopping (a duration, Ctrl-C in a terminal, a
 * signal without one) ends with the same honest verdict and leaves nothing behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lantian } from '../helpers/cli.js';

const DEVICES = ['lab-so2', 'site-dust', 'stack1-dust', 'stack1-flow', 'stack1-gas'];
const SUMMARY =
  /^demo: (\d+) values served by the devices \((\d+) requests answered\), (\d+) delivered, (\d+) lost(.*)$/m;

interface Run {
  child: ChildProcess;
  out(): string;
  /** Resolves once the output matches. */
  until(match: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** ANSI escapes out: the live view repaints the screen. */
// eslint-disable-next-line no-control-regex -- the escape character is what is matched
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');

function run(command: string, args: string[]): Run {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const take = (b: Buffer) => {
    out += b.toString();
    for (const w of waiters) w();
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    out: () => plain(out),
    exited,
    until: (match, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = plain(out).match(match);
          if (!m) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(m);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${match} within ${timeoutMs} ms:\n${plain(out)}`));
        }, timeoutMs);
        waiters.add(check);
        void exited.then(() => setTimeout(check, 0));
        check();
      }),
  };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The books balance: every value served was delivered, nothing lost, every device delivering. */
function expectHonestVerdict(out: string): { served: number; delivered: number } {
  const m = SUMMARY.exec(out);
  expect(m, out).not.toBeNull();
  const [served, answered, delivered, lost] = m!.slice(1, 5).map(Number);
  expect(lost, out).toBe(0);
  expect(answered, out).toBeGreaterThan(0);
  // Only a poll the stop cut short may be served and not delivered; nothing else.
  expect(m![5], out).not.toMatch(/logged, not yet sent|no device served/);
  expect(delivered! + Number(/(\d+) in polls the stop cut short/.exec(m![5]!)?.[1] ?? 0), out).toBe(served);
  for (const device of DEVICES) {
    // Each device's books balance too: served = delivered + what a poll cut short by the stop held.
    const line = new RegExp(
      `^demo: ok: ${device}: \\d+ requests answered, (\\d+) values served, (\\d+) delivered, 0 lost(.*)$`,
      'm',
    ).exec(out);
    expect(line, out).not.toBeNull();
    const cut = Number(/(\d+) in the poll the stop cut short/.exec(line![3]!)?.[1] ?? 0);
    expect(Number(line![2]) + cut, out).toBe(Number(line![1]));
  }
  expect(out).toMatch(/^demo: ok: platform: \d+ records, 0 payloads breaking the contract, 0 holes/m);
  expect(out).toMatch(
    /^demo: ok: integrity: [1-9]\d* messages verified \([1-9]\d* records, every signature good/m,
  );
  expect(out).not.toMatch(/FAILED/);
  return { served: served!, delivered: delivered! };
}

/** Nothing left behind: the gateway, socat on the dust monitor's pty, the demo's temp dir. */
function expectNothingLeft(out: string): void {
  const gatewayPid = Number(/gateway started \(pid (\d+)\)/.exec(out)?.[1]);
  expect(gatewayPid, out).toBeGreaterThan(0);
  expect(alive(gatewayPid), 'gateway still running').toBe(false);
  // With socat installed (as in CI) the dust monitor must be on a pty, so the check cannot be skipped.
  const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
  const pty = /site-485 (\/\S+)/.exec(out)?.[1];
  expect(pty !== undefined, out).toBe(hasSocat);
  if (pty) {
    const ps = spawnSync('pgrep', ['-f', pty], { encoding: 'utf8' });
    expect(ps.stdout.trim(), `socat still running for ${pty}`).toBe('');
  }
  const dir = /log in (\/\S+)\/gateway\.log/.exec(out)?.[1];
  expect(dir, out).toBeDefined();
  expect(existsSync(dir!), `${dir} kept`).toBe(false);
}

describe('npm run demo', () => {
  it('runs a whole simulated site through the gateway: every value the devices served is delivered across a silent device, a broker restart and a calibration', async () => {
    const captured = mkdtempSync(join(tmpdir(), 'lantian-demo-capture-'));
    const demo = run('npm', ['run', '--silent', 'demo', '--', '--duration', '40', '--capture', captured]);
    const code = await demo.exited;
    const out = demo.out();
    // What the platform received, checked again from the files alone, as the README says.
    const check = await lantian([
      'verify',
      '--key',
      join(captured, 'gateway.pub'),
      join(captured, 'messages.txt'),
    ]);
    rmSync(captured, { recursive: true, force: true });
    expect(check.stdout, check.stderr).toMatch(/^gateway hengda-gw1 log \w+: [1-9]\d* messages/m);
    const { served } = expectHonestVerdict(out);
    expect(served, out).toBeGreaterThan(200);
    expect(out).toMatch(/^demo: ok: stack1-dust flagged B while silent and recovered after$/m);
    expect(out).toMatch(/^demo: ok: stack1-gas readings flagged C during calibration$/m);
    expect(out).toMatch(/^demo: ok: broker restart caught up: [1-9]\d* replay messages$/m);
    expect(out).toMatch(/^demo: ok: the gateway kept up: acquisition held back 0 times for overload$/m);
    // A small site's flags (V8 lite mode), which the gateway found suited to the demo's site.
    expect(out).toMatch(
      /^demo: ok: footprint: a small site's flags \(V8 lite mode, heap capped\), and the gateway found them suited to its site; resident \d+\.\d MB/m,
    );
    // The construction site's chain needs socat for the Firmata board's pty (CI has it).
    if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0)
      expect(out).toMatch(
        /^demo: ok: site-io: dust rose -> exceedance .* -> fog cannon on .* -> dust fell -> off after/m,
      );
    expect(out).toMatch(/progress: devices served \d+ values, platform has \d+/);
    expectNothingLeft(out);
    expect(code, out).toBe(0);
  }, 240_000);
});

describe('stopping the demo', () => {
  it('Ctrl-C in a terminal during the broker outage: the gateway drains, the verdict is the same, nothing is left', async () => {
    // A real terminal: script gives the demo a pseudo-terminal, and the ^C written to it is turned
    // into SIGINT for the terminal's whole foreground process group by the line discipline.
    // script runs the command through $SHELL (dash when unset, which does not exec a lone command
    // and would itself die of the SIGINT with 130): exec makes the demo the terminal's process.
    const demo = run('script', ['-qfec', `exec ${process.execPath} --import tsx demo/main.ts`, '/dev/null']);
    await demo.until(/broker stops/);
    await new Promise((r) => setTimeout(r, 1500));
    demo.child.stdin!.write('\x03');
    const code = await demo.exited;
    const out = demo.out();
    expect(out).toMatch(/^demo: stopping \(interrupted\)/m);
    expectHonestVerdict(out);
    expect(out).toMatch(/^demo: not reached \(stopped at \d+ s\): stack1-gas readings flagged C/m);
    expectNothingLeft(out);
    expect(code, out).toBe(0);
  }, 240_000);

  it('without a terminal it shows progress until SIGINT, then stops everything and gives the verdict', async () => {
    const demo = run(process.execPath, ['--import', 'tsx', 'demo/main.ts']);
    await demo.until(/every device delivering[\s\S]*progress:[\s\S]*progress:/);
    // Only the demo gets the signal here: it must stop the gateway itself.
    demo.child.kill('SIGINT');
    const code = await demo.exited;
    const out = demo.out();
    expect(out).toMatch(/^demo: stopping \(interrupted\)/m);
    expectHonestVerdict(out);
    expectNothingLeft(out);
    expect(code, out).toBe(0);
  }, 240_000);
});
