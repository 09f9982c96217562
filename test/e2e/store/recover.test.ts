import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openLog, type LogRecord } from '../../../gateway/src/store/index.js';
import { encodeQuality, encodeRaw } from '../../../gateway/src/store/records.js';
import { childFixture, storeAppender, lastNumber } from '../../helpers/store-child.js';
import { syntheticBatch } from '../../helpers/store-fixtures.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const DOC_PATH = '/var/lib/lantian/log.db';
const fixture = childFixture();

/** The fenced blocks of one language in docs/store.md's recovery section. */
function docBlocks(lang: string): string[] {
  const doc = readFileSync(`${root}/docs/store.md`, 'utf8');
  const start = doc.indexOf('### Recovering a damaged log');
  const section = doc.slice(start, doc.indexOf('\n## ', start));
  return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) =>
    m[1]!.replace(/^ {3}/gm, '').trim(),
  );
}

/** Runs one shell line with a `lantian` on PATH that is this checkout's CLI, as an operator would. */
function sh(line: string, dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  mkdirSync(`${dir}/bin`, { recursive: true });
  writeFileSync(`${dir}/bin/lantian`, `#!/bin/sh\nexec "${process.execPath}" "${root}bin/lantian.js" "$@"\n`);
  chmodSync(`${dir}/bin/lantian`, 0o755);
  return new Promise((resolve) =>
    execFile(
      'bash',
      ['-c', line],
      { env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, NO_COLOR: '1' }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    ),
  );
}

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Output with paths, times, ids and numbers made generic, to compare with the doc's example. */
const shape = (text: string, path: string) =>
  text
    .trim()
    .split('\n')
    .map((l) =>
      l
        .replaceAll(path, '<log>')
        .replace(/\d{4}-\d\d-\d\dT[\d-]+Z/g, '<time>')
        .replace(/\b[0-9a-f]{16}\b/g, '<id>')
        .replace(/\d+/g, '<n>'),
    );

describe('the recovery section of docs/store.md', () => {
  it('recovers a log truncated after a SIGKILL when run exactly as written', async () => {
    const tmp = fixture.tmp();
    const path = tmp.file('log.db');
    const child = fixture.start(storeAppender, [path]);
    const oldLogId = (await child.waitForLine(/^log (\w+)$/, 60_000))[1]!;
    await child.waitForLine(/^committed 20000$/, 60_000);
    await child.kill();
    const committed = lastNumber(child.lines, 'committed');
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const before = { db: digest(path), wal: digest(`${path}-wal`) };

    const [command, ...more] = docBlocks('sh');
    const [example] = docBlocks('text');
    expect(more).toEqual([]);
    expect(command).toBe(`lantian log recover ${DOC_PATH}`);
    const run = await sh(command!.replaceAll(DOC_PATH, path), tmp.dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(shape(run.stdout, path)).toEqual(shape(example!, DOC_PATH));

    // The damaged file and its WAL were moved aside untouched.
    const aside = readdirSync(tmp.dir).find((f) => /^log\.db\.damaged-[\dT-]+Z$/.test(f))!;
    expect(digest(tmp.file(aside))).toBe(before.db);
    expect(digest(tmp.file(`${aside}-wal`))).toBe(before.wal);

    // "Start the gateway again": the new log opens, above every seq the old one issued.
    const log = openLog({ path });
    try {
      const events = log
        .read(0, 100)
        .filter((r): r is Extract<LogRecord, { type: 'event' }> => r.type === 'event');
      expect(events.map((e) => e.kind)).toEqual(['log_replaced', 'log_recovered']);
      expect(events[0]!.seq).toBeGreaterThan(committed);
      expect(log.logId).not.toBe(oldLogId);
      const recovered = events[1]!.payload as Record<string, unknown>;
      expect(recovered).toMatchObject({
        previousLogId: oldLogId,
        logId: log.logId,
        damagedFile: tmp.file(aside),
      });
      expect(recovered.issuedThrough).toBeGreaterThanOrEqual(committed);

      // Every salvaged reading is exactly what was written; the rest is named as unrecoverable.
      const salvageFile = recovered.salvageFile as string;
      const db = new Database(salvageFile, { readonly: true });
      const rows = db
        .prepare(
          'SELECT seq, ts, device, point, value, flag, quality, raw FROM readings JOIN points ON points.id = point_id ORDER BY seq',
        )
        .all() as { seq: number }[];
      db.close();
      expect(rows.length).toBeGreaterThan(1000);
      for (const r of rows) {
        const { ts, device, point, value, flag, quality, raw } = syntheticBatch(r.seq - 1, 1)[0]!;
        // Stored as the log stores them: the register words and reasons are evidence too.
        expect(r).toEqual({
          seq: r.seq,
          ts,
          device,
          point,
          value,
          flag,
          quality: encodeQuality(quality),
          raw: encodeRaw(raw),
        });
      }
      const unrecoverable = recovered.unrecoverable as [number, number][];
      const missing = unrecoverable.reduce((n, [a, b]) => n + b - a + 1, 0);
      expect(missing + rows.length).toBe(recovered.issuedThrough);
      expect(recovered.unrecoverableCount).toBe(missing);
    } finally {
      log.close();
    }
  }, 180_000);
});
