/**
 * Device/point names as small integer ids: a reading row stores 1-2 bytes instead of two
 * strings. The whole dictionary lives in memory (a site has hundreds of points, not millions).
 */
import { LantianError } from '../core/errors.js';
import { PointMap } from '../core/point-map.js';
import type { SqliteDb } from './schema.js';

export interface PointName {
  device: string;
  point: string;
}

export class PointDictionary {
  private readonly byName = new PointMap<number>();
  /** Indexed by id (the table's rowids, small and dense): a look-up for every reading read back. */
  private readonly byId: (PointName | undefined)[] = [];
  private readonly insert;
  private added: { id: number; device: string; point: string }[] = [];

  constructor(db: SqliteDb) {
    const rows = db.prepare('SELECT id, device, point FROM points').all() as ({ id: number } & PointName)[];
    for (const r of rows) this.remember(r.id, r.device, r.point);
    this.insert = db.prepare('INSERT INTO points (device, point) VALUES (?, ?)');
  }

  /** The id of `device/point`, inserting it (inside the caller's transaction) when new. */
  id(device: string, point: string): number {
    const known = this.byName.get(device, point);
    if (known !== undefined) return known;
    const id = Number(this.insert.run(device, point).lastInsertRowid);
    this.remember(id, device, point);
    this.added.push({ id, device, point });
    return id;
  }

  /** The ids of every known point of `device`. */
  idsOf(device: string): { id: number; point: string }[] {
    return [...(this.byName.pointsOf(device) ?? [])].map(([point, id]) => ({ id, point }));
  }

  ref(id: number): PointName {
    const name = this.byId[id];
    if (!name) {
      throw new LantianError(
        'STORE_CORRUPT',
        `the log refers to point id ${id}, which its dictionary lacks`,
        {
          context: { pointId: id },
        },
      );
    }
    return name;
  }

  /** The transaction that inserted new names committed: keep them. */
  commit(): void {
    this.added = [];
  }

  /** The transaction that inserted new names failed: forget them. */
  rollback(): void {
    for (const a of this.added) {
      this.byId[a.id] = undefined;
      this.byName.delete(a.device, a.point);
    }
    this.added = [];
  }

  private remember(id: number, device: string, point: string): void {
    this.byName.set(device, point, id);
    this.byId[id] = { device, point };
  }
}
