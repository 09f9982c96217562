/**
 * `lantian hj212 parse [FILE|-]`: reads HJ 212 packets one per line (ended by CRLF or by the
 * four characters `\r\n`) and prints one JSON object per packet: `ok`, the header fields, the
 * CP items, the CRC variant found; for a bad packet the error code, message and where.
 * `lantian hj212 build [FILE|-]`: turns a JSON description into a packet (see docs/hj212.md).
 * Exit 0 when every packet parsed or built, 2 when one did not.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { LantianError, isLantianError } from '../../core/errors.js';
import {
  buildFrame,
  CRC_VARIANTS,
  editionOf,
  isSplit,
  makeFlag,
  parseFrame,
  QnSource,
  sm4Key,
  splitPacket,
  wantsAnswer,
  type CpItem,
  type CrcVariant,
  type Packet,
} from '../../uplink/hj212/index.js';
import { registerHj212Check } from '../hj212-check.js';
import { EXIT, processIo, type Io } from '../output.js';

export interface Hj212CliOptions {
  crc?: string;
  sm4Key?: string;
  tz?: string;
  raw?: boolean;
}

function readInput(file: string | undefined): string {
  return readFileSync(file === undefined || file === '-' ? 0 : file, 'utf8');
}

/** CP items as objects (one per item), the readable form for JSON. */
export function cpObjects(cp: readonly CpItem[]): Record<string, string>[] {
  return cp.map((item) => Object.fromEntries(item.map((f) => [f.name, f.value])));
}

function crcOption(o: Hj212CliOptions, fallback: CrcVariant | 'any'): CrcVariant | 'any' {
  const c = o.crc ?? fallback;
  if (c !== 'any' && !(CRC_VARIANTS as readonly string[]).includes(c)) {
    throw new LantianError('HJ212_BUILD', `--crc is one of ${CRC_VARIANTS.join(', ')} or any (got ${c})`, {
      context: { field: 'crc' },
    });
  }
  return c as CrcVariant | 'any';
}

export function parseLines(text: string, o: Hj212CliOptions, io: Io): number {
  const crc = crcOption(o, 'any');
  const key = o.sm4Key === undefined ? undefined : sm4Key(o.sm4Key);
  let bad = 0;
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const r = parseFrame(line, { crc, ...(key ? { sm4Key: key } : {}) });
      const p = r.packet;
      io.out(
        JSON.stringify({
          ok: true,
          line: i + 1,
          qn: p.qn,
          st: p.st,
          cn: p.cn,
          pw: p.pw,
          mn: p.mn,
          flag: p.flag,
          edition: editionOf(p.flag) ?? null,
          answer: wantsAnswer(p.flag),
          split: isSplit(p.flag),
          ...(p.pnum === undefined ? {} : { pnum: p.pnum, pno: p.pno }),
          ...(p.rf === undefined ? {} : { rf: p.rf }),
          length: r.length,
          crc: r.crcVariant,
          encrypted: r.encrypted,
          cp: cpObjects(p.cp),
          warnings: r.warnings,
        }),
      );
    } catch (e) {
      if (!isLantianError(e)) throw e;
      bad++;
      io.out(
        JSON.stringify({ ok: false, line: i + 1, code: e.code, message: e.message, context: e.context }),
      );
    }
  });
  return bad > 0 ? EXIT.invalid : EXIT.ok;
}

const Value = z.union([z.string(), z.number()]).transform(String);
const Description = z
  .object({
    qn: z.string().optional(),
    st: Value,
    cn: Value,
    pw: z.string().default(''),
    mn: z.string().default(''),
    flag: z.number().int().optional(),
    edition: z.union([z.literal(2017), z.literal(2025)]).default(2017),
    answer: z.boolean().default(false),
    pnum: z.number().int().optional(),
    pno: z.number().int().optional(),
    rf: z.boolean().optional(),
    cp: z.array(z.record(z.string(), Value)).default([]),
  })
  .strict();

/** Builds the packet a JSON description asks for; splits it when `split` and it is too long. */
export function buildFromJson(
  text: string,
  o: Hj212CliOptions & { split?: boolean },
  now = Date.now(),
): string[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new LantianError('HJ212_BUILD', `the description is not JSON: ${(e as Error).message}`, {
      cause: e,
      context: { field: 'input' },
    });
  }
  const r = Description.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    throw new LantianError('HJ212_BUILD', `${field || 'description'}: ${issue?.message ?? 'invalid'}`, {
      context: { field },
    });
  }
  const d = r.data;
  const qns = new QnSource(o.tz ?? 'Asia/Shanghai');
  const split = d.pnum !== undefined;
  const packet: Packet = {
    qn: d.qn ?? qns.next(now),
    st: d.st,
    cn: d.cn,
    pw: d.pw,
    mn: d.mn,
    flag: d.flag ?? makeFlag(d.edition, { answer: d.answer, split }),
    ...(d.pnum === undefined ? {} : { pnum: d.pnum }),
    ...(d.pno === undefined ? {} : { pno: d.pno }),
    ...(d.rf ? { rf: true } : {}),
    cp: d.cp.map((item) => Object.entries(item).map(([name, value]) => ({ name, value }))),
  };
  const crc = crcOption(o, 'hj212');
  const options = {
    crc: crc === 'any' ? ('hj212' as const) : crc,
    ...(o.sm4Key === undefined ? {} : { sm4Key: sm4Key(o.sm4Key) }),
  };
  const parts = o.split ? splitPacket(packet, () => qns.next(now)) : [packet];
  return parts.map((p) => buildFrame(p, options));
}

export function registerHj212(program: Command): void {
  const hj = program
    .command('hj212')
    .description('HJ 212 packets: check what a platform sent, make one; test the platforms of a config');
  const common = (c: Command) =>
    c
      .option('--sm4-key <key>', 'SM4 key for encrypted data areas (16 characters or 32 hex digits)')
      .option(
        '--crc <variant>',
        `CRC variant: ${CRC_VARIANTS.join(', ')}${c.name() === 'parse' ? ', any' : ''}`,
      );
  common(
    hj
      .command('parse')
      .description('one JSON object per packet line (CRLF or the characters \\r\\n end a line)')
      .argument('[file]', 'file of packets, - for stdin', '-'),
  ).action((file: string, o: Hj212CliOptions) => {
    process.exitCode = run(processIo, () => parseLines(readInput(file), o, processIo));
  });
  common(
    hj
      .command('build')
      .description('a packet from a JSON description {st, cn, pw, mn, edition, answer, cp: [{..}], ...}')
      .argument('[file]', 'JSON file, - for stdin', '-')
      .option('--tz <zone>', 'time zone of the QN made when none is given', 'Asia/Shanghai')
      .option('--split', 'split a data segment over 1024 bytes into numbered parts')
      .option('--raw', 'end the packet with a real CRLF instead of the characters \\r\\n'),
  ).action((file: string, o: Hj212CliOptions & { split?: boolean }) => {
    process.exitCode = run(processIo, () => {
      for (const f of buildFromJson(readInput(file), o)) {
        if (o.raw) process.stdout.write(f);
        else processIo.out(f.replace('\r\n', '\\r\\n'));
      }
      return EXIT.ok;
    });
  });
  registerHj212Check(hj);
}

function run(io: Io, body: () => number): number {
  try {
    return body();
  } catch (e) {
    if (!isLantianError(e)) throw e;
    io.err(`lantian hj212: ${e.code}: ${e.message}`);
    return EXIT.invalid;
  }
}
