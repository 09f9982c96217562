/**
 * `lantian profiles list` and `lantian profiles show ID`: the device-profile library for
 * installers. `list` prints one line per profile (id, category, confidence, line settings,
 * device); `show` prints one profile whole: sources, line and timing, every point with its
 * address, type, order, scale, unit, HJ 212 code and what is unverified, the status rules, the
 * unreadable ranges and the examples. Exit 0, or 2 when the library or the id is wrong.
 */
import type { Command } from 'commander';
import { isLantianError } from '../../core/errors.js';
import { closest } from '../../config/suggest.js';
import {
  DEFAULT_PROFILES_DIR,
  lineOf,
  loadProfiles,
  orderName,
  ordersOf,
  sourceText,
  type Profile,
  type ProfileRegistry,
  type ResolvedPoint,
  type StatusMappingSpec,
} from '../../profiles/index.js';
import { EXIT, processIo, type Io } from '../output.js';

export interface ProfilesOptions {
  profiles?: string;
}

export function registerProfiles(program: Command): void {
  const cmd = program
    .command('profiles')
    .description('list the device-profile library or show one profile whole');
  cmd
    .command('list')
    .description('one line per profile: id, category, confidence, line settings, device')
    .option('--profiles <dir>', 'device-profile directory (default: the bundled device-profiles/)')
    .action((options: ProfilesOptions) => {
      process.exitCode = listProfiles(options, processIo);
    });
  cmd
    .command('show')
    .description('print one profile: sources, line, points, status rules, examples')
    .argument('<id>', 'profile id, e.g. sdl.scs-900uv')
    .option('--profiles <dir>', 'device-profile directory (default: the bundled device-profiles/)')
    .action((id: string, options: ProfilesOptions) => {
      process.exitCode = showProfile(id, options, processIo);
    });
}

/** Loads the library, or prints why it cannot and gives undefined. */
function library(options: ProfilesOptions, io: Io): ProfileRegistry | undefined {
  try {
    return loadProfiles(options.profiles ?? DEFAULT_PROFILES_DIR);
  } catch (e) {
    if (!isLantianError(e)) throw e;
    io.err(`${e.code}: ${e.message}`);
    return undefined;
  }
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
}

export function listProfiles(options: ProfilesOptions, io: Io): number {
  const registry = library(options, io);
  if (!registry) return EXIT.invalid;
  const profiles = [...registry.all()].sort((a, b) => a.id.localeCompare(b.id));
  const rows = profiles.map((p) => [
    p.id,
    p.category,
    p.confidence ?? 'not stated',
    lineOf(p),
    `${p.vendor} ${p.model}`,
  ]);
  for (const line of table([['id', 'category', 'confidence', 'line', 'device'], ...rows])) io.out(line);
  io.out(`${profiles.length} profiles; \`lantian profiles show ID\` prints one whole.`);
  return EXIT.ok;
}

const fc = (p: ResolvedPoint): string => `FC${String(p.function).padStart(2, '0')}`;

function shape(p: ResolvedPoint): string {
  if (p.type === 'bits') {
    const b = p.bits ?? { bit: 0, width: 1 };
    return p.function <= 2 ? `bits x${b.width}` : `bits ${b.bit}..${b.bit + b.width - 1}`;
  }
  const order = orderName(p);
  return order === undefined ? p.type : `${p.type} ${order}`;
}

function condition(rule: StatusMappingSpec): string {
  const w = rule.when;
  if (typeof w === 'string') return w;
  if ('equals' in w) return `= ${w.equals}`;
  if ('notEquals' in w) return `!= ${w.notEquals}`;
  if ('bitSet' in w) return `bit ${w.bitSet} set`;
  return `& 0x${w.anyBits.toString(16).toUpperCase()}`;
}

function pointRows(profile: Profile): string[][] {
  return profile.points.map((p) => [
    p.key,
    fc(p),
    p.count > 1 ? `${p.pdu}-${p.pdu + p.count - 1}` : `${p.pdu}`,
    shape(p),
    p.scale === 1 && p.offset === 0
      ? ''
      : `x${p.scale}${p.offset ? ` ${p.offset > 0 ? '+' : ''}${p.offset}` : ''}`,
    p.unit,
    p.range ? `${p.range[0]}..${p.range[1]}` : '',
    p.hj212 ?? '',
    `${p.role}${p.access === 'r' ? '' : ` ${p.access}`}`,
  ]);
}

export function showProfile(id: string, options: ProfilesOptions, io: Io): number {
  const registry = library(options, io);
  if (!registry) return EXIT.invalid;
  if (!registry.has(id)) {
    const known = registry.all().map((p) => p.id);
    const guess = closest(id, known);
    io.err(
      `no device profile "${id}"${guess ? ` (did you mean ${guess}?)` : ''}; \`lantian profiles list\` lists them`,
    );
    return EXIT.invalid;
  }
  const p = registry.get(id);
  const q = p.quirks;
  io.out(`${p.id}: ${p.vendor} ${p.model}`);
  io.out(`  category ${p.category}, confidence ${p.confidence ?? 'not stated'}, orders ${ordersOf(p)}`);
  if (p.description) io.out(`  ${p.description}`);
  io.out('sources:');
  for (const s of p.sources) io.out(`  - ${sourceText(s)}`);
  io.out(
    `line: ${lineOf(p)}${q.answersOnUniversalId === undefined ? '' : `, also answers on id ${q.answersOnUniversalId}`}`,
  );
  io.out(
    `timing: turnaround ${q.turnaroundMs} ms, timeout ${q.timeoutMs} ms, gap ${q.minGapMs} ms, boot ${q.bootDelayMs} ms, reads up to ${q.maxReadRegisters} registers / ${q.maxReadBits} bits`,
  );
  io.out('points (PDU addresses, 0-based):');
  for (const line of table([
    ['key', 'fc', 'pdu', 'type', 'scale', 'unit', 'range', 'hj212', 'role'],
    ...pointRows(p),
  ]))
    io.out(line);
  const unverified = p.points.filter((pt) => pt.unverified);
  if (unverified.length > 0) {
    io.out('unverified:');
    for (const pt of unverified) io.out(`  ${pt.key}: ${pt.unverified}`);
  }
  if (p.status.length > 0) {
    io.out('status rules (the most serious flag wins):');
    for (const r of p.status)
      io.out(
        `  ${r.source} ${condition(r)} -> ${r.flag} on ${r.points?.join(', ') ?? 'all measurements'}${r.description ? ` (${r.description})` : ''}`,
      );
  }
  if (p.unreadable.length > 0) {
    io.out('unreadable (never read across):');
    for (const u of p.unreadable)
      io.out(
        `  FC${String(u.function).padStart(2, '0')} ${u.start}-${u.end}${u.reason ? `: ${u.reason}` : ''}`,
      );
  }
  io.out('examples:');
  for (const e of p.examples)
    io.out(`  - ${e.name} (${e.origin ?? 'origin not stated'}${e.citation ? `: ${e.citation}` : ''})`);
  return EXIT.ok;
}
