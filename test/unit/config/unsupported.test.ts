import { describe, expect, it } from 'vitest';
import {
  checkSiteConfig,
  findUnsupported,
  loadSiteConfig,
  UNSUPPORTED,
  type ConfigProblem,
} from '../../../gateway/src/config/index.js';
import { optionsTable } from '../../../gateway/src/config/docs.js';
import { isUnsupportedOption } from '../../../gateway/src/config/unsupported.js';
import {
  edited,
  minimalConfig,
  plannedSections,
  profiles,
  thrownBy,
  useTempDir,
  writeSite,
} from './helpers.js';

const tempDir = useTempDir();
const problemsOf = (config: unknown): ConfigProblem[] =>
  checkSiteConfig(writeSite(tempDir(), config), { profiles });

/**
 * A valid use of each refused setting, keyed by its path in UNSUPPORTED. A new entry needs a
 * sample here; an entry removed because its feature runs leaves its sample unused.
 */
const SAMPLES: Record<string, Record<string, unknown>> = {
  'site.timezone': { 'site.timezone': 'Asia/Shanghai' },
  outlets: { outlets: plannedSections().outlets },
};

describe('settings that do not run yet', () => {
  it('leave the minimal config alone, and an empty map configures nothing', () => {
    expect(findUnsupported(minimalConfig())).toEqual([]);
    expect(findUnsupported(edited({ outlets: {}, 'uplinks.hj212': {} }))).toEqual([]);
    expect(problemsOf(edited({ outlets: {}, 'uplinks.hj212': {} }))).toEqual([]);
  });

  for (const setting of UNSUPPORTED) {
    const key = setting.path.join('.');
    it(`are refused by the check, each at its place: ${key}`, () => {
      const sample = SAMPLES[key];
      expect(sample, `add a sample use of ${key} to SAMPLES`).toBeDefined();
      const problems = problemsOf(edited(sample!));
      const refused = problems.filter((p) => p.code === 'CONFIG_UNSUPPORTED');
      expect(refused.length).toBeGreaterThan(0);
      const at = key.replace('*', 'gas');
      const mine = refused.find((p) => p.path === at);
      expect(mine, at).toMatchObject({
        severity: 'error',
        message: expect.stringContaining('not supported yet'),
      });
      expect(mine!.message).toContain(setting.feature);
      expect(mine!.line).toBeGreaterThan(0);
      // Nothing else is wrong with the sample: the refusal is the only reason it fails.
      expect(problems.filter((p) => p.severity === 'error' && p.code !== 'CONFIG_UNSUPPORTED')).toEqual([]);
    });
  }

  for (const setting of UNSUPPORTED) {
    const key = setting.path.join('.');
    it(`make loading throw CONFIG_UNSUPPORTED, so run refuses to start: ${key}`, () => {
      const file = writeSite(tempDir(), edited(SAMPLES[key]!));
      const e = thrownBy(() => loadSiteConfig(file, { profiles }));
      expect(e.code).toBe('CONFIG_UNSUPPORTED');
      expect(e.message).toContain(`${key}: not supported yet`);
    });
  }

  it('are found under every device, not only the first', () => {
    const perDevice = [{ path: ['devices', '*', 'overrides', 'bootDelayMs'], feature: 'a test feature' }];
    const uses = findUnsupported(
      edited({
        'devices.gas.overrides': { bootDelayMs: 1000 },
        'devices.dust.overrides': { bootDelayMs: 2000 },
      }),
      perDevice,
    );
    expect(uses.map((u) => u.path.join('.'))).toEqual([
      'devices.gas.overrides.bootDelayMs',
      'devices.dust.overrides.bootDelayMs',
    ]);
  });

  it('are marked in the generated option table', () => {
    expect(isUnsupportedOption('siteIo.board.port')).toBe(false);
    expect(isUnsupportedOption('devices.<id>.overrides.bootDelayMs')).toBe(false);
    expect(isUnsupportedOption('devices.<id>.overrides.minGapMs')).toBe(false);
    expect(isUnsupportedOption('storage.path')).toBe(false);
    const table = optionsTable();
    for (const s of UNSUPPORTED) {
      const option = s.path.join('.').replace('*', '<id>');
      expect(table).toMatch(new RegExp(`\\| \`${option.replace(/[.<>]/g, '\\$&')}\` \\|.*Not supported yet`));
    }
  });
});
