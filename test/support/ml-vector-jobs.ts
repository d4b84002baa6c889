/**
 * Small job specs written as Keras/tfjs layer JSON, for the training vectors and the random jobs
 * of scripts/spec-check.ts: every layer, activation, initializer, loss and optimizer the engine
 * supports (src/ml/model-spec.ts), on seeded synthetic data.
 */
import { buildJobSpec, type Batch, type JobSpec, type LossName, type OptimizerConfig } from "./ml-exports";
import { mulberry32 } from "../../src/ml/data/shuffle";

type Json = Record<string, unknown>;
type Labels = { kind: "classIndex"; numClasses: number } | { kind: "float32"; shape: number[] };

/** What a vector job is made of (the model as a layer list; the first layer gets the input shape). */
export interface VectorJob {
  layers: Json[];
  featureShape: number[];
  labels: Labels;
  loss: LossName;
  optimizer: OptimizerConfig;
  batchSize: number;
  stepsPerStage: number;
  seed: number;
}

export const init = {
  zeros: () => ({ class_name: "Zeros", config: {} }),
  ones: () => ({ class_name: "Ones", config: {} }),
  constant: (value: number) => ({ class_name: "Constant", config: { value } }),
  varianceScaling: (seed: number, scale: number, mode: string, distribution: string) => ({
    class_name: "VarianceScaling",
    config: { scale, mode, distribution, seed },
  }),
  named: (className: string, seed: number) => ({ class_name: className, config: { seed } }),
  randomUniform: (seed: number, minval: number, maxval: number) => ({
    class_name: "RandomUniform",
    config: { minval, maxval, seed },
  }),
  randomNormal: (seed: number, mean: number, stddev: number) => ({
    class_name: "RandomNormal",
    config: { mean, stddev, seed },
  }),
  truncatedNormal: (seed: number, mean: number, stddev: number) => ({
    class_name: "TruncatedNormal",
    config: { mean, stddev, seed },
  }),
};

export const layer = {
  dense: (name: string, units: number, activation: string, kernel: Json, bias: Json | null): Json => ({
    class_name: "Dense",
    config: {
      name,
      units,
      activation,
      use_bias: bias !== null,
      kernel_initializer: kernel,
      ...(bias ? { bias_initializer: bias } : {}),
    },
  }),
  conv: (
    name: string,
    filters: number,
    kernelSize: [number, number],
    strides: [number, number],
    padding: "valid" | "same",
    activation: string,
    kernel: Json,
    bias: Json | null,
  ): Json => ({
    class_name: "Conv2D",
    config: {
      name,
      filters,
      kernel_size: kernelSize,
      strides,
      padding,
      data_format: "channels_last",
      dilation_rate: [1, 1],
      activation,
      use_bias: bias !== null,
      kernel_initializer: kernel,
      ...(bias ? { bias_initializer: bias } : {}),
    },
  }),
  pool: (
    name: string,
    op: "max" | "avg",
    poolSize: [number, number],
    strides: [number, number],
    padding: "valid" | "same",
  ): Json => ({
    class_name: op === "max" ? "MaxPooling2D" : "AveragePooling2D",
    config: { name, pool_size: poolSize, strides, padding, data_format: "channels_last" },
  }),
  flatten: (name: string): Json => ({ class_name: "Flatten", config: { name } }),
  reshape: (name: string, targetShape: number[]): Json => ({
    class_name: "Reshape",
    config: { name, target_shape: targetShape },
  }),
  activation: (name: string, activation: string): Json => ({
    class_name: "Activation",
    config: { name, activation },
  }),
};

/** The validated job spec of a VectorJob for this engine. */
export async function buildVectorJob(job: VectorJob): Promise<JobSpec> {
  const layers = job.layers.map((l, i) =>
    i === 0 ? { ...l, config: { ...(l.config as Json), batch_input_shape: [null, ...job.featureShape] } } : l,
  );
  return buildJobSpec({
    model: { class_name: "Sequential", config: { name: "vector", layers } },
    training: {
      optimizer: job.optimizer,
      loss: job.loss,
      batchSize: job.batchSize,
      stepsPerStage: job.stepsPerStage,
      seed: job.seed,
    },
    data: { featureShape: job.featureShape, labels: job.labels },
  });
}

/** batchSize * stepsPerStage seeded samples: features in [-1, 1], labels uniform. */
export function syntheticBatch(spec: JobSpec, seed: number): Batch {
  const next = mulberry32(seed);
  const unit = () => next() / 2 ** 32;
  const count = spec.training.batchSize * spec.training.stepsPerStage;
  const size = spec.data.featureShape.reduce((a, b) => a * b, 1);
  const features = Float32Array.from({ length: count * size }, () => unit() * 2 - 1);
  const labels = spec.data.labels;
  if (labels.kind === "classIndex") {
    return {
      count,
      featureShape: spec.data.featureShape,
      features,
      labelShape: [],
      labels: Int32Array.from({ length: count }, () => next() % labels.numClasses),
    };
  }
  const labelSize = labels.shape.reduce((a, b) => a * b, 1);
  return {
    count,
    featureShape: spec.data.featureShape,
    features,
    labelShape: labels.shape,
    labels: Float32Array.from({ length: count * labelSize }, unit),
  };
}

const SGD: OptimizerConfig = { name: "sgd", learningRate: 0.1 };
const MOMENTUM: OptimizerConfig = { name: "momentum", learningRate: 0.05, momentum: 0.9 };
const ADAM: OptimizerConfig = { name: "adam", learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/** Hand-written cases that together cover every supported layer, activation, initializer, loss and optimizer. */
export const COVERAGE_CASES: { name: string; description: string; stages: number; job: VectorJob }[] = [
  {
    name: "dense-tanh-sigmoid-mse-momentum",
    description:
      "Dense tanh (GlorotNormal) - Dense sigmoid (RandomNormal, Ones bias) - Dense linear (RandomUniform, Constant bias); meanSquaredError on float32 targets; momentum; 2 stages",
    stages: 2,
    job: {
      layers: [
        layer.dense("h1", 8, "tanh", init.named("GlorotNormal", 101), init.zeros()),
        layer.dense("h2", 6, "sigmoid", init.randomNormal(102, 0.1, 0.3), init.ones()),
        layer.dense("out", 3, "linear", init.randomUniform(103, -0.2, 0.3), init.constant(0.25)),
      ],
      featureShape: [5],
      labels: { kind: "float32", shape: [3] },
      loss: "meanSquaredError",
      optimizer: MOMENTUM,
      batchSize: 6,
      stepsPerStage: 3,
      seed: 5,
    },
  },
  {
    name: "dense-wide-sparse-ce-adam",
    description:
      "Dense relu 40 units at batch 4 (matmul, then bias and relu separately) without bias (HeUniform) - Activation tanh - Dense softmax (LeCunNormal, TruncatedNormal bias); sparseCategoricalCrossentropy; adam",
    stages: 2,
    job: {
      layers: [
        layer.dense("wide", 40, "relu", init.named("HeUniform", 201), null),
        layer.activation("act", "tanh"),
        layer.dense("mid", 30, "linear", init.named("LeCunUniform", 202), init.truncatedNormal(203, 0, 0.1)),
        layer.dense(
          "out",
          4,
          "softmax",
          init.named("LeCunNormal", 204),
          init.truncatedNormal(205, 0.05, 0.1),
        ),
      ],
      featureShape: [7],
      labels: { kind: "classIndex", numClasses: 4 },
      loss: "sparseCategoricalCrossentropy",
      optimizer: ADAM,
      batchSize: 4,
      stepsPerStage: 3,
      seed: 6,
    },
  },
  {
    name: "conv-same-stride-avgpool-ce-sgd",
    description:
      "Conv2D 3x3 stride 2 same tanh (HeNormal) - AveragePooling2D 2x2 stride 1 same - Conv2D 2x2 valid linear without bias (VarianceScaling fan_out) - Flatten - Dense softmax; categoricalCrossentropy; sgd",
    stages: 1,
    job: {
      layers: [
        layer.conv("c1", 3, [3, 3], [2, 2], "same", "tanh", init.named("HeNormal", 301), init.zeros()),
        layer.pool("p1", "avg", [2, 2], [1, 1], "same"),
        layer.conv(
          "c2",
          4,
          [2, 2],
          [1, 1],
          "valid",
          "linear",
          init.varianceScaling(302, 1.5, "fan_out", "normal"),
          null,
        ),
        layer.flatten("f"),
        layer.dense("out", 3, "softmax", init.named("GlorotUniform", 303), init.zeros()),
      ],
      featureShape: [9, 9, 2],
      labels: { kind: "classIndex", numClasses: 3 },
      loss: "categoricalCrossentropy",
      optimizer: SGD,
      batchSize: 5,
      stepsPerStage: 2,
      seed: 7,
    },
  },
  {
    name: "conv-overlapping-maxpool-softmax-mse-momentum",
    description:
      "Conv2D 3x3 same relu (GlorotUniform, RandomNormal bias) - MaxPooling2D 3x3 stride 2 same (overlapping) - Conv2D 2x2 stride 1 sigmoid (HeUniform) - AveragePooling2D 2x2 valid - Reshape - Activation relu - Dense softmax; meanSquaredError on one-hot class labels; momentum",
    stages: 1,
    job: {
      layers: [
        layer.conv(
          "c1",
          4,
          [3, 3],
          [1, 1],
          "same",
          "relu",
          init.named("GlorotUniform", 401),
          init.randomNormal(402, 0, 0.05),
        ),
        layer.pool("p1", "max", [3, 3], [2, 2], "same"),
        layer.conv("c2", 3, [2, 2], [1, 1], "valid", "sigmoid", init.named("HeUniform", 403), init.zeros()),
        layer.pool("p2", "avg", [2, 2], [2, 2], "valid"),
        layer.reshape("r", [3]),
        layer.activation("a", "relu"),
        layer.dense("out", 3, "softmax", init.varianceScaling(404, 1, "fan_avg", "uniform"), init.zeros()),
      ],
      featureShape: [8, 8, 1],
      labels: { kind: "classIndex", numClasses: 3 },
      loss: "meanSquaredError",
      optimizer: MOMENTUM,
      batchSize: 3,
      stepsPerStage: 2,
      seed: 8,
    },
  },
];
