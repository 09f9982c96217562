/**
 * Heap per 1 000 polled points of the gateway's per-point state, in process (docs/footprint.md,
 * "Memory per point: what was cut"):
 *
 *   npx tsx bench/footprint/per-point.ts
 *
 * Builds, for 1 000 and then 5 000 points (bench.cems-10f analysers, 10 points each, 25 a bus),
 * each in a fresh process with `--expose-gc`:
 * - the config, the processing plan, the processor and the quality checks, fed a reading a second
 *   for 3 min 5 s, then again from the next hour on (minutes closed, an hour, a day and a minute
 *   open);
 * - the acquisition engine over in-memory lines on a virtual clock, run 20 s;
 * - the log's point dictionary over an in-memory SQLite database.
 * Prints the slope of `heapUsed` after collection, in total and by stage. Writes nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { loadSiteConfig } from '../../gateway/src/config/index.js';
import { processingPlan } from '../../gateway/src/processing/plan.js';
import { Processor } from '../../gateway/src/processing/engine.js';
import { QualityChecks } from '../../gateway/src/processing/quality.js';
import { Acquisition } from '../../gateway/src/acquisition/engine.js';
import { acquisitionOptions } from '../../gateway/src/acquisition/from-config.js';
import { PointDictionary } from '../../gateway/src/store/dictionary.js';
import type { ReadingDraft } from '../../gateway/src/core/reading.js';
import { FIXTURE_PROFILES } from '../../test/fixtures/acquisition/sim.js';
import { MemoryLine } from '../../test/fixtures/acquisition/memory-line.js';
import { VirtualClock } from '../../test/fixtures/acquisition/virtual-clock.js';

const gc = (globalThis as { gc?: () => void }).gc!;
const POINTS_PER_DEVICE = 10;
const PER_BUS = 25;
const dir = mkdtempSync(join(tmpdir(), 'mem-probe-'));

function site(devices: number): string {
  const lines = ['version: 1', 'site: { id: m, name: M }', 'gateway: { id: m-gw }', 'buses:'];
  for (let b = 0; b < Math.ceil(devices / PER_BUS); b++)
    lines.push(`  line${b}: { kind: tcp, host: 127.0.0.1, port: ${10000 + b} }`);
  lines.push('devices:');
  for (let d = 0; d < devices; d++)
    lines.push(
      `  d${d}: { profile: bench.cems-10f, bus: line${Math.floor(d / PER_BUS)}, unitId: ${(d % PER_BUS) + 1}, periodMs: 1000 }`,
    );
  lines.push(`storage: { path: '${join(dir, 'log.db')}' }`);
  const f = join(dir, `site-${devices}.yaml`);
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

function feed(plan: ReturnType<typeof processingPlan>) {
  const processor = new Processor(plan);
  const quality = new QualityChecks(plan);
  const t0 = Date.UTC(2026, 0, 1, 3, 0, 0);
  const raw = [16712, 0];
  // 3 min, then 3 min past the hour: the first hour closed, so minute, hour and day are open
  const seconds = [
    ...Array.from({ length: 185 }, (_, i) => i),
    ...Array.from({ length: 185 }, (_, i) => 3600 + i),
  ];
  for (const s of seconds) {
    const ts = t0 + s * 1000;
    const batch: ReadingDraft[] = [];
    for (const p of plan.series)
      batch.push({
        ts,
        device: p.device,
        point: p.point,
        value: 10 + ((s * 7) % 13),
        flag: 'N',
        raw: [raw[0]!, s],
      });
    processor.push(quality.check(batch), ts);
  }
  return { processor, quality };
}

async function build(points: number, stage: (name: string) => void) {
  const devices = points / POINTS_PER_DEVICE;
  const loaded = loadSiteConfig(site(devices), { siteProfilesDir: FIXTURE_PROFILES });
  const plan = processingPlan(loaded.config, loaded.profiles);
  stage('config+plan');
  const { processor, quality } = feed(plan);
  stage('processing+quality');
  // acquisition over in-memory lines
  const clock = new VirtualClock();
  const options = acquisitionOptions(loaded.config, loaded.profiles);
  const lines = new Map<string, MemoryLine>();
  const acq = new Acquisition(options, {
    clock,
    onReadings: () => undefined,
    transportFactory: (link) => {
      const key = JSON.stringify(link);
      let l = lines.get(key);
      if (!l) {
        l = new MemoryLine(clock, 0.001);
        for (let u = 1; u <= PER_BUS; u++) l.add({ unitId: u, cells: new Map(), turnaroundMs: 1 });
        lines.set(key, l);
      }
      return l;
    },
  });
  acq.start();
  await clock.runFor(20_000);
  for (const l of lines.values()) l.log.length = 0; // the double's own transaction log
  stage('acquisition');
  const db = new Database(':memory:');
  db.exec('CREATE TABLE points (id INTEGER PRIMARY KEY, device TEXT, point TEXT)');
  const dict = new PointDictionary(db);
  for (const p of plan.series) dict.id(p.device, p.point);
  dict.commit();
  stage('dictionary');
  return { loaded, plan, processor, quality, acq, dict, db, clock };
}

function used(): number {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** One point count in this process (node --expose-gc): the heap each stage added, as JSON. */
async function measure(n: number): Promise<void> {
  {
    const warm = await build(200, () => undefined);
    await warm.acq.stop();
    warm.db.close();
  }
  const stages: Record<string, number> = {};
  const before = used();
  let last = before;
  const keep = await build(n, (name) => {
    const now = used();
    stages[name] = now - last;
    last = now;
  });
  const total = used() - before;
  await keep.acq.stop();
  console.log(JSON.stringify({ n, total, stages }));
}

const FEW = 1000;
const MANY = 5000;
const self = fileURLToPath(import.meta.url);

if (process.argv[2] !== undefined) {
  await measure(Number(process.argv[2]));
} else {
  // Each count in a fresh process, so the first leaves nothing in the second's heap.
  const run = (n: number) => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, String(n)], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`per-point probe for ${n} points failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      total: number;
      stages: Record<string, number>;
    };
  };
  const few = run(FEW);
  const many = run(MANY);
  const kb = (a: number, b: number) => Math.round((b - a) / ((MANY - FEW) / 1000) / 1024);
  console.log(`heap per 1 000 points: ${kb(few.total, many.total)} KB`);
  for (const stage of Object.keys(many.stages))
    console.log(`  ${stage.padEnd(20)} ${kb(few.stages[stage]!, many.stages[stage]!)} KB`);
}
rmSync(dir, { recursive: true, force: true });
