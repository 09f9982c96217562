import { describe, expect, it } from 'vitest';
import { checkSiteConfig, loadSiteConfig, type ConfigProblem } from '../../../gateway/src/config/index.js';
import { createKeyPair } from '../../../gateway/src/uplink/integrity/keys.js';
import { edited, profiles, useTempDir, writeSite } from '../config/helpers.js';

const tempDir = useTempDir();
const errors = (ps: ConfigProblem[]) =>
  ps.filter((p) => p.severity === 'error').map((p) => [p.path, p.message] as const);

describe('the signing key in the site config', () => {
  it('is refused, naming the setting, when the key file is not there', () => {
    const file = writeSite(tempDir(), edited({ 'uplinks.mqtt.signingKey': 'keys/gateway.key' }));
    expect(errors(checkSiteConfig(file, { profiles }))).toEqual([
      ['uplinks.mqtt.signingKey', 'cannot read keys/gateway.key'],
    ]);
  });

  it('is taken relative to the config file', () => {
    const dir = tempDir();
    const made = createKeyPair(`${dir}/keys`);
    const file = writeSite(dir, edited({ 'uplinks.mqtt.signingKey': 'keys/gateway.key' }));
    expect(errors(checkSiteConfig(file, { profiles }))).toEqual([]);
    expect(loadSiteConfig(file, { profiles }).config.uplinks.mqtt!.signingKey).toBe(made.privateKey);
  });
});
