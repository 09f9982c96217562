/**
 * Versioned migrations of the raw YAML object. Each migration is a pure function from one
 * version's shape to the next; they run in order until the file reaches CURRENT_VERSION.
 * A migration throws CONFIG_MIGRATION_FAILED naming the path it could not convert; keys it
 * does not know are carried over, so the schema check afterwards reports them.
 */
import { LantianError } from '../core/errors.js';
import { isRaw, migrationFailed, type Migration, type Raw } from './raw.js';
import { CURRENT_VERSION } from './schema.js';
import { v0ToV1 } from './v0.js';

export type { Migration, Raw };

/** Ordered: MIGRATIONS[i].to === MIGRATIONS[i + 1].from, the last ends at CURRENT_VERSION. */
export const MIGRATIONS: readonly Migration[] = [v0ToV1];

/** The file's version, or a problem message when it has none that can be used. */
export function versionOf(raw: unknown): { version: number } | { problem: string; hint: string } {
  if (!isRaw(raw)) return { problem: 'a site config is a YAML map', hint: 'see examples/site.yaml' };
  const v = raw.version;
  if (v === undefined) return { problem: 'required', hint: `add version: ${CURRENT_VERSION} at the top` };
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    return { problem: 'the version is a whole number', hint: `the current version is ${CURRENT_VERSION}` };
  }
  return { version: v };
}

export interface Migrated {
  data: Raw;
  from: number;
  applied: Migration[];
}

/** Brings a raw config of any known version up to CURRENT_VERSION, without touching the input. */
export function migrateRaw(raw: Raw, migrations: readonly Migration[] = MIGRATIONS): Migrated {
  const found = versionOf(raw);
  if ('problem' in found) throw migrationFailed(['version'], found.problem);
  const from = found.version;
  const last = migrations.at(-1)?.to ?? CURRENT_VERSION;
  if (from > last) {
    throw new LantianError(
      'CONFIG_VERSION_UNSUPPORTED',
      `version ${from} is newer than this gateway knows (${last}): upgrade Lantian`,
      { context: { version: from, current: last } },
    );
  }
  let data: Raw = structuredClone(raw);
  const applied: Migration[] = [];
  for (const m of migrations) {
    if (m.from !== (data.version as number)) continue;
    try {
      data = m.migrate(data);
    } catch (e) {
      if (e instanceof LantianError) throw e;
      throw new LantianError('CONFIG_MIGRATION_FAILED', `migration ${m.from} -> ${m.to} failed`, {
        cause: e,
        context: { from: m.from, to: m.to },
      });
    }
    data.version = m.to;
    applied.push(m);
  }
  if (data.version !== last) {
    throw new LantianError(
      'CONFIG_VERSION_UNSUPPORTED',
      `no migration from version ${String(data.version)}`,
      {
        context: { version: data.version, current: last },
      },
    );
  }
  return { data, from, applied };
}
