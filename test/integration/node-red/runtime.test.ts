/**
 * The package as a Node-RED user gets it: built, packed, `npm install`ed into a fresh user
 * directory, and loaded by a real Node-RED 4.1 runtime (a child process) with the example flow
 * examples/node-red/site-dashboard.json. The flow polls the simulator through `lantian device`
 * and receives a gateway's stream (the real MQTT publisher over a real log, to a real Mosquitto)
 * through `lantian gateway`; the test reads both back from the flow's own dashboard JSON.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildPackage } from '../../../node-red/build.js';
import { openLog, type Log } from '../../../gateway/src/store/log.js';
import { MqttPublisher } from '../../../gateway/src/uplink/mqtt/publisher.js';
import { createKeyPair } from '../../../gateway/src/uplink/integrity/keys.js';
import { loadProfiles } from '../../../gateway/src/profiles/index.js';
import type { Simulator } from '../../../hardware-sim/src/index.js';
import { linkTo, startSim } from '../../fixtures/acquisition/sim.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { syntheticBatch } from '../../helpers/store-fixtures.js';
import { requireTool } from '../../helpers/tools.js';

const mosquitto = requireTool('mosquitto');
const EXAMPLE = fileURLToPath(new URL('../../../examples/node-red/site-dashboard.json', import.meta.url));
const RED_JS = createRequire(import.meta.url).resolve('node-red/red.js');
const DUST = loadProfiles().get('boling.dust-detector');

interface Site {
  devices: Record<
    string,
    { flag: string; values: Record<string, number | null>; units: Record<string, string> }
  >;
  gateway: Record<string, { seq: number; value: number | null; flag: string; integrity: string }>;
  stream: { lastSeq?: number; records?: number; gap?: number; duplicate?: number; integrity?: number };
}

let dir: string;
let sim: Simulator;
let broker: MosquittoBroker;
let log: Log;
let publisher: MqttPublisher;
let red: ChildProcess | undefined;
let redOutput = '';
let port: number;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

beforeAll(async () => {
  if (!mosquitto.available) return;
  dir = mkdtempSync(join(tmpdir(), 'lantian-node-red-'));
  const pkg = await buildPackage();
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], {
    cwd: pkg,
    encoding: 'utf8',
    timeout: 120_000,
  }).trim();
  const user = join(dir, 'user');
  execFileSync('mkdir', ['-p', user]);
  writeFileSync(join(user, 'package.json'), '{ "name": "node-red-user", "private": true }\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tgz)], {
    cwd: user,
    stdio: 'pipe',
    // Synchronous: a hung install would hold the worker past every test timeout.
    timeout: 180_000,
  });

  sim = await startSim(
    [{ name: 'rs485-1', kind: 'rtu-tcp' }],
    [{ id: 'dust1', profile: DUST.id, unit: 1, bus: 'rs485-1', example: 0, coldStart: false }],
  );
  const link = linkTo(sim, 'rs485-1');
  broker = await startMosquitto();
  log = openLog({ path: join(dir, 'gateway.db') });
  log.append(syntheticBatch(0, 20));
  // The gateway seals its records; the flow's gateway node holds its public key.
  const keys = createKeyPair(join(dir, 'keys'));
  publisher = new MqttPublisher(log, {
    url: broker.url,
    clientId: 'site-7-uplink',
    gatewayId: 'site-7',
    reconnectPeriodMs: 100,
    signingKey: keys.privateKey,
  });

  // The example flow as a user would edit it: their line, their broker.
  const flow = (JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>[]).map((n) => {
    if (n['id'] === 'ex-line') return { ...n, port: String(link.kind === 'rtu-tcp' ? link.port : 0) };
    if (n['id'] === 'ex-broker') return { ...n, port: String(broker.port) };
    if (n['id'] === 'ex-gateway') return { ...n, publicKey: readFileSync(keys.publicKey, 'utf8') };
    return n;
  });
  writeFileSync(join(user, 'flows.json'), JSON.stringify(flow));
  port = await freePort();
  red = spawn(process.execPath, [RED_JS, '--userDir', user, '--port', String(port), 'flows.json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  red.stdout!.on('data', (b: Buffer) => (redOutput += b.toString()));
  red.stderr!.on('data', (b: Buffer) => (redOutput += b.toString()));
  // The gateway publishes once the flow's subscription stands, so every record reaches it.
  const deadline = Date.now() + 60_000;
  while (!/Connected to broker/.test(redOutput)) {
    if (Date.now() > deadline || red.exitCode !== null)
      throw new Error(`Node-RED did not connect:\n${redOutput}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
  publisher.start();
}, 120_000);

afterAll(async () => {
  if (red && red.exitCode === null) {
    const exited = new Promise((r) => red!.once('exit', r));
    red.kill('SIGTERM');
    await exited;
  }
  await publisher?.stop();
  log?.close();
  await broker?.close();
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function site(): Promise<Site | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/lantian/site.json`);
    return res.ok ? ((await res.json()) as Site) : undefined;
  } catch {
    return undefined;
  }
}

mosquitto.it(
  'a real Node-RED runtime with the installed package and the example flow polls the simulator and receives the gateway stream',
  async () => {
    let s: Site | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      s = await site();
      if (s?.devices['dust1']?.flag === 'N' && (s.stream.records ?? 0) >= 20) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(s, `Node-RED said:\n${redOutput.slice(-3000)}`).toBeDefined();
    const dust = s!.devices['dust1']!;
    expect(dust.flag).toBe('N');
    expect(dust.values['pm10']).toBe(DUST.examples[0]!.values['pm10']);
    expect(dust.units['pm10']).toBe('ug/m3');
    expect(s!.stream.records).toBe(20);
    expect(s!.stream.lastSeq).toBe(20);
    expect(s!.stream.gap ?? 0).toBe(0);
    expect(s!.stream.duplicate ?? 0).toBe(0);
    const first = syntheticBatch(0, 1)[0]!;
    expect(s!.gateway[`site-7/${first.device}/${first.point}`], JSON.stringify(s)).toBeDefined();
    // Every record came sealed by the gateway's key and verified by the node.
    expect(
      Object.values(s!.gateway).every((r) => r.integrity === 'verified'),
      JSON.stringify(s!.gateway),
    ).toBe(true);
    expect(s!.stream.integrity ?? 0).toBe(0);
    // The dashboard page itself is served.
    const page = await fetch(`http://127.0.0.1:${port}/lantian/site`);
    expect(await page.text()).toContain('Gateway stream');
  },
  90_000,
);
