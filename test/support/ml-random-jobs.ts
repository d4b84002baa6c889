/**
 * Random small jobs for `npm run spec:check`: layers, shapes, activations, initializers, losses and
 * optimizers drawn from a seeded generator within what the engine supports (src/ml/model-spec.ts).
 */
import { mulberry32 } from "../../src/ml/data/shuffle";
import type { OptimizerConfig } from "./ml-exports";
import { init, layer, type VectorJob } from "./ml-vector-jobs";

type Json = Record<string, unknown>;

const HIDDEN_ACTIVATIONS = ["linear", "relu", "tanh", "sigmoid"];

/** A random job (and how many stages to run) from `seed`. */
export function randomVectorJob(seed: number): { job: VectorJob; stages: number; summary: string } {
  const next = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + (next() % (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length];
  const chance = (p: number) => next() / 2 ** 32 < p;
  let k = 0;
  const seedOf = () => (seed % 100000) * 100 + ++k;
  const kernelInit = (): Json =>
    pick([
      () =>
        init.named(
          pick(["GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LeCunNormal", "LeCunUniform"]),
          seedOf(),
        ),
      () =>
        init.varianceScaling(
          seedOf(),
          pick([0.5, 1, 2]),
          pick(["fan_in", "fan_out", "fan_avg"]),
          pick(["normal", "uniform"]),
        ),
      () => init.randomUniform(seedOf(), -0.3, pick([0.1, 0.3])),
      () => init.randomNormal(seedOf(), pick([0, 0.05]), pick([0.1, 0.3])),
      () => init.truncatedNormal(seedOf(), 0, pick([0.1, 0.2])),
    ])();
  const biasInit = (): Json | null =>
    chance(0.2)
      ? null
      : pick([
          () => init.zeros(),
          () => init.ones(),
          () => init.constant(pick([-0.1, 0.05, 0.3])),
          () => init.randomNormal(seedOf(), 0, 0.05),
          () => init.randomUniform(seedOf(), -0.1, 0.1),
          () => init.named(pick(["GlorotUniform", "HeNormal", "LeCunUniform"]), seedOf()),
        ])();

  const layers: Json[] = [];
  const parts: string[] = [];
  let featureShape: number[];
  let flat: number;
  const cnn = chance(0.5);
  if (cnn) {
    let [h, w, c] = [int(4, 9), int(4, 9), int(1, 3)];
    featureShape = [h, w, c];
    const convs = int(1, 2);
    for (let i = 0; i < convs; i++) {
      const kh = Math.min(int(1, 3), h);
      const kw = Math.min(int(1, 3), w);
      const stride = int(1, 2);
      const padding = pick(["valid", "same"] as const);
      const filters = int(1, 4);
      const act = pick(HIDDEN_ACTIVATIONS);
      layers.push(
        layer.conv(`c${i}`, filters, [kh, kw], [stride, stride], padding, act, kernelInit(), biasInit()),
      );
      [h, w] =
        padding === "same"
          ? [Math.ceil(h / stride), Math.ceil(w / stride)]
          : [Math.floor((h - kh) / stride) + 1, Math.floor((w - kw) / stride) + 1];
      c = filters;
      parts.push(`conv${kh}x${kw}/${stride}${padding[0]}x${filters}${act}`);
      if (chance(0.6)) {
        const op = pick(["max", "avg"] as const);
        const size = Math.min(int(1, 3), h, w);
        const pstride = int(1, 2);
        const ppad = pick(["valid", "same"] as const);
        layers.push(layer.pool(`p${i}`, op, [size, size], [pstride, pstride], ppad));
        [h, w] =
          ppad === "same"
            ? [Math.ceil(h / pstride), Math.ceil(w / pstride)]
            : [Math.floor((h - size) / pstride) + 1, Math.floor((w - size) / pstride) + 1];
        parts.push(`${op}pool${size}/${pstride}${ppad[0]}`);
      }
    }
    flat = h * w * c;
    layers.push(chance(0.5) ? layer.flatten("f") : layer.reshape("r", [flat]));
  } else {
    flat = int(2, 12);
    featureShape = [flat];
  }
  const hidden = int(cnn ? 0 : 1, 2);
  for (let i = 0; i < hidden; i++) {
    const units = pick([1, 3, 8, 20, 40]);
    const act = pick(HIDDEN_ACTIVATIONS);
    layers.push(layer.dense(`d${i}`, units, act, kernelInit(), biasInit()));
    parts.push(`dense${units}${act}`);
    if (chance(0.2)) {
      const a = pick(HIDDEN_ACTIVATIONS);
      layers.push(layer.activation(`a${i}`, a));
      parts.push(`act-${a}`);
    }
  }
  const loss = pick([
    "categoricalCrossentropy",
    "sparseCategoricalCrossentropy",
    "meanSquaredError",
  ] as const);
  const outputs = int(2, 5);
  let labels: VectorJob["labels"];
  let outAct: string;
  if (loss !== "meanSquaredError") {
    labels = { kind: "classIndex", numClasses: outputs };
    outAct = "softmax";
  } else if (chance(0.5)) {
    labels = { kind: "classIndex", numClasses: outputs };
    outAct = pick(["softmax", "linear", "sigmoid"]);
  } else {
    labels = { kind: "float32", shape: [outputs] };
    outAct = pick(HIDDEN_ACTIVATIONS);
  }
  layers.push(layer.dense("out", outputs, outAct, kernelInit(), biasInit()));
  parts.push(`dense${outputs}${outAct}`);
  const optimizer: OptimizerConfig = pick([
    (): OptimizerConfig => ({ name: "sgd", learningRate: pick([0.01, 0.1, 0.3]) }),
    (): OptimizerConfig => ({
      name: "momentum",
      learningRate: pick([0.01, 0.05]),
      momentum: pick([0.5, 0.9, 0.99]),
    }),
    (): OptimizerConfig => ({
      name: "adam",
      learningRate: pick([0.001, 0.01]),
      beta1: pick([0.9, 0.8]),
      beta2: pick([0.999, 0.99]),
      epsilon: pick([1e-7, 1e-3]),
    }),
  ])();
  const job: VectorJob = {
    layers,
    featureShape,
    labels,
    loss,
    optimizer,
    batchSize: int(2, 8),
    stepsPerStage: int(2, 4),
    seed: int(1, 1000),
  };
  const summary = `[${featureShape}] ${parts.join(" ")} ${loss} ${optimizer.name}`;
  return { job, stages: int(1, 2), summary };
}
