/**
 * `npm run demo`: a whole simulated site through the real gateway.
 *
 *   simulator (stack bus as RTU over TCP, analyzer on Modbus TCP, dust monitor on a pty)
 *     -> `lantian run` (the real gateway, a child process, with examples/site.yaml)
 *     -> embedded MQTT broker -> the platform witness (hardware-sim/src/platform), which checks the
 *        stream against the published JSON Schema, independently of the gateway's code
 *
 * The verdict is kept from the devices' side (books.ts): every value the simulated devices served
 * against every reading the platform received. A scripted timeline (timeline.ts) shows what the
 * gateway is for: a device goes silent (flagged B, the others unaffected), the broker restarts
 * (backlog grows, then drains), an analyzer calibrates (flagged C).
 *
 * On a terminal: a live view until Ctrl-C. Otherwise: progress lines every few seconds until
 * SIGINT or SIGTERM. `--duration S` stops S seconds after every device has delivered. Every way
 * of stopping ends the same: the broker back, the gateway stopped with SIGTERM and drained, the
 * verdict; exit 0 only when nothing was lost.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadProfiles } from '../gateway/src/profiles/index.js';
import { startEmbeddedBroker } from '../gateway/src/uplink/mqtt/broker.js';
import { loadScenario, startSimulator } from '../hardware-sim/src/index.js';
import { startPlatform } from '../hardware-sim/src/platform/index.js';
import { Books } from './books.js';
import { startGateway } from './gateway-child.js';
import { readLog, undelivered } from './log.js';
import type { Check, DemoContext, DemoPart } from './parts.js';
import { footprintPart } from './footprint.js';
import { processingPart } from './processing.js';
import { hj212Part, startHj212Demo } from './hj212.js';
import { integrityPart } from './integrity.js';
import { siteIoPart } from './site-io.js';
import { writeDemoConfig } from './site.js';
import { TIMELINE_TEXT, runTimeline } from './timeline.js';
import { FlagLog, checkLine, judge } from './verdict.js';
import { render, type Latest } from './view.js';

const GATEWAY_ID = 'hengda-gw1';
/** Other parts of the demo (demo/<area>.ts), each adding its own config, steps and checks. */
const PARTS: DemoPart[] = [processingPart(GATEWAY_ID)];
/** Progress lines without a terminal, every this many seconds. */
const PROGRESS_EVERY_S = 5;
/** The timeline starts anyway when not every device has delivered by then. */
const SITE_UP_WAIT_S = 60;
/** How long a stop during an outage waits for the gateway to reconnect before stopping it. */
const RECONNECT_WAIT_S = 15;
/** Roles of the points the gateway polls by default (docs/acquisition.md): the ones it must deliver. */
const DELIVERED_ROLES = new Set(['measurement', 'status']);

const { values } = parseArgs({
  options: {
    duration: { type: 'string' },
    'hj212-transcripts': { type: 'string' },
    capture: { type: 'string' },
  },
});
const durationS = values.duration === undefined ? undefined : Number(values.duration);
if (durationS !== undefined && !(durationS > 0)) {
  console.error('demo: --duration must be a number of seconds above 0');
  process.exit(2);
}

const live = durationS === undefined && process.stdout.isTTY === true;
const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'lantian-demo-'));
const timeline: string[] = [];
const started = performance.now();
/** The timeline's zero: when every device has delivered (until then, the demo's start). */
let zero: number | undefined;
const elapsed = () => (performance.now() - (zero ?? started)) / 1000;
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
const sim = await startSimulator(scenario);
// The authorities' platforms (a 2017 city one, a 2025 provincial one with SM4) listen before the
// gateway's config names their ports.
PARTS.push(hj212Part(await startHj212Demo(values['hj212-transcripts'])));
const broker = await startEmbeddedBroker({ port: 0 });
const platform = await startPlatform({ url: broker.url, gatewayId: GATEWAY_ID });
PARTS.push(await integrityPart(GATEWAY_ID, broker.url, values.capture));
PARTS.push(await siteIoPart(dir));
const profiles = loadProfiles();
const devices = sim.control
  .devices()
  .flatMap((d) => (d.profile ? [{ id: d.id, profile: d.profile, bus: d.bus }] : []));
const roles = new Map(
  devices.flatMap((d) => profiles.get(d.profile).points.map((p) => [`${d.id}/${p.key}`, p.role] as const)),
);
const books = new Books((device, point) => DELIVERED_ROLES.has(roles.get(`${device}/${point}`) ?? ''));
sim.control.onServed((v) => books.serve(v));
const flags = new FlagLog();
const latest = new Map<string, Map<string, Latest>>();
const delivering = new Set<string>();
let siteUp: () => void = () => undefined;
const up = new Promise<void>((resolve) => (siteUp = resolve));
const simulated = new Set(devices.map((d) => d.id));
platform.onReading((r) => {
  // The books are the simulated devices' (the site I/O board's readings are its part's to judge).
  if (!simulated.has(r.device)) return;
  books.deliver(r);
  flags.note(r);
  const m = latest.get(r.device) ?? new Map<string, Latest>();
  const prior = m.get(r.point);
  if (!prior || prior.ts <= r.ts) m.set(r.point, { value: r.value, flag: r.flag, ts: r.ts });
  latest.set(r.device, m);
  if (r.flag !== 'B') delivering.add(r.device);
  if (devices.every((d) => delivering.has(d.id))) siteUp();
});

const ctx: DemoContext = { sim, brokerUrl: broker.url, platform, dir, note };
const configFile = writeDemoConfig(dir, sim.buses, broker.url, (raw) => {
  for (const p of PARTS) p.configure?.(raw, ctx);
});
note(`simulator up: ${sim.buses.map((b) => `${b.name} ${b.address}`).join(', ')}`);
const gateway = startGateway(configFile, join(dir, 'gateway.log'));
note(`gateway started (pid ${gateway.pid}), log in ${join(dir, 'gateway.log')}`);
PARTS.push(footprintPart(() => gateway.pid));

/** The broker as the timeline drives it: the demo must know whether it was down at the stop. */
let brokerDownAt: number | undefined;
const stageBroker = {
  stop: () => {
    brokerDownAt = Date.now();
    return broker.stop();
  },
  start: async () => {
    await broker.start();
    brokerDownAt = undefined;
  },
};

let stopReason: string | undefined;
let requestStop: (why: string) => void = () => undefined;
const stopRequested = new Promise<void>((resolve) => {
  requestStop = (why) => {
    if (stopReason !== undefined) return;
    stopReason = why;
    resolve();
  };
});
let firstSignalAt: number | undefined;
const onSignal = (signal: NodeJS.Signals) => {
  // A terminal's Ctrl-C may reach the demo twice (from the terminal and relayed by npm):
  // only a second press, a moment later, stops without waiting for the gateway to drain.
  if (firstSignalAt === undefined) {
    firstSignalAt = performance.now();
    requestStop(signal === 'SIGINT' ? 'interrupted' : `${signal} received`);
    if (live)
      process.stdout.write('\nstopping: the gateway drains its backlog first (Ctrl-C again: at once)\n');
  } else if (performance.now() - firstSignalAt > 1000) {
    gateway.kill();
    process.exit(130);
  }
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
void gateway.exited.then((code) => requestStop(`gateway exited on its own (code ${code})`));

let cancelTimeline = () => undefined as void;
let durationTimer: NodeJS.Timeout | undefined;
const upTimer = setTimeout(() => {
  note(`not every device delivered within ${SITE_UP_WAIT_S} s; the timeline starts anyway`);
  siteUp();
}, SITE_UP_WAIT_S * 1000);
void up.then(async () => {
  clearTimeout(upTimer);
  if (stopReason !== undefined) return;
  zero = performance.now();
  note(`every device delivering: the timeline starts (${TIMELINE_TEXT})`);
  cancelTimeline = runTimeline({ sim, broker: stageBroker, note });
  if (durationS !== undefined)
    durationTimer = setTimeout(() => requestStop('duration reached'), durationS * 1000);
  for (const p of PARTS) await p.start?.(ctx);
});

const ticker = setInterval(
  () => {
    const stats = platform.stats();
    const totals = books.snapshot();
    if (live) {
      const view = render({ elapsedS: elapsed(), timeline, devices, latest, stats, books: totals }, profiles);
      process.stdout.write(`\x1b[H\x1b[2J${view}\n`);
      return;
    }
    const served = totals.reduce((n, d) => n + d.served, 0);
    const delivered = totals.reduce((n, d) => n + d.delivered, 0);
    const h = stats.health;
    const uplink = h
      ? `uplink ${stats.state?.state ?? '?'} (${h.uplink.lane}, backlog ${h.uplink.backlog})`
      : 'no health yet';
    console.log(
      `demo: ${elapsed().toFixed(0).padStart(3)} s  progress: devices served ${served} values, platform has ${delivered}; ${uplink}`,
    );
  },
  (live ? 1 : PROGRESS_EVERY_S) * 1000,
);

await stopRequested;
const ranForS = zero === undefined ? 0 : elapsed();
cancelTimeline();
clearTimeout(durationTimer);
clearTimeout(upTimer);
clearInterval(ticker);
if (live) process.stdout.write('\n');
console.log(
  `demo: stopping (${stopReason}): the broker back if it was down, then the gateway stops and drains`,
);
if (brokerDownAt !== undefined) {
  // Stopped during an outage: bring the broker back and let the gateway reconnect (its state
  // says online again), so it can drain its backlog before it exits.
  const downAt = brokerDownAt;
  await stageBroker
    .start()
    .catch((e: unknown) => console.log(`demo: broker could not restart: ${String(e)}`));
  await platform
    .waitFor((s) => s.state?.state === 'online' && s.state.ts >= downAt, RECONNECT_WAIT_S * 1000)
    .catch(() => console.log(`demo: the gateway did not reconnect within ${RECONNECT_WAIT_S} s`));
}
const stopAt = Date.now();
const exitCode = await gateway.stop();
for (const p of PARTS) await p.stop?.();

let verdict: ReturnType<typeof judge> | undefined;
const partChecks: Check[] = [];
try {
  const log = readLog(join(dir, 'log.db'));
  // Whatever the gateway published before it exited is at the broker: give it a moment to land.
  await platform.waitFor((s) => s.maxSeq >= log.lastSeq && s.holes.length === 0, 5000).catch(() => undefined);
  books.answered(new Map(sim.control.served().map((d) => [d.device, d.answered])));
  const stats = platform.stats();
  const closing = books.close({ loggedNotSent: undelivered(log, stats), stopAt });
  verdict = judge(closing, stats, flags, ranForS);
  for (const p of PARTS) partChecks.push(...((await p.verdict?.(ctx, ranForS)) ?? []));
} catch (e) {
  console.log(`demo: no verdict: ${String(e)}`);
} finally {
  await platform.close();
  await broker.close();
  await sim.stop();
}
const checks = [...(verdict?.checks ?? []), ...partChecks];
for (const c of checks) console.log(`demo: ${checkLine(c, ranForS)}`);
for (const r of books.unexplained()) console.log(`demo: delivered but never served: ${JSON.stringify(r)}`);
if (verdict) console.log(`demo: ${verdict.summary}`);
if (exitCode !== 0) console.log(`demo: the gateway exited with code ${exitCode}`);
const ok = verdict !== undefined && checks.every((c) => c.ok !== false) && exitCode === 0;
if (ok) rmSync(dir, { recursive: true, force: true });
else console.log(`demo: gateway log and data kept in ${dir}`);
process.exit(ok ? 0 : 1);
