/**
 * From the simulated stack analyzers through the real gateway to minute aggregates on the broker:
 * the simulator over RTU-over-TCP, the composition root with its SQLite log, the embedded broker,
 * and a plain MQTT client standing in for the platform. The gateway's clock is shifted so the
 * first minute ends a few seconds after the start instead of up to a minute later.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../../gateway/src/core/clock.js';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { Gateway } from '../../../gateway/src/gateway.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../gateway/src/uplink/mqtt/broker.js';
import {
  aggBatchSchema,
  dataBatchSchema,
  eventMessageSchema,
  healthSchema,
} from '../../../gateway/src/uplink/mqtt/contract.js';
import {
  loadScenario,
  startSimulator,
  withFreePorts,
  type Simulator,
} from '../../../hardware-sim/src/index.js';

let dir: string;
let sim: Simulator;
let broker: EmbeddedBroker;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lantian-processing-e2e-'));
  sim = await startSimulator(withFreePorts(loadScenario('examples/sim/stack.yaml')));
  broker = await startEmbeddedBroker({ port: 0 });
});

afterEach(async () => {
  await broker.close();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

function siteConfig(port: number): string {
  const file = join(dir, 'site.yaml');
  writeFileSync(
    file,
    `version: 1
site: { id: test-site, name: Test site, timezone: Asia/Shanghai }
gateway: { id: gw-agg }
buses:
  stack1: { kind: rtu-over-tcp, host: 127.0.0.1, port: ${port}, baud: 9600, timeoutMs: 500, retries: 0 }
devices:
  stack1-uv: { profile: sdl.scs-900uv, bus: stack1, unitId: 1, periodMs: 1000 }
  stack1-dust: { profile: sdl.scs-900cpm, bus: stack1, unitId: 2, periodMs: 1000 }
  stack1-flue: { profile: generic.flue-gas-parameters, bus: stack1, unitId: 3, periodMs: 1000 }
outlets:
  stack1:
    name: Stack 1
    devices: [stack1-uv, stack1-dust, stack1-flue]
    referenceO2Pct: 6
    o2: stack1-uv/o2
    flue: { temperature: stack1-flue/temperature, pressure: stack1-flue/pressure, moisture: stack1-flue/humidity, velocity: stack1-flue/velocity }
    ductAreaM2: 4
    minSamplesPerMinute: 1
    limits:
      stack1-uv/so2: { max: 5, averaging: minute }
uplinks:
  mqtt: { url: '${broker.url}', batch: { maxReadings: 200, lingerMs: 100 }, healthIntervalMs: 1000 }
storage: { path: log.db, quotaMb: 64 }
# the simulated humidity steps every 30 s: identical words for 6 s are marked stale
quality: { staleMinutes: 0.1 }
`,
  );
  return file;
}

describe('emission processing end to end', () => {
  it('publishes minute aggregates with converted values and Cou, and the limit exceedance, on the broker', async () => {
    const port = sim.buses[0]!.port!;
    // Start 15 s before a minute boundary of the shifted clock.
    const now = Date.now();
    const offset = 60_000 - (now % 60_000) - 15_000 + (now % 60_000 > 45_000 ? 60_000 : 0);
    const clock: Clock = { ...systemClock, now: () => Date.now() + offset };
    const aggregates: Record<string, unknown>[] = [];
    const events: Record<string, unknown>[] = [];
    const readings: Record<string, unknown>[] = [];
    let health: Record<string, unknown> | undefined;
    const client = await mqtt.connectAsync(broker.url);
    await client.subscribeAsync('lantian/v1/gw-agg/#', { qos: 1 });
    client.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString()) as unknown;
      if (topic.endsWith('/agg')) aggregates.push(...aggBatchSchema.parse(body).aggregates);
      if (topic.endsWith('/events')) events.push(eventMessageSchema.parse(body));
      if (topic.endsWith('/data')) readings.push(...dataBatchSchema.parse(body).readings);
      if (topic.endsWith('/health')) health = healthSchema.parse(body);
    });
    const gateway = new Gateway(loadSiteConfig(siteConfig(port)), { clock });
    gateway.start();
    try {
      const deadline = Date.now() + 60_000;
      const has = () =>
        aggregates.some((a) => a.point === 'so2') &&
        aggregates.some((a) => a.point === 'dry_std_flow') &&
        events.some((e) => e.kind === 'exceedance') &&
        ((health?.processing as { quality?: { stale?: number } } | undefined)?.quality?.stale ?? 0) > 0;
      while (!has() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    } finally {
      await gateway.stop();
      await client.endAsync();
    }
    const so2 = aggregates.find((a) => a.point === 'so2' && a.device === 'stack1-uv')!;
    expect(so2).toMatchObject({
      period: 'minute',
      outlet: 'stack1',
      hj212: 'a21026',
      unit: 'mg/m3',
      flag: 'N',
    });
    expect(so2.start as number).toBe(Math.floor((so2.start as number) / 60_000) * 60_000);
    expect(so2.count as number).toBeGreaterThan(0);
    // the simulator's SO2 is about 38 mg/m3 at about 10.5 % O2: more once converted to 6 %
    expect(so2.avg as number).toBeGreaterThan(20);
    expect(so2.zsAvg as number).toBeGreaterThan(so2.avg as number);
    expect(so2.cou as number).toBeGreaterThan(0);
    const flow = aggregates.find((a) => a.point === 'dry_std_flow')!;
    expect(flow).toMatchObject({ device: 'stack1', hj212: 'a00000', unit: 'm3/s', flag: 'N' });
    // 12.4 m/s × 4 m2 at 128 °C, 8.2 % moisture: about 31 m3/s dry standard
    expect(flow.avg as number).toBeGreaterThan(25);
    expect(flow.avg as number).toBeLessThan(40);
    const exceedance = events.find((e) => e.kind === 'exceedance')!;
    expect(exceedance.payload).toMatchObject({
      state: 'raised',
      outlet: 'stack1',
      point: 'so2',
      period: 'minute',
      limit: 5,
    });
    // the data-quality checks mark readings without changing them, and health counts the marks
    const stale = readings.filter((r) => (r.quality as string[] | undefined)?.includes('stale'));
    expect(stale.length).toBeGreaterThan(0);
    expect(new Set(stale.map((r) => `${String(r.device)}/${String(r.point)}`))).toContain(
      'stack1-flue/humidity',
    );
    expect(stale.every((r) => r.flag === 'N' && typeof r.value === 'number')).toBe(true);
    expect(health!.processing).toMatchObject({
      waitingForLog: false,
      quality: { stale: expect.any(Number) },
    });
    expect((health!.processing as { samples: number }).samples).toBeGreaterThan(0);
  }, 120_000);
});
