/**
 * The acquisition engine in a worker thread (threaded.ts starts it): it polls the buses, and
 * posts the readings of each turn of its event loop to the main thread in one message, packed
 * (draft-pack.ts). Its loop only does Modbus I/O, so a reply is taken as soon as it arrives,
 * whatever the main thread (commits, uplinks) is doing. Commands and health go both ways over the
 * same port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isLantianError } from '../core/errors.js';
import { Latch } from '../core/latch.js';
import { createLogger } from '../core/logger.js';
import type { ReadingDraft } from '../core/reading.js';
import { DraftPacker } from './draft-pack.js';
import { Acquisition, type AcquisitionOptions } from './engine.js';
import type { FromWorker, Taken, ToWorker } from './threaded.js';

const port = parentPort!;
const data = workerData as {
  options: AcquisitionOptions;
  logLevel: string;
  logName: string;
  healthMs: number;
  inFlightMax: number;
};
const send = (m: FromWorker): void => port.postMessage(m);

let batch: ReadingDraft[] = [];
let flushing = false;
const packer = new DraftPacker();
function flush(): void {
  flushing = false;
  if (batch.length === 0) return;
  inFlight += batch.length;
  const { packed, transfer } = packer.pack(batch);
  port.postMessage({ op: 'readings', packed } satisfies FromWorker, transfer);
  batch = [];
}

/**
 * Readings posted and not yet taken by the main thread. From IN_FLIGHT_MAX on (with those about
 * to be posted) the main thread is behind (it commits and publishes more slowly than the buses
 * read): polls wait until it has taken half of them, and the slots that pass meanwhile are
 * recorded as overrun. So an overload costs records of what was missed, spread over the devices,
 * not a queue between the threads that grows until the heap gives out.
 */
let inFlight = 0;
let resume: Latch | undefined;

function gate(signal: AbortSignal): Promise<void> | undefined {
  if (inFlight + batch.length < data.inFlightMax) return undefined;
  resume ??= new Latch();
  return resume.wait(signal);
}

function taken(n: number): void {
  inFlight -= n;
  if (resume && inFlight <= data.inFlightMax / 2) {
    resume.open();
    resume = undefined;
  }
}

const acquisition = new Acquisition(data.options, {
  logger: createLogger({ level: data.logLevel, name: data.logName }),
  gate,
  onReadings: (drafts) => {
    for (const d of drafts) batch.push(d);
    if (!flushing) {
      flushing = true;
      setImmediate(flush);
    }
  },
});

function reportHealth(): void {
  send({ op: 'health', health: acquisition.health() });
}
const healthTimer = setInterval(reportHealth, data.healthMs);

async function handle(m: ToWorker): Promise<unknown> {
  switch (m.op) {
    case 'start':
      acquisition.start();
      return undefined;
    case 'stop':
      await acquisition.stop();
      flush();
      return undefined;
    case 'restart':
      await acquisition.restart();
      return undefined;
    case 'setPeriod':
      acquisition.setPeriod(m.device, m.periodMs);
      return undefined;
    case 'write':
      return acquisition.write(m.device, m.point, m.value);
    case 'close':
      clearInterval(healthTimer);
      await acquisition.stop();
      flush();
      return undefined;
  }
}

port.on('message', (m: ToWorker | Taken) => {
  if (m.op === 'taken') {
    taken(m.n);
    return;
  }
  handle(m).then(
    (value) => {
      if (m.op !== 'setPeriod') reportHealth();
      send({ op: 'reply', id: m.id, ok: true, value });
    },
    (e: unknown) => {
      const error = isLantianError(e)
        ? { code: e.code, message: e.message, context: e.context }
        : { code: 'ACQ_THREAD_FAILED', message: String((e as Error)?.message ?? e), context: {} };
      send({ op: 'reply', id: m.id, ok: false, error });
    },
  );
});

send({ op: 'ready', plans: acquisition.plans(), health: acquisition.health() });
