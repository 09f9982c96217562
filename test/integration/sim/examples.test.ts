/**
 * The example scenarios in examples/sim start against the real device profiles, and each
 * device answers with values in the ranges its behaviours give.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadScenario, startSimulator, withFreePorts } from '../../../hardware-sim/src/index.js';
import { bus, onCleanup, ptyClient, rawPty, rtuTcpClient, useCleanup } from './helpers.js';
import { requireTool } from '../../helpers/tools.js';

useCleanup();

const example = (name: string) => fileURLToPath(new URL(`../../../examples/sim/${name}`, import.meta.url));

describe('example scenarios', () => {
  it('stack.yaml: a CEMS analyser, dust monitor and flue-gas unit answer on one RTU-over-TCP bus', async () => {
    // Written with a fixed port for newcomers; here on a free one beside other tests.
    const s = await startSimulator(withFreePorts(loadScenario(example('stack.yaml'))));
    onCleanup(() => s.stop());
    expect(s.buses).toEqual([expect.objectContaining({ name: 'stack1', kind: 'rtu-tcp' })]);
    const port = bus(s, 'stack1').port!;
    const uv = await rtuTcpClient(port, 1);
    const so2 = (await uv.readHoldingRegisters(12, 2)).buffer.readFloatBE(0);
    expect(so2).toBeGreaterThan(25);
    expect(so2).toBeLessThan(50);
    const dust = await rtuTcpClient(port, 2);
    expect((await dust.readHoldingRegisters(0, 2)).buffer.readFloatBE(0)).toBeGreaterThan(3);
    const flue = await rtuTcpClient(port, 3);
    const velocity = (await flue.readHoldingRegisters(0, 2)).buffer.readFloatBE(0);
    expect(velocity).toBeGreaterThan(10);
    expect(velocity).toBeLessThan(15);
    expect(s.stats('stack1').perUnit).toMatchObject({
      1: { replies: 1 },
      2: { replies: 1 },
      3: { replies: 1 },
    });
  });

  requireTool('socat').it(
    'site.yaml: the weather box answers on its pty and the PMS5003 streams frames on its own',
    async () => {
      const s = await startSimulator(example('site.yaml'));
      onCleanup(() => s.stop());
      expect(s.buses.map((b) => b.kind)).toEqual(['pty', 'pty']);
      const box = await ptyClient(bus(s, 'weather').path!, 1);
      const [pm25, pm10] = (await box.readHoldingRegisters(507, 2)).data;
      expect(pm25).toBeGreaterThanOrEqual(28);
      expect(pm10!).toBeGreaterThan(pm25!);
      const pms = await rawPty(bus(s, 'pm').path!);
      const frame = await pms.receive(32, 2500);
      expect(frame.subarray(0, 4)).toEqual(Buffer.from([0x42, 0x4d, 0x00, 0x1c]));
    },
  );
});
