/** Shared by the migrations: the raw YAML object and how a migration reports what it cannot convert. */
import { LantianError } from '../core/errors.js';
import { formatPath } from '../core/yaml.js';

export type Raw = Record<string, unknown>;

export const isRaw = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Migration {
  from: number;
  to: number;
  /** One line for the migrated file's header and the CLI. */
  summary: string;
  /** Pure: returns a new object and leaves its input alone. */
  migrate(raw: Raw): Raw;
}

export function migrationFailed(path: readonly PropertyKey[], message: string): LantianError {
  return new LantianError('CONFIG_MIGRATION_FAILED', `${formatPath(path)}: ${message}`, {
    context: { path: formatPath(path) },
  });
}
