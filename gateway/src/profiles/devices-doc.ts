/**
 * docs/devices.md, generated from the profile library: how many profiles stand on a vendor
 * manual, on third-party code or on a representative layout, and per device its line settings,
 * orders, HJ 212 codes, examples and sources. Installers read it; CI regenerates and diffs it.
 */
import { CONFIDENCE, type Profile, type ResolvedPoint, type SourceSpec } from './schema.js';
import type { ProfileRegistry } from './loader.js';

const CONFIDENCE_MEANING: Record<(typeof CONFIDENCE)[number], string> = {
  'vendor-manual': "the register map is in the vendor's own manual or protocol document",
  'third-party-code': 'the register map comes from a public driver, integration or configuration',
  representative: 'no public map: a plausible layout to check against the device before use',
};

/** One source as Markdown, with a link a reader can follow. */
export function sourceText(s: SourceSpec): string {
  if (typeof s === 'string') return s;
  if ('repository' in s) {
    const url = `https://github.com/${s.repository}/blob/${s.commit}/${s.path.split('/').map(encodeURIComponent).join('/')}`;
    return `[${s.repository} \`${s.path}\` @ ${s.commit.slice(0, 10)}](${url})${s.note ? `: ${s.note}` : ''}`;
  }
  if ('document' in s) {
    const title = s.url ? `[${s.document}](${s.url})` : s.document;
    return `${title}, ${s.edition}, ${s.locator}${s.note ? `. ${s.note}` : ''}`;
  }
  return `[${s.title}](${s.url})${s.note ? `: ${s.note}` : ''}`;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

/** ABCD, CDAB, BADC or DCBA for a numeric point over several registers; undefined otherwise. */
export function orderName(p: ResolvedPoint): string | undefined {
  if (p.count < 2 || p.function <= 2 || p.type === 'string' || p.type === 'bcd' || p.type === 'bits')
    return undefined;
  const high = p.wordOrder === 'high-first';
  return p.byteOrder === 'big' ? (high ? 'ABCD' : 'CDAB') : high ? 'BADC' : 'DCBA';
}

/** The orders a profile's multi-register points use, by their common names. */
export function ordersOf(p: Profile): string {
  const names = new Set(p.points.map(orderName).filter((n) => n !== undefined));
  return names.size === 0 ? '16-bit only' : [...names].sort().join(', ');
}

export function lineOf(p: Profile): string {
  const s = p.serial;
  const parity = s.parity === 'none' ? 'N' : s.parity === 'even' ? 'E' : 'O';
  return `${s.baud} ${s.dataBits}${parity}${s.stopBits}, id ${s.unitId}`;
}

export function devicesDoc(registry: ProfileRegistry): string {
  const profiles = [...registry.all()].sort((a, b) => a.id.localeCompare(b.id));
  const out: string[] = [
    '# Supported devices',
    '',
    '<!-- Generated from device-profiles/ by `npm run profiles:doc`; CI fails when this file is stale. -->',
    '',
    `The profile library holds ${profiles.length} device profiles. How far each register map can be`,
    'trusted:',
    '',
    '| confidence | profiles | meaning |',
    '| --- | --- | --- |',
  ];
  for (const c of CONFIDENCE) {
    const n = profiles.filter((p) => p.confidence === c).length;
    out.push(`| \`${c}\` | ${n} | ${CONFIDENCE_MEANING[c]} |`);
  }
  const unstated = profiles.filter((p) => p.confidence === undefined).length;
  if (unstated > 0) out.push(`| not stated | ${unstated} | |`);
  const published = profiles.filter((p) => p.examples.some((e) => e.origin === 'published')).length;
  out.push(
    '',
    `${published} of the ${profiles.length} profiles carry at least one example copied from a published`,
    'source (a manual, a vendor page, a public driver or its simulator); the other examples are',
    'constructed from the register map. Points a source does not fully confirm say so in `unverified`',
    '(`lantian profiles show ID` prints them).',
    '',
    '| id | device | category | line | orders | HJ 212 codes | examples (published) | unverified points | confidence |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const p of profiles) {
    const codes = p.points.filter((pt) => pt.role === 'measurement' && pt.hj212).map((pt) => pt.hj212);
    const pub = p.examples.filter((e) => e.origin === 'published').length;
    const unverified = p.points.filter((pt) => pt.unverified).length;
    out.push(
      `| \`${p.id}\` | ${cell(`${p.vendor} ${p.model}`)} | ${p.category} | ${lineOf(p)} | ${ordersOf(p)} | ${codes.join(', ') || '-'} | ${p.examples.length} (${pub}) | ${unverified} | ${p.confidence ?? 'not stated'} |`,
    );
  }
  out.push('', '## Sources', '');
  for (const p of profiles) {
    out.push(`### \`${p.id}\``, '', `${p.vendor} ${p.model}.`, '');
    for (const s of p.sources) out.push(`- ${sourceText(s)}`);
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
