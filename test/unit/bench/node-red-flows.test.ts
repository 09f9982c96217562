/**
 * The flows `bench:node-red` runs: their counters (real Node-RED function nodes) count a served
 * value as delivered and anything else as wrong or failed, contrib's flow has one read per point
 * at the profile's addresses, and the points/s figure counts whole seconds only.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadProfileFile } from '../../../gateway/src/profiles/index.js';
import {
  between,
  contribFlow,
  lantianFlow,
  type BenchLine,
  type Counts,
} from '../../../bench/node-red-flows.js';
import { FIXTURE_PROFILES } from '../../fixtures/acquisition/sim.js';
import { helper, startServer, stopServer, until } from '../../helpers/node-red.js';

const functionNode = createRequire(import.meta.url)(
  '@node-red/nodes/core/function/10-function.js',
) as unknown;
const profile = loadProfileFile(join(FIXTURE_PROFILES, 'bench', 'cems-10f.yaml'));
const line: BenchLine = { host: '127.0.0.1', port: 4001, baud: 9600, units: [1, 2, 3], profile, periodS: 1 };

type Node = Record<string, unknown> & { id: string; type: string };

/** Loads only the counter nodes of a bench flow (what the polling nodes would feed). */
async function counters(flow: Node[]): Promise<() => Counts> {
  const kept = flow.filter((n) => n.type === 'tab' || n.id.startsWith('bench-count'));
  await helper.load(functionNode, kept);
  return () => helper.getNode('bench-count')!.context().flow.get('counts') as Counts;
}

beforeAll(startServer);
afterAll(stopServer);
afterEach(() => helper.unload());

describe('the contrib flow', () => {
  it('decodes each read as a float32 and counts the value the simulator serves as delivered, any other as wrong', async () => {
    const counts = await counters(contribFlow(line));
    // so2 = 12.5 is 0x41480000 in the profile's example; 0 is not what no serves.
    helper.getNode('bench-count')!.receive({ topic: 'a1/so2', payload: [16712, 0] });
    helper.getNode('bench-count')!.receive({ topic: 'a2/no', payload: [0, 0] });
    helper.getNode('bench-count-errors')!.receive({ error: { message: 'Timed out' } });
    await until(() => (counts()?.messages ?? 0) === 2 && Object.keys(counts().failed).length === 1);
    expect(counts()).toMatchObject({
      delivered: 1,
      wrong: 1,
      perDevice: { a1: 1 },
      failed: { 'Timed out': 1 },
    });
  });

  it('has one modbus-read per point at the profile address, two registers each, on a raw RTU (TELNET) client', () => {
    const flow = contribFlow(line);
    const reads = flow.filter((n) => n.type === 'modbus-read');
    expect(reads).toHaveLength(30);
    expect(reads.find((n) => n.topic === 'a3/temp')).toMatchObject({
      unitid: '3',
      adr: '100',
      quantity: '2',
      dataType: 'HoldingRegister',
      rate: '1',
      rateUnit: 's',
    });
    expect(flow.find((n) => n.type === 'modbus-client')).toMatchObject({
      tcpType: 'TELNET',
      parallelUnitIdsAllowed: true,
      clientTimeout: '1000',
    });
    expect(contribFlow(line, false).find((n) => n.type === 'modbus-client')).toMatchObject({
      parallelUnitIdsAllowed: false,
    });
  });
});

describe('the lantian flow', () => {
  it('counts the points of a poll read with the served value, and a point flagged B by its reason', async () => {
    const counts = await counters(lantianFlow(line));
    helper.getNode('bench-count')!.receive({
      device: 'a2',
      readings: [
        { point: 'so2', value: 12.5, flag: 'N' },
        { point: 'o2', value: 20.899999618530273, flag: 'N' },
        { point: 'co', value: null, flag: 'B', quality: ['timeout'] },
      ],
    });
    await until(() => (counts()?.messages ?? 0) === 1);
    expect(counts()).toMatchObject({ delivered: 2, wrong: 0, perDevice: { a2: 2 }, failed: { timeout: 1 } });
  });

  it('has one lantian device per analyzer on one line', () => {
    const flow = lantianFlow(line);
    expect(flow.filter((n) => n.type === 'lantian-line')).toHaveLength(1);
    expect(flow.filter((n) => n.type === 'lantian-device').map((n) => n.unitId)).toEqual(['1', '2', '3']);
  });
});

describe('between', () => {
  it('counts points per second over the whole seconds of the window only', () => {
    const none: Counts = { messages: 0, delivered: 0, wrong: 0, perDevice: {}, perSecond: {}, failed: {} };
    const later: Counts = {
      ...none,
      delivered: 100,
      perSecond: { 9: 40, 10: 30, 11: 30, 12: 0 },
      failed: { timeout: 2 },
    };
    // 10.2 s .. 12.5 s holds the whole seconds 11 only; 9.9 s .. 12.0 s holds 10 and 11.
    expect(between(none, later, 10_200, 12_500)).toMatchObject({ seconds: 1, pointsPerSec: 30 });
    expect(between(none, later, 9_900, 12_000)).toMatchObject({ seconds: 2, pointsPerSec: 30 });
    expect(between(none, later, 9_000, 11_000).pointsPerSec).toBe(35);
    expect(between(none, later, 0, 1).failed).toEqual({ timeout: 2 });
  });
});
