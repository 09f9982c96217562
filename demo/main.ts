/**
 * `npm run demo`: a whole simulated site through the real gateway.
 *
 *   simulator (stack bus as RTU over TCP, analyzer on Modbus TCP, dust monitor on a pty)
 *     -> `lantian run` (the real gateway, a child process, with examples/site.yaml)
 *     -> embedded MQTT broker -> the platform witness (hardware-sim/src/platform), which checks the
 *        stream against the published JSON Schema, independently of the gateway's code
 *
 * A scripted timeline shows what the gateway is for: a device goes silent (flagged B, the
 * others unaffected), the broker restarts (backlog grows, then drains), an analyzer
 * calibrates (flagged C). `--duration S` runs headless and ends with one summary line.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadProfiles } from '../gateway/src/profiles/index.js';
import { startEmbeddedBroker } from '../gateway/src/uplink/mqtt/broker.js';
import { loadScenario, startSimulator } from '../hardware-sim/src/index.js';
import { startPlatform } from '../hardware-sim/src/platform/index.js';
import { checkRun, countLog, type Verdict } from './verdict.js';
import { render, type Latest } from './view.js';
import { writeDemoConfig } from './site.js';
import { startHj212Demo } from './hj212.js';

const GATEWAY_ID = 'hengda-gw1';
/** Scripted broker outage, seconds after start (the simulator's own timeline is in the scenario). */
const BROKER_DOWN_AT_S = 14;
const BROKER_DOWN_FOR_S = 7;

const { values } = parseArgs({
  options: { duration: { type: 'string' }, 'hj212-transcripts': { type: 'string' } },
});
const durationS = values.duration === undefined ? undefined : Number(values.duration);
if (durationS !== undefined && !(durationS >= 30)) {
  console.error('demo: --duration must be a number of seconds, at least 30 (the timeline needs them)');
  process.exit(2);
}

const live = durationS === undefined && process.stdout.isTTY;
const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'lantian-demo-'));
const timeline: string[] = [];
let t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;
const note = (text: string) => {
  timeline.push(`${elapsed().toFixed(0).padStart(3)} s  ${text}`);
  // The live view shows the timeline itself; anywhere else (a pipe, --duration) it is printed.
  if (!live) console.log(`demo: ${timeline.at(-1)!.trim()}`);
};

const scenario = loadScenario('demo/scenario.yaml');
if (!hasSocat) {
  // Without socat there are no pseudo-terminals: the dust monitor sits behind a device server.
  for (const b of scenario.buses) if (b.kind === 'pty') b.kind = 'rtu-tcp';
}
const hj212 = await startHj212Demo(values['hj212-transcripts']);
const sim = await startSimulator(scenario);
// The scenario's timeline (+8s, +24s) counts from here; so does the demo's.
t0 = performance.now();
const broker = await startEmbeddedBroker({ port: 0 });
const configFile = writeDemoConfig(dir, sim.buses, broker.url);
hj212.configure(configFile);
const receiver = await startPlatform({ url: broker.url, gatewayId: GATEWAY_ID, keepReadings: true });
const profiles = loadProfiles();
note(`simulator up: ${sim.buses.map((b) => `${b.name} ${b.address}`).join(', ')}`);

const logFd = openSync(join(dir, 'gateway.log'), 'a');
const gateway: ChildProcess = spawn(
  process.execPath,
  // The heap limits a Pi-class gateway runs with (docs/store.md): the demo proves they suffice.
  [
    '--max-old-space-size=64',
    '--max-semi-space-size=8',
    'bin/lantian.js',
    'run',
    '--config',
    configFile,
    '--log-level',
    'warn',
  ],
  { stdio: ['ignore', logFd, logFd] },
);
let gatewayExit: Promise<number | null> = new Promise((resolve) =>
  gateway.once('exit', (code) => resolve(code)),
);
note(`gateway started (pid ${gateway.pid}), log in ${join(dir, 'gateway.log')}`);
note('stack1-dust will stop answering at 8 s for 10 s; stack1-gas calibrates at 24 s');

const timers: NodeJS.Timeout[] = [];
timers.push(
  setTimeout(() => {
    note('broker stops (the gateway keeps logging; backlog grows)');
    void broker.stop();
  }, BROKER_DOWN_AT_S * 1000),
  setTimeout(
    () => {
      note('broker back (the gateway replays its backlog while live data keeps flowing)');
      void broker.start();
    },
    (BROKER_DOWN_AT_S + BROKER_DOWN_FOR_S) * 1000,
  ),
  setTimeout(() => note('stack1-dust answers again'), 18_000),
  setTimeout(() => note('stack1-gas calibration starts (readings flagged C)'), 24_000),
);

const latest = new Map<string, Map<string, Latest>>();
let seenSeq = 0;
function refreshLatest(): void {
  const readings = [...receiver.readings.values()].filter((r) => r.seq > seenSeq);
  for (const r of readings.sort((a, b) => a.seq - b.seq)) {
    const m = latest.get(r.device) ?? new Map<string, Latest>();
    const prior = m.get(r.point);
    if (!prior || prior.ts <= r.ts) m.set(r.point, { value: r.value, flag: r.flag, ts: r.ts });
    latest.set(r.device, m);
    seenSeq = Math.max(seenSeq, r.seq);
  }
}

const devices = sim.control.devices().map((d) => ({ id: d.id, profile: d.profile ?? '', bus: d.bus }));
let stopping = false;
const finished = new Promise<void>((resolve) => {
  const stop = () => {
    if (stopping) return;
    stopping = true;
    resolve();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (durationS !== undefined) timers.push(setTimeout(stop, durationS * 1000));
  gatewayExit = gatewayExit.then((code) => {
    if (!stopping) note(`gateway exited on its own (code ${code}); see ${join(dir, 'gateway.log')}`);
    stop();
    return code;
  });
});

const painter = live
  ? setInterval(() => {
      refreshLatest();
      const view = render(
        {
          elapsedS: elapsed(),
          timeline,
          devices: devices.filter((d) => d.profile !== ''),
          latest,
          stats: receiver.stats(),
          acquired: receiver.stats().health?.log.lastSeq ?? 0,
        },
        profiles,
      );
      process.stdout.write(`\x1b[H\x1b[2J${view}\n`);
    }, 1000)
  : undefined;

await finished;
for (const t of timers) clearTimeout(t);
if (painter) clearInterval(painter);
// Stopped during an outage: bring the broker back so the gateway can drain before it exits.
await broker.start().catch((e: unknown) => note(`broker could not restart: ${String(e)}`));

// Stop the gateway the way a service manager does; it drains its uplink before it exits.
if (gateway.exitCode === null) gateway.kill('SIGTERM');
const exitCode = await gatewayExit;
let verdict: Verdict | undefined;
try {
  const log = countLog(join(dir, 'log.db'));
  // Whatever the gateway published before it exited is at the broker: give it a moment to land.
  await receiver.waitFor((s) => s.maxSeq >= log.lastSeq, 5000).catch(() => undefined);
  verdict = checkRun(log, receiver, {
    devices: devices.map((d) => d.id),
    silentDevice: 'stack1-dust',
    silentFromS: 8,
    silentForS: 10,
    calibrating: 'stack1-gas',
    calibrationAtS: 24,
    brokerBackAtS: BROKER_DOWN_AT_S + BROKER_DOWN_FOR_S,
    ranForS: elapsed(),
  });
} finally {
  await receiver.close();
  await broker.close();
  await sim.stop();
  await hj212.stop();
}
if (live) process.stdout.write('\n');
for (const line of verdict?.checks ?? []) console.log(`demo: ${line}`);
for (const line of hj212.summary()) console.log(`demo: ${line}`);
const v = verdict ?? { acquired: 0, delivered: 0, lost: 0, ok: false, checks: [] };
console.log(`demo: ${v.acquired} readings acquired, ${v.delivered} delivered, ${v.lost} lost`);
const ok = v.ok && exitCode === 0;
if (ok) rmSync(dir, { recursive: true, force: true });
else console.log(`demo: gateway log and data kept in ${dir}`);
process.exit(ok ? 0 : 1);
