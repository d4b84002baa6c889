/**
 * A seeded permutation for dataset splits: mulberry32 (32-bit integer arithmetic only, so every
 * platform agrees) driving a Fisher-Yates shuffle from the last index down, j = next() mod (i+1).
 */

/** mulberry32: returns a function giving the next uint32. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The permutation of 0..n-1 for `seed`. */
export function seededPermutation(n: number, seed: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const next = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = next() % (i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
