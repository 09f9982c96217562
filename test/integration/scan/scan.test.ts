/**
 * `lantian scan` against the simulator over real pseudo-terminals: three serial lines, one at
 * 9600 baud with two devices at unit ids 7 and 12, one at 19200 with a device that answers
 * FC 43, and one with nothing on it. The simulator hears a master at the wrong baud as noise.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inspectSiteConfig } from '../../../gateway/src/config/index.js';
import { withSiteProfiles } from '../../../gateway/src/config/loader.js';
import { loadProfiles } from '../../../gateway/src/profiles/loader.js';
import { runScan, type ScanOptions, type ScanResult } from '../../../gateway/src/scan/scan.js';
import { writeFound } from '../../../gateway/src/scan/write.js';
import { startSimulator, type Simulator } from '../../../hardware-sim/src/index.js';
import { lantian } from '../../helpers/cli.js';
import { requireTool } from '../../helpers/tools.js';

const tools = requireTool('socat');
const PROFILES = 'test/fixtures/scan/profiles';
const profiles = withSiteProfiles(loadProfiles(), PROFILES).profiles;

let sim: Simulator;
let dir: string;
const path = (bus: string) => sim.buses.find((b) => b.name === bus)!.path!;

const options = (port: string): ScanOptions => ({
  target: { kind: 'serial', port },
  bauds: [9600, 19200],
  parities: ['none'],
  units: [1, 2, 3, 7, 12],
  // Generous: the simulator reads the line's settings with stty on every frame.
  timeoutMs: 800,
  gapMs: 10,
  connectTimeoutMs: 3000,
  maxCandidates: 3,
});

beforeAll(async () => {
  if (!tools.available) return;
  dir = mkdtempSync(join(tmpdir(), 'lantian-scan-'));
  sim = await startSimulator('test/fixtures/scan/site.yaml');
}, 30_000);

afterAll(async () => {
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

tools.describe('lantian scan on serial lines', () => {
  let slow: ScanResult;

  it('finds devices at mixed unit ids on two lines at their own baud rates and matches each to its profile', async () => {
    const [s, fast] = await Promise.all([
      runScan(options(path('slow')), profiles),
      runScan(options(path('fast')), profiles),
    ]);
    slow = s;
    const summary = (r: ScanResult) =>
      r.found.map((f) => ({ unit: f.unitId, baud: f.line?.baud, best: f.candidates[0]?.profile }));
    expect(summary(slow)).toEqual([
      { unit: 7, baud: 9600, best: 'sdl.scs-900uv' },
      { unit: 12, baud: 9600, best: 'generic.flue-gas-parameters' },
    ]);
    expect(summary(fast)).toEqual([{ unit: 3, baud: 19200, best: 'acme.pm-meter' }]);
    // FC 43 names the model outright; fingerprints give a confidence with their evidence.
    expect(fast.found[0]!.identity).toMatchObject({ vendorName: 'ACME Instruments', productCode: 'PM-2000' });
    expect(fast.found[0]!.candidates[0]!.confidence).toBe(1);
    expect(slow.found[0]!.notes).toContain('FC 43 not supported (exception 1)');
    const gas = slow.found[0]!.candidates[0]!;
    expect(gas.confidence).toBeGreaterThan(slow.found[0]!.candidates[1]?.confidence ?? 0);
    expect(gas.evidence).toContainEqual(expect.stringMatching(/^✓ so2 = [\d.]+ mg\/m3 within \[0, 2000\]$/));
    // At the wrong baud the simulator heard noise: nothing was found there.
    expect(slow.found.every((f) => f.line?.baud === 9600)).toBe(true);
  }, 120_000);

  it('--write adds the identified devices to a site config that check-config accepts', () => {
    const file = join(dir, 'site.yaml');
    const [w] = writeFound(file, options(path('slow')).target, slow.found, 'rs485', 0.6);
    expect(w).toMatchObject({ bus: 'rs485', devices: ['scs-900uv-7', 'flue-gas-parameters-12'] });
    const config = parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
    expect(config.buses!.rs485).toEqual({ kind: 'serial', port: path('slow'), baud: 9600, parity: 'none' });
    expect(config.devices!['scs-900uv-7']).toEqual({ profile: 'sdl.scs-900uv', bus: 'rs485', unitId: 7 });
    const { problems } = inspectSiteConfig(file, { siteProfilesDir: PROFILES });
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  it('a dead line finishes within the budget the scan states before it starts', async () => {
    const run = await lantian([
      'scan',
      '--serial',
      path('dead'),
      '--baud',
      '9600,19200',
      '--parity',
      'none,even',
      '--units',
      '1-5',
      '--timeout',
      '100',
      '--gap',
      '10',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('no device answered\n');
    const budget = Number(/at most ([\d.]+) s/.exec(run.stderr)?.[1]);
    const took = Number(/scan done in ([\d.]+) s/.exec(run.stderr)?.[1]);
    expect(run.stderr).toContain('4 line setting(s) × 5 unit ids = 20 probes');
    expect(budget).toBeGreaterThan(2);
    expect(took).toBeGreaterThan(0);
    expect(took).toBeLessThanOrEqual(budget);
  }, 60_000);
});
