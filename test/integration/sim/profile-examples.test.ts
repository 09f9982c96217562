/**
 * Every example in every profile (fixtures, and the real profiles in device-profiles/ as they
 * land) served by the simulator and read back over Modbus TCP by modbus-serial: the words the
 * master gets are the words the example states. The gateway's decoder is held to the same
 * examples elsewhere, so the two sides meet at the datasheet.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROFILES_DIR, loadProfiles } from '../../../gateway/src/profiles/index.js';
import { parseScenario, startSimulator } from '../../../hardware-sim/src/index.js';
import { FIXTURE_PROFILES } from '../../fixtures/sim/profiles.js';
import { onCleanup, tcpClient, useCleanup } from './helpers.js';

useCleanup();

const dirs = [FIXTURE_PROFILES];
if (
  readdirSync(DEFAULT_PROFILES_DIR, { withFileTypes: true }).some(
    (e) => e.isDirectory() && e.name !== 'templates',
  )
)
  dirs.push(DEFAULT_PROFILES_DIR);

const cases = dirs.flatMap((dir) =>
  loadProfiles(dir)
    .all()
    .flatMap((p) => p.examples.map((e, i) => ({ dir, profile: p, example: e, index: i }))),
);

describe('profile examples served by the simulator', () => {
  it.each(cases.map((c) => [`${c.profile.id}: ${c.example.name}`, c] as const))(
    '%s reads back word for word',
    async (_name, { dir, profile, example, index }) => {
      const sim = await startSimulator(
        parseScenario({
          buses: [{ name: 'net', kind: 'tcp' }],
          devices: [{ id: 'd', profile: profile.id, unit: 1, bus: 'net', example: index, coldStart: false }],
        }),
        { profilesDir: dir },
      );
      onCleanup(() => sim.stop());
      const c = await tcpClient(sim.buses[0]!.port!, 1);
      for (const block of example.registers) {
        const step = block.function <= 2 ? profile.quirks.maxReadBits : profile.quirks.maxReadRegisters;
        for (let i = 0; i < block.words.length; i += step) {
          const n = Math.min(step, block.words.length - i);
          const at = block.address + i;
          const want = block.words.slice(i, i + n);
          if (block.function === 1 || block.function === 2) {
            const r = block.function === 1 ? await c.readCoils(at, n) : await c.readDiscreteInputs(at, n);
            expect(r.data.slice(0, n)).toEqual(want.map((w) => w !== 0));
          } else {
            const r =
              block.function === 3 ? await c.readHoldingRegisters(at, n) : await c.readInputRegisters(at, n);
            expect(r.data).toEqual(want);
          }
        }
      }
    },
  );
});
