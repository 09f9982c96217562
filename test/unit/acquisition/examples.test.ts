/**
 * One test per profile example: the example's register words go through the real planner,
 * decoder and status mapping, and must give exactly the values and flags the example states
 * (written from the device's datasheet, not from this decoder).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadProfileFile, loadProfiles } from '../../../gateway/src/profiles/index.js';
import type { Profile } from '../../../gateway/src/profiles/schema.js';
import {
  cycleOutcomes,
  planDevice,
  polledPoints,
  type ReadResult,
} from '../../../gateway/src/acquisition/device.js';
import { serialCost } from '../../../gateway/src/acquisition/planner.js';
import { registerImage, expectValue } from '../../fixtures/acquisition/examples.js';

const fixtures = fileURLToPath(new URL('../../fixtures/acquisition/profiles', import.meta.url));
const profiles: Profile[] = [
  ...loadProfiles().all(),
  ...readdirSync(join(fixtures, 'bench')).map((f) => loadProfileFile(join(fixtures, 'bench', f))),
];

describe.each(profiles.map((p) => [p.id, p] as const))('profile %s', (_id, profile) => {
  const keys = profile.examples.flatMap((e) => Object.keys(e.values));
  const points = polledPoints(profile, [...new Set([...polledPoints(profile).map((p) => p.key), ...keys])]);
  const reads = planDevice(profile, points, serialCost(profile.serial, profile.quirks.turnaroundMs));

  it.each(profile.examples.map((e) => [e.name, e] as const))(
    'decodes example "%s" exactly',
    (_name, example) => {
      const image = registerImage(example);
      const results: ReadResult[] = reads.map((r) => ({
        ok: true,
        data: image.read(r.function, r.address, r.count),
        ts: 1,
      }));
      const outcomes = cycleOutcomes(profile, points, reads, results);
      for (const [key, value] of Object.entries(example.values)) {
        expectValue(profile, key, outcomes.get(key)?.value, value);
      }
      for (const [key, flag] of Object.entries(example.flags ?? {})) {
        expect(outcomes.get(key)?.flag, `${profile.id} ${key}`).toBe(flag);
      }
    },
  );
});
