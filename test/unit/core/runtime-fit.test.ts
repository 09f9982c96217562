/**
 * node's flags against README.md's rules for the site (gateway/src/runtime-fit.ts), and the
 * benchmark's caps from the same rules.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HEAP_CAP, heapCapFor } from '../../../bench/scale/gateway.js';
import {
  LITE_FLAGS,
  nodeFlagsFor,
  oldSpaceMbFor,
  runtimeAdvice,
  type NodeRuntime,
} from '../../../gateway/src/runtime-fit.js';

/** nodeRuntime() as a node started with `flags` reads it. */
function runtimeOf(flags: string[]): Promise<NodeRuntime> {
  const module = pathToFileURL(
    fileURLToPath(new URL('../../../gateway/src/runtime-fit.ts', import.meta.url)),
  ).href;
  const script = `const { nodeRuntime } = await import(${JSON.stringify(module)}); console.log(JSON.stringify(nodeRuntime()));`;
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [...flags, '--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 20_000, env: { ...process.env, NODE_OPTIONS: '' } },
      (e, stdout, stderr) => {
        if (e) reject(new Error(`${e.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim()) as NodeRuntime);
      },
    ),
  );
}

/** V8's heap limit for `--max-old-space-size=old --max-semi-space-size=semi`: old + 3 semi-spaces. */
const limit = (old: number, semi = 2) => old + 3 * semi;
const small = { points: 30, readingsPerSec: 30 };

describe('runtimeAdvice', () => {
  it("has nothing to say of a small site run with a small site's flags", () => {
    expect(runtimeAdvice({ liteMode: true, heapLimitMb: limit(64) }, small)).toEqual([]);
    expect(
      runtimeAdvice({ liteMode: true, heapLimitMb: limit(64) }, { points: 1000, readingsPerSec: 1000 }),
    ).toEqual([]);
  });

  it('tells a site past 1 000 readings/s to leave lite mode, naming its rate and the flags', () => {
    const advice = runtimeAdvice(
      { liteMode: true, heapLimitMb: limit(64) },
      { points: 2000, readingsPerSec: 2000 },
    );
    expect(advice.map((a) => a.rule)).toEqual(['lite-mode']);
    expect(advice[0]!.message).toContain('plans 2,000');
    expect(advice[0]!.message).toContain('without --lite-mode --no-expose-wasm');
    // Without lite mode the same site is fine.
    expect(
      runtimeAdvice({ liteMode: false, heapLimitMb: limit(64) }, { points: 2000, readingsPerSec: 2000 }),
    ).toEqual([]);
  });

  it('asks for 6 MB more old space per 1 000 points beyond 5 000, and for 2 GB above 30 000 readings/s', () => {
    expect(oldSpaceMbFor({ points: 5000, readingsPerSec: 5000 })).toBe(64);
    expect(oldSpaceMbFor({ points: 12_000, readingsPerSec: 12_000 })).toBe(106);
    expect(oldSpaceMbFor({ points: 20_000, readingsPerSec: 20_000 })).toBe(154);
    expect(oldSpaceMbFor({ points: 3000, readingsPerSec: 30_001 })).toBe(2048);

    const big = { points: 12_000, readingsPerSec: 12_000 };
    const advice = runtimeAdvice({ liteMode: false, heapLimitMb: limit(64) }, big);
    expect(advice.map((a) => a.rule)).toEqual(['heap']);
    expect(advice[0]!.message).toContain('heap limit is 70 MB; 12,000 points');
    expect(advice[0]!.message).toMatch(/--max-old-space-size=106$/);
    expect(runtimeAdvice({ liteMode: false, heapLimitMb: limit(106, 8) }, big)).toEqual([]);

    const fast = runtimeAdvice(
      { liteMode: true, heapLimitMb: limit(64) },
      { points: 10_000, readingsPerSec: 100_000 },
    );
    expect(fast.map((a) => a.rule)).toEqual(['lite-mode', 'heap']);
    expect(fast[1]!.message).toMatch(/--max-old-space-size=2048 --max-semi-space-size=32$/);
    // node's own limit without flags (about 4 GB on a 64-bit machine with memory) is enough.
    expect(
      runtimeAdvice({ liteMode: false, heapLimitMb: 4144 }, { points: 10_000, readingsPerSec: 100_000 }),
    ).toEqual([]);
  });

  it('reads the running node: lite mode on its command line, and the heap limit its flags give', async () => {
    // V8 gives the young generation 3 MB of the limit under lite mode, 6 MB without (64 + 3 × semi-space).
    const capped = ['--max-old-space-size=64', '--max-semi-space-size=2'];
    expect(await runtimeOf([...capped, ...LITE_FLAGS.split(' ')])).toEqual({
      liteMode: true,
      heapLimitMb: 67,
    });
    expect(await runtimeOf(capped)).toEqual({ liteMode: false, heapLimitMb: 70 });
    expect((await runtimeOf(['--max-old-space-size=106', '--max-semi-space-size=8'])).heapLimitMb).toBe(130);
  }, 30_000);
});

describe("node's flags for a site (check-config --plan), and the scale benchmark's caps", () => {
  it('give lite mode up to 1 000 readings/s, the site cap up to 5 000, the old space by points, 2 GB above 30 000', () => {
    expect(nodeFlagsFor({ points: 1000, readingsPerSec: 1000 })).toMatch(/--lite-mode --no-expose-wasm$/);
    expect(nodeFlagsFor({ points: 1001, readingsPerSec: 1001 })).toBe(
      '--max-old-space-size=64 --max-semi-space-size=2 --v8-pool-size=1',
    );
    expect(nodeFlagsFor({ points: 5001, readingsPerSec: 5001 })).toBe(
      '--max-old-space-size=65 --max-semi-space-size=8',
    );
    // The benchmark runs every step with them.
    expect(heapCapFor(10, 10)).toBe(
      '--max-old-space-size=64 --max-semi-space-size=2 --v8-pool-size=1 --lite-mode --no-expose-wasm',
    );
    expect(heapCapFor(2000, 2000)).toBe('--max-old-space-size=64 --max-semi-space-size=2 --v8-pool-size=1');
    expect(HEAP_CAP).toBe(heapCapFor(2000, 2000));
    expect(heapCapFor(12_000, 12_000)).toBe('--max-old-space-size=106 --max-semi-space-size=8');
    expect(heapCapFor(10_000, 100_000)).toBe('--max-old-space-size=2048 --max-semi-space-size=32');
  });
});
