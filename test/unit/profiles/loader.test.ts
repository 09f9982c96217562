/**
 * Loader errors name the file and the path inside it (`FILE:PATH: message`); tests assert the
 * code and the path, never the message text.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LantianError, type ErrorCode } from '../../../gateway/src/core/errors.js';
import type { Problem } from '../../../gateway/src/core/yaml.js';
import {
  DEFAULT_PROFILES_DIR,
  loadProfileFile,
  loadProfiles,
  profileJsonSchema,
} from '../../../gateway/src/profiles/index.js';

const fixtures = fileURLToPath(new URL('../../fixtures/profiles/bad/', import.meta.url));

function failure(load: () => unknown): LantianError {
  try {
    load();
  } catch (e) {
    if (e instanceof LantianError) return e;
    throw e;
  }
  throw new Error('expected the load to fail');
}

function expectLocated(e: LantianError, code: ErrorCode, file: string, paths: string[]): Problem[] {
  expect(e.code).toBe(code);
  const problems = e.context.problems as Problem[];
  expect(problems.map((p) => [p.file, p.path])).toEqual(paths.map((p) => [file, p]));
  // Every line of the message starts with FILE:PATH: for the installer to follow.
  expect(e.message.split('\n').map((l, i) => l.startsWith(`${file}:${paths[i]}: `))).toEqual(
    paths.map(() => true),
  );
  return problems;
}

/** Fixture in bad/loader -> what loading it must report: code, paths and (where given) lines. */
const cases: { name: string; fixture: string; code: ErrorCode; paths: string[]; lines?: number[] }[] = [
  {
    name: 'YAML that does not parse, for the whole file',
    fixture: 'bad-yaml',
    code: 'PROFILE_YAML',
    paths: [''],
  },
  {
    name: 'each schema error at its path and line',
    fixture: 'schema-error',
    code: 'PROFILE_INVALID',
    paths: ['points.value.type', 'points.other'],
    lines: [11, 13],
  },
  {
    name: 'a missing template at the use entry that names it',
    fixture: 'unknown-template',
    code: 'PROFILE_TEMPLATE_NOT_FOUND',
    paths: ['use[0]'],
    lines: [3],
  },
  {
    name: 'address 0 in 1-based numbering, at that address',
    fixture: 'one-based-zero',
    code: 'PROFILE_INVALID',
    paths: ['points.zero.address'],
    lines: [9],
  },
  {
    name: 'a string without length',
    fixture: 'missing-length',
    code: 'PROFILE_INVALID',
    paths: ['points.label'],
  },
  {
    name: 'a non-bit type on a bit function',
    fixture: 'bits-on-coils',
    code: 'PROFILE_INVALID',
    paths: ['points.relay'],
  },
  { name: 'a file that is not a map', fixture: 'not-a-map', code: 'PROFILE_INVALID', paths: [''] },
];

describe('profile loader errors', () => {
  for (const c of cases) {
    it(`reports ${c.name} (${c.code})`, () => {
      const file = `${fixtures}loader/${c.fixture}.yaml`;
      const problems = expectLocated(
        failure(() => loadProfileFile(file)),
        c.code,
        file,
        c.paths,
      );
      if (c.lines) expect(problems.map((p) => p.line)).toEqual(c.lines);
    });
  }

  it('reports a missing file as PROFILE_NOT_FOUND naming it', () => {
    const file = `${fixtures}loader/no-such-file.yaml`;
    const e = failure(() => loadProfileFile(file));
    expect(e.code).toBe('PROFILE_NOT_FOUND');
    expect(e.context.file).toBe(file);
  });

  it('rejects two files with one id at the second file id', () => {
    const dir = `${fixtures}loader-duplicate-id`;
    const e = failure(() => loadProfiles(dir));
    expectLocated(e, 'PROFILE_DUPLICATE_ID', join(dir, 'two', 'model.yaml'), ['id']);
    expect(e.context.files).toEqual([join(dir, 'one', 'model.yaml'), join(dir, 'two', 'model.yaml')]);
  });
});

describe('profile loader', () => {
  it('merges a template under the file: template quirks and points, the file own values on top', () => {
    const box = loadProfiles().get('renke-style.weather-box-01f4');
    expect(box.quirks.answersOnUniversalId).toBe(255);
    expect(box.points.find((p) => p.key === 'slave_id')).toMatchObject({
      pdu: 0x07d0,
      role: 'config',
      access: 'rw',
    });
    const uv = loadProfiles().get('sdl.scs-900uv');
    expect(uv.quirks.timeoutMs).toBe(1000);
    expect(uv.category).toBe('cems');
  });

  it('looks up profiles by id and reports an unknown id as PROFILE_NOT_FOUND', () => {
    const registry = loadProfiles();
    expect(registry.get('sdl.scs-900uv').model).toBe('SCS-900UV');
    expect(failure(() => registry.get('nobody.nothing')).code).toBe('PROFILE_NOT_FOUND');
  });
});

describe('device-profiles/schema.json', () => {
  it('is what the zod schema generates now (run `npm run schema` after changing schema.ts)', () => {
    expect(readFileSync(join(DEFAULT_PROFILES_DIR, 'schema.json'), 'utf8')).toBe(profileJsonSchema());
  });
});
