/**
 * A device's word order set in the site config acts on the wire: a unit whose firmware sends
 * its 32-bit values low word first (served by the simulator from a copy of the profile with the
 * order flipped) reads right through the unchanged bundled profile plus `overrides.wordOrder`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Acquisition } from '../../../gateway/src/acquisition/engine.js';
import { acquisitionOptions } from '../../../gateway/src/acquisition/from-config.js';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { loadProfiles, ProfileRegistry, type Profile } from '../../../gateway/src/profiles/index.js';
import { parseScenario, startSimulator, type Simulator } from '../../../hardware-sim/src/index.js';

const bundled = loadProfiles();
const uv = bundled.get('sdl.scs-900uv');
const so2 = uv.points.find((p) => p.key === 'so2')!;
const flipped = so2.wordOrder === 'high-first' ? 'low-first' : 'high-first';
/** The unit on site: the same registers, its 32-bit values in the other word order. */
const onSite: Profile = {
  ...uv,
  points: uv.points.map((p) => (p.count > 1 ? { ...p, wordOrder: flipped } : p)),
};

const dir = mkdtempSync(join(tmpdir(), 'lantian-word-order-'));
let sim: Simulator | undefined;
afterAll(async () => {
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function so2Read(overrides: Record<string, unknown>): Promise<unknown> {
  const file = join(dir, 'site.yaml');
  writeFileSync(
    file,
    stringify({
      version: 1,
      site: { id: 'site', name: 'Site' },
      gateway: { id: 'gw' },
      buses: { line: { kind: 'rtu-over-tcp', host: '127.0.0.1', port: sim!.buses[0]!.port } },
      devices: { gas: { profile: 'sdl.scs-900uv', bus: 'line', unitId: 1, overrides } },
      storage: { path: 'log.db' },
    }),
  );
  const loaded = loadSiteConfig(file, { profiles: bundled });
  const engine = new Acquisition(acquisitionOptions(loaded.config, loaded.profiles), {
    onReadings: () => undefined,
  });
  try {
    const drafts = (await engine.pollOnce()).get('gas') ?? [];
    return drafts.find((d) => d.point === 'so2')?.value;
  } finally {
    await engine.stop();
  }
}

describe('overrides.wordOrder', { timeout: 60_000 }, () => {
  it('reads a unit whose words are swapped against its profile', async () => {
    expect(so2.count).toBe(2);
    sim = await startSimulator(
      parseScenario({
        buses: [{ name: 'line', kind: 'rtu-tcp', port: 0 }],
        devices: [{ id: 'gas', profile: uv.id, unit: 1, bus: 'line', points: { so2: 123.5 } }],
      }),
      { profiles: new ProfileRegistry([onSite]) },
    );
    expect(await so2Read({ wordOrder: flipped })).toBe(123.5);
    // Without it the profile's order garbles the value: the override is what makes it right.
    expect(await so2Read({})).not.toBe(123.5);
  });
});
