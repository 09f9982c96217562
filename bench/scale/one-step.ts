/**
 * One step of the scale benchmark on its own, for a closer look than the whole ladder gives:
 *
 *   npx tsx bench/scale/one-step.ts <offered readings/s> [--main] [--no-cap] [--old-space=MB] [--period=ms] [--in-flight=N]
 *
 * 10-point analysers at 100 ms (or `--period`), as many as the offer needs, acquisition in its
 * thread (`--main`: on the main thread), with the heap cap README.md gives for that many points
 * (`--no-cap`: none; `--old-space=MB`: that old space instead), `--in-flight=N` requests outstanding
 * on each bus (`maxInFlight`, default 1). Runs `npm run build` first unless
 * `--no-build`. Prints the step's figures as JSON; writes nothing. LANTIAN_BENCH_KEEP and
 * LANTIAN_BENCH_NODE_ARGS work as for `npm run bench:scale` (docs/benchmarks.md, "scale").
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from './broker.js';
import { killAllChildren } from './child.js';
import { killAllGateways } from './gateway.js';
import { SHAPES, runStep } from './step.js';
import { Subscriber } from './subscriber.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const offered = Number(args.find((a) => !a.startsWith('--')));
const periodMs = Number(flag('period') ?? 100);
const oldSpace = flag('old-space');
if (!Number.isFinite(offered) || offered <= 0 || !Number.isFinite(periodMs) || periodMs <= 0) {
  console.error(
    'usage: npx tsx bench/scale/one-step.ts <offered readings/s> [--main] [--no-cap] [--old-space=MB] [--period=ms] [--in-flight=N] [--no-build]',
  );
  process.exit(2);
}
if (oldSpace !== undefined) {
  // An explicit old space: passed on the command line, as LANTIAN_BENCH_NODE_ARGS would.
  process.env.LANTIAN_BENCH_NODE_ARGS = `${process.env.LANTIAN_BENCH_NODE_ARGS ?? ''} --max-old-space-size=${oldSpace} --max-semi-space-size=8`;
}
if (!args.includes('--no-build')) {
  const b = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (b.status !== 0) throw new Error('npm run build failed');
}

const tmpRoot = mkdtempSync(join(tmpdir(), 'lantian-bench-step-'));
const broker = await startBroker();
const subscriber = await Subscriber.start(broker.url);
try {
  const shape = SHAPES.p10;
  const result = await runStep(
    {
      label: `one-${offered}`,
      shape,
      devices: Math.max(1, Math.round((offered * periodMs) / (shape.points * 1000))),
      periodMs,
      heapCap: !args.includes('--no-cap') && oldSpace === undefined,
      thread: !args.includes('--main'),
      maxInFlight: Number(flag('in-flight') ?? 1),
      warmMs: 6000,
      windowMs: 16_000,
    },
    { tmpRoot, broker, subscriber },
  );
  console.log(JSON.stringify(result, null, 2));
} finally {
  await subscriber.stop();
  await broker.close();
  killAllGateways();
  killAllChildren();
  rmSync(tmpRoot, { recursive: true, force: true });
}
