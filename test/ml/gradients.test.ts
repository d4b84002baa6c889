import { expect } from "chai";
import {
  decodeState,
  initialState,
  loadMnist,
  prepareJob,
  runStage,
  takeSamples,
  tf,
  type JobSpec,
} from "../support/ml-exports";
import { cnnSpec, mlpSpec, RHO_CTX } from "../support/ml-fixtures";

/**
 * Independent reference: the same two SGD steps with a stock tfjs LayersModel (built from the spec's
 * JSON), stock losses and stock gradients, on the `cpu` backend.
 */
async function referenceTwoSteps(
  spec: JobSpec,
  s0: Float32Array[],
  data: ReturnType<typeof takeSamples>,
): Promise<Float32Array[]> {
  await tf.setBackend("cpu");
  try {
    const model = await tf.models.modelFromJSON({
      modelTopology: spec.model as tf.io.ModelJSON["modelTopology"],
    });
    model.setWeights(s0.map((w, i) => tf.tensor(w, model.getWeights()[i].shape)));
    const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const bs = spec.training.batchSize;
    const fs = spec.data.featureShape.reduce((a, b) => a * b, 1);
    const lr = spec.training.optimizer.learningRate;
    for (let s = 0; s < 2; s++) {
      tf.tidy(() => {
        const x = tf.tensor(data.features.subarray(s * bs * fs, (s + 1) * bs * fs), [
          bs,
          ...spec.data.featureShape,
        ]);
        const y = tf.oneHot(tf.tensor1d(Array.from(data.labels.subarray(s * bs, (s + 1) * bs)), "int32"), 10);
        const { grads } = tf.variableGrads(
          () => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x) as tf.Tensor)) as tf.Scalar,
          vars,
        );
        vars.forEach((v) => v.assign(tf.sub(v, tf.mul(grads[v.name], lr))));
      });
    }
    const out = model.getWeights().map((w) => w.dataSync() as Float32Array);
    model.dispose();
    return out;
  } finally {
    await tf.setBackend("wasm");
  }
}

describe("ml: gradients match stock tfjs", function () {
  for (const [name, make, featureShape] of [
    ["MLP", () => mlpSpec({ name: "sgd", learningRate: 0.5 }, 2, 16), [784]],
    ["CNN", () => cnnSpec({ name: "sgd", learningRate: 0.5 }, 2, 16), [28, 28, 1]],
  ] as const) {
    it(`${name}: two SGD steps of runStage equal stock tfjs-cpu layers training within 2e-5`, async function () {
      const spec = await make();
      const job = await prepareJob(spec);
      const s0Bytes = await initialState(spec);
      const s0 = decodeState(s0Bytes, job.model.weights, "sgd").weights;
      const { train } = loadMnist({ featureShape: [...featureShape], trainSize: 32, testSize: 0, seed: 3 });
      const data = takeSamples(train, 0, 32);
      const ours = decodeState(
        (await runStage(spec, s0Bytes, data, RHO_CTX)).state,
        job.model.weights,
        "sgd",
      ).weights;
      const ref = await referenceTwoSteps(spec, s0, data);
      let maxDiff = 0;
      let maxMove = 0;
      ours.forEach((w, i) =>
        w.forEach((v, j) => {
          maxDiff = Math.max(maxDiff, Math.abs(v - ref[i][j]));
          maxMove = Math.max(maxMove, Math.abs(v - s0[i][j]));
        }),
      );
      expect(maxMove, "the weights moved").to.be.greaterThan(1e-3);
      expect(maxDiff, `max |ours - reference| = ${maxDiff}`).to.be.lessThan(2e-5);
    });
  }
});
