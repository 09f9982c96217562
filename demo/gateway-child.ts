/**
 * The real gateway, `lantian run`, as the demo's child. It runs in its own process group, as a
 * service manager runs a daemon: a Ctrl-C in the terminal reaches the demo only, which then
 * stops the gateway in order (broker back first, then SIGTERM, and the gateway drains its
 * backlog before it exits) instead of the gateway and the demo racing each other.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';

export interface GatewayChild {
  pid: number;
  /** Resolves with the exit code once the gateway has exited. */
  exited: Promise<number | null>;
  running(): boolean;
  /** SIGTERM, then waits for the exit; after `graceMs` the whole group is killed. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL to its process group, at once. */
  kill(): void;
}

export function startGateway(configFile: string, logFile: string): GatewayChild {
  const logFd = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    // The V8 flags a small site's Pi-class gateway runs with (README.md, deploy/lantian.service):
    // the demo proves they suffice.
    [
      '--max-old-space-size=64',
      '--max-semi-space-size=2',
      '--v8-pool-size=1',
      '--lite-mode',
      '--no-expose-wasm',
      'bin/lantian.js',
      'run',
      '--config',
      configFile,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', logFd, logFd], detached: true },
  );
  const pid = child.pid!;
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (c) => {
      code = c;
      resolve(c);
    }),
  );
  const running = () => code === undefined;
  const kill = () => {
    if (!running()) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  // Never leave a gateway behind, however the demo ends.
  process.once('exit', kill);
  return {
    pid,
    exited,
    running,
    kill,
    async stop(graceMs = 30_000) {
      if (running()) child.kill('SIGTERM');
      const timer = setTimeout(kill, graceMs);
      const c = await exited;
      clearTimeout(timer);
      return c;
    },
  };
}
