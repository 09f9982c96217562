/**
 * What the log's bounded page cache costs: `npx tsx bench/log-cache.ts`. The same 600 000
 * realistic readings (batches of 500, the group commit's bound) appended to a fresh log, then read
 * back in order 1 000 at a time from the file (the uplink's replay of a backlog), once with the
 * log's cache (`LOG_CACHE_KIB`) and once with the 16 MB SQLite gets from better-sqlite3's build,
 * in turn, three rounds. Prints CPU µs per reading for each; docs/store.md quotes them.
 */
import { openLog } from '../gateway/src/store/log.js';
import { LOG_CACHE_KIB } from '../gateway/src/store/schema.js';
import { tempDir } from '../test/helpers/store-fixtures.js';
import { realisticBatch } from './readings.js';

const READINGS = 600_000;
const BATCH = 500;
const READ = 1000;
const ROUNDS = 3;
/** SQLITE_DEFAULT_CACHE_SIZE as better-sqlite3 compiles SQLite: 16 000 KiB. */
const BUILD_DEFAULT_KIB = 16_000;
const T0 = Date.UTC(2026, 11, 1);

const batches = Array.from({ length: READINGS / BATCH }, (_, i) =>
  realisticBatch(i * BATCH, BATCH, T0 + i * 100),
);
const cpuMicros = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return d.user + d.system;
};

function once(kib: number): { append: number; read: number } {
  const dir = tempDir();
  try {
    const log = openLog({ path: dir.file('log.db') });
    try {
      log.database.pragma(`cache_size = -${kib}`);
      const a = process.cpuUsage();
      for (const b of batches) log.append(b);
      const append = cpuMicros(a) / READINGS;
      // Past what the log keeps in memory: these come from the file.
      const r = process.cpuUsage();
      let read = 0;
      for (let after = 0; after < READINGS; after += READ) read += log.read(after, READ).length;
      if (read !== READINGS) throw new Error(`read back ${read} of ${READINGS}`);
      return { append, read: cpuMicros(r) / READINGS };
    } finally {
      log.close();
    }
  } finally {
    dir.remove();
  }
}

const rows: Record<string, string>[] = [];
for (let round = 1; round <= ROUNDS; round++)
  for (const kib of [LOG_CACHE_KIB, BUILD_DEFAULT_KIB]) {
    const r = once(kib);
    rows.push({
      round: String(round),
      cache: `${kib} KiB`,
      'append µs/reading': r.append.toFixed(2),
      'read µs/reading': r.read.toFixed(2),
    });
  }
console.table(rows);
