/**
 * The acquisition engine in a worker thread (threaded.ts starts it): it polls the buses, and
 * posts the readings of each turn of its event loop to the main thread in one message. Its loop
 * only does Modbus I/O, so a reply is taken as soon as it arrives, whatever the main thread
 * (commits, uplinks) is doing. Commands and health go both ways over the same port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isLantianError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { ReadingDraft } from '../core/reading.js';
import { Acquisition, type AcquisitionOptions } from './engine.js';
import type { FromWorker, ToWorker } from './threaded.js';

const port = parentPort!;
const data = workerData as {
  options: AcquisitionOptions;
  logLevel: string;
  logName: string;
  healthMs: number;
};
const send = (m: FromWorker): void => port.postMessage(m);

let batch: ReadingDraft[] = [];
let flushing = false;
function flush(): void {
  flushing = false;
  if (batch.length === 0) return;
  send({ op: 'readings', drafts: batch });
  batch = [];
}

const acquisition = new Acquisition(data.options, {
  logger: createLogger({ level: data.logLevel, name: data.logName }),
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

port.on('message', (m: ToWorker) => {
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
