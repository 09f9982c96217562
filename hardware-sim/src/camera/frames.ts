/**
 * The pictures a simulated camera serves: a small scene that changes over time (a bar that moves
 * and a frame counter drawn as blocks), encoded as a baseline JPEG by jpeg-js. A frame number
 * comes from the clock, so two snapshots taken a frame period apart differ and two taken within
 * one are the same bytes. The last frame is kept: encoding one costs a few milliseconds.
 */
import { encode } from 'jpeg-js';

export interface FrameOptions {
  width: number;
  height: number;
  /** A new picture every this many ms. */
  frameMs: number;
  /** JPEG quality 1..100. */
  quality: number;
}

export const DEFAULT_FRAMES: FrameOptions = { width: 160, height: 120, frameMs: 1000, quality: 75 };

/** RGBA pixels of frame `n`: sky, ground, a moving bar and the low 8 bits of `n` as blocks. */
export function framePixels(n: number, width: number, height: number): Buffer {
  const px = Buffer.alloc(width * height * 4);
  const bar = (n * 7) % width;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const ground = y > (height * 2) / 3;
      let [r, g, b] = ground ? [120, 96, 60] : [110, 160, 220];
      if (x >= bar && x < bar + 8) [r, g, b] = [240, 200, 40];
      // Eight 10x10 blocks along the top: white for a 1 bit of n, black for a 0 bit.
      const block = Math.floor(x / 12);
      if (y >= 4 && y < 14 && block < 8 && x % 12 < 10) {
        const on = ((n >> (7 - block)) & 1) === 1;
        r = g = b = on ? 255 : 0;
      }
      px[i] = r;
      px[i + 1] = g;
      px[i + 2] = b;
      px[i + 3] = 255;
    }
  }
  return px;
}

export class FrameSource {
  private cached: { n: number; jpeg: Buffer } | undefined;
  readonly options: FrameOptions;

  constructor(
    private readonly now: () => number,
    options: Partial<FrameOptions> = {},
    private readonly startMs = now(),
  ) {
    this.options = { ...DEFAULT_FRAMES, ...options };
  }

  /** The number of the frame showing now. */
  frameNumber(): number {
    return Math.max(0, Math.floor((this.now() - this.startMs) / this.options.frameMs));
  }

  /** The JPEG of the frame showing now. */
  current(): { n: number; jpeg: Buffer } {
    const n = this.frameNumber();
    if (this.cached?.n === n) return this.cached;
    const { width, height, quality } = this.options;
    const jpeg = encode({ data: framePixels(n, width, height), width, height }, quality).data;
    this.cached = { n, jpeg };
    return this.cached;
  }
}
