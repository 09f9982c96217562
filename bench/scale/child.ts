/**
 * The benchmark's helper processes (simulators, the counting subscriber, the embedded broker):
 * each a forked Node process running a TypeScript module, driven by requests over the IPC channel.
 * Every one started is tracked, so the benchmark can kill them all when it ends or is interrupted.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Answer {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

const running = new Set<ChildProcess>();

/** Kills every helper process still running (for exit and interrupt handlers: synchronous). */
export function killAllChildren(): void {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
}

/** A helper process and its request channel. */
export class Child {
  private next = 0;
  private readonly waiting = new Map<number, (a: Answer) => void>();
  private readonly exited: Promise<void>;

  private constructor(private readonly process: ChildProcess) {
    running.add(process);
    process.on('message', (a: Answer) => {
      this.waiting.get(a.id)?.(a);
      this.waiting.delete(a.id);
    });
    this.exited = new Promise((resolve) =>
      process.once('exit', (code, signal) => {
        running.delete(process);
        for (const w of this.waiting.values())
          w({ id: -1, ok: false, error: `helper exited (${signal ?? code}) before it answered` });
        this.waiting.clear();
        resolve();
      }),
    );
  }

  /** Forks `module` (a file URL) with tsx; the module calls `serve`. */
  static fork(module: string): Child {
    return new Child(
      fork(fileURLToPath(module), ['child'], {
        // LANTIAN_BENCH_CHILD_ARGS: extra flags for the simulators' and the subscriber's node (a profile).
        execArgv: [
          '--import',
          'tsx',
          ...(process.env.LANTIAN_BENCH_CHILD_ARGS ?? '').split(' ').filter((a) => a !== ''),
        ],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
  }

  get pid(): number {
    return this.process.pid!;
  }

  call<T>(request: Record<string, unknown>): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, (a) => (a.ok ? resolve(a.value as T) : reject(new Error(a.error))));
      this.process.send({ id, ...request });
    });
  }

  /** Asks the helper to stop (`op: 'stop'`); kills it if it has not exited within 5 s. */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5000);
    this.call({ op: 'stop' }).catch(() => undefined);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * The helper's side: answers each request with `handle`; after `op: 'stop'` has been answered the
 * process leaves. A helper whose parent goes away leaves too.
 */
export function serve(handle: (request: { op: string } & Record<string, unknown>) => Promise<unknown>): void {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { id: number; op: string } & Record<string, unknown>) => {
    handle(m).then(
      (value) => {
        process.send!({ id: m.id, ok: true, value: value ?? null }, () => {
          if (m.op === 'stop') process.exit(0);
        });
      },
      (e: unknown) => process.send!({ id: m.id, ok: false, error: String(e) }),
    );
  });
}
