/**
 * The demo's gateway as a small site's board runs it: node with the flags README.md and
 * deploy/lantian.service give a site of up to 1 000 readings/s (the heap cap, one V8 helper
 * thread, V8's lite mode; demo/gateway-child.ts). The part samples the gateway's resident memory
 * once a second while the timeline runs, and the verdict says what it was and whether the gateway
 * found its flags unsuited to the site: `lantian run` logs a warning with a `rule` when they are
 * (gateway/src/runtime-fit.ts), which the demo's small site must not draw.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rssMb } from '../bench/procfs.js';
import type { Check, DemoPart } from './parts.js';

export function footprintPart(gatewayPid: () => number): DemoPart {
  const samples: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'footprint',
    start() {
      const sample = () => {
        const mb = rssMb(gatewayPid());
        if (mb !== undefined) samples.push(mb);
      };
      sample();
      timer = setInterval(sample, 1000);
    },
    stop() {
      clearInterval(timer);
    },
    verdict(ctx) {
      const logFile = join(ctx.dir, 'gateway.log');
      const advice = (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')
        .split('\n')
        .filter((l) => l.includes('"rule":'))
        .map((l) => {
          try {
            return (JSON.parse(l) as { msg?: string }).msg ?? l;
          } catch {
            return l; // not a whole log line: shown as it is
          }
        });
      const sorted = [...samples].sort((a, b) => a - b);
      const memory =
        sorted.length === 0
          ? 'resident memory not readable here (/proc)'
          : `resident ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} MB (median of ${sorted.length} samples, peak ${sorted.at(-1)!.toFixed(1)} MB)`;
      return [
        {
          ok: advice.length === 0,
          text:
            advice.length === 0
              ? `footprint: a small site's flags (V8 lite mode, heap capped), and the gateway found them suited to its site; ${memory}`
              : `footprint: the gateway found its flags unsuited to the site: ${advice.join('; ')}`,
        } satisfies Check,
      ];
    },
  };
}
