/**
 * The composition root against real parts: the simulator's stack bus over RTU-over-TCP, the
 * embedded broker, a real SQLite log, and the platform-side receiver.
 */
import { clientIdOf, resolveOptions } from '../../../gateway/src/uplink/mqtt/options.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { Gateway, mqttOptions } from '../../../gateway/src/gateway.js';
import { ThreadedAcquisition } from '../../../gateway/src/acquisition/threaded.js';
import { stackSiteYaml } from '../../helpers/stack-site.js';
import { openLog } from '../../../gateway/src/store/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../gateway/src/uplink/mqtt/broker.js';
import { startPlatform, type PlatformWitness } from '../../../hardware-sim/src/platform/index.js';
import {
  loadScenario,
  startSimulator,
  withFreePorts,
  type Simulator,
} from '../../../hardware-sim/src/index.js';

let dir: string;
let sim: Simulator;
let broker: EmbeddedBroker;
let receiver: PlatformWitness;

function siteConfig(port: number, brokerUrl: string, gatewayExtra = ''): string {
  const file = join(dir, 'site.yaml');
  writeFileSync(file, stackSiteYaml({ simPort: port, brokerUrl, gatewayId: 'gw-test', gatewayExtra }));
  return file;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lantian-gateway-'));
  sim = await startSimulator(withFreePorts(loadScenario('examples/sim/stack.yaml')));
  broker = await startEmbeddedBroker({ port: 0 });
  receiver = await startPlatform({ url: broker.url, gatewayId: 'gw-test', keepReadings: true });
});

afterEach(async () => {
  await receiver.close();
  await broker.close();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the gateway built from a site config', () => {
  it('polls every device, logs every reading and delivers exactly what it logged, across a restart', async () => {
    const port = sim.buses[0]!.port!;
    const loaded = loadSiteConfig(siteConfig(port, broker.url));
    expect(clientIdOf(resolveOptions(mqttOptions(loaded)!))).toBe('lantian-gw-test');
    expect(mqttOptions(loaded)).toMatchObject({
      gatewayId: 'gw-test',
      topicRoot: 'lantian/v1',
      batch: { maxReadings: 50 },
    });

    const first = new Gateway(loaded);
    first.start();
    // One unanswered request: its readings carry flag B and the reason in quality.
    sim.control.inject({ kind: 'no-answer', device: 'stack1-dust', count: 1 });
    await receiver.waitFor((s) => s.records >= 60, 15_000);
    await first.stop();
    const afterFirst = receiver.stats().maxSeq;

    // A second run on the same log continues the sequence; nothing is numbered twice.
    const second = new Gateway(loadSiteConfig(join(dir, 'site.yaml')));
    second.start();
    await receiver.waitFor((s) => s.maxSeq >= afterFirst + 30, 15_000);
    await second.stop();

    const log = openLog({ path: join(dir, 'log.db') });
    const logged = log.read(0, 1_000_000).filter((r) => r.type === 'reading');
    log.close();
    const s = receiver.stats();
    expect(s.holes).toEqual([]);
    expect(s.duplicates).toBe(0);
    expect(new Set(logged.map((r) => r.seq)).size).toBe(logged.length);
    // End to end, every field: the value, its flag, the reasons for it and the register words.
    for (const { type: _type, ...reading } of logged)
      expect(receiver.readings.get(reading.seq), `seq ${reading.seq}`).toEqual(reading);
    expect(logged.every((r) => r.flag === 'B' || (r.raw?.length ?? 0) > 0)).toBe(true);
    expect(logged.some((r) => (r.quality?.length ?? 0) > 0)).toBe(true);

    const devices = new Set(logged.map((r) => r.device));
    expect([...devices].sort()).toEqual(['stack1-dust', 'stack1-flue', 'stack1-uv']);
    const so2 = logged.filter((r) => r.device === 'stack1-uv' && r.point === 'so2');
    expect(so2.length).toBeGreaterThan(3);
    for (const r of so2) {
      expect(r.flag).toBe('N');
      expect(r.value as number).toBeGreaterThan(20);
      expect(r.value as number).toBeLessThan(60);
    }
    // The retained health message carries the acquisition engine's view of the bus.
    const health = s.health?.acquisition;
    expect(health?.buses[0]).toMatchObject({ bus: 'stack1', connected: expect.any(Boolean) });
    expect(health?.devices.map((d) => d.device).sort()).toEqual(['stack1-dust', 'stack1-flue', 'stack1-uv']);
    // Three devices at a few readings a second leave the main thread idle: never held back.
    expect(health?.admission).toEqual({ holding: false, holds: 0, heldMs: 0 });
  }, 60_000);

  it('polls in a worker thread when the config asks: the same readings, exact, with health, a restart and a clean stop', async () => {
    const port = sim.buses[0]!.port!;
    const loaded = loadSiteConfig(siteConfig(port, broker.url, ', acquisitionThread: true'));
    const gateway = new Gateway(loaded);
    expect(gateway.acquisition).toBeInstanceOf(ThreadedAcquisition);
    gateway.start();
    await receiver.waitFor((s) => s.records >= 40, 15_000);
    // Commands reach the thread: the engine restarts on fresh links and polling goes on.
    await gateway.acquisition.restart();
    const before = receiver.stats().records;
    await receiver.waitFor((s) => s.records >= before + 30, 15_000);
    expect(
      gateway.acquisition
        .health()
        .devices.map((d) => d.device)
        .sort(),
    ).toEqual(['stack1-dust', 'stack1-flue', 'stack1-uv']);
    expect(gateway.acquisition.health().devices.every((d) => d.polls > 0)).toBe(true);
    await gateway.stop();

    const log = openLog({ path: join(dir, 'log.db') });
    const logged = log.read(0, 1_000_000).filter((r) => r.type === 'reading');
    log.close();
    const s = receiver.stats();
    expect(s.holes).toEqual([]);
    for (const { type: _type, ...reading } of logged)
      expect(receiver.readings.get(reading.seq), `seq ${reading.seq}`).toEqual(reading);
    // Nothing fails because of the thread: every reading answered, none cut short by the stop.
    expect(logged.filter((r) => r.flag !== 'N')).toEqual([]);
    const so2 = logged.filter((r) => r.device === 'stack1-uv' && r.point === 'so2');
    expect(so2.length).toBeGreaterThan(3);
    for (const r of so2) expect(r.value as number).toBeGreaterThan(20);
  }, 60_000);
});
