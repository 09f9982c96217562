/**
 * `lantian profiles list` and `lantian profiles show ID` as an installer runs them: through
 * bin/lantian.js, on the bundled library and on a broken copy of it.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PROFILES_DIR, loadProfiles } from '../../../gateway/src/profiles/index.js';
import { lantian } from '../../helpers/cli.js';

// Each test starts the CLI through tsx; a loaded machine can take seconds per start.
const SLOW = { timeout: 90_000 };

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

describe('lantian profiles', () => {
  it('list prints one line per profile with its confidence and line settings', SLOW, async () => {
    const r = await lantian(['profiles', 'list']);
    expect(r.code, r.stderr).toBe(0);
    const profiles = loadProfiles().all();
    for (const p of profiles) {
      const line = r.stdout.split('\n').find((l) => l.trim().startsWith(`${p.id} `));
      expect(line, p.id).toBeDefined();
      expect(line).toContain(p.confidence!);
      expect(line).toContain(`${p.serial.baud} `);
    }
    expect(r.stdout).toContain(`${profiles.length} profiles`);
  });

  it(
    'show prints the points with PDU address, order and unit, what is unverified, rules and sources',
    SLOW,
    async () => {
      const r = await lantian(['profiles', 'show', 'thermo.49iq']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ {2}o3 +FC03 +2100-2101 +f32 CDAB +ppb +0\.\.200000 +a05024 +measurement$/m);
      expect(r.stdout).toContain('serial_number');
      expect(r.stdout).toContain('unverified:\n  o3: unit is ppb');
      expect(r.stdout).toContain('alarm_lamp_temperature nonzero -> D on all measurements');
      expect(r.stdout).toContain(
        'https://github.com/HagenTelg/forge/blob/400ac56b197df397a13856786c05ada7f1bfe0d8/forge/acquisition/instrument/thermo49iq/instrument.py',
      );
      expect(r.stdout).toContain("the driver's simulator values (published: ");
    },
  );

  it('show refuses an unknown id with exit 2 and names the closest one', SLOW, async () => {
    const r = await lantian(['profiles', 'show', 'teledyne.t40']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no device profile "teledyne.t40" (did you mean teledyne.t400?)');
    expect(r.stdout).toBe('');
  });

  it('list on a library with a broken profile exits 2 naming the file and path', SLOW, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lantian-profiles-'));
    dirs.push(dir);
    cpSync(DEFAULT_PROFILES_DIR, dir, { recursive: true });
    writeFileSync(
      join(dir, 'teledyne', 'broken.yaml'),
      'id: teledyne.broken\nvendor: T\nmodel: B\nsources: [x]\naddressBase: 2\npoints: {}\n',
    );
    const r = await lantian(['profiles', 'list', '--profiles', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('PROFILE_INVALID');
    expect(r.stderr).toContain('broken.yaml:addressBase');
  });
});
