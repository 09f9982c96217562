/**
 * Each lint rule has a fixture under test/fixtures/profiles/bad/lint/<rule>.yaml that breaks that
 * rule and nothing else; the lint must report exactly the expected rule ids at the expected paths.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import {
  LINT_RULES,
  assertLintClean,
  lintProfile,
  lintProfiles,
  loadProfileFile,
  loadProfiles,
  type LintRule,
} from '../../../gateway/src/profiles/index.js';

const fixtures = fileURLToPath(new URL('../../fixtures/profiles/', import.meta.url));
const lintFixture = (rule: string): string => `${fixtures}bad/lint/${rule}.yaml`;

const found = (file: string): [LintRule, string][] =>
  lintProfile(loadProfileFile(file)).map((p) => [p.rule, p.path]);

/** Rule -> the [rule, path] pairs its fixture must produce, in order. */
const expected: Record<Exclude<LintRule, 'duplicate-identification'>, [LintRule, string][]> = {
  overlap: [
    ['overlap', 'points.second.address'],
    ['overlap', 'points.middle.address'],
    ['overlap', 'points.middle.address'],
  ],
  'type-length': [
    ['type-length', 'points.stamp.length'],
    ['type-length', 'points.word.length'],
  ],
  'bits-width': [['bits-width', 'points.flags.bits']],
  'address-space': [['address-space', 'points.last.address']],
  'read-size': [['read-size', 'points.label.length']],
  unit: [
    ['unit', 'points.value.unit'],
    ['unit', 'points.other.unit'],
  ],
  'range-order': [
    ['range-order', 'points.value.range'],
    ['range-order', 'unreadable[0]'],
  ],
  'scale-zero': [['scale-zero', 'points.value.scale']],
  'write-only': [['write-only', 'points.command.access']],
  'unreadable-point': [['unreadable-point', 'points.hidden.address']],
  'hj212-duplicate': [['hj212-duplicate', 'points.again.hj212']],
  'status-source-unknown': [['status-source-unknown', 'status[0].source']],
  'status-source-role': [['status-source-role', 'status[0].source']],
  'status-target-unknown': [['status-target-unknown', 'status[0].points[1]']],
  'status-target-role': [['status-target-role', 'status[0].points[0]']],
  'status-point-unused': [['status-point-unused', 'points.state.role']],
  'example-unknown-point': [
    ['example-unknown-point', 'examples[0].values.ghost'],
    ['example-unknown-point', 'examples[0].flags.phantom'],
  ],
  'example-flag-role': [['example-flag-role', 'examples[0].flags.state']],
  'example-citation': [
    ['example-citation', 'examples[0].origin'],
    ['example-citation', 'examples[1].citation'],
  ],
  'example-uncovered': [
    ['example-uncovered', 'examples[0].values.far'],
    ['example-uncovered', 'examples[0].flags'],
  ],
  'example-value-type': [
    ['example-value-type', 'examples[0].values.value'],
    ['example-value-type', 'examples[0].values.label'],
  ],
};

describe('profile lint', () => {
  it('finds nothing in the clean base the fixtures start from', () => {
    expect(found(`${fixtures}good/minimal.yaml`)).toEqual([]);
  });

  it('has one fixture per rule and no fixture without a rule', () => {
    const files = readdirSync(`${fixtures}bad/lint`).map((f) => f.replace(/\.yaml$/, ''));
    expect(files.sort()).toEqual(Object.keys(expected).sort());
    expect([...Object.keys(expected), 'duplicate-identification'].sort()).toEqual(
      Object.keys(LINT_RULES).sort(),
    );
  });

  for (const [rule, pairs] of Object.entries(expected)) {
    it(`catches exactly the ${rule} problems in its fixture`, () => {
      expect(found(lintFixture(rule))).toEqual(pairs);
    });
  }

  it('locates problems by file and line, and names the canonical unit for an alias', () => {
    const file = lintFixture('unit');
    const [alias, unknown] = lintProfile(loadProfileFile(file));
    expect(alias).toMatchObject({ file, line: 12 });
    expect(alias!.hint).toContain('"mg/m3"');
    expect(unknown).toMatchObject({ file, line: 17 });
    expect(unknown!.hint).not.toContain('write');
  });

  it('finds identification shared by two profiles, on the second, and not a mere shared vendor', () => {
    const problems = lintProfiles(loadProfiles(`${fixtures}bad/lint-identification`));
    expect(problems.map((p) => [p.rule, p.path, p.file.replace(fixtures, '')])).toEqual([
      [
        'duplicate-identification',
        'identification.productCode',
        'bad/lint-identification/fixture/second.yaml',
      ],
      ['duplicate-identification', 'identification.probe', 'bad/lint-identification/fixture/second.yaml'],
    ]);
  });

  it('throws PROFILE_LINT with every located problem when asked to', () => {
    const problems = lintProfile(loadProfileFile(lintFixture('range-order')));
    let thrown: unknown;
    try {
      assertLintClean(problems);
    } catch (e) {
      thrown = e;
    }
    expect(isLantianError(thrown, 'PROFILE_LINT')).toBe(true);
    if (!isLantianError(thrown)) return;
    expect(thrown.context.problems).toEqual(problems);
    expect(thrown.message.split('\n')[0]).toMatch(/range-order\.yaml:points\.value\.range: /);
    expect(() => assertLintClean([])).not.toThrow();
  });

  it('is documented rule by rule in docs/profiles.md', () => {
    const doc = readFileSync(new URL('../../../docs/profiles.md', import.meta.url), 'utf8');
    const listed = [...doc.matchAll(/^\| `([a-z0-9-]+)` \| /gm)].map((m) => m[1]);
    for (const rule of Object.keys(LINT_RULES)) expect(listed, rule).toContain(rule);
  });

  it('passes over every profile in device-profiles/', () => {
    const problems = lintProfiles(loadProfiles());
    expect(problems.map((p) => `${p.rule} ${p.file}:${p.path}`)).toEqual([]);
  });
});
