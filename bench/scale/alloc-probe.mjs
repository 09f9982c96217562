/**
 * Allocation probe for a closer look at a scale step: loaded into the gateway's node with
 * `--import`, it samples every allocation of the main thread (V8's sampling heap profiler, objects
 * already collected included) from 8 s after start for 10 s, then writes the total and the
 * functions that allocated most, as JSON, to the file LANTIAN_ALLOC_OUT names:
 *
 *   LANTIAN_ALLOC_OUT=/tmp/alloc.json \
 *   LANTIAN_BENCH_NODE_ARGS="--import=$PWD/bench/scale/alloc-probe.mjs" \
 *   npx tsx bench/scale/one-step.ts 30000
 *
 * With LANTIAN_ALLOC_THREAD=worker it samples the acquisition thread instead (a step with
 * acquisition in its thread, the default of one-step.ts; `--import` reaches workers too).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { isMainThread } from 'node:worker_threads';

const out = process.env.LANTIAN_ALLOC_OUT;
const wanted = process.env.LANTIAN_ALLOC_THREAD === 'worker' ? !isMainThread : isMainThread;
if (wanted && out) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  const sampling = {
    samplingInterval: 32768,
    includeObjectsCollectedByMinorGC: true,
    includeObjectsCollectedByMajorGC: true,
  };
  setTimeout(() => {
    session.post('HeapProfiler.startSampling', sampling);
    setTimeout(() => {
      session.post('HeapProfiler.stopSampling', (err, r) => {
        if (err) return;
        const bySelf = new Map();
        let total = 0;
        const walk = (n) => {
          const f = n.callFrame;
          const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber}`;
          bySelf.set(name, (bySelf.get(name) ?? 0) + n.selfSize);
          total += n.selfSize;
          for (const c of n.children) walk(c);
        };
        walk(r.profile.head);
        const top = [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, 25);
        writeFileSync(
          out,
          JSON.stringify(
            {
              seconds: 10,
              totalMb: Math.round(total / 1e5) / 10,
              top: top.map(([fn, bytes]) => ({ fn, mb: Math.round(bytes / 1e5) / 10 })),
            },
            null,
            2,
          ),
        );
      });
    }, 10_000).unref();
  }, 8000).unref();
}
