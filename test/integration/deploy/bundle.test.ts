/**
 * The gateway as shipped (gateway/build.ts: one esbuild bundle in place of tsc's ~200 files),
 * bundled here from the sources and run as the service runs it: `node <bundle>/main.js`. It must
 * find the package's version and profile library from its new place, start its acquisition thread
 * from the file beside it, load the native SQLite addon from node_modules, poll the simulator over
 * real sockets, log and forward to a real broker, and stop cleanly on SIGTERM.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleGateway } from '../../../gateway/build.js';
import { openLog } from '../../../gateway/src/store/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../gateway/src/uplink/mqtt/broker.js';
import { startPlatform, type PlatformWitness } from '../../../hardware-sim/src/platform/index.js';
import {
  loadScenario,
  startSimulator,
  withFreePorts,
  type Simulator,
} from '../../../hardware-sim/src/index.js';
import { mosquittoBinary, startMosquitto } from '../../helpers/broker.js';
import { packageRoot } from '../../helpers/cli.js';
import { stackSiteYaml } from '../../helpers/stack-site.js';

let work: string;
let main: string;
let sim: Simulator;
let broker: EmbeddedBroker;
let receiver: PlatformWitness;

beforeAll(async () => {
  // Inside the package, as dist/lantian is: the bundle finds device-profiles/ and package.json by
  // walking up from itself.
  mkdirSync(join(packageRoot, '.tmp'), { recursive: true });
  work = mkdtempSync(join(packageRoot, '.tmp', 'bundle-'));
  main = await bundleGateway({ outdir: join(work, 'lantian'), fromSources: true });
  sim = await startSimulator(withFreePorts(loadScenario('examples/sim/stack.yaml')));
  broker = await startEmbeddedBroker({ port: 0 });
  receiver = await startPlatform({ url: broker.url, gatewayId: 'gw-bundle', keepReadings: true });
}, 60_000);

afterAll(async () => {
  await receiver?.close();
  await broker?.close();
  await sim?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [main, ...args], { cwd: work, timeout: 60_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, stdout, stderr }),
    ),
  );
}

/**
 * node's flags as deploy/lantian.service starts the daemon: its NODE_OPTIONS, and the flags on
 * ExecStart before the bundle (V8's lite mode, which NODE_OPTIONS refuses).
 */
function serviceNode(): { args: string[]; nodeOptions: string } {
  const unit = readFileSync(join(packageRoot, 'deploy/lantian.service'), 'utf8');
  const exec = /^ExecStart=\/usr\/bin\/node (.*?) ?\/opt\/lantian\/dist\/lantian\/main\.js run /m.exec(unit);
  const env = /^Environment="NODE_OPTIONS=([^"]*)"$/m.exec(unit);
  if (!exec || !env) throw new Error('deploy/lantian.service: no ExecStart or NODE_OPTIONS as expected');
  return { args: exec[1]!.split(' ').filter((a) => a !== ''), nodeOptions: env[1]! };
}

/** The bundled daemon on `config`, started as the service starts it; its output kept. */
function startDaemon(config: string): {
  child: ReturnType<typeof spawn>;
  output: () => string;
  exited: Promise<number | null>;
} {
  const node = serviceNode();
  const child = spawn(process.execPath, [...node.args, main, 'run', '--config', config], {
    cwd: work,
    env: { ...process.env, NODE_OPTIONS: node.nodeOptions },
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

function siteConfig(brokerUrl = broker.url, gatewayId = 'gw-bundle'): string {
  const file = join(work, 'site.yaml');
  writeFileSync(
    file,
    stackSiteYaml({
      simPort: sim.buses[0]!.port!,
      brokerUrl,
      gatewayId,
      gatewayExtra: ', acquisitionThread: true',
      siteId: 'bundle-site',
    }),
  );
  return file;
}

/** Every chunk of the bundle, one text. */
function bundleText(): string {
  return readdirSync(join(work, 'lantian'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(work, 'lantian', f), 'utf8'))
    .join('\n');
}

describe('the bundled gateway', () => {
  it('is one directory of ES modules: the CLI, its acquisition thread and their shared chunks', () => {
    const files = readdirSync(join(work, 'lantian'));
    expect(files).toContain('main.js');
    expect(files).toContain('thread-worker.js');
    expect(files.filter((f) => f.endsWith('.js')).length).toBeLessThan(80);
    // Source maps lead back to the TypeScript.
    const map = JSON.parse(readFileSync(join(work, 'lantian', 'main.js.map'), 'utf8')) as {
      sources: string[];
    };
    expect(map.sources.some((s) => s.endsWith('gateway/src/cli/main.ts'))).toBe(true);
  });

  it('knows its version and checks a config against the profile library', async () => {
    const version = (
      JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }
    ).version;
    const v = await run(['--version']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(version);
    const checked = await run(['check-config', siteConfig()]);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/valid: .*1 bus, 3 devices/);
  });

  it("runs the daemon with the service's flags: polls in its thread, logs, forwards every reading exact and stops on SIGTERM", async () => {
    expect(serviceNode().args).toContain('--lite-mode');
    const { child, output, exited } = startDaemon(siteConfig());
    try {
      const so2Seen = () =>
        [...receiver.readings.values()].filter((r) => r.device === 'stack1-uv' && r.point === 'so2').length;
      await receiver.waitFor(() => so2Seen() >= 4, 30_000);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, output()).toBe(0);
    const out = output();
    expect(out).toContain('"msg":"gateway started"');
    expect(out).toContain('"msg":"gateway stopped"');
    expect(out).not.toContain('acquisition thread failed');
    // Nothing from node or V8 about the flags (lite mode's WebAssembly warning is silenced), and
    // nothing from the gateway either: they suit a site this small.
    expect(out).not.toMatch(/warning/i);
    expect(out).not.toContain('"rule":');

    const log = openLog({ path: join(work, 'log.db') });
    const logged = log.read(0, 1_000_000).filter((r) => r.type === 'reading');
    log.close();
    expect(new Set(logged.map((r) => r.device))).toEqual(
      new Set(['stack1-dust', 'stack1-flue', 'stack1-uv']),
    );
    // What the gateway had acknowledged before it stopped reaches the platform, and exact.
    await receiver.waitFor(() => logged.every((r) => receiver.readings.has(r.seq)), 10_000);
    expect(receiver.stats().holes).toEqual([]);
    for (const { type: _type, ...reading } of logged)
      expect(receiver.readings.get(reading.seq), `seq ${reading.seq}`).toEqual(reading);
    const so2 = logged.filter((r) => r.device === 'stack1-uv' && r.point === 'so2');
    expect(so2.length).toBeGreaterThan(3);
    for (const r of so2) {
      expect(r.flag).toBe('N');
      expect(r.value as number).toBeGreaterThan(20);
    }
  }, 60_000);

  it("warns when the site outgrows the service's flags: lite mode past 1 000 readings/s", async () => {
    // 60 analysers at 100 ms behind a closed port: polls fail, the plan is what counts.
    const devices = Array.from(
      { length: 60 },
      (_, i) => `  busy-${i}: { profile: sdl.scs-900uv, bus: closed, unitId: ${i + 1}, periodMs: 100 }`,
    );
    const config = join(work, 'busy.yaml');
    writeFileSync(
      config,
      `version: 1\nsite: { id: busy, name: Busy }\ngateway: { id: gw-busy }\nbuses:\n  closed: { kind: tcp, host: 127.0.0.1, port: 1 }\ndevices:\n${devices.join('\n')}\nstorage: { path: busy.db }\n`,
    );
    const { child, output, exited } = startDaemon(config);
    const advice = () =>
      output()
        .split('\n')
        .find((l) => l.includes('"rule":"lite-mode"'));
    try {
      const until = Date.now() + 30_000;
      while (!advice() && Date.now() < until && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, output()).toBe(0);
    const line = JSON.parse(advice() ?? '{}') as { level?: number; msg?: string };
    expect(line.level).toBe(40);
    expect(line.msg).toMatch(
      /lite mode.* this site plans [\d,]+, each at about twice the CPU: start node without --lite-mode/,
    );
    // Its heap limit suits its points (fewer than 5 000): no heap advice.
    expect(output()).not.toContain('"rule":"heap"');
  }, 60_000);

  it("leaves zod's locales out but English, and mqtt.js's WebSocket and SOCKS transports to node_modules", async () => {
    const text = bundleText();
    // zod's German and Chinese messages; its English ones are the gateway's default.
    expect(text).not.toContain('Ungültige Eingabe');
    expect(text).not.toContain('无效输入');
    expect(text).toContain('Invalid input');
    // The transports are required by name, from the package's node_modules.
    expect(text).toMatch(/require\("ws"\)/);
    expect(text).toMatch(/require\("socks"\)/);
    // What zod finds still reads as the gateway words it, in English.
    const bad = join(work, 'bad.yaml');
    writeFileSync(
      bad,
      'version: 1\nsite: { id: s, name: 5 }\ngateway: { id: g }\nbuses: {}\ndevices: {}\nstorage: { path: x.db }\n',
    );
    const checked = await run(['check-config', bad]);
    expect(checked.code).toBe(2);
    expect(checked.stdout + checked.stderr).toContain('site.name: expected string, got 5 (line 2)');
  });

  it('carries the outgoing check compiled ahead, without ajv', () => {
    const text = bundleText();
    // ajv's compiler and its classes are not in the bundle; the generated check and the one
    // run-time helper it requires are. (The daemon above ran with the check on: its default.)
    expect(text).not.toContain('Ajv2020');
    expect(text).not.toContain('compileSchema');
    expect(text).toMatch(/function batchValidators\(\)\{return\{readings,aggregates\}\}/);
    expect(text).toContain('ucs2length');
  });
});

describe.skipIf(!mosquittoBinary())('the bundled gateway over MQTT on WebSocket', () => {
  it("loads mqtt.js's WebSocket transport from node_modules and forwards through it", async () => {
    const mosquitto = await startMosquitto({ websockets: true });
    const platform = await startPlatform({
      url: mosquitto.url,
      gatewayId: 'gw-bundle-ws',
      keepReadings: true,
    });
    const child = spawn(
      process.execPath,
      [main, 'run', '--config', siteConfig(mosquitto.wsUrl, 'gw-bundle-ws')],
      {
        cwd: work,
      },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await platform.waitFor(() => platform.readings.size >= 3, 30_000);
    } finally {
      child.kill('SIGTERM');
      await platform.close();
      await mosquitto.close();
    }
    expect(await exited, out).toBe(0);
    expect([...platform.readings.values()].every((r) => r.device.startsWith('stack1-'))).toBe(true);
  }, 60_000);
});
