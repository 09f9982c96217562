/**
 * An exceedance through the real gateway takes a snapshot: the simulated stack analyzer's SO2
 * goes over a minute limit, processing raises the exceedance event, the camera service takes a
 * picture from a simulated Hikvision camera (digest auth over a real socket), the log stores it
 * as a blob linked to the event and the readings, and the publisher sends it to a real Mosquitto
 * in sealed parts no larger than maxMessageBytes. The platform witness (hardware-sim, its own
 * code) joins the parts back into exactly the camera's JPEG, and the verifier finds the chains
 * whole. The gateway's clock is shifted so the first minute ends a few seconds after the start.
 */
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { systemClock, type Clock } from '../../../gateway/src/core/clock.js';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { Gateway } from '../../../gateway/src/gateway.js';
import { createKeyPair } from '../../../gateway/src/uplink/integrity/keys.js';
import { parseCaptureLine, StreamVerifier } from '../../../gateway/src/uplink/integrity/verify.js';
import {
  loadScenario,
  startSimulator,
  withFreePorts,
  type Simulator,
} from '../../../hardware-sim/src/index.js';
import { startCamera, type SimCamera } from '../../../hardware-sim/src/camera/index.js';
import { startPlatform, type PlatformWitness } from '../../../hardware-sim/src/platform/index.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { requireTool } from '../../helpers/tools.js';
import { capture, type Capture } from '../../integration/integrity/capture.js';

const tools = requireTool('mosquitto');
const GW = 'gw-cam';
const MAX_BYTES = 2048;

let dir: string;
let sim: Simulator;
let camera: SimCamera;
let broker: MosquittoBroker;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lantian-cameras-e2e-'));
  sim = await startSimulator(withFreePorts(loadScenario('examples/sim/stack.yaml')));
  camera = await startCamera({ id: 'stack-cam', style: 'hikvision', username: 'admin', password: 'Cam#1' });
});

afterEach(async () => {
  await camera?.close();
  await sim?.stop();
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

function siteConfig(port: number, url: string, key: string): string {
  const secrets = join(dir, 'secrets.yaml');
  writeFileSync(secrets, 'stack-cam: "Cam#1"\n', { mode: 0o600 });
  const file = join(dir, 'site.yaml');
  writeFileSync(
    file,
    `version: 1
site: { id: test-site, name: Test site }
gateway: { id: ${GW} }
secretsFile: secrets.yaml
buses:
  stack1: { kind: rtu-over-tcp, host: 127.0.0.1, port: ${port}, baud: 9600, timeoutMs: 500, retries: 0 }
devices:
  stack1-uv: { profile: sdl.scs-900uv, bus: stack1, unitId: 1, periodMs: 1000 }
outlets:
  stack1:
    name: Stack 1
    devices: [stack1-uv]
    minSamplesPerMinute: 1
    limits:
      stack1-uv/so2: { max: 5, averaging: minute, corrected: false }
uplinks:
  mqtt: { url: '${url}', maxMessageBytes: ${MAX_BYTES}, signingKey: '${key}', healthIntervalMs: 1000 }
storage: { path: log.db, quotaMb: 64 }
cameras:
  stack-cam:
    protocol: hikvision
    url: ${camera.url}
    password: { secret: stack-cam }
    onEvents: [exceedance]
    devices: [stack1-uv]
`,
  );
  return file;
}

tools.it(
  'an exceedance takes a snapshot that reaches the platform in sealed parts, joined to the exact JPEG',
  async () => {
    broker = await startMosquitto();
    const keys = createKeyPair(join(dir, 'keys'));
    const port = sim.buses[0]!.port!;
    // The first minute of the shifted clock ends 6 s after the start.
    const now = Date.now();
    const offset = 60_000 - (now % 60_000) - 6_000;
    const clock: Clock = { ...systemClock, now: () => Date.now() + offset };
    const platform: PlatformWitness = await startPlatform({ url: broker.url, gatewayId: GW });
    const seen: Capture = await capture(broker.url, `lantian/v1/${GW}`, 'cam-capture');
    const gateway = new Gateway(loadSiteConfig(siteConfig(port, broker.url, keys.privateKey)), { clock });
    gateway.start();
    try {
      const stats = await platform.waitFor(
        () => [...platform.blobs.values()].some((b) => b.source === 'stack-cam'),
        60_000,
      );
      expect(stats.invalid).toBe(0);
      const log = gateway.log;
      const exceedance = log.latestEvent('exceedance')!;
      expect(exceedance.payload).toMatchObject({ state: 'raised', device: 'stack1-uv', point: 'so2' });
      const blob = log.latestBlob('snapshot', 'stack-cam')!;
      expect(blob.trigger).toMatchObject({
        reason: 'event',
        event: exceedance.seq,
        eventKind: 'exceedance',
        device: 'stack1-uv',
        point: 'so2',
      });
      // The newest so2 reading when the picture was taken: a reading of that point, before the blob.
      const [reading] = blob.trigger!.readings!;
      expect(log.read(reading! - 1, 1)[0]).toMatchObject({
        type: 'reading',
        device: 'stack1-uv',
        point: 'so2',
      });
      expect(reading!).toBeLessThan(blob.seq);

      const served = camera.served.at(-1)!.jpeg;
      expect(Buffer.from(blob.bytes).equals(served)).toBe(true);
      const received = platform.blobs.get(blob.seq)!;
      expect(received.bytes.equals(served)).toBe(true);
      expect(received.parts).toBeGreaterThan(1);

      await seen.waitFor(
        (lines) => lines.filter((l) => l.includes('/blob/snapshot ')).length >= received.parts,
      );
      const parts = seen.lines.filter((l) => l.includes('/blob/snapshot '));
      for (const l of parts) expect(Buffer.byteLength(l) - l.indexOf(' ') - 1).toBeLessThanOrEqual(MAX_BYTES);
      // Health is refreshed every second: the next one says the camera is online.
      const online = await platform.waitFor(
        (s) => JSON.stringify(s.health?.cameras ?? []).includes('"online"'),
        10_000,
      );
      expect(online.health?.cameras).toEqual([
        expect.objectContaining({ camera: 'stack-cam', state: 'online', snapshots: 1, failures: 0 }),
      ]);
    } finally {
      await gateway.stop();
      await platform.close();
    }
    const verifier = new StreamVerifier(createPublicKey(readFileSync(keys.publicKey)));
    seen.lines.forEach((l, i) => {
      const m = parseCaptureLine(l, i + 1);
      if (m) verifier.push(m);
    });
    await seen.close();
    const report = verifier.finish();
    expect(report.findings).toEqual([]);
    expect(report.epochs[0]!.records).toBeGreaterThan(10);
  },
  120_000,
);
