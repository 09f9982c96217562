/**
 * The whole engine (modbus-serial transport, bus, planner, decoder, scheduler) over a real
 * socket against modbus-serial's own ServerTCP serving the reference analyzer's example.
 */
import { fileURLToPath } from 'node:url';
import ModbusSerial from 'modbus-serial';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import { loadProfileFile } from '../../../gateway/src/profiles/index.js';
import { Acquisition } from '../../../gateway/src/acquisition/engine.js';
import { registerImage } from '../../fixtures/acquisition/examples.js';

const bench = loadProfileFile(
  fileURLToPath(new URL('../../fixtures/acquisition/profiles/bench/cems-10f.yaml', import.meta.url)),
);

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function serve(): Promise<{ port: number; requests: number[] }> {
  const image = registerImage(bench.examples[0]!);
  const requests: number[] = [];
  const server = new ModbusSerial.ServerTCP(
    {
      getMultipleHoldingRegisters: (addr: number, length: number) => {
        requests.push(addr);
        return image.read(3, addr, length);
      },
    },
    { host: '127.0.0.1', port: '0' as unknown as number, unitID: 1 },
  );
  await new Promise((r) => server.on('initialized', r));
  cleanup.push(() => new Promise((r) => server.close(() => r(undefined))));
  const port = (server as unknown as { _server: { address(): { port: number } } })._server.address().port;
  return { port, requests };
}

describe('engine over Modbus TCP against ServerTCP', () => {
  it('polls periodically and decodes every example value exactly, in one request per poll', async () => {
    const { port, requests } = await serve();
    const readings: ReadingDraft[] = [];
    const engine = new Acquisition(
      {
        buses: [
          {
            name: 'lan',
            link: { kind: 'tcp', host: '127.0.0.1', port },
            devices: [{ id: 'stack1', profile: bench, periodMs: 100 }],
          },
        ],
      },
      { onReadings: (d) => readings.push(...d) },
    );
    cleanup.push(() => engine.stop());
    engine.start();
    while (readings.length < 30) await new Promise((r) => setTimeout(r, 20));
    await engine.stop();
    const first = new Map(readings.slice(0, 10).map((r) => [r.point, r]));
    for (const [key, value] of Object.entries(bench.examples[0]!.values)) {
      expect(first.get(key)).toMatchObject({ value, flag: 'N', device: 'stack1' });
    }
    // Over TCP a request costs a round trip, so 0-11 and 100-107 merge into one read of 0-107.
    expect(engine.plans()[0]!.reads.map((r) => [r.address, r.count])).toEqual([[0, 108]]);
    expect(new Set(requests)).toEqual(new Set([0]));
    const h = engine.health();
    expect(h.devices[0]).toMatchObject({ state: 'ok', timeouts: 0 });
    expect(h.buses[0]!.replies).toBeGreaterThanOrEqual(3);
  });
});
