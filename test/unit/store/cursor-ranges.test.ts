/**
 * The range set under every cursor, the cursor's own arithmetic and persistence, and the point
 * dictionary: the exact edges (adjacent ranges, the prefix, a failed save) that decide whether a
 * record is resent or skipped.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import { Cursor } from '../../../gateway/src/store/cursors.js';
import { PointDictionary } from '../../../gateway/src/store/dictionary.js';
import { RangeSet } from '../../../gateway/src/store/ranges.js';
import { createSchema, type SqliteDb } from '../../../gateway/src/store/schema.js';

describe('RangeSet edges', () => {
  it('starts from initial ranges, merging them', () => {
    const s = new RangeSet([
      [5, 6],
      [1, 2],
      [3, 4],
    ]);
    expect(s.toArray()).toEqual([[1, 6]]);
    expect(s.rangeCount).toBe(1);
  });

  it('adds a single number when no end is given, and nothing for a reversed range', () => {
    const s = new RangeSet();
    expect(s.add(7)).toBe(0);
    expect(s.add(7)).toBe(1);
    expect(s.add(9, 8)).toBe(0);
    expect(s.toArray()).toEqual([[7, 7]]);
    expect(s.size).toBe(1);
  });

  it('keeps ranges one apart separate and joins ranges that touch', () => {
    const s = new RangeSet();
    s.add(1, 3);
    s.add(5, 6);
    expect(s.rangeCount).toBe(2);
    expect(s.add(4)).toBe(0);
    expect(s.toArray()).toEqual([[1, 6]]);
    s.add(8, 9);
    s.add(12, 13);
    expect(s.add(7, 12)).toBe(3);
    expect(s.toArray()).toEqual([[1, 13]]);
  });

  it('answers membership at both ends of a range and between ranges', () => {
    const s = new RangeSet([
      [10, 20],
      [30, 40],
    ]);
    expect([9, 10, 20, 21, 29, 30, 40, 41].map((n) => s.has(n))).toEqual([
      false,
      true,
      true,
      false,
      false,
      true,
      true,
      false,
    ]);
  });

  it('counts present numbers in a window that cuts ranges on both sides', () => {
    const s = new RangeSet([
      [10, 20],
      [30, 40],
      [50, 60],
    ]);
    expect(s.countIn(15, 35)).toBe(6 + 6);
    expect(s.countIn(21, 29)).toBe(0);
    expect(s.countIn(20, 30)).toBe(2);
    expect(s.countIn(0, 100)).toBe(33);
    expect(s.countIn(41, 49)).toBe(0);
    expect(s.countIn(40, 40)).toBe(1);
  });

  it('lists what is missing at the edges of a window', () => {
    const s = new RangeSet([
      [10, 20],
      [30, 40],
    ]);
    expect(s.missingIn(10, 40)).toEqual([[21, 29]]);
    expect(s.missingIn(5, 12)).toEqual([[5, 9]]);
    expect(s.missingIn(15, 35)).toEqual([[21, 29]]);
    expect(s.missingIn(21, 29)).toEqual([[21, 29]]);
    expect(s.missingIn(12, 18)).toEqual([]);
    expect(s.missingIn(38, 45)).toEqual([[41, 45]]);
    expect(s.missingIn(35, 41)).toEqual([[41, 41]]);
    expect(s.missingIn(21, 28)).toEqual([[21, 28]]);
    expect(s.missingIn(21, 30)).toEqual([[21, 29]]);
    expect(new RangeSet().missingIn(1, 3)).toEqual([[1, 3]]);
  });

  it('finds the range holding a number or the next one above it', () => {
    const s = new RangeSet([
      [10, 20],
      [30, 40],
    ]);
    expect(s.rangeAtOrAfter(5)).toEqual([10, 20]);
    expect(s.rangeAtOrAfter(20)).toEqual([10, 20]);
    expect(s.rangeAtOrAfter(21)).toEqual([30, 40]);
    expect(s.rangeAtOrAfter(41)).toBeUndefined();
  });

  it('drops numbers through n: whole ranges, part of one, exactly to an end', () => {
    const s = new RangeSet([
      [10, 20],
      [30, 40],
      [50, 60],
    ]);
    s.dropThrough(5);
    expect(s.first()).toEqual([10, 20]);
    s.dropThrough(10);
    expect(s.first()).toEqual([11, 20]);
    s.dropThrough(20);
    expect(s.toArray()).toEqual([
      [30, 40],
      [50, 60],
    ]);
    s.dropThrough(45);
    expect(s.toArray()).toEqual([[50, 60]]);
    expect(s.last()).toEqual([50, 60]);
    s.dropThrough(60);
    expect(s.first()).toBeUndefined();
    expect(s.last()).toBeUndefined();
    expect(s.size).toBe(0);
  });

  it('hands out copies, so changing one does not change the set', () => {
    const s = new RangeSet([[1, 5]]);
    const out = s.toArray() as [number, number][];
    out[0]![1] = 100;
    expect(s.has(6)).toBe(false);
  });
});

describe('Cursor', () => {
  let db: SqliteDb;
  afterEach(() => db?.close());
  const fresh = () => {
    db = new Database(':memory:');
    createSchema(db);
    return db;
  };
  const row = (uplink: string) =>
    db.prepare('SELECT prefix, ranges FROM cursors WHERE uplink = ?').get(uplink) as
      { prefix: number; ranges: string } | undefined;

  it('is written at once when new, at prefix 0, and read back by the next cursor of that uplink', () => {
    fresh();
    const c = new Cursor('mqtt', db);
    expect(row('mqtt')).toEqual({ prefix: 0, ranges: '[]' });
    expect(c.isSaved).toBe(true);
    c.markDone(1, 4);
    c.markDone(8, 9);
    expect(row('mqtt')).toEqual({ prefix: 4, ranges: '[[8,9]]' });
    const again = new Cursor('mqtt', db);
    expect(again.snapshot()).toEqual({ uplink: 'mqtt', prefix: 4, ranges: [[8, 9]] });
    expect(again.isSaved).toBe(true);
    expect(new Cursor('hj212', db).prefix).toBe(0);
  });

  it('moves the prefix only over a range that starts right after it', () => {
    fresh();
    const c = new Cursor('mqtt', db);
    c.markDoneInMemory(2, 3);
    expect(c.prefix).toBe(0);
    expect(c.doneAbovePrefix()).toBe(2);
    c.markDoneInMemory(1, 1);
    expect(c.prefix).toBe(3);
    expect(c.doneAbovePrefix()).toBe(0);
    c.markDoneInMemory(5, 6);
    expect(c.doneRangeAtOrAfter(4)).toEqual([5, 6]);
    c.markDoneInMemory(4, 4);
    expect(c.prefix).toBe(6);
    expect(c.doneRangeAtOrAfter(4)).toBeUndefined();
  });

  it('ignores a range at or below the prefix and clips one that straddles it', () => {
    fresh();
    const c = new Cursor('mqtt', db);
    c.markDone(1, 10);
    c.markDoneInMemory(3, 10);
    expect(c.snapshot()).toEqual({ uplink: 'mqtt', prefix: 10, ranges: [] });
    c.markDoneInMemory(5, 12);
    expect(c.snapshot()).toEqual({ uplink: 'mqtt', prefix: 12, ranges: [] });
    expect(c.doneAbovePrefix()).toBe(0);
  });

  it('says done for everything through the prefix and for done ranges above it only', () => {
    fresh();
    const c = new Cursor('mqtt', db);
    c.markDone(1, 5);
    c.markDone(8, 8);
    expect([5, 6, 7, 8, 9].map((s) => c.isDone(s))).toEqual([true, false, false, true, false]);
  });

  it('does not persist from markDoneInMemory until persist() is called', () => {
    fresh();
    const c = new Cursor('mqtt', db);
    c.markDoneInMemory(1, 3);
    expect(row('mqtt')!.prefix).toBe(0);
    c.persist();
    expect(row('mqtt')!.prefix).toBe(3);
  });

  it('keeps its position in memory when a save fails, tells its owner, and saves on a later persist', () => {
    fresh();
    const failures: unknown[] = [];
    const c = new Cursor('mqtt', db, (cursor, e) => {
      expect(cursor).toBe(c);
      failures.push(e);
    });
    db.exec(`CREATE TRIGGER no_cursor BEFORE UPDATE ON cursors BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    c.markDone(1, 5);
    expect(c.prefix).toBe(5);
    expect(c.isSaved).toBe(false);
    expect(failures).toHaveLength(1);
    expect(row('mqtt')!.prefix).toBe(0);
    db.exec('DROP TRIGGER no_cursor');
    c.persist();
    expect(c.isSaved).toBe(true);
    expect(row('mqtt')!.prefix).toBe(5);
  });

  it('throws a failed save when nobody listens for it, and persistOrThrow always throws', () => {
    fresh();
    const c = new Cursor('mqtt', db);
    db.exec(`CREATE TRIGGER no_cursor BEFORE UPDATE ON cursors BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    expect(() => c.markDone(1, 2)).toThrow(/disk full/);
    const heard = new Cursor('mqtt', db, () => undefined);
    expect(() => heard.persistOrThrow()).toThrow(/disk full/);
  });

  it('goes back to a snapshot exactly, dropping ranges added since', () => {
    fresh();
    const c = new Cursor('mqtt', db);
    c.markDone(1, 2);
    c.markDone(5, 6);
    const s = c.snapshot();
    c.markDone(3, 4);
    c.markDone(10, 11);
    c.restore(s);
    expect(c.snapshot()).toEqual(s);
    expect(c.isDone(10)).toBe(false);
    expect(c.isDone(3)).toBe(false);
  });
});

describe('PointDictionary', () => {
  let db: SqliteDb;
  afterEach(() => db?.close());

  it('gives each device/point one id, kept across dictionaries of the same file', () => {
    db = new Database(':memory:');
    createSchema(db);
    const d = new PointDictionary(db);
    const so2 = d.id('stack1', 'so2');
    expect(d.id('stack1', 'so2')).toBe(so2);
    const nox = d.id('stack1', 'nox');
    const other = d.id('stack2', 'so2');
    expect(new Set([so2, nox, other]).size).toBe(3);
    d.commit();
    const again = new PointDictionary(db);
    expect(again.ref(nox)).toEqual({ device: 'stack1', point: 'nox' });
    expect(again.id('stack2', 'so2')).toBe(other);
  });

  it('forgets the names a rolled-back transaction added, and only those', () => {
    db = new Database(':memory:');
    createSchema(db);
    const d = new PointDictionary(db);
    const kept = d.id('stack1', 'so2');
    d.commit();
    const tx = db.transaction(() => {
      d.id('stack1', 'nox');
      d.id('stack9', 'o2');
      throw new Error('write failed');
    });
    expect(() => tx()).toThrow('write failed');
    d.rollback();
    expect(d.ref(kept)).toEqual({ device: 'stack1', point: 'so2' });
    // The rolled-back rows are gone from the file; the same names are inserted again.
    const nox = d.id('stack1', 'nox');
    expect(d.ref(nox)).toEqual({ device: 'stack1', point: 'nox' });
    const inFile = db.prepare('SELECT device, point FROM points WHERE id = ?');
    expect(inFile.get(nox)).toEqual({ device: 'stack1', point: 'nox' });
    expect(inFile.get(d.id('stack9', 'o2'))).toEqual({ device: 'stack9', point: 'o2' });
    d.commit();
    d.rollback();
    expect(d.ref(nox)).toEqual({ device: 'stack1', point: 'nox' });
  });

  it('refuses an id it does not hold as STORE_CORRUPT, naming the id', () => {
    db = new Database(':memory:');
    createSchema(db);
    const d = new PointDictionary(db);
    d.id('stack1', 'so2');
    // 0 is below every rowid, 42 above them, 1.5 between: none is a name.
    for (const id of [0, 42, 1.5, -1]) {
      try {
        d.ref(id);
        expect.unreachable();
      } catch (e) {
        expect(isLantianError(e, 'STORE_CORRUPT')).toBe(true);
        expect((e as { context: unknown }).context).toEqual({ pointId: id });
        expect((e as Error).message).toContain(`point id ${id}`);
      }
    }
  });

  it('lists the ids of one device, and none for a device it has not seen', () => {
    db = new Database(':memory:');
    createSchema(db);
    const d = new PointDictionary(db);
    const so2 = d.id('stack1', 'so2');
    const nox = d.id('stack1', 'nox');
    d.id('stack2', 'so2');
    d.commit();
    expect(d.idsOf('stack1')).toEqual([
      { id: so2, point: 'so2' },
      { id: nox, point: 'nox' },
    ]);
    expect(d.idsOf('stack9')).toEqual([]);
  });
});
