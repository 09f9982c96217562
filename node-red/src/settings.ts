/**
 * Reading the editor's form values: Node-RED hands every field over as a string (or a number when
 * the form says so), and an empty field means "the default". Bad values are refused with
 * NODERED_CONFIG naming the node and the field, never guessed at.
 */
import { LantianError } from '../../gateway/src/core/errors.js';

export function configError(node: string, field: string, message: string): LantianError {
  return new LantianError('NODERED_CONFIG', `${node}: ${message}`, { context: { node, field } });
}

const blank = (v: unknown): boolean =>
  v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

/** A number field in [min, max]; undefined when blank and optional. */
export function numberField(
  node: string,
  field: string,
  value: unknown,
  range: { min: number; max: number; integer?: boolean },
): number | undefined {
  if (blank(value)) return undefined;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n) || n < range.min || n > range.max || (range.integer && !Number.isInteger(n))) {
    throw configError(
      node,
      field,
      `${field} must be ${range.integer ? 'a whole number' : 'a number'} from ${range.min} to ${range.max}, not ${JSON.stringify(value)}`,
    );
  }
  return n;
}

export function requiredNumber(
  node: string,
  field: string,
  value: unknown,
  range: { min: number; max: number; integer?: boolean },
): number {
  const n = numberField(node, field, value, range);
  if (n === undefined) throw configError(node, field, `${field} is required`);
  return n;
}

export function requiredText(node: string, field: string, value: unknown): string {
  if (blank(value) || typeof value !== 'string') throw configError(node, field, `${field} is required`);
  return value.trim();
}

export function choice<T extends string>(
  node: string,
  field: string,
  value: unknown,
  options: readonly T[],
): T {
  if (typeof value === 'string' && (options as readonly string[]).includes(value)) return value as T;
  throw configError(
    node,
    field,
    `${field} must be one of ${options.join(', ')}, not ${JSON.stringify(value)}`,
  );
}

/** A comma- or space-separated list; empty gives undefined. */
export function listField(value: unknown): string[] | undefined {
  if (blank(value) || typeof value !== 'string') return undefined;
  const items = value.split(/[\s,]+/).filter((x) => x !== '');
  return items.length ? items : undefined;
}

/** The message of any error, with its code when it is a LantianError. */
export function describeError(e: unknown): string {
  if (e instanceof LantianError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
