/**
 * What a device's timing window costs once full: `SampleWindow` (float32 in a typed array) against
 * the JavaScript array of doubles it used to be, 3 000 windows of 600 samples each (the last 512
 * kept), measured after a full collection (docs/footprint.md, "Memory per point: what was cut").
 *
 *   node --expose-gc --import tsx bench/sample-window.ts
 */
import { SampleWindow } from '../gateway/src/acquisition/health.js';

/** The window as it was: a plain array grown by push, then a ring. */
class ArrayWindow {
  private readonly samples: number[] = [];
  private next = 0;
  constructor(private readonly size = 512) {}
  add(v: number): void {
    if (this.samples.length < this.size) this.samples.push(v);
    else this.samples[this.next] = v;
    this.next = (this.next + 1) % this.size;
  }
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc --import tsx bench/sample-window.ts');
  process.exit(2);
}
const WINDOWS = 3000;
const SAMPLES = 600;

function measure(make: () => { add(v: number): void }): { heapKb: number; outsideKb: number } {
  gc!();
  const before = process.memoryUsage();
  const kept = [];
  for (let w = 0; w < WINDOWS; w++) {
    const window = make();
    for (let i = 0; i < SAMPLES; i++) window.add(Math.random() * 50);
    kept.push(window);
  }
  gc!();
  const after = process.memoryUsage();
  const kb = (bytes: number) => Math.round((bytes / WINDOWS / 1024) * 100) / 100;
  const result = {
    heapKb: kb(after.heapUsed - before.heapUsed),
    outsideKb: kb(after.arrayBuffers - before.arrayBuffers),
  };
  kept.length = 0;
  return result;
}

for (const [name, make] of [
  ['array of doubles', () => new ArrayWindow()],
  ['SampleWindow (float32)', () => new SampleWindow()],
] as const) {
  const { heapKb, outsideKb } = measure(make);
  console.log(
    `${name}: ${heapKb} KB a window in the heap, ${outsideKb} KB outside it, ${Math.round((heapKb + outsideKb) * 3 * 10) / 10} KB a device (three windows)`,
  );
}
