/**
 * One test per profile example and bus kind: the simulator serves the example exactly, the
 * gateway polls it through the real transport (Modbus TCP, RTU over TCP, RTU on a pty), planner
 * and decoder, and every value and flag must equal the example's (floats at float32 precision).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import { loadProfileFile, loadProfiles } from '../../../gateway/src/profiles/index.js';
import type { ExampleSpec, Profile } from '../../../gateway/src/profiles/schema.js';
import { Acquisition, type DeviceOptions } from '../../../gateway/src/acquisition/engine.js';
import { polledPoints } from '../../../gateway/src/acquisition/device.js';
import type { Simulator } from '../../../hardware-sim/src/index.js';
import { expectValue } from '../../fixtures/acquisition/examples.js';
import { FIXTURE_PROFILES, linkTo, startSim, type SimKind } from '../../fixtures/acquisition/sim.js';
import { requireTool } from '../../helpers/tools.js';

/** The simulated buses, by name: `tcp8` is Modbus TCP polled with 8 requests in flight. */
const KINDS = ['tcp', 'tcp8', 'rtu-tcp', 'pty'] as const;
type BusName = (typeof KINDS)[number];
const simKind = (name: BusName): SimKind => (name === 'tcp8' ? 'tcp' : name);
const socat = requireTool('socat');
// The pty bus needs socat; without it its cases are skipped and say why.
const STARTED = KINDS.filter((k) => k !== 'pty' || socat.available);
const profiles: Profile[] = [
  ...loadProfiles().all(),
  loadProfileFile(join(FIXTURE_PROFILES, 'bench', 'cems-10f.yaml')),
];
const cases = profiles.flatMap((profile) =>
  profile.examples.map((example, index) => ({ profile, example, index, unit: 0 })),
);
cases.forEach((c, i) => (c.unit = i + 1));

const deviceId = (kind: BusName, unit: number) => `${kind}-${unit}`;

let sim: Simulator | undefined;
let engine: Acquisition | undefined;
const polled = new Map<string, ReadingDraft[]>();

beforeAll(async () => {
  sim = await startSim(
    STARTED.map((kind) => ({ name: kind, kind: simKind(kind) })),
    STARTED.flatMap((kind) =>
      cases.map((c) => ({
        id: deviceId(kind, c.unit),
        profile: c.profile.id,
        unit: c.unit,
        bus: kind,
        example: c.index,
        coldStart: false,
      })),
    ),
  );
  const s = sim;
  engine = new Acquisition(
    {
      buses: STARTED.map((kind) => ({
        name: kind,
        link: kind === 'tcp8' ? { ...linkTo(s, kind), maxInFlight: 8 } : linkTo(s, kind),
        devices: cases.map((c): DeviceOptions => ({
          id: deviceId(kind, c.unit),
          profile: c.profile,
          unitId: c.unit,
          periodMs: 60_000,
          timeoutMs: 3000,
          points: [
            ...new Set([...polledPoints(c.profile).map((p) => p.key), ...Object.keys(c.example.values)]),
          ],
        })),
      })),
    },
    { onReadings: () => undefined },
  );
  for (const [device, drafts] of await engine.pollOnce()) polled.set(device, drafts);
}, 120_000);

afterAll(async () => {
  await engine?.stop();
  await sim?.stop();
});

function check(kind: BusName, profile: Profile, example: ExampleSpec, unit: number): void {
  const drafts = polled.get(deviceId(kind, unit)) ?? [];
  const byPoint = new Map(drafts.map((d) => [d.point, d]));
  for (const [key, value] of Object.entries(example.values)) {
    const d = byPoint.get(key);
    expect(d?.flag === 'B' ? d.quality : undefined, `${profile.id} ${key} was read`).toBeUndefined();
    expectValue(profile, key, d?.value, value);
  }
  for (const [key, flag] of Object.entries(example.flags ?? {})) {
    expect(byPoint.get(key)?.flag, `${profile.id} ${key} flag`).toBe(flag);
  }
  for (const d of drafts) expect(d.flag, `${profile.id} ${d.point}`).not.toBe('B');
}

describe.each(profiles.map((p) => [p.id, p] as const))('profile %s through the simulator', (_id, profile) => {
  const mine = cases.filter((c) => c.profile === profile);
  it.for(KINDS.flatMap((kind) => mine.map((c) => [c.example.name, kind, c] as const)))(
    'decodes example "%s" over %s exactly',
    ([, kind, c], ctx) => {
      if (kind === 'pty') socat.skip(ctx);
      check(kind, profile, c.example, c.unit);
    },
  );
});
