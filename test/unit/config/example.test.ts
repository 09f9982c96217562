import { copyFileSync, chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  checkSiteConfig,
  findUnsupported,
  loadSiteConfig,
  pollingPlan,
} from '../../../gateway/src/config/index.js';
import { loadProfiles } from '../../../gateway/src/profiles/index.js';
import { example, root, useTempDir } from './helpers.js';
import { closest, didYouMean } from '../../../gateway/src/config/suggest.js';

const tempDir = useTempDir();
// The example names the real profiles in device-profiles/, not the test fixtures.
const profiles = loadProfiles();

describe('examples/site.yaml', () => {
  it('passes the check; at most its secrets file is flagged, being readable by all in a checkout', () => {
    const problems = checkSiteConfig(example, { profiles });
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    for (const p of problems) expect(p.file).toBe(join(root, 'examples/secrets.example.yaml'));
  });

  it('passes without any warning once its secrets file has mode 600', () => {
    const secrets = join(tempDir(), 'secrets.yaml');
    copyFileSync(join(root, 'examples/secrets.example.yaml'), secrets);
    chmodSync(secrets, 0o600);
    expect(checkSiteConfig(example, { profiles, secretsFile: secrets })).toEqual([]);
  });

  it('describes the demo site: a stack line over a DTU, an analyzer on Modbus TCP, a dust monitor on a serial port', () => {
    const { config } = loadSiteConfig(example, { profiles });
    const plan = pollingPlan(config, profiles);
    expect(plan.map((b) => [b.id, b.bus.kind, b.devices.map((d) => d.id)])).toEqual([
      ['stack1-485', 'rtu-over-tcp', ['stack1-gas', 'stack1-dust', 'stack1-flow']],
      ['lab-tcp', 'tcp', ['lab-so2']],
      ['site-485', 'serial', ['site-dust']],
    ]);
    expect(config.uplinks.mqtt?.url).toBe('mqtt://127.0.0.1:1883');
  });
});

describe('examples/site-planned.yaml', () => {
  it('passes every check but one: each setting it uses that does not run yet is refused', () => {
    const file = join(root, 'examples/site-planned.yaml');
    const errors = checkSiteConfig(file, { profiles }).filter((p) => p.severity === 'error');
    // Derived from the list, so a feature that starts to run simply drops out of it.
    const expected = findUnsupported(parse(readFileSync(file, 'utf8'))).map((u) => u.path.join('.'));
    expect(errors.map((p) => [p.path, p.code]).sort()).toEqual(
      expected.map((p) => [p, 'CONFIG_UNSUPPORTED']).sort(),
    );
  });
});

describe('did-you-mean hints', () => {
  it('name the closest id when it is close, and list the ids when nothing is', () => {
    expect(closest('sdl.scs-900u', ['sdl.scs-900uv', 'sdl.scs-900cpm'])).toBe('sdl.scs-900uv');
    expect(closest('thermo.49i', ['sdl.scs-900uv'])).toBeUndefined();
    expect(didYouMean('zzz', ['a', 'b'], 'bus')).toBe('known buses: a, b');
    expect(didYouMean('zzz', [], 'outlet')).toBe('no outlet is defined');
  });
});
