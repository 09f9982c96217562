import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PROFILES_DIR,
  loadProfiles,
  type Profile,
  type ResolvedPoint,
} from '../../../gateway/src/profiles/index.js';
import { encodeWords } from '../../../hardware-sim/src/device/encode.js';
import { DeviceMemory } from '../../../hardware-sim/src/device/memory.js';
import { FIXTURE_PROFILES } from '../../fixtures/sim/profiles.js';
import { resolvedPoint } from '../../helpers/resolved-point.js';

const point = resolvedPoint;

const words = (p: Partial<ResolvedPoint>, v: number | string) =>
  encodeWords(point(p), v).map((w) => w.toString(16));

describe('register encoder', () => {
  it('lays a float32 out as ABCD, CDAB, BADC and DCBA', () => {
    // 0.78 is 3F 47 AE 14; the SICK VISIC worked frame (devices.md) carries 3F48 2B67 = 0.7819...
    expect(words({}, 0.78)).toEqual(['3f47', 'ae14']);
    expect(words({ wordOrder: 'low-first' }, 0.78)).toEqual(['ae14', '3f47']);
    expect(words({ byteOrder: 'little' }, 0.78)).toEqual(['473f', '14ae']);
    expect(words({ wordOrder: 'low-first', byteOrder: 'little' }, 0.78)).toEqual(['14ae', '473f']);
  });

  it('applies raw = (value - offset) / scale and rounds integer types', () => {
    expect(words({ type: 'u16', count: 1, scale: 0.1 }, 23.44)).toEqual(['ea']);
    expect(words({ type: 'u16', count: 1, scale: 0.1 }, 23.46)).toEqual(['eb']);
    expect(words({ type: 'i16', count: 1, scale: 0.1 }, -5.5)).toEqual(['ffc9']);
    expect(words({ type: 'u16', count: 1, scale: 0.01, offset: -40 }, 21.5)).toEqual(['1806']);
  });

  it('clamps values the type cannot hold, as an instrument saturates', () => {
    expect(words({ type: 'u16', count: 1 }, -3)).toEqual(['0']);
    expect(words({ type: 'u16', count: 1 }, 70000)).toEqual(['ffff']);
    expect(words({ type: 'i16', count: 1 }, -40000)).toEqual(['8000']);
  });

  it('encodes 32- and 64-bit integers in both word orders', () => {
    expect(words({ type: 'u32' }, 123456)).toEqual(['1', 'e240']);
    expect(words({ type: 'i32', wordOrder: 'low-first' }, -2)).toEqual(['fffe', 'ffff']);
    expect(words({ type: 'u64', count: 4 }, 2 ** 40 + 5)).toEqual(['0', '100', '0', '5']);
    expect(words({ type: 'f64', count: 4 }, 1)).toEqual(['3ff0', '0', '0', '0']);
  });

  it('packs strings two characters per register, padded with NUL', () => {
    expect(words({ type: 'string', count: 3 }, 'ppb')).toEqual(['7070', '6200', '0']);
    expect(words({ type: 'string', count: 2, byteOrder: 'little' }, 'ppb')).toEqual(['7070', '62']);
  });

  it('encodes BCD numbers and YY MM DD hh mm ss timestamps', () => {
    expect(words({ type: 'bcd', count: 2, bcdFormat: 'number' }, 1234)).toEqual(['0', '1234']);
    expect(words({ type: 'bcd', count: 3, bcdFormat: 'datetime' }, '2026-01-15T08:30:59')).toEqual([
      '2601',
      '1508',
      '3059',
    ]);
  });

  it('writes a bit field into its register and keeps the other bits', () => {
    const fault = point({ key: 'fault', type: 'bits', count: 1, pdu: 10, bits: { bit: 8, width: 8 } });
    const mem = new DeviceMemory(
      { points: [fault], unreadable: [], examples: [] } as unknown as Profile,
      'span',
    );
    mem.load(3, 10, [0x0001]);
    mem.writePoint(fault, 0x2a);
    expect(mem.readWords(3, 10, 1)).toEqual([0x2a01]);
  });
});

function profileDirs(): string[] {
  const dirs = [FIXTURE_PROFILES];
  const hasProfiles = readdirSync(DEFAULT_PROFILES_DIR, { withFileTypes: true }).some(
    (e) => e.isDirectory() && e.name !== 'templates',
  );
  if (hasProfiles) dirs.push(DEFAULT_PROFILES_DIR);
  return dirs;
}

describe('profile examples, encode side', () => {
  const profiles = profileDirs().flatMap((d) => loadProfiles(d).all());
  const cases = profiles.flatMap((p) => p.examples.map((e) => [p, e] as const));

  it.each(cases.map(([p, e]) => [`${p.id}: ${e.name}`, p, e] as const))(
    '%s: encoding the stated values gives the stated register words',
    (_name, profile, example) => {
      const mem = new DeviceMemory(profile, 'span');
      for (const [key, value] of Object.entries(example.values)) {
        const p = profile.points.find((q) => q.key === key);
        expect(p, `point ${key}`).toBeDefined();
        mem.writePoint(p!, value);
      }
      const covered = (fn: number, address: number) =>
        profile.points.some(
          (p) =>
            p.function === fn && p.key in example.values && address >= p.pdu && address < p.pdu + p.count,
        );
      for (const block of example.registers) {
        if (block.function === 1 || block.function === 2) continue;
        const got = mem.readWords(block.function, block.address, block.words.length);
        expect(Array.isArray(got)).toBe(true);
        block.words.forEach((w, i) => {
          if (covered(block.function, block.address + i))
            expect((got as number[])[i], `${profile.id} fc${block.function} @${block.address + i}`).toBe(w);
        });
      }
    },
  );
});
