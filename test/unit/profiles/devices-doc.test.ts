/**
 * docs/devices.md is generated from the library: the committed copy must be current, its counts
 * must add up to the library, and every source must come out as a link a reader can follow.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONFIDENCE,
  DEFAULT_PROFILES_DIR,
  devicesDoc,
  loadProfiles,
  sourceText,
} from '../../../gateway/src/profiles/index.js';

const registry = loadProfiles();
const committed = readFileSync(join(dirname(DEFAULT_PROFILES_DIR), 'docs', 'devices.md'), 'utf8');

describe('docs/devices.md', () => {
  it('is what the library generates now (run `npm run profiles:doc` after changing a profile)', () => {
    expect(committed).toBe(devicesDoc(registry));
  });

  it('counts every profile once by confidence', () => {
    const counts = CONFIDENCE.map((c) => {
      const row = committed.split('\n').find((l) => l.startsWith(`| \`${c}\` |`));
      return Number(row?.split('|')[2]);
    });
    expect(counts.reduce((a, b) => a + b, 0)).toBe(registry.all().length);
    expect(counts[0]).toBe(registry.all().filter((p) => p.confidence === 'vendor-manual').length);
  });

  it('lists every profile in the table and under Sources', () => {
    for (const p of registry.all()) {
      expect(committed).toContain(`| \`${p.id}\` |`);
      expect(committed).toContain(`### \`${p.id}\``);
    }
  });
});

describe('sourceText', () => {
  it('links a repository file at its commit on GitHub', () => {
    const text = sourceText({
      repository: 'HagenTelg/forge',
      path: 'forge/acquisition/instrument/thermo49iq/instrument.py',
      commit: '400ac56b197df397a13856786c05ada7f1bfe0d8',
      note: 'CDAB floats',
    });
    expect(text).toBe(
      '[HagenTelg/forge `forge/acquisition/instrument/thermo49iq/instrument.py` @ 400ac56b19]' +
        '(https://github.com/HagenTelg/forge/blob/400ac56b197df397a13856786c05ada7f1bfe0d8/' +
        'forge/acquisition/instrument/thermo49iq/instrument.py): CDAB floats',
    );
  });

  it('escapes spaces in a repository path so the link still works', () => {
    const text = sourceText({
      repository: 'kotyara12/reSensors',
      path: 'reCWTUwdSws/datasheets/RS485 Small Weather Station manual (V1.3).pdf',
      commit: '8069d2892483fb855335828b9c3b6d1fe894544f',
    });
    expect(text).toContain(
      '/reCWTUwdSws/datasheets/RS485%20Small%20Weather%20Station%20manual%20(V1.3).pdf)',
    );
  });

  it('gives a document its edition and locator, and a page its title', () => {
    expect(sourceText({ document: 'T400 manual', edition: '06870C', locator: 'Appendix A-7, p. A-28' })).toBe(
      'T400 manual, 06870C, Appendix A-7, p. A-28',
    );
    expect(sourceText({ url: 'http://example.com/p', title: 'Protocol page' })).toBe(
      '[Protocol page](http://example.com/p)',
    );
  });
});
