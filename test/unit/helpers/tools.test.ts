/**
 * The guard for suites that need system tools: a tool is found on PATH only, a missing one is
 * named with its Debian package, and under LANTIAN_TEST_STRICT a missing tool is an error.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findOnPath, missingReason } from '../../helpers/system-tools.js';
import { requireTool } from '../../helpers/tools.js';

const saved = { PATH: process.env.PATH, STRICT: process.env.LANTIAN_TEST_STRICT };
const dirs: string[] = [];
afterEach(() => {
  process.env.PATH = saved.PATH;
  if (saved.STRICT === undefined) delete process.env.LANTIAN_TEST_STRICT;
  else process.env.LANTIAN_TEST_STRICT = saved.STRICT;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A directory holding an executable `name` and a non-executable `name-data`. */
function binDir(name: string): string {
  const d = mkdtempSync(join(tmpdir(), 'lantian-tools-'));
  dirs.push(d);
  writeFileSync(join(d, name), '#!/bin/sh\n');
  chmodSync(join(d, name), 0o755);
  writeFileSync(join(d, `${name}-data`), '');
  return d;
}

describe('system tools for the tests', () => {
  it('finds an executable on PATH and ignores files that are not executable', () => {
    const d = binDir('socat');
    expect(findOnPath('socat', `/nonexistent:${d}`)).toBe(join(d, 'socat'));
    expect(findOnPath('socat-data', d)).toBeUndefined();
    expect(findOnPath('socat', '/nonexistent')).toBeUndefined();
  });

  it('names the Debian package of a tool that is not on PATH', () => {
    process.env.PATH = mkdtempSync(join(tmpdir(), 'lantian-tools-'));
    dirs.push(process.env.PATH);
    expect(missingReason('mbpoll')).toMatch(/^needs mbpoll, not on PATH \(Debian package mbpoll/);
    process.env.PATH = binDir('mbpoll');
    expect(missingReason('mbpoll')).toBeUndefined();
  });

  it('skips with the reason in the title, or fails under LANTIAN_TEST_STRICT', () => {
    process.env.PATH = binDir('socat');
    delete process.env.LANTIAN_TEST_STRICT;
    const some = requireTool('socat', 'mbpoll');
    expect(some.available).toBe(false);
    expect(some.title('reads over mbpoll')).toBe(
      'reads over mbpoll (skipped: needs mbpoll, not on PATH (Debian package mbpoll))',
    );
    expect(requireTool('socat').title('on a pty')).toBe('on a pty');
    process.env.LANTIAN_TEST_STRICT = '1';
    expect(() => requireTool('socat', 'mbpoll')).toThrow(/LANTIAN_TEST_STRICT is set .*needs mbpoll/);
    expect(requireTool('socat').available).toBe(true);
  });
});
