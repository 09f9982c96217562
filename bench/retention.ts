/**
 * `npm run bench:retention`: append latency on a log that sits at its quota with millions of
 * rows, nothing delivered (every eviction drops undelivered readings and writes a gap event: the
 * worst case). Quota accounting must be O(1) per append: the record count is kept in `meta`,
 * never counted with count(*). For scale, the bench also times the count(*) over the four
 * tables that retention used to run up to 200 times per eviction.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ReadingDraft } from '../gateway/src/core/reading.js';
import { openLog } from '../gateway/src/store/index.js';
import { writeResults, type BenchRow } from './report.js';

const QUOTA_BYTES = Number(process.env.LANTIAN_BENCH_QUOTA_MB ?? 64) * 1024 * 1024;
const POLL = 50; // readings per append: one poll of a few devices
const MEASURED_APPENDS = 30_000;

const POINTS = ['so2', 'nox', 'o2', 'pm10', 'flow'];
function batch(start: number, n: number, ts0: number): ReadingDraft[] {
  const out: ReadingDraft[] = [];
  for (let i = start; i < start + n; i++) {
    out.push({
      ts: ts0 + i * 100,
      device: `dev${i % 20}`,
      point: POINTS[i % POINTS.length]!,
      value: (i % 1000) / 10,
      flag: 'N',
      quality: [],
      raw: [i & 0xffff, (i * 7) & 0xffff],
    });
  }
  return out;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const ms = (n: number) => `${n.toFixed(3)} ms`;

const dir = mkdtempSync(join(tmpdir(), 'lantian-bench-retention-'));
try {
  const path = join(dir, 'log.db');
  const log = openLog({ path, quotaBytes: QUOTA_BYTES });
  log.cursor('mqtt'); // an uplink that delivers nothing: evictions drop undelivered readings
  const ts0 = Date.UTC(2026, 0, 1);
  let produced = 0;
  const fillStart = performance.now();
  while (log.stats().gapEvents === 0) {
    log.append(batch(produced, 5000, ts0));
    produced += 5000;
  }
  const fillS = (performance.now() - fillStart) / 1000;
  const rowsAtQuota = log.rowCount;
  console.log(`filled to the quota: ${rowsAtQuota} rows, ${produced} appended in ${fillS.toFixed(1)} s`);

  const latencies: number[] = [];
  const evictionLatencies: number[] = [];
  let gaps = log.stats().gapEvents;
  for (let k = 0; k < MEASURED_APPENDS; k++) {
    const b = batch(produced, POLL, ts0);
    produced += POLL;
    const t = performance.now();
    log.append(b);
    const dt = performance.now() - t;
    latencies.push(dt);
    const g = log.stats().gapEvents;
    if (g !== gaps) evictionLatencies.push(dt);
    gaps = g;
  }
  const stats = log.stats();
  const rows = log.rowCount;
  log.close();

  // What the old accounting paid per eviction chunk: count(*) over the four tables.
  const db = new Database(path, { readonly: true });
  const t = performance.now();
  for (const table of ['readings', 'events', 'aggregates', 'blobs'])
    db.prepare(`SELECT count(*) FROM ${table}`).pluck().get();
  const countStarMs = performance.now() - t;
  db.close();

  latencies.sort((a, b) => a - b);
  evictionLatencies.sort((a, b) => a - b);
  const results = {
    quotaBytes: QUOTA_BYTES,
    rowsAtQuota: rows,
    bytesOnDisk: stats.bytes,
    readingsPerAppend: POLL,
    appendsMeasured: MEASURED_APPENDS,
    appendP50Ms: quantile(latencies, 0.5),
    appendP99Ms: quantile(latencies, 0.99),
    appendMaxMs: latencies.at(-1)!,
    evictions: evictionLatencies.length,
    evictionAppendP50Ms: evictionLatencies.length ? quantile(evictionLatencies, 0.5) : null,
    countStarMs,
    fillSeconds: fillS,
  };
  console.log(results);
  const rowsTable: BenchRow[] = [
    {
      metric: 'append p50 / p99 at the quota (`appendP99Ms`)',
      value: `${ms(results.appendP50Ms)} / ${ms(results.appendP99Ms)}`,
      note: `${POLL} readings per append, ${rows.toLocaleString('en')} rows in the log, ${(QUOTA_BYTES / 2 ** 20).toFixed(0)} MiB quota, nothing delivered`,
    },
    {
      metric: 'append that evicts (p50) / worst append',
      value: `${results.evictionAppendP50Ms === null ? 'n/a' : ms(results.evictionAppendP50Ms)} / ${ms(results.appendMaxMs)}`,
      note: `${results.evictions} evictions in ${MEASURED_APPENDS.toLocaleString('en')} appends, each down to 90 % with one gap event`,
    },
    {
      metric: 'count(*) over the four tables at that size',
      value: ms(countStarMs),
      note: 'what each eviction chunk paid before the count was kept in meta (up to 200 chunks per eviction)',
    },
  ];
  writeResults('retention', 'npm run bench:retention', results, rowsTable);
  console.log('wrote bench/results/retention.json and docs/benchmarks.md');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
