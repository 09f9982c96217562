/**
 * One describe per file in device-profiles/: each must load, state its sources, and carry
 * examples whose words decode (by an independent reading) to the values and flags they state.
 */
import { basename, dirname, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PROFILES_DIR,
  lintProfile,
  loadProfiles,
  profileFiles,
  type Profile,
} from '../../../gateway/src/profiles/index.js';
import { closeEnough, decodeWitness, flagsWitness, wordsFor } from './example-witness.js';

const files = profileFiles(DEFAULT_PROFILES_DIR);
const registry = loadProfiles();
const byFile = new Map<string, Profile>(registry.all().map((p) => [p.file, p]));

describe('the profile library', () => {
  it('holds at least the SDL SCS-900UV and the CWT louver box', () => {
    expect(registry.has('sdl.scs-900uv')).toBe(true);
    expect(registry.has('renke-style.weather-box-01f4')).toBe(true);
    expect(files.length).toBe(registry.all().length);
  });
});

for (const file of files) {
  describe(relative(DEFAULT_PROFILES_DIR, file), () => {
    const profile = byFile.get(file)!;

    it('loads, and its id is its vendor folder and file name', () => {
      expect(profile).toBeDefined();
      expect(profile.id).toBe(`${basename(dirname(file))}.${basename(file).replace(/\.ya?ml$/, '')}`);
    });

    it('passes the profile lint', () => {
      expect(lintProfile(profile).map((p) => `${p.rule} ${p.path}: ${p.message}`)).toEqual([]);
    });

    it('cites sources anyone can follow (a repository file at a commit, a document, a page)', () => {
      expect(profile.sources.length).toBeGreaterThan(0);
      // Free text is for test fixtures: a library profile names a commit, an edition or a URL.
      for (const s of profile.sources) expect(typeof s, JSON.stringify(s)).toBe('object');
      expect(JSON.stringify(profile.sources)).not.toMatch(/devices\.md|Lantian reference/i);
    });

    it('states its confidence, and marks every example published (with a citation) or constructed', () => {
      expect(profile.confidence).toBeDefined();
      for (const e of profile.examples) expect(e.origin, e.name).toBeDefined();
    });

    it('has examples that state a value for every measurement point', () => {
      expect(profile.examples.length).toBeGreaterThan(0);
      const stated = new Set(profile.examples.flatMap((e) => Object.keys(e.values)));
      const measurements = profile.points.filter((p) => p.role === 'measurement').map((p) => p.key);
      expect(measurements.filter((k) => !stated.has(k))).toEqual([]);
    });

    for (const example of profile.examples) {
      it(`example "${example.name}" decodes to the values it states`, () => {
        for (const [key, expected] of Object.entries(example.values)) {
          const point = profile.points.find((p) => p.key === key);
          expect(point, `point ${key}`).toBeDefined();
          const words = wordsFor(example, point!);
          expect(words, `registers for ${key}`).toBeDefined();
          const actual = decodeWitness(point!, words!);
          expect(closeEnough(actual, expected), `${key}: decoded ${actual}, stated ${expected}`).toBe(true);
        }
      });

      if (example.flags) {
        it(`example "${example.name}" gives the flags it states`, () => {
          const flags = flagsWitness(profile, example);
          for (const [key, flag] of Object.entries(example.flags ?? {})) expect(flags[key], key).toBe(flag);
        });
      }
    }
  });
}
