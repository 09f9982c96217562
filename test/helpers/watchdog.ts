/**
 * Vitest setup file: a watchdog per test file. Vitest's timeouts only fire when the test's
 * event loop turns; a file that blocks it (a synchronous child process that never returns, an
 * endless synchronous loop) would hold its worker, and so the whole run, forever. A worker
 * thread watches from outside that loop: past `LANTIAN_TEST_FILE_LIMIT_S` (default 300 s) it
 * names the file on stderr and kills the worker process, which vitest reports as a failed file.
 */
import { Worker } from 'node:worker_threads';
import { afterAll, expect } from 'vitest';

const limitS = Number(process.env.LANTIAN_TEST_FILE_LIMIT_S ?? 300);

// Runs in the watchdog thread: it shares the process, not the event loop that may be blocked.
const WATCHDOG = `
const { workerData, parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const timer = setTimeout(() => {
  writeSync(2, '\\nwatchdog: ' + workerData.file + ' still running after ' + workerData.limitS +
    ' s; its worker is killed so the run can end (LANTIAN_TEST_FILE_LIMIT_S sets the limit)\\n');
  process.kill(process.pid, 'SIGKILL');
}, workerData.limitS * 1000);
parentPort.once('message', () => { clearTimeout(timer); process.exit(0); });
`;

const slot = globalThis as { lantianWatchdog?: Worker };

function stop(): void {
  slot.lantianWatchdog?.postMessage('stop');
  slot.lantianWatchdog = undefined;
}

// Started when this file is set up, before the test file is imported: a test file whose
// imports or describe blocks hang is covered too.
stop();
if (limitS > 0) {
  const file = expect.getState().testPath ?? 'a test file';
  const w = new Worker(WATCHDOG, { eval: true, workerData: { file, limitS } });
  w.unref();
  slot.lantianWatchdog = w;
}

afterAll(stop);
