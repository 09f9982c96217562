/**
 * Heap-space probe for a closer look at a scale step: loaded into the gateway's node with
 * `--import`, on SIGUSR2 it writes V8's heap spaces (size, used, resident, MB) and
 * `process.memoryUsage()` as JSON to the file LANTIAN_SPACES_OUT names:
 *
 *   LANTIAN_SPACES_OUT=/tmp/spaces.json \
 *   LANTIAN_BENCH_NODE_ARGS="--import=$PWD/bench/scale/spaces-probe.mjs" \
 *   npx tsx bench/scale/one-step.ts 10 --main --period=1000
 *
 * and, during the step's window, `kill -USR2 <gateway pid>`.
 */
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import { isMainThread } from 'node:worker_threads';

const out = process.env.LANTIAN_SPACES_OUT;
const mb = (n) => Math.round((n / 1048576) * 10) / 10;
if (isMainThread && out) {
  process.on('SIGUSR2', () => {
    const spaces = v8.getHeapSpaceStatistics().map((s) => ({
      space: s.space_name,
      sizeMb: mb(s.space_size),
      usedMb: mb(s.space_used_size),
      residentMb: mb(s.physical_space_size),
    }));
    const memory = Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, mb(v)]));
    writeFileSync(out, JSON.stringify({ spaces, memory }, null, 2));
  });
}
