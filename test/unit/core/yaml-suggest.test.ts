/**
 * The YAML helpers every loader reports through, and the "did you mean" hints: positions and hint
 * wording are what an installer follows, so they are checked exactly here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  LantianError,
  closest,
  didYouMean,
  formatPath,
  formatProblem,
  parseYaml,
  problemsError,
  readYamlFile,
  zodProblems,
  type Problem,
} from '../../../gateway/src/core/index.js';

function failure(run: () => unknown): LantianError {
  try {
    run();
  } catch (e) {
    if (e instanceof LantianError) return e;
    throw e;
  }
  throw new Error('expected a LantianError');
}

const problemsOf = (e: LantianError) => e.context.problems as Problem[];

describe('formatPath and formatProblem', () => {
  it('joins keys with dots and writes indexes in brackets', () => {
    expect(formatPath([])).toBe('');
    expect(formatPath(['devices', 'gas', 'points', 0, 'key'])).toBe('devices.gas.points[0].key');
    expect(formatPath([0, 'a'])).toBe('[0].a');
    expect(formatPath(['a', 1, 2])).toBe('a[1][2]');
  });

  it('prints FILE:PATH: message with line and hint only when present', () => {
    const p: Problem = { file: 's.yaml', path: 'a.b', message: 'bad' };
    expect(formatProblem(p)).toBe('s.yaml:a.b: bad');
    expect(formatProblem({ ...p, line: 3 })).toBe('s.yaml:a.b: bad (line 3)');
    expect(formatProblem({ ...p, hint: 'try c' })).toBe('s.yaml:a.b: bad (hint: try c)');
    expect(formatProblem({ ...p, line: 3, hint: 'try c' })).toBe('s.yaml:a.b: bad (line 3; hint: try c)');
    expect(formatProblem({ ...p, line: 3, hint: '' })).toBe('s.yaml:a.b: bad (line 3)');
  });
});

describe('parseYaml', () => {
  const text = ['a:', '  b: 1', '  c:', '    - x', '    - y', 'd: 2', ''].join('\n');

  it('gives the data and the line of any path, or of its nearest existing parent', () => {
    const y = parseYaml('f.yaml', text, 'CONFIG_YAML');
    expect(y.file).toBe('f.yaml');
    expect(y.text).toBe(text);
    expect(y.data).toEqual({ a: { b: 1, c: ['x', 'y'] }, d: 2 });
    expect(y.lineOf(['a', 'b'])).toBe(2);
    expect(y.lineOf(['a', 'c', 1])).toBe(5);
    expect(y.lineOf(['d'])).toBe(6);
    // The value of `a` starts on line 2.
    expect(y.lineOf(['a', 'nope', 'deeper'])).toBe(2);
    expect(y.lineOf(['nope'])).toBe(1);
    expect(y.lineOf([])).toBe(1);
  });

  it('has no line for a path in an empty document', () => {
    expect(parseYaml('f.yaml', '', 'CONFIG_YAML').lineOf(['a'])).toBeUndefined();
  });

  it('expands aliases, up to a thousand of them', () => {
    const y = parseYaml('f.yaml', 'base: &b {x: 1}\nuse: *b\n', 'CONFIG_YAML');
    expect(y.data).toEqual({ base: { x: 1 }, use: { x: 1 } });
  });

  it('refuses a duplicate key with the code asked for, naming file and line', () => {
    const e = failure(() => parseYaml('f.yaml', 'a: 1\nb: 2\na: 3\n', 'PROFILE_YAML'));
    expect(e.code).toBe('PROFILE_YAML');
    expect(e.context.file).toBe('f.yaml');
    const [p, ...rest] = problemsOf(e);
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ file: 'f.yaml', path: '', line: 3 });
    expect(p!.message).not.toContain('\n');
    expect(e.message).toBe(formatProblem(p!));
  });

  it('places an unclosed bracket at the line that opened it', () => {
    const e = failure(() => parseYaml('f.yaml', 'a: 1\nb: [1, 2\nc: 3\nd: 4\n', 'CONFIG_YAML'));
    const p = problemsOf(e)[0]!;
    expect(p.line).toBe(2);
    expect(p.hint).toMatch(/^opened here and never closed \(noticed at line [3-5]\)$/);
  });

  it('gives no hint when the bracket was opened on the line where the parser noticed it', () => {
    const p = problemsOf(failure(() => parseYaml('f.yaml', 'a: [1, 2', 'CONFIG_YAML')))[0]!;
    expect(p.line).toBe(1);
    expect(p.hint).toBeUndefined();
  });

  it('blames the open quote, not a bracket closed before it', () => {
    const problems = problemsOf(
      failure(() => parseYaml('f.yaml', 'a: [1, 2]\nb: "open\nc: 3\n', 'CONFIG_YAML')),
    );
    expect(problems.map((p) => p.line)).toEqual([2]);
  });

  it('reports each of several problems on its own line of the message', () => {
    const e = failure(() => parseYaml('f.yaml', 'a: 1\na: 2\nb: 1\nb: 3\n', 'CONFIG_YAML'));
    expect(problemsOf(e).map((p) => p.line)).toEqual([2, 4]);
    expect(e.message.split('\n')).toEqual(problemsOf(e).map(formatProblem));
  });

  it('places an unclosed quote at the line that opened it', () => {
    const e = failure(() => parseYaml('f.yaml', 'a: 1\nb: "open\nc: 3\n', 'CONFIG_YAML'));
    const p = problemsOf(e)[0]!;
    expect(p.line).toBe(2);
    expect(p.hint).toMatch(/^opened here and never closed/);
  });

  it('names the innermost of two unclosed brackets', () => {
    const e = failure(() => parseYaml('f.yaml', 'a: [1,\n  {x: 1,\n\n\nb: 2\n', 'CONFIG_YAML'));
    const p = problemsOf(e).find((x) => x.hint?.startsWith('opened here'));
    expect(p?.line).toBe(2);
  });

  it('blames the over-indented line that runs on from the one above', () => {
    const e = failure(() => parseYaml('f.yaml', 'a:\n  b: 1\n  c: x\n    d: 2\n', 'CONFIG_YAML'));
    const p = problemsOf(e).find((x) => x.hint !== undefined);
    expect(p).toBeDefined();
    expect(p!.hint).toBe(
      `line ${p!.line} is indented further than line ${p!.line! - 1} and runs on from it: check its indentation`,
    );
    expect(p!.line).toBe(4);
  });

  it('gives the indentation hint only to the line that runs on, not to the error before it', () => {
    const e = failure(() => parseYaml('f.yaml', 'a:\n  b: 1\n    c: 2\n', 'CONFIG_YAML'));
    expect(problemsOf(e).map((p) => [p.line, p.hint === undefined])).toEqual([
      [2, true],
      [3, false],
    ]);
  });

  it('reports a plain syntax error at the line the parser saw it, without a hint', () => {
    const e = failure(() => parseYaml('f.yaml', 'a: 1\n- b\n', 'CONFIG_YAML'));
    const p = problemsOf(e)[0]!;
    expect(p).toMatchObject({ file: 'f.yaml', path: '', line: 2 });
    expect(p.hint).toBeUndefined();
  });
});

describe('readYamlFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantian-yaml-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads and parses a file', () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'a: 1\n');
    expect(readYamlFile(file, 'CONFIG_NOT_FOUND', 'CONFIG_YAML').data).toEqual({ a: 1 });
  });

  it('refuses a missing file with the not-found code, the file and the cause', () => {
    const file = join(dir, 'missing.yaml');
    const e = failure(() => readYamlFile(file, 'CONFIG_NOT_FOUND', 'CONFIG_YAML'));
    expect(e.code).toBe('CONFIG_NOT_FOUND');
    expect(e.context).toEqual({ file });
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(e.message.startsWith(`${file}: cannot read file (`)).toBe(true);
  });

  it('refuses a file that is not YAML with the YAML code', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'a: [\n');
    expect(failure(() => readYamlFile(file, 'CONFIG_NOT_FOUND', 'CONFIG_YAML')).code).toBe('CONFIG_YAML');
  });
});

describe('zodProblems and problemsError', () => {
  const y = parseYaml('f.yaml', 'top:\n  n: x\n  extra: 1\n', 'CONFIG_YAML');
  const schema = z.object({ n: z.number() }).strict();

  it('locates each issue under the prefix, with a hint for an unknown key only', () => {
    const r = schema.safeParse((y.data as { top: unknown }).top);
    expect(r.success).toBe(false);
    const problems = zodProblems(y, r.error!, ['top']);
    const byPath = new Map(problems.map((p) => [p.path, p]));
    expect(byPath.get('top.n')).toMatchObject({ file: 'f.yaml', line: 2 });
    expect(byPath.get('top.n')!.hint).toBeUndefined();
    expect(byPath.get('top')).toMatchObject({ line: 2, hint: 'remove the key or check its spelling' });
  });

  it('uses no prefix by default', () => {
    const r = z.object({ top: z.string() }).safeParse(y.data);
    expect(zodProblems(y, r.error!).map((p) => p.path)).toEqual(['top']);
  });

  it('joins the problems into one coded error naming the first file', () => {
    const problems: Problem[] = [
      { file: 'a.yaml', path: 'x', message: 'one' },
      { file: 'b.yaml', path: 'y', message: 'two', line: 2 },
    ];
    const e = problemsError('CONFIG_INVALID', problems);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toBe('a.yaml:x: one\nb.yaml:y: two (line 2)');
    expect(e.context).toEqual({ file: 'a.yaml', problems });
    expect(problemsError('CONFIG_INVALID', []).context.file).toBeUndefined();
  });
});

describe('did you mean', () => {
  it('finds the nearest id, case aside, within a third of its length and at least two edits', () => {
    expect(closest('perodMs', ['periodMs', 'unitId'])).toBe('periodMs');
    expect(closest('PM25', ['pm10', 'pm2_5'])).toBe('pm2_5');
    expect(closest('ab', ['xy'])).toBe('xy');
    expect(closest('ab', ['xyz'])).toBeUndefined();
    expect(closest('abcdefghi', ['abcxyzghi'])).toBe('abcxyzghi');
    expect(closest('abcdefghi', ['abwxyzghi'])).toBeUndefined();
    expect(closest('x', [])).toBeUndefined();
  });

  it('prefers the closer of two candidates, whatever their order, and the first of equals', () => {
    expect(closest('stack1', ['stack12', 'stack1x1'])).toBe('stack12');
    expect(closest('stack1', ['stack1x1', 'stack12'])).toBe('stack12');
    expect(closest('abcd', ['abce', 'abcf'])).toBe('abce');
  });

  it('counts insertions, deletions and substitutions as one edit each', () => {
    expect(closest('abcdef', ['abdef'])).toBe('abdef');
    expect(closest('abcdef', ['abcXdef'])).toBe('abcXdef');
    expect(closest('abcdef', ['abXdef'])).toBe('abXdef');
    expect(closest('abcdef', ['Xbcdef'])).toBe('Xbcdef');
    expect(closest('abcdef', ['abcdeX'])).toBe('abcdeX');
    expect(closest('abcdef', ['ba'])).toBeUndefined();
    expect(closest('abcdef', ['XXcdef'])).toBe('XXcdef');
    expect(closest('abcdef', ['XXXdef'])).toBeUndefined();
  });

  it('names the nearest, lists a few known ids, or points to the list', () => {
    expect(didYouMean('gass', ['gas', 'dust'], 'device')).toBe('did you mean gas?');
    expect(didYouMean('zzzzzz', [], 'device')).toBe('no device is defined');
    expect(didYouMean('zzzzzz', ['gas', 'dust'], 'device')).toBe('known devices: gas, dust');
    expect(didYouMean('zzzzzz', ['line1'], 'bus')).toBe('known buses: line1');
    const six = ['a1', 'b2', 'c3', 'd4', 'e5', 'f6'];
    expect(didYouMean('zzzzzz', six, 'device')).toBe(`known devices: ${six.join(', ')}`);
    expect(didYouMean('zzzzzz', [...six, 'g7'], 'device')).toBe('see the list of devices');
  });
});
