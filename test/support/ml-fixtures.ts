/**
 * Fixed job specs for the training-engine tests, vectors and benchmark. Layer names are explicit
 * (tfjs auto-numbers them per process) so the spec JSON is the same in every process.
 */
import * as tf from "@tensorflow/tfjs";
import { buildJobSpec, initEngine, type JobSpec, type OptimizerConfig } from "../../src/ml";

export const SGD: OptimizerConfig = { name: "sgd", learningRate: 0.1 };
export const MOMENTUM: OptimizerConfig = { name: "momentum", learningRate: 0.05, momentum: 0.9 };
export const ADAM: OptimizerConfig = {
  name: "adam",
  learningRate: 0.001,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
};

export const RHO_CTX = {
  domain: "0x1111111111111111111111111111111111111111111111111111111111111111",
  jobId: 7n,
  stage: 1,
} as const;

/** MLP 784-hidden-10 for MNIST (the model builders need initEngine() first). */
export function mlpModel(hidden = 128): unknown {
  const m = tf.sequential({
    name: "mlp",
    layers: [
      tf.layers.dense({
        name: "hidden",
        inputShape: [784],
        units: hidden,
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }),
      }),
      tf.layers.dense({
        name: "out",
        units: 10,
        activation: "softmax",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }),
      }),
    ],
  });
  const json = JSON.parse(m.toJSON() as string);
  m.dispose();
  return json;
}

/** Small CNN for MNIST: conv 3x3x8 - maxpool 2 - conv 3x3x16 - maxpool 2 - dense 10. */
export function cnnModel(): unknown {
  const m = tf.sequential({
    name: "cnn",
    layers: [
      tf.layers.conv2d({
        name: "c1",
        inputShape: [28, 28, 1],
        filters: 8,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: tf.initializers.heNormal({ seed: 21 }),
      }),
      tf.layers.maxPooling2d({ name: "p1", poolSize: 2 }),
      tf.layers.conv2d({
        name: "c2",
        filters: 16,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: tf.initializers.heNormal({ seed: 22 }),
      }),
      tf.layers.maxPooling2d({ name: "p2", poolSize: 2 }),
      tf.layers.flatten({ name: "f" }),
      tf.layers.dense({
        name: "out",
        units: 10,
        activation: "softmax",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 23 }),
      }),
    ],
  });
  const json = JSON.parse(m.toJSON() as string);
  m.dispose();
  return json;
}

/** Iris MLP 4-8-3. */
export function irisModel(): unknown {
  const m = tf.sequential({
    name: "iris",
    layers: [
      tf.layers.dense({
        name: "h",
        inputShape: [4],
        units: 8,
        activation: "tanh",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 31 }),
      }),
      tf.layers.dense({
        name: "out",
        units: 3,
        activation: "softmax",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 32 }),
      }),
    ],
  });
  const json = JSON.parse(m.toJSON() as string);
  m.dispose();
  return json;
}

export async function mlpSpec(
  optimizer: OptimizerConfig = SGD,
  stepsPerStage = 4,
  batchSize = 64,
): Promise<JobSpec> {
  await initEngine();
  return buildJobSpec({
    model: mlpModel(),
    training: { optimizer, loss: "categoricalCrossentropy", batchSize, stepsPerStage, seed: 1 },
    data: { featureShape: [784], labels: { kind: "classIndex", numClasses: 10 } },
  });
}

export async function cnnSpec(
  optimizer: OptimizerConfig = SGD,
  stepsPerStage = 3,
  batchSize = 64,
): Promise<JobSpec> {
  await initEngine();
  return buildJobSpec({
    model: cnnModel(),
    training: { optimizer, loss: "categoricalCrossentropy", batchSize, stepsPerStage, seed: 2 },
    data: { featureShape: [28, 28, 1], labels: { kind: "classIndex", numClasses: 10 } },
  });
}

export async function irisSpec(
  optimizer: OptimizerConfig = SGD,
  stepsPerStage = 5,
  batchSize = 10,
  checkpointEvery = 0,
): Promise<JobSpec> {
  await initEngine();
  return buildJobSpec({
    model: irisModel(),
    training: {
      optimizer,
      loss: "sparseCategoricalCrossentropy",
      batchSize,
      stepsPerStage,
      seed: 3,
      checkpointEvery,
    },
    data: { featureShape: [4], labels: { kind: "classIndex", numClasses: 3 } },
  });
}
