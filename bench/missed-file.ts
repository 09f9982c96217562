/**
 * What missed slots cost the log's file: `npx tsx bench/missed-file.ts`. The same 400 000
 * readings (batches of 1 000, ten readings to a poll, every poll carrying missed slots) appended
 * to a fresh log, then the same readings without slots, then the first log with its `missed`
 * column rewritten as the JSON earlier gateways wrote (`{"slots":…,"from":…,"periodMs":…}`) and
 * vacuumed, as that form would have taken. Prints the three file sizes (all vacuumed); docs/store.md
 * quotes them.
 */
import { statSync } from 'node:fs';
import type { ReadingDraft } from '../gateway/src/core/reading.js';
import { openLog } from '../gateway/src/store/log.js';
import { decodeMissed } from '../gateway/src/store/records.js';
import { tempDir } from '../test/helpers/store-fixtures.js';

const READINGS = 400_000;
const BATCH = 1000;
const DEVICES = 4000;
const POINTS = 10;
const T0 = Date.UTC(2026, 11, 1);

function batches(withSlots: boolean): ReadingDraft[][] {
  const out: ReadingDraft[][] = [];
  for (let b = 0; b < READINGS / BATCH; b++) {
    const ts = T0 + b * 100;
    const batch: ReadingDraft[] = [];
    for (let poll = 0; poll < BATCH / POINTS; poll++) {
      const device = `d${((b * BATCH) / POINTS + poll) % DEVICES}`;
      const missed = { slots: 4, from: ts - 400, periodMs: 100 };
      for (let p = 0; p < POINTS; p++)
        batch.push({
          ts,
          device,
          point: `p${p}`,
          value: Math.fround(12.3456 + p),
          flag: 'N',
          raw: [0x4145, p],
          ...(withSlots ? { missed } : {}),
        });
    }
    out.push(batch);
  }
  return out;
}

/** The file's size once vacuumed (all three are, so that free pages count in none). */
function vacuumedMb(path: string): number {
  const log = openLog({ path });
  log.database.exec('VACUUM');
  log.close();
  return statSync(path).size / 1048576;
}

function append(path: string, withSlots: boolean): number {
  const log = openLog({ path });
  for (const b of batches(withSlots)) log.append(b);
  log.close();
  return vacuumedMb(path);
}

const tmp = tempDir('lantian-missed-file-');
const short = append(tmp.file('short.db'), true);
const none = append(tmp.file('none.db'), false);
// The JSON an earlier gateway wrote (JSON.stringify of the slots, as it did), put in place of
// each row's short form, read with the log's own decoder.
const log = openLog({ path: tmp.file('short.db') });
const rows = log.database.prepare('SELECT seq, ts, missed FROM readings').all() as {
  seq: number;
  ts: number;
  missed: string;
}[];
const update = log.database.prepare('UPDATE readings SET missed = ? WHERE seq = ?');
log.database.transaction(() => {
  for (const r of rows) update.run(JSON.stringify(decodeMissed(r.missed, r.ts, r.seq)), r.seq);
})();
const sample = log.database.prepare('SELECT missed FROM readings LIMIT 1').pluck().get();
log.close();
const json = vacuumedMb(tmp.file('short.db'));
tmp.remove();
const mb = (x: number) => `${x.toFixed(1)} MB`;
console.log(`${READINGS} readings, ${POINTS} to a poll, every poll with missed slots:`);
console.log(`  short form (slots,age,periodMs): ${mb(short)}`);
console.log(`  as JSON (${String(sample)}): ${mb(json)}`);
console.log(`  the same readings without slots: ${mb(none)}`);
