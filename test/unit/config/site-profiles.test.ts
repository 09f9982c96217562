import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSiteConfig, loadSiteConfig } from '../../../gateway/src/config/index.js';
import { loadOptions } from '../../../gateway/src/cli/output.js';
import { root, useTempDir, writeSite } from './helpers.js';

const tempDir = useTempDir();

/** A site folder holding one profile: a bundled file with its id (and model) changed. */
function siteFolder(from: string, id: string): string {
  const dir = join(tempDir(), 'profiles');
  const [vendor, model] = id.split('.') as [string, string];
  mkdirSync(join(dir, vendor), { recursive: true });
  const text = readFileSync(join(root, 'device-profiles', from), 'utf8')
    .replace(/^id: .*$/m, `id: ${id}`)
    .replace(/^model: .*$/m, `model: ${model}`);
  writeFileSync(join(dir, vendor, `${model}.yaml`), text);
  return dir;
}

/** A site with a bundled-profile device and one device of the given profile. */
function site(profile: string): string {
  return writeSite(
    tempDir(),
    {
      version: 1,
      site: { id: 's', name: 'S' },
      gateway: { id: 'gw' },
      buses: { lab: { kind: 'tcp', host: '127.0.0.1' } },
      devices: {
        so2: { profile: 'thermo.43i', bus: 'lab', unitId: 1 },
        own: { profile, bus: 'lab', unitId: 2 },
      },
      storage: { path: 'log.db' },
    },
    null,
  );
}

describe('a site’s own profile folder', () => {
  it('adds to the bundled library: its profile and the bundled ones both resolve', () => {
    const dir = siteFolder('thermo/43i.yaml', 'acme.so2-box');
    const loaded = loadSiteConfig(site('acme.so2-box'), { siteProfilesDir: dir });
    expect(loaded.warnings).toEqual([]);
    expect(loaded.profiles.get('acme.so2-box').file).toBe(join(dir, 'acme/so2-box.yaml'));
    expect(loaded.profiles.get('thermo.43i').file).toBe(join(root, 'device-profiles/thermo/43i.yaml'));
    expect(loaded.profiles.has('sdl.scs-900uv')).toBe(true);
  });

  it('uses the bundled templates when it has none of its own', () => {
    const dir = siteFolder('sdl/scs-900uv.yaml', 'acme.uv-site');
    expect(loadSiteConfig(site('acme.uv-site'), { siteProfilesDir: dir }).profiles.has('acme.uv-site')).toBe(
      true,
    );
  });

  it('replaces a bundled profile of the same id, and the check says so', () => {
    const dir = siteFolder('thermo/43i.yaml', 'thermo.43i');
    const file = site('thermo.43i');
    const loaded = loadSiteConfig(file, { siteProfilesDir: dir });
    expect(loaded.profiles.get('thermo.43i').file).toBe(join(dir, 'thermo/43i.yaml'));
    const problems = checkSiteConfig(file, { siteProfilesDir: dir });
    expect(problems.map((p) => [p.file, p.path, p.code, p.severity])).toEqual([
      [join(dir, 'thermo/43i.yaml'), 'id', 'PROFILE_DUPLICATE_ID', 'warning'],
    ]);
    expect(problems[0]!.message).toContain('replaces the bundled profile thermo.43i');
  });

  it('is what --profiles names on the command line', () => {
    expect(loadOptions({ profiles: 'site-profiles' })).toEqual({ siteProfilesDir: 'site-profiles' });
  });
});
