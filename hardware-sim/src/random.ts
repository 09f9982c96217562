/**
 * Seeded randomness: behaviours, noise and fault probabilities are reproducible from the
 * scenario seed, so a test that saw a value once sees it again.
 */

/** 32-bit FNV-1a of a string, used to derive independent streams (per device, per point). */
export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for simulated noise; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A value in [0, 1) that depends only on (seed, key, step): noise without hidden state. */
export function noiseAt(seed: number, key: string, step: number): number {
  return mulberry32(hashString(`${key}#${step}`, seed))();
}

/** Standard normal deviate from two uniforms (Box-Muller). */
export function gaussian(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(Math.max(u1, 1e-12))) * Math.cos(2 * Math.PI * u2);
}
