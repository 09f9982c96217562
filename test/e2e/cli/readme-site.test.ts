/**
 * The README's "Try it against the simulator first" commands, taken from the README itself and
 * run as written from the package root: the simulator writes the site config, the gateway
 * checks it, polls it once and runs it until stopped, forwarding readings of every device to the
 * broker the config names (the machine's Mosquitto on 127.0.0.1:1883) and keeping them in its log.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect } from 'vitest';
import { startPlatform } from '../../../hardware-sim/src/platform/index.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { requireTool } from '../../helpers/tools.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const SIM_PORT = 20108; // fixed in examples/sim/stack.yaml, so the README needs no edits
/** What the commands leave in the package root: the config, and the log with its side files. */
const written = ['sim-site.yaml', 'lantian-sim-log.db'];
const cleanup = () => {
  for (const f of readdirSync(root))
    if (written.some((w) => f.startsWith(w))) rmSync(join(root, f), { force: true });
};

/** The shell commands of the fenced blocks under a README heading, one per line. */
function commandsUnder(heading: string): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${heading}\n`);
  expect(start, heading).toBeGreaterThan(0);
  const end = readme.indexOf('\n#', start + heading.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    m[1]!.split('\n').filter((l) => l.trim() !== ''),
  );
}

/** Runs a command in its own process group, so that stop() reaches npx and what it starts. */
function shell(command: string): ChildProcess {
  const child = spawn('sh', ['-c', `exec ${command}`], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    detached: true,
  });
  started.push(child);
  return child;
}

function finished(child: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

function runToEnd(command: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) =>
    execFile('sh', ['-c', command], { cwd: root, timeout: 120_000 }, (e, out, err) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, out, err }),
    ),
  );
}

/** Resolves once `text` appears on the child's stdout; fails after `ms`. */
function waitForOutput(child: ChildProcess, text: string | RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "${String(text)}" within ${ms} ms: ${seen}`)), ms);
    const on = (b: Buffer) => {
      seen += b.toString();
      if (typeof text === 'string' ? seen.includes(text) : text.test(seen)) {
        clearTimeout(timer);
        child.stdout?.off('data', on);
        resolve(seen);
      }
    };
    child.stdout?.on('data', on);
  });
}

function isFree(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Another checkout running this test holds the fixed port for a while: wait for it. */
async function portFree(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await isFree(port))) {
    if (Date.now() > deadline) throw new Error(`port ${port} stays busy`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** SIGTERM to the whole process group (npx, the shell and node), then the exit. */
function stop(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) stop(child);
  cleanup();
});

/** The README's broker: the machine's own on 127.0.0.1:1883, or one started there for the test. */
const mosquitto = requireTool('mosquitto');
let broker: MosquittoBroker | undefined;
afterAll(async () => {
  await broker?.stop();
});

describe('the README, tried against the simulator', { timeout: 300_000 }, () => {
  mosquitto.it(
    'runs as written: the simulator writes a config that checks, polls every device and runs',
    async () => {
      if (await isFree(1883)) broker = await startMosquitto({ port: 1883 });
      const commands = commandsUnder('### Try it against the simulator first');
      expect(commands).toEqual([
        'npx lantian-sim run examples/sim/stack.yaml --write-site-config sim-site.yaml',
        'npx lantian check-config sim-site.yaml',
        'npx lantian poll --config sim-site.yaml --once',
        'npx lantian run --config sim-site.yaml',
      ]);
      const [simCommand, check, poll, run] = commands as [string, string, string, string];
      cleanup(); // what an earlier, interrupted run may have left
      await portFree(SIM_PORT, 120_000);

      const sim = shell(simCommand);
      const simDone = finished(sim);
      await waitForOutput(sim, 'site config written to sim-site.yaml', 90_000);

      const checked = await runToEnd(check);
      expect(checked.code, checked.err).toBe(0);
      expect(checked.out).toMatch(/^sim-site\.yaml: valid: .*1 bus, 3 devices/);

      const polled = await runToEnd(poll);
      expect(polled.code, polled.err).toBe(0);
      for (const device of ['stack1-uv', 'stack1-dust', 'stack1-flue'])
        expect(polled.out).toMatch(new RegExp(`^${device} \\(.*: \\d+ points, 0 B$`, 'm'));

      // The platform's view: readings of every device arrive on the broker the config names.
      const receiver = await startPlatform({
        url: 'mqtt://127.0.0.1:1883',
        gatewayId: 'sim-gw',
        clean: true,
        keepReadings: true,
      });
      const devicesSeen = () => new Set([...receiver.readings.values()].map((r) => r.device));
      const gateway = shell(run);
      const gatewayDone = finished(gateway);
      try {
        await receiver.waitFor(() => devicesSeen().size === 3, 120_000);
      } finally {
        await receiver.close();
      }
      expect([...devicesSeen()].sort()).toEqual(['stack1-dust', 'stack1-flue', 'stack1-uv']);
      stop(gateway);
      const ran = await gatewayDone;
      // npx itself dies of the signal (another reason not to run a service through it); the
      // gateway inside stops in order, as its last log line says.
      expect(ran.out, ran.err).toContain('"msg":"gateway stopped"');

      // And the log beside the config holds good readings of every device.
      const db = new Database(join(root, 'lantian-sim-log.db'), { readonly: true, fileMustExist: true });
      const logged = db
        .prepare(
          "SELECT DISTINCT p.device AS device FROM readings r JOIN points p ON p.id = r.point_id WHERE r.flag = 'N' ORDER BY 1",
        )
        .all() as { device: string }[];
      db.close();
      expect(logged.map((r) => r.device)).toEqual(['stack1-dust', 'stack1-flue', 'stack1-uv']);

      stop(sim);
      await simDone;
    },
  );
});
