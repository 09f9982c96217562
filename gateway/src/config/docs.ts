/**
 * The option table of docs/config.md, generated from the schema's JSON Schema so the docs can
 * never disagree with the code (a test compares them). One row per option: its path, type, unit,
 * range or allowed values, default, whether it is required, and its description. The same rows
 * give the loader the option names it suggests for a misspelt key, from those valid at its place.
 */
import { z } from 'zod';
import { SiteConfigSchema } from './schema.js';
import { isUnsupportedOption, unsupportedList } from './unsupported.js';

interface Node {
  type?: string;
  description?: string;
  unit?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  const?: unknown;
  enum?: unknown[];
  anyOf?: Node[];
  oneOf?: Node[];
  items?: Node;
  prefixItems?: Node[];
  properties?: Record<string, Node>;
  additionalProperties?: Node | boolean;
  required?: string[];
}

export interface OptionRow {
  option: string;
  type: string;
  /** The unit, '' for dimensionless numbers, undefined where the schema states none. */
  unit: string | undefined;
  range: string;
  default: string;
  required: boolean;
  description: string;
}

const isSecretRef = (n: Node): boolean =>
  n.type === 'object' && Object.keys(n.properties ?? {}).join() === 'secret';
const isRecord = (n: Node): n is Node & { additionalProperties: Node } =>
  n.type === 'object' && typeof n.additionalProperties === 'object';
const SAFE = Number.MAX_SAFE_INTEGER;

function typeOf(n: Node): string {
  if (isSecretRef(n)) return 'secret';
  if (n.anyOf?.every((a) => a.const !== undefined))
    return typeof n.anyOf[0]?.const === 'number' ? 'number' : 'text';
  if (n.anyOf) return n.anyOf.map(typeOf).join(' or ');
  if (n.prefixItems) return `[${n.prefixItems.map(typeOf).join(', ')}]`;
  if (n.type === 'array') return `list of ${n.items ? typeOf(n.items) : 'values'}`;
  if (isRecord(n)) return 'map';
  if (n.type === 'string') return 'text';
  return n.type ?? 'value';
}

function rangeOf(n: Node): string {
  const consts = n.anyOf?.every((a) => a.const !== undefined) ? n.anyOf.map((a) => a.const) : undefined;
  const values = n.enum ?? consts ?? (n.const === undefined ? undefined : [n.const]);
  if (values) return values.map(String).join(', ');
  if (n.anyOf) return n.anyOf.map(rangeOf).filter(Boolean).join(' or ');
  const lo = n.minimum !== undefined && n.minimum > -SAFE ? n.minimum : undefined;
  const hi = n.maximum !== undefined && n.maximum < SAFE ? n.maximum : undefined;
  if (lo !== undefined && hi !== undefined) return `${lo} – ${hi}`;
  if (lo !== undefined) return `≥ ${lo}`;
  if (hi !== undefined) return `≤ ${hi}`;
  return '';
}

function walk(n: Node, path: string, required: boolean, rows: OptionRow[]): void {
  // Entries of a map (`buses.<id>`) are described by the map's own row.
  if (path !== '' && path !== '$schema' && !(path.endsWith('>') && n.description === undefined)) {
    rows.push({
      option: path,
      type: typeOf(n),
      unit: n.unit,
      range: rangeOf(n),
      default: n.default === undefined ? '' : JSON.stringify(n.default),
      required: required && n.default === undefined,
      description: n.description ?? '',
    });
  }
  if (isSecretRef(n)) return;
  if (isRecord(n)) {
    const id = path.endsWith('limits') ? '<device/point>' : '<id>';
    walkVariants(n.additionalProperties, `${path}.${id}`, rows);
    return;
  }
  for (const [key, child] of Object.entries(n.properties ?? {})) {
    if (key === 'kind' && child.const !== undefined) continue;
    walk(child, path === '' ? key : `${path}.${key}`, n.required?.includes(key) ?? false, rows);
  }
}

/** A discriminated union (bus kinds): rows shared by every kind once, the others per kind. */
function walkVariants(n: Node, path: string, rows: OptionRow[]): void {
  if (!n.oneOf) return walk(n, path, true, rows);
  const kinds = n.oneOf.map((v) => String(v.properties?.kind?.const));
  rows.push({
    option: `${path}.kind`,
    type: 'text',
    unit: undefined,
    range: kinds.join(', '),
    default: '',
    required: true,
    description: n.oneOf.map((v, i) => `${kinds[i]}: ${v.properties?.kind?.description ?? ''}`).join(' '),
  });
  const perKind = n.oneOf.map((v) => {
    const r: OptionRow[] = [];
    walk({ ...v, description: undefined }, path, true, r);
    return r.filter((row) => row.option !== path);
  });
  const seen = new Set<string>();
  perKind.forEach((list) => {
    for (const row of list) {
      const key = JSON.stringify(row);
      if (seen.has(key)) continue;
      seen.add(key);
      const where = kinds.filter((_, i) => perKind[i]!.some((r) => JSON.stringify(r) === key));
      rows.push(
        where.length === kinds.length
          ? row
          : { ...row, description: `(${where.join(', ')}) ${row.description}` },
      );
    }
  });
}

export function optionRows(): OptionRow[] {
  const rows: OptionRow[] = [];
  walk(z.toJSONSchema(SiteConfigSchema, { io: 'input', unrepresentable: 'any' }) as Node, '', true, rows);
  return rows;
}

let rowPaths: string[][] | undefined;

/**
 * The option names valid directly under `path` (a concrete place such as
 * ['devices', 'gas', 'overrides']), for "did you mean" hints that only offer keys that fit there.
 * Map keys in the rows (`<id>`) match any key.
 */
export function optionKeysAt(path: readonly PropertyKey[]): string[] {
  rowPaths ??= optionRows().map((r) => r.option.split('.'));
  const here = path.filter((k) => typeof k === 'string');
  const keys = new Set<string>();
  for (const row of rowPaths) {
    if (row.length !== here.length + 1) continue;
    const last = row.at(-1)!;
    if (last.startsWith('<')) continue;
    if (here.every((k, i) => row[i] === k || row[i]!.startsWith('<'))) keys.add(last);
  }
  return [...keys];
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The generated section of docs/config.md, between its markers. */
export function optionsTable(): string {
  return [
    '| option | type | unit | range / values | default | required | description |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...optionRows().map((r) =>
      [
        `\`${r.option}\``,
        r.type,
        r.unit ?? '',
        r.range,
        r.default === '' ? '' : `\`${r.default}\``,
        r.required ? 'yes' : '',
        isUnsupportedOption(r.option) ? `**Not supported yet.** ${r.description}` : r.description,
      ]
        .map(cell)
        .join(' | ')
        .replace(/^/, '| ')
        .replace(/$/, ' |'),
    ),
  ].join('\n');
}

export const OPTIONS_START = '<!-- options:start (generated from gateway/src/config/schema.ts) -->';
export const OPTIONS_END = '<!-- options:end -->';
export const UNSUPPORTED_START =
  '<!-- unsupported:start (generated from gateway/src/config/unsupported.ts) -->';
export const UNSUPPORTED_END = '<!-- unsupported:end -->';

function replaceBetween(doc: string, start: string, end: string, body: string): string | undefined {
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) return undefined;
  return `${doc.slice(0, i + start.length)}\n${body}\n${doc.slice(j)}`;
}

/**
 * docs/config.md with its option table and its "not supported yet" list replaced by fresh ones;
 * undefined without the markers.
 */
export function withFreshOptions(doc: string): string | undefined {
  const options = replaceBetween(doc, OPTIONS_START, OPTIONS_END, optionsTable());
  return options && replaceBetween(options, UNSUPPORTED_START, UNSUPPORTED_END, unsupportedList());
}
