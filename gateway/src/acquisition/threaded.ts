/**
 * The acquisition engine in a worker thread of its own (config `gateway.acquisitionThread`).
 *
 * On one thread, a reply that arrives while the main thread commits a group of readings or
 * publishes a batch waits until that work is done; with many fast devices those waits, not the
 * CPU, limit how many transactions each bus completes. In a worker the buses' event loop does
 * only Modbus I/O and takes every reply at once, and the second core does it. The data path stays
 * one-way: the worker posts the drafts of each of its turns in one message (packed, draft-pack.ts),
 * and the main thread accepts them exactly as it accepts the in-process engine's (the log, on the
 * main thread, is the only source of seqs). See docs/acquisition.md, "Threads".
 *
 * `health()` answers from the latest report (the worker sends one every second, or every
 * millisecond per device beyond a thousand devices, and after every command), so it is at most
 * that old.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LantianError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ReadingDraft } from '../core/reading.js';
import type { Profile } from '../profiles/schema.js';
import { DraftUnpacker, type PackedDrafts } from './draft-pack.js';
import type { AcquisitionControl, AcquisitionHealth, AcquisitionOptions } from './engine.js';
import type { PlannedRead } from './planner.js';
import type { WriteOutcome } from './write.js';

type Plans = { device: string; reads: readonly PlannedRead[] }[];

/** Commands to the worker; each is answered by a `reply` with its id. */
export type Command =
  | { op: 'start' | 'stop' | 'restart' | 'close' }
  | { op: 'setPeriod'; device: string; periodMs: number | undefined }
  | { op: 'write'; device: string; point: string; value: number };

export type ToWorker = { id: number } & Command;
/** The main thread has taken `n` more readings (it answers every `readings` message so). */
export type Taken = { op: 'taken'; n: number };

/** Readings the worker may have posted and the main thread not yet taken (thread-worker.ts). */
export const IN_FLIGHT_MAX = 16_384;

export type FromWorker =
  | { op: 'ready'; plans: Plans; health: AcquisitionHealth }
  | { op: 'readings'; packed: PackedDrafts }
  | { op: 'health'; health: AcquisitionHealth }
  | {
      op: 'reply';
      id: number;
      ok: boolean;
      value?: unknown;
      error?: { code: string; message: string; context: Record<string, unknown> };
    };

export interface ThreadedDeps {
  onReadings: (drafts: ReadingDraft[]) => void;
  logger: Logger;
  /** How often the worker reports health, ms; default `healthReportMs` of the device count. */
  healthMs?: number;
  /** Readings in flight between the threads before polls wait; default IN_FLIGHT_MAX. */
  inFlightMax?: number;
  /**
   * While it is held (admission.ts), readings are not acknowledged to the worker, whose polls
   * then wait once IN_FLIGHT_MAX are in flight.
   */
  admission?: { waitOpen(): Promise<void> | undefined };
}

/**
 * The worker: the compiled JavaScript beside this file, or, when running from the TypeScript
 * sources (tests, `npm run demo`), a small script that registers tsx in the thread and imports
 * the source.
 */
function startWorker(workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./thread-worker.js', import.meta.url), { workerData });
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const entry = fileURLToPath(new URL('./thread-worker.ts', import.meta.url));
  // tsx's require hook: module hooks registered inside a worker do not reach its imports on Node 20.
  const boot = `require(${JSON.stringify(join(tsxDir, 'dist/cjs/index.cjs'))}); require(${JSON.stringify(entry)});`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * How often the worker reports health with `devices` devices, ms: every second up to a thousand,
 * then a millisecond per device. A report is every device's counters and the percentiles of its
 * three timing windows, cloned to the main thread; at a fixed interval its cost would grow with
 * the device count (at 3 000 devices every second, about 7 % of the worker's time), at this one
 * it stays the same per second.
 */
export function healthReportMs(devices: number): number {
  return Math.max(1000, devices);
}

export class ThreadedAcquisition implements AcquisitionControl {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private next = 0;
  private latest: AcquisitionHealth = { buses: [], devices: [] };
  private plansSeen: Plans = [];
  private readonly profiles = new Map<string, Profile>();
  private failure: Error | undefined;
  private closed = false;
  /** Readings taken and not yet acknowledged to the worker. */
  private owed = 0;
  /** The names the worker has numbered (draft-pack.ts). */
  private readonly unpacker = new DraftUnpacker();
  private acking = false;

  constructor(options: AcquisitionOptions, deps: ThreadedDeps) {
    for (const b of options.buses) for (const d of b.devices) this.profiles.set(d.id, d.profile);
    this.worker = startWorker({
      options,
      logLevel: deps.logger.level,
      logName: (deps.logger.bindings() as { name?: string }).name ?? 'lantian',
      healthMs: deps.healthMs ?? healthReportMs(options.buses.reduce((n, b) => n + b.devices.length, 0)),
      inFlightMax: deps.inFlightMax ?? IN_FLIGHT_MAX,
    });
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (m: FromWorker) => {
        switch (m.op) {
          case 'ready':
            this.plansSeen = m.plans;
            this.latest = m.health;
            resolve();
            return;
          case 'readings': {
            const drafts = this.unpacker.unpack(m.packed);
            deps.onReadings(drafts);
            // Taken once the turn that commits them has run, and admission is open: the worker's
            // polls wait while too many are in flight, so an overloaded main thread slows
            // acquisition down.
            this.owed += drafts.length;
            if (!this.acking) {
              this.acking = true;
              setImmediate(() => this.acknowledge(deps.admission));
            }
            return;
          }
          case 'health':
            this.latest = m.health;
            return;
          case 'reply': {
            const w = this.waiting.get(m.id);
            this.waiting.delete(m.id);
            if (!w) return;
            if (m.ok) w.resolve(m.value);
            else
              w.reject(
                new LantianError(m.error!.code as never, m.error!.message, { context: m.error!.context }),
              );
            return;
          }
        }
      });
      const fail = (e: Error): void => {
        this.failure = new LantianError('ACQ_THREAD_FAILED', `the acquisition thread failed: ${e.message}`, {
          cause: e,
        });
        if (!this.closed) deps.logger.error({ err: this.failure }, 'the acquisition thread failed');
        reject(this.failure);
        for (const w of this.waiting.values()) w.reject(this.failure);
        this.waiting.clear();
      };
      this.worker.on('error', fail);
      this.worker.on('exit', (code) => {
        if (!this.closed) fail(new Error(`it exited with code ${code}`));
      });
    });
    // A failure before anyone waits is logged by `fail`; callers see it on their next command.
    this.ready.catch(() => undefined);
  }

  private acknowledge(admission: ThreadedDeps['admission']): void {
    const held = admission?.waitOpen();
    if (held) {
      void held.then(() => this.acknowledge(admission));
      return;
    }
    this.acking = false;
    const n = this.owed;
    this.owed = 0;
    if (n > 0 && !this.closed) this.worker.postMessage({ op: 'taken', n } satisfies Taken);
  }

  private async call(m: Command): Promise<unknown> {
    await this.ready;
    if (this.failure) throw this.failure;
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...m, id });
    });
  }

  start(): void {
    this.call({ op: 'start' }).catch(() => undefined);
  }

  async stop(): Promise<void> {
    if (this.failure) return;
    await this.call({ op: 'stop' });
  }

  async restart(): Promise<void> {
    await this.call({ op: 'restart' });
  }

  setPeriod(device: string, periodMs: number | undefined): void {
    this.call({ op: 'setPeriod', device, periodMs }).catch(() => undefined);
  }

  health(): AcquisitionHealth {
    return this.latest;
  }

  plans(): Plans {
    return this.plansSeen;
  }

  profileOf(device: string): Profile | undefined {
    return this.profiles.get(device);
  }

  async write(device: string, point: string, value: number): Promise<WriteOutcome> {
    return (await this.call({ op: 'write', device, point, value })) as WriteOutcome;
  }

  /** Stops polling (its last readings are delivered first) and ends the thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.failure) await this.call({ op: 'close' }).catch(() => undefined);
    this.closed = true;
    await this.worker.terminate();
  }
}
