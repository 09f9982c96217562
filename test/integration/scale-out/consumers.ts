/** Consumer processes for the scale-out tests and bench: `lantian receive` as a child process each. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../helpers/cli.js';

const ENTRY = fileURLToPath(new URL('receive-entry.ts', import.meta.url));

export interface Consumer {
  id: string;
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export interface ConsumerOptions {
  url: string;
  group: string;
  keys: string;
  store: string;
  id: string;
  settleMs: number;
  jsonl?: string;
}

/** Starts `lantian receive` and resolves once it has subscribed (it says so on stderr). */
export function startConsumer(o: ConsumerOptions, timeoutMs = 120_000): Promise<Consumer> {
  const args = ['--import', 'tsx', ENTRY, 'receive', '--url', o.url, '--share', o.group, '--keys', o.keys];
  args.push('--store', o.store, '--client-id', o.id, '--settle-ms', String(o.settleMs));
  if (o.jsonl) args.push('--jsonl', o.jsonl);
  const p = spawn(process.execPath, args, { cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)));
  const consumer: Consumer = {
    id: o.id,
    process: p,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
      return exited;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`consumer ${o.id} did not subscribe within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (!err.includes('receive: consumer')) return;
      clearTimeout(timer);
      resolve(consumer);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`consumer ${o.id} exited (${code}) before subscribing: ${err}`));
    });
  });
}
