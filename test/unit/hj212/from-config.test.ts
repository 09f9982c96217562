import { describe, expect, it } from 'vitest';
import { checkSiteConfig, loadSiteConfig } from '../../../gateway/src/config/index.js';
import { hj212SessionOptions } from '../../../gateway/src/uplink/hj212/from-config.js';
import { edited, plannedSections, profiles, SECRETS, useTempDir, writeSite } from '../config/helpers.js';

const tempDir = useTempDir();
const platform = (changes: Record<string, unknown>) =>
  edited({ ...plannedSections(), ...changes, 'uplinks.hj212.city.version': 2025 });
const REGISTRATION = { dauId: '6970000000001ABCDEFG1234', cpuId: 'A800200A8C6D', mac1: 'E86A643C7BBC' };

describe('HJ 212 session options from the site config', () => {
  it('takes registration and the key request from the config, with a state file beside the log', () => {
    const file = writeSite(
      tempDir(),
      platform({ 'uplinks.hj212.city.registration': REGISTRATION, 'uplinks.hj212.city.requestKey': true }),
      SECRETS,
    );
    const loaded = loadSiteConfig(file, { profiles });
    const [o] = hj212SessionOptions(loaded);
    expect(o).toMatchObject({ registration: REGISTRATION, requestKey: true });
    expect(o!.stateFile).toBe(`${loaded.config.storage.path}.hj212-city.json`);
  });

  it('does neither by default', () => {
    const file = writeSite(tempDir(), platform({}), SECRETS);
    const [o] = hj212SessionOptions(loadSiteConfig(file, { profiles }));
    expect(o!.registration).toBeUndefined();
    expect(o!.requestKey).toBe(false);
  });

  it('refuses registration and key requests on a 2017 platform, and separators in a hardware id', () => {
    const on2017 = edited({
      ...plannedSections(),
      'uplinks.hj212.city.registration': REGISTRATION,
      'uplinks.hj212.city.requestKey': true,
    });
    const paths = (config: unknown) =>
      checkSiteConfig(writeSite(tempDir(), config, SECRETS), { profiles })
        .filter((p) => p.severity === 'error')
        .map((p) => p.path);
    expect(paths(on2017)).toEqual(['uplinks.hj212.city.registration', 'uplinks.hj212.city.requestKey']);
    expect(paths(platform({ 'uplinks.hj212.city.registration': { dauId: 'a;b' } }))).toEqual([
      'uplinks.hj212.city.registration.dauId',
    ]);
  });
});
