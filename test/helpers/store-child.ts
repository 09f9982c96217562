/** Runs a TypeScript helper as a child process (through tsx) and follows its stdout lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach } from 'vitest';
import { tempDir, type TempDir } from './store-fixtures.js';

export interface Child {
  proc: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  /** Resolves with the first line (from now on or already seen) that matches. */
  waitForLine(match: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

/** The appender child of the store's process tests (see store-appender.ts). */
export const storeAppender = fileURLToPath(new URL('./store-appender.ts', import.meta.url));

export function runTs(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const lines: string[] = [];
  const waiters = new Set<(line: string) => void>();
  createInterface({ input: proc.stdout }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters) w(line);
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    lines,
    exited,
    waitForLine(match, timeoutMs = 15_000) {
      for (const l of lines) {
        const m = l.match(match);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no line matching ${match} within ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        const check = (line: string) => {
          const m = line.match(match);
          if (!m) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(m);
        };
        waiters.add(check);
        void exited.then(() => {
          if (!waiters.has(check)) return;
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`child exited before a line matching ${match}; stderr: ${stderr}`));
        });
      });
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** The last number printed on a `<word> <n>` line. */
export function lastNumber(lines: string[], word: string): number {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = lines[i]!.match(new RegExp(`^${word} (\\d+)`));
    if (m) return Number(m[1]);
  }
  return 0;
}

/**
 * Per-test temporary directory and child processes for the store's process tests: every
 * child started through `start` is SIGKILLed and the directory removed after each test.
 */
export function childFixture(): { tmp: () => TempDir; start: (file: string, args: string[]) => Child } {
  let dir: TempDir | undefined;
  const children: Child[] = [];
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await c.kill();
    dir?.remove();
  });
  return {
    tmp: () => dir!,
    start: (file, args) => {
      const c = runTs(file, args);
      children.push(c);
      return c;
    },
  };
}
