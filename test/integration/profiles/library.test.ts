/**
 * One test per profile in device-profiles/: the simulator serves each of the profile's examples
 * as its own device on a Modbus TCP server, with the profile's own turnaround and refused
 * ranges; the gateway polls them through its real transport, planner and decoder, and every
 * value and flag must be the example's. The planner must get every reading on its first plan:
 * no exception from a read across a gap the profile declares unreadable, no B.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import { Acquisition } from '../../../gateway/src/acquisition/engine.js';
import { polledPoints } from '../../../gateway/src/acquisition/device.js';
import type { DeviceHealth } from '../../../gateway/src/acquisition/health.js';
import { loadProfiles, type Profile } from '../../../gateway/src/profiles/index.js';
import type { Simulator } from '../../../hardware-sim/src/index.js';
import { expectValue } from '../../fixtures/acquisition/examples.js';
import { linkTo, startSim } from '../../fixtures/acquisition/sim.js';

const profiles = loadProfiles()
  .all()
  .sort((a, b) => a.id.localeCompare(b.id));

interface Polled {
  drafts: Map<string, ReadingDraft[]>;
  health: Map<string, DeviceHealth>;
}

/** Serves every example of the profile (unit id = example index + 1) and polls each once. */
async function pollExamples(profile: Profile): Promise<Polled> {
  let sim: Simulator | undefined;
  let engine: Acquisition | undefined;
  try {
    sim = await startSim(
      [{ name: 'net', kind: 'tcp' }],
      profile.examples.map((_, i) => ({
        id: `example-${i}`,
        profile: profile.id,
        unit: i + 1,
        bus: 'net',
        example: i,
        coldStart: false,
      })),
    );
    const s = sim;
    engine = new Acquisition(
      {
        buses: [
          {
            name: 'net',
            link: linkTo(s, 'net'),
            devices: profile.examples.map((example, i) => ({
              id: `example-${i}`,
              profile,
              unitId: i + 1,
              periodMs: 60_000,
              // The profile's own timeout, with room for a loaded two-core test machine.
              timeoutMs: Math.max(profile.quirks.timeoutMs, 5000),
              points: [
                ...new Set([...polledPoints(profile).map((p) => p.key), ...Object.keys(example.values)]),
              ],
            })),
          },
        ],
      },
      { onReadings: () => undefined },
    );
    const drafts = await engine.pollOnce();
    const health = new Map(engine.health().devices.map((h) => [h.device, h]));
    return { drafts, health };
  } finally {
    await engine?.stop();
    await sim?.stop();
  }
}

describe.each(profiles.map((p) => [p.id, p] as const))('profile %s', (_id, profile) => {
  let polled: Polled;
  beforeAll(async () => {
    polled = await pollExamples(profile);
  }, 120_000);
  afterAll(() => undefined);

  it('decodes every example over Modbus TCP to its values and flags, on the first plan', () => {
    profile.examples.forEach((example, i) => {
      const device = `example-${i}`;
      const drafts = polled.drafts.get(device) ?? [];
      const byPoint = new Map(drafts.map((d) => [d.point, d]));
      const label = `${profile.id} "${example.name}"`;
      for (const d of drafts) expect(d.flag, `${label} ${d.point} ${d.quality?.join(',')}`).not.toBe('B');
      for (const [key, value] of Object.entries(example.values))
        expectValue(profile, key, byPoint.get(key)?.value, value);
      for (const [key, flag] of Object.entries(example.flags ?? {}))
        expect(byPoint.get(key)?.flag, `${label} ${key} flag`).toBe(flag);
      const h = polled.health.get(device);
      expect(h?.exceptions, `${label}: reads refused by the device`).toBe(0);
      expect(h?.planStrategy, `${label}: plan`).not.toBe('contiguous');
    });
  });
});
