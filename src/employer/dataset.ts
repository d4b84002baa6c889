/**
 * The employer's data and model: loading a dataset (built-in MNIST or Iris, or a directory of files in
 * the batch format), built-in model presets, and cutting the training samples into per-stage batches.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { decodeBatch, initEngine, loadIris, loadMnist, seededPermutation, type Batch } from "../ml";

/** Where the samples come from. */
export type DatasetSource =
  | { kind: "mnist"; trainSize?: number; testSize?: number; seed?: number; featureShape?: number[] }
  | { kind: "iris"; seed?: number; testSize?: number }
  | { kind: "dir"; path: string };

/** A loaded dataset: training samples and an optional held-out test set. */
export interface LoadedDataset {
  name: string;
  train: Batch;
  test?: Batch;
  /** Number of classes of class-index labels (0 for float32 targets). */
  numClasses: number;
}

/** Concatenates batches of the same sample and label shape. */
export function concatBatches(list: Batch[]): Batch {
  if (list.length === 0) throw new Error("no batches to concatenate");
  const first = list[0];
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  for (const b of list) {
    if (!same(b.featureShape, first.featureShape) || !same(b.labelShape, first.labelShape)) {
      throw new Error(
        `batches disagree on shapes: features [${b.featureShape}] vs [${first.featureShape}], labels [${b.labelShape}] vs [${first.labelShape}]`,
      );
    }
  }
  const count = list.reduce((s, b) => s + b.count, 0);
  const features = new Float32Array(list.reduce((s, b) => s + b.features.length, 0));
  const labels =
    first.labels instanceof Int32Array
      ? new Int32Array(list.reduce((s, b) => s + b.labels.length, 0))
      : new Float32Array(list.reduce((s, b) => s + b.labels.length, 0));
  let f = 0;
  let l = 0;
  for (const b of list) {
    features.set(b.features, f);
    labels.set(b.labels as never, l);
    f += b.features.length;
    l += b.labels.length;
  }
  return {
    count,
    featureShape: [...first.featureShape],
    features,
    labelShape: [...first.labelShape],
    labels,
  };
}

/** Samples [start, start + count) of `b`, wrapping around: the order epochs walk the data in. */
function slice(b: Batch, indices: ArrayLike<number>): Batch {
  const fs = b.featureShape.reduce((a, d) => a * d, 1);
  const ls = Math.max(
    1,
    b.labelShape.reduce((a, d) => a * d, 1),
  );
  const features = new Float32Array(indices.length * fs);
  const labels =
    b.labels instanceof Int32Array
      ? new Int32Array(indices.length * ls)
      : new Float32Array(indices.length * ls);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    features.set(b.features.subarray(j * fs, (j + 1) * fs), i * fs);
    labels.set(b.labels.subarray(j * ls, (j + 1) * ls) as never, i * ls);
  }
  return {
    count: indices.length,
    featureShape: [...b.featureShape],
    features,
    labelShape: [...b.labelShape],
    labels,
  };
}

/**
 * Loads a dataset. A directory holds files in the batch format (docs/protocol/training.md): files whose
 * name starts with `test` form the held-out test set, every other file is training data, concatenated in
 * file-name order.
 */
export function loadDataset(source: DatasetSource): LoadedDataset {
  switch (source.kind) {
    case "mnist": {
      const { train, test } = loadMnist(source);
      return { name: "mnist", train, test: test.count > 0 ? test : undefined, numClasses: 10 };
    }
    case "iris": {
      const all = loadIris(source.seed ?? 0);
      const testSize = source.testSize ?? 30;
      const order = Array.from({ length: all.count }, (_, i) => i);
      return {
        name: "iris",
        train: slice(all, order.slice(0, all.count - testSize)),
        test: testSize > 0 ? slice(all, order.slice(all.count - testSize)) : undefined,
        numClasses: 3,
      };
    }
    case "dir": {
      let names: string[];
      try {
        names = readdirSync(source.path)
          .filter((f) => statSync(join(source.path, f)).isFile() && !f.startsWith("."))
          .sort();
      } catch (error) {
        throw new Error(`Cannot read the dataset directory ${source.path}: ${(error as Error).message}`);
      }
      const decode = (f: string) => {
        try {
          return decodeBatch(new Uint8Array(readFileSync(join(source.path, f))));
        } catch (error) {
          throw new Error(`${join(source.path, f)} is not a batch file: ${(error as Error).message}`);
        }
      };
      const trainFiles = names.filter((f) => !f.startsWith("test"));
      const testFiles = names.filter((f) => f.startsWith("test"));
      if (trainFiles.length === 0) throw new Error(`${source.path} holds no training batch files`);
      const train = concatBatches(trainFiles.map(decode));
      const test = testFiles.length > 0 ? concatBatches(testFiles.map(decode)) : undefined;
      let numClasses = 0;
      if (train.labels instanceof Int32Array) {
        for (const l of train.labels) numClasses = Math.max(numClasses, l + 1);
        if (test?.labels instanceof Int32Array)
          for (const l of test.labels) numClasses = Math.max(numClasses, l + 1);
      }
      return { name: source.path.replace(/\/+$/, "").split("/").pop() || "dataset", train, test, numClasses };
    }
  }
}

/**
 * The training stream cut into stages: stage s (1-based) gets samples [(s-1)·S, s·S) of the epochs laid
 * end to end (S = stepsPerStage x batchSize); epoch e > 0 visits the samples in the order
 * seededPermutation(n, seed + e), epoch 0 in dataset order. Each stage is `batchesPerStage` batches.
 */
export function stageBatches(
  train: Batch,
  plan: {
    numStages: number;
    stepsPerStage: number;
    batchSize: number;
    batchesPerStage: number;
    seed: number;
  },
): Batch[][] {
  const perEpoch = Math.floor(train.count / plan.batchSize) * plan.batchSize;
  const stageSamples = plan.stepsPerStage * plan.batchSize;
  if (stageSamples % plan.batchesPerStage !== 0)
    throw new Error("batchesPerStage must divide the samples of a stage");
  const per = stageSamples / plan.batchesPerStage;
  const orders = new Map<number, ArrayLike<number>>();
  const orderOf = (epoch: number): ArrayLike<number> => {
    let o = orders.get(epoch);
    if (o === undefined) {
      o =
        epoch === 0
          ? Uint32Array.from({ length: train.count }, (_, i) => i)
          : seededPermutation(train.count, (plan.seed + epoch) >>> 0);
      orders.set(epoch, o);
    }
    return o;
  };
  const out: Batch[][] = [];
  for (let s = 0; s < plan.numStages; s++) {
    const batches: Batch[] = [];
    for (let b = 0; b < plan.batchesPerStage; b++) {
      const idx = new Uint32Array(per);
      for (let i = 0; i < per; i++) {
        const g = s * stageSamples + b * per + i;
        const epoch = Math.floor(g / perEpoch);
        idx[i] = orderOf(epoch)[g % perEpoch];
      }
      batches.push(slice(train, idx));
    }
    out.push(batches);
  }
  return out;
}

/**
 * Built-in model presets as LayersModel topology JSON (what `model.toJSON()` gives), with explicit layer
 * names and unseeded random initializers (the employer seeds them with `seedInitializers`).
 */
export async function presetModel(
  name: string,
  inputShape: number[],
  numClasses: number,
  hidden = 64,
): Promise<unknown> {
  await initEngine();
  const layers: tf.layers.Layer[] = [];
  switch (name) {
    case "mlp":
      layers.push(tf.layers.dense({ name: "hidden", inputShape, units: hidden, activation: "relu" }));
      layers.push(tf.layers.dense({ name: "out", units: numClasses, activation: "softmax" }));
      break;
    case "linear":
      layers.push(tf.layers.dense({ name: "out", inputShape, units: numClasses, activation: "softmax" }));
      break;
    default:
      throw new Error(`Unknown model preset "${name}": use mlp or linear, or give a LayersModel JSON file`);
  }
  const model = tf.sequential({ name: `pot_${name}`, layers });
  try {
    const raw = model.toJSON(null, false) as unknown;
    const json = JSON.parse(typeof raw === "string" ? raw : JSON.stringify(raw)) as Record<string, unknown>;
    for (const layer of (json.config as { layers: { config: Record<string, unknown> }[] }).layers) {
      for (const key of ["kernel_initializer", "bias_initializer"]) {
        const init = layer.config[key] as { config?: Record<string, unknown> } | undefined;
        if (init?.config && init.config.seed === null) delete init.config.seed;
      }
    }
    return json;
  } finally {
    model.dispose();
  }
}
