/**
 * One list of supported layers (src/protocol/model-layers.ts): the model the engine validates and trains is
 * the model tau prices, and a layer outside the list is refused by both with the same PotError.
 */
import { expect } from "chai";
import { PotError } from "../../src/errors";
import { SUPPORTED_LAYERS } from "../../src/protocol";
import {
  compiledModelCost,
  estimateModelCost,
  initialState,
  InvalidModelSpecError,
  prepareJob,
  runStage,
  validateJobSpec,
} from "../support/ml-exports";
import { RHO_CTX } from "../support/ml-fixtures";
import { buildVectorJob, init, layer, syntheticBatch, type VectorJob } from "../support/ml-vector-jobs";

const job = (hidden: Record<string, unknown>[]): VectorJob => ({
  layers: [
    layer.dense("d1", 12, "relu", init.named("GlorotUniform", 1), init.zeros()),
    ...hidden,
    layer.dense("out", 2, "softmax", init.named("GlorotUniform", 2), init.zeros()),
  ],
  featureShape: [3],
  labels: { kind: "classIndex", numClasses: 2 },
  loss: "categoricalCrossentropy",
  optimizer: { name: "sgd", learningRate: 0.1 },
  batchSize: 4,
  stepsPerStage: 2,
  seed: 3,
});

const reshapeThenPool = [
  layer.reshape("r", [2, 2, 3]),
  layer.pool("p", "max", [2, 2], [2, 2], "valid"),
  layer.flatten("f"),
];

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("one list of supported layers: the engine trains what tau prices", function () {
  it("a model with a Reshape layer validates, trains a stage, and gets a cost estimate (tau)", async function () {
    const spec = await buildVectorJob(job(reshapeThenPool));
    const prepared = await prepareJob(spec);
    expect(prepared.model.layers.map((l) => l.kind)).to.deep.equal([
      "dense",
      "reshape",
      "pool",
      "flatten",
      "dense",
    ]);
    const s0 = await initialState(spec);
    const stage = await runStage(spec, s0, syntheticBatch(spec, 9), RHO_CTX);
    expect(stage.state).to.not.deep.equal(s0);

    const cost = estimateModelCost(spec.model);
    expect(cost).to.deep.equal(compiledModelCost(prepared.model));
    expect(cost.layers.map((l) => [l.className, l.outputShape])).to.deep.equal([
      ["Dense", [12]],
      ["Reshape", [2, 2, 3]],
      ["MaxPooling2D", [1, 1, 3]],
      ["Flatten", [3]],
      ["Dense", [2]],
    ]);
    expect(cost.layers[1].forwardFlops).to.equal(0);
    // Dense 3->12 + bias + relu; Reshape free; a 2x2 window per channel; Dense 3->2 + bias + softmax.
    const forward = 2 * 3 * 12 + 12 + 12 + 3 * 2 * 2 + (2 * 3 * 2 + 2 + 5 * 2);
    expect(cost.forwardFlopsPerSample).to.equal(forward);
    expect(cost.trainFlopsPerSample).to.equal(3 * forward);
    expect(cost.params).to.equal(3 * 12 + 12 + 3 * 2 + 2);
  });

  it("refuses an unsupported layer in validation and in tau alike, with a PotError naming the list", async function () {
    const lstm = { class_name: "LSTM", config: { name: "lstm", units: 4 } };
    const spec = await buildVectorJob(job([]));
    const model = structuredClone(spec.model) as { config: { layers: unknown[] } };
    model.config.layers.splice(1, 0, lstm);
    const asSpec = { ...spec, model };
    for (const error of [caught(() => estimateModelCost(model)), caught(() => validateJobSpec(asSpec))]) {
      expect(error).to.be.instanceOf(InvalidModelSpecError);
      expect(error).to.be.instanceOf(PotError);
      const e = error as InvalidModelSpecError;
      expect(e.code).to.equal("INVALID_MODEL_SPEC");
      expect(e.field).to.equal("model.config.layers[1].class_name");
      expect(e.message).to.contain(
        `unsupported layer "LSTM": supported layers are ${SUPPORTED_LAYERS.join(", ")}`,
      );
    }
  });

  it("prices a model before its initializers are seeded (an employer's preset): seeds cost nothing", async function () {
    const spec = await buildVectorJob(job(reshapeThenPool));
    const unseeded = structuredClone(spec.model) as {
      config: { layers: { config: { kernel_initializer?: { config: Record<string, unknown> } } }[] };
    };
    delete unseeded.config.layers[0].config.kernel_initializer!.config.seed;
    expect(() => validateJobSpec({ ...spec, model: unseeded })).to.throw(
      InvalidModelSpecError,
      /has no seed/,
    );
    expect(estimateModelCost(unseeded)).to.deep.equal(estimateModelCost(spec.model));
  });

  it("tau refuses what the engine refuses: a Reshape that does not hold its input, an unknown activation", async function () {
    const spec = await buildVectorJob(job(reshapeThenPool));
    const bad = structuredClone(spec.model) as { config: { layers: { config: Record<string, unknown> }[] } };
    bad.config.layers[1].config.target_shape = [5];
    expect(() => estimateModelCost(bad)).to.throw(InvalidModelSpecError, /\[5\] does not hold \[12\]/);
    const gelu = structuredClone(spec.model) as typeof bad;
    gelu.config.layers[0].config.activation = "gelu_new";
    expect(() => estimateModelCost(gelu)).to.throw(InvalidModelSpecError, /activation/);
    expect(() => estimateModelCost("{not json")).to.throw(InvalidModelSpecError);
  });
});
