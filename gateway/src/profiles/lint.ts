/**
 * The profile lint: rules a profile can break while still matching the schema (overlapping
 * registers, types that do not fit, units off the canonical list, status rules and examples that
 * name points which are not there, identification shared by two models). Every problem carries a
 * rule id, the file and the path inside it; tests assert the rule id and the path.
 */
import { formatPath, problemsError, readYamlFile, type Problem } from '../core/yaml.js';
import type { ProfileRegistry } from './loader.js';
import type { ExampleSpec, Profile, ResolvedPoint } from './schema.js';
import { UNIT_ALIASES, isCanonicalUnit } from './units.js';

/** Rule ids and what each one catches; docs/profiles.md lists the same ids. */
export const LINT_RULES = {
  overlap:
    'Two points with the same function read the same register or bit (bit fields may share a register).',
  'type-length': 'length, bits or bcdFormat do not fit the type (a bcd datetime must be 3 registers).',
  'bits-width': 'A bit field reaches past bit 15 of its register.',
  'address-space': 'A point runs past PDU address 65535.',
  'read-size': 'A point is longer than the largest read the device accepts (maxReadRegisters/maxReadBits).',
  unit: 'The unit is not on the canonical list (units.ts); a known alias names the canonical spelling.',
  'range-order': 'A range or unreadable block has its lower end at or above its upper end.',
  'scale-zero': 'scale is 0, so every reading would be the offset.',
  'write-only': 'A write-only point (access w) has a role that needs reading.',
  'unreadable-point': 'A point lies inside a range the profile declares unreadable.',
  'hj212-duplicate': 'Two measurement points carry the same HJ 212 factor code.',
  'status-source-unknown': 'A status rule reads a point the profile does not have.',
  'status-source-role': 'A status rule reads a point whose role is not status.',
  'status-target-unknown': 'A status rule flags a point the profile does not have.',
  'status-target-role': 'A status rule flags a point whose role is not measurement.',
  'status-point-unused': 'A point has role status but no status rule reads it.',
  'example-unknown-point': 'An example states a value or flag for a point the profile does not have.',
  'example-flag-role': 'An example states a flag for a point whose role is not measurement.',
  'example-uncovered':
    "An example's registers do not hold a point it states a value for (or the status points its flags need).",
  'example-value-type': 'An example states a number for a text point or text for a numeric point.',
  'example-citation':
    'A published example names no citation, or a constructed (or unmarked) example carries one.',
  'duplicate-identification': 'Two profiles share vendorName + productCode, or the same probe.',
} as const;

export type LintRule = keyof typeof LINT_RULES;

export interface LintProblem extends Problem {
  rule: LintRule;
}

type Path = (string | number)[];

class Findings {
  readonly problems: LintProblem[] = [];
  private lines: ((path: readonly PropertyKey[]) => number | undefined) | undefined;

  constructor(private readonly file: string) {}

  add(rule: LintRule, path: Path, message: string, hint?: string): void {
    const problem: LintProblem = { rule, file: this.file, path: formatPath(path), message };
    const line = this.lineOf(path);
    if (line !== undefined) problem.line = line;
    if (hint) problem.hint = hint;
    this.problems.push(problem);
  }

  /** Lines come from re-reading the file; a profile built in memory simply has none. */
  private lineOf(path: Path): number | undefined {
    if (!this.lines) {
      try {
        const y = readYamlFile(this.file, 'PROFILE_NOT_FOUND', 'PROFILE_YAML');
        this.lines = (path) => y.lineOf(path);
      } catch {
        this.lines = () => undefined;
      }
    }
    return this.lines(path);
  }
}

const isBitFunction = (fn: number): boolean => fn === 1 || fn === 2;
const textual = (p: ResolvedPoint): boolean =>
  p.type === 'string' || (p.type === 'bcd' && p.bcdFormat === 'datetime');
const span = (p: ResolvedPoint): string => (p.count === 1 ? `${p.pdu}` : `${p.pdu}-${p.pdu + p.count - 1}`);

function bitsShare(a: ResolvedPoint, b: ResolvedPoint): boolean {
  if (a.type !== 'bits' || b.type !== 'bits' || isBitFunction(a.function)) return true;
  if (a.count !== 1 || b.count !== 1) return true;
  const [ab, aw] = [a.bits?.bit ?? 0, a.bits?.width ?? 1];
  const [bb, bw] = [b.bits?.bit ?? 0, b.bits?.width ?? 1];
  return ab < bb + bw && bb < ab + aw;
}

function lintShape(f: Findings, profile: Profile, p: ResolvedPoint): void {
  const at: Path = ['points', p.key];
  if (p.type === 'bcd' && p.bcdFormat === 'datetime' && p.length !== 3)
    f.add(
      'type-length',
      [...at, 'length'],
      'a bcd datetime is 6 BCD bytes (YY MM DD hh mm ss): length must be 3',
    );
  if (p.bcdFormat !== undefined && p.type !== 'bcd')
    f.add('type-length', [...at, 'bcdFormat'], `bcdFormat applies to type bcd, not ${p.type}`);
  if (p.length !== undefined && p.type !== 'string' && p.type !== 'bcd' && p.length !== p.count)
    f.add('type-length', [...at, 'length'], `type ${p.type} takes ${p.count}, not ${p.length}`);
  if (p.bits !== undefined && p.type !== 'bits')
    f.add('type-length', [...at, 'bits'], `a bit field applies to type bits, not ${p.type}`);
  if (p.type === 'bits' && !isBitFunction(p.function) && p.bits && p.bits.bit + p.bits.width > 16)
    f.add(
      'bits-width',
      [...at, 'bits'],
      `bits ${p.bits.bit}..${p.bits.bit + p.bits.width - 1} do not fit in 16`,
    );
  if (p.pdu + p.count > 65536)
    f.add('address-space', [...at, 'address'], `runs to PDU ${p.pdu + p.count - 1}, past 65535`);
  const limit = isBitFunction(p.function) ? profile.quirks.maxReadBits : profile.quirks.maxReadRegisters;
  if (p.count > limit)
    f.add(
      'read-size',
      [...at, p.length === undefined ? 'type' : 'length'],
      `needs ${p.count}, the device reads at most ${limit}`,
    );
  if (!isCanonicalUnit(p.unit)) {
    const canonical = UNIT_ALIASES[p.unit];
    f.add(
      'unit',
      [...at, 'unit'],
      `"${p.unit}" is not a canonical unit`,
      canonical === undefined ? 'see gateway/src/profiles/units.ts' : `write "${canonical}"`,
    );
  }
  if (p.range && p.range[0] >= p.range[1])
    f.add('range-order', [...at, 'range'], `range [${p.range[0]}, ${p.range[1]}]: min must be below max`);
  if (p.scale === 0) f.add('scale-zero', [...at, 'scale'], 'scale 0 makes every reading equal the offset');
  if (p.access === 'w' && p.role !== 'config')
    f.add('write-only', [...at, 'access'], `a ${p.role} point must be readable (access r or rw)`);
}

function lintLayout(f: Findings, profile: Profile): void {
  const points = profile.points;
  points.forEach((b, j) => {
    for (const a of points.slice(0, j)) {
      const meet = a.function === b.function && a.pdu < b.pdu + b.count && b.pdu < a.pdu + a.count;
      if (meet && bitsShare(a, b))
        f.add(
          'overlap',
          ['points', b.key, 'address'],
          `FC${b.function} ${span(b)} overlaps point "${a.key}" (${span(a)})`,
        );
    }
    profile.unreadable.forEach((u, i) => {
      if (u.function === b.function && b.pdu <= u.end && u.start < b.pdu + b.count)
        f.add(
          'unreadable-point',
          ['points', b.key, 'address'],
          `FC${b.function} ${span(b)} lies in unreadable[${i}] (${u.start}-${u.end})`,
        );
    });
  });
  profile.unreadable.forEach((u, i) => {
    if (u.start > u.end) f.add('range-order', ['unreadable', i], `start ${u.start} is after end ${u.end}`);
  });
  const codes = new Map<string, string>();
  for (const p of points) {
    if (p.role !== 'measurement' || p.hj212 === undefined) continue;
    const first = codes.get(p.hj212);
    if (first) f.add('hj212-duplicate', ['points', p.key, 'hj212'], `${p.hj212} is also on point "${first}"`);
    else codes.set(p.hj212, p.key);
  }
}

function lintStatus(f: Findings, profile: Profile, byKey: Map<string, ResolvedPoint>): void {
  profile.status.forEach((rule, i) => {
    const source = byKey.get(rule.source);
    if (!source) f.add('status-source-unknown', ['status', i, 'source'], `no point "${rule.source}"`);
    else if (source.role !== 'status')
      f.add(
        'status-source-role',
        ['status', i, 'source'],
        `"${rule.source}" has role ${source.role}`,
        'give the point role: status',
      );
    (rule.points ?? []).forEach((key, j) => {
      const target = byKey.get(key);
      if (!target) f.add('status-target-unknown', ['status', i, 'points', j], `no point "${key}"`);
      else if (target.role !== 'measurement')
        f.add(
          'status-target-role',
          ['status', i, 'points', j],
          `"${key}" has role ${target.role}; flags go on measurements`,
        );
    });
  });
  const read = new Set(profile.status.map((r) => r.source));
  for (const p of profile.points) {
    if (p.role === 'status' && !read.has(p.key))
      f.add(
        'status-point-unused',
        ['points', p.key, 'role'],
        `no status rule reads "${p.key}"`,
        'add a status rule or use role: info',
      );
  }
}

/** The example block that holds all of the point's registers (or bits), if any. */
export function exampleCovers(example: ExampleSpec, p: ResolvedPoint): boolean {
  return example.registers.some(
    (b) => b.function === p.function && b.address <= p.pdu && p.pdu + p.count <= b.address + b.words.length,
  );
}

function lintExamples(f: Findings, profile: Profile, byKey: Map<string, ResolvedPoint>): void {
  profile.examples.forEach((example, i) => {
    for (const [key, value] of Object.entries(example.values)) {
      const at: Path = ['examples', i, 'values', key];
      const p = byKey.get(key);
      if (!p) f.add('example-unknown-point', at, `no point "${key}"`);
      else if (!exampleCovers(example, p))
        f.add('example-uncovered', at, `no register block holds FC${p.function} ${span(p)} of "${key}"`);
      else if (textual(p) !== (typeof value === 'string'))
        f.add('example-value-type', at, `"${key}" decodes to ${textual(p) ? 'text' : 'a number'}`);
    }
    if ((example.origin === 'published') !== (example.citation !== undefined))
      f.add(
        'example-citation',
        ['examples', i, example.origin === 'published' ? 'origin' : 'citation'],
        example.origin === 'published'
          ? 'a published example must say where its words come from'
          : 'only a published example carries a citation',
        example.origin === 'published' ? 'add citation: <source, table or page>' : 'set origin: published',
      );
    if (!example.flags) return;
    for (const key of Object.keys(example.flags)) {
      const p = byKey.get(key);
      if (!p) f.add('example-unknown-point', ['examples', i, 'flags', key], `no point "${key}"`);
      else if (p.role !== 'measurement')
        f.add('example-flag-role', ['examples', i, 'flags', key], `"${key}" has role ${p.role}`);
    }
    for (const source of new Set(profile.status.map((r) => r.source))) {
      const p = byKey.get(source);
      if (p && !exampleCovers(example, p))
        f.add(
          'example-uncovered',
          ['examples', i, 'flags'],
          `the flags need status point "${source}" (FC${p.function} ${span(p)})`,
        );
    }
  });
}

/** Problems in one profile; an empty list means it is clean. */
export function lintProfile(profile: Profile): LintProblem[] {
  const f = new Findings(profile.file);
  const byKey = new Map(profile.points.map((p) => [p.key, p]));
  for (const p of profile.points) lintShape(f, profile, p);
  lintLayout(f, profile);
  lintStatus(f, profile, byKey);
  lintExamples(f, profile, byKey);
  return f.problems;
}

function lintIdentification(profiles: Profile[]): LintProblem[] {
  const f = new Map<string, Findings>();
  const seen = new Map<string, Profile>();
  const claim = (p: Profile, key: string, path: Path, what: string): void => {
    const first = seen.get(key);
    if (!first) return void seen.set(key, p);
    const findings = f.get(p.file) ?? new Findings(p.file);
    f.set(p.file, findings);
    findings.add('duplicate-identification', path, `${what} is also claimed by ${first.id} (${first.file})`);
  };
  for (const p of profiles) {
    const id = p.identification;
    if (id?.vendorName !== undefined && id.productCode !== undefined)
      claim(
        p,
        `device-id:${id.vendorName}\u0000${id.productCode}`,
        ['identification', 'productCode'],
        `vendorName + productCode "${id.vendorName} ${id.productCode}"`,
      );
    if (id?.probe) {
      const { function: fn, address, count, expect } = id.probe;
      claim(
        p,
        `probe:${JSON.stringify([fn, address, count, expect ?? null])}`,
        ['identification', 'probe'],
        `probe FC${fn} ${address} x${count}`,
      );
    }
  }
  return [...f.values()].flatMap((x) => x.problems);
}

/** Every profile's problems plus those between profiles (shared identification). */
export function lintProfiles(profiles: ProfileRegistry | Iterable<Profile>): LintProblem[] {
  const list = 'all' in profiles ? profiles.all() : [...profiles];
  return [...list.flatMap(lintProfile), ...lintIdentification(list)];
}

/** Throws PROFILE_LINT listing every problem (`FILE:PATH: message`), if there are any. */
export function assertLintClean(problems: readonly LintProblem[]): void {
  if (problems.length > 0) throw problemsError('PROFILE_LINT', [...problems]);
}
