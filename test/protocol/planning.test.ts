import { expect } from "chai";
import * as p from "../../src/protocol";

const dense = (units: number, activation: string, input?: number[]) => ({
  class_name: "Dense",
  config: { units, activation, use_bias: true, ...(input ? { batch_input_shape: [null, ...input] } : {}) },
});
const mlp = {
  class_name: "Sequential",
  config: { name: "mlp", layers: [dense(128, "relu", [784]), dense(10, "softmax")] },
};
const cnn = {
  class_name: "Sequential",
  config: {
    layers: [
      {
        class_name: "Conv2D",
        config: {
          filters: 8,
          kernel_size: [3, 3],
          strides: [1, 1],
          padding: "valid",
          activation: "relu",
          batch_input_shape: [null, 28, 28, 1],
        },
      },
      { class_name: "MaxPooling2D", config: { pool_size: [2, 2], padding: "valid", strides: null } },
      { class_name: "Flatten", config: {} },
      dense(10, "softmax"),
    ],
  },
};

describe("stage planning (tau, Delta)", () => {
  it("tau of an MLP 784-128-10 counts multiply-adds, biases and activations", () => {
    const c = p.estimateModelCost(mlp);
    const forward = 2 * 784 * 128 + 128 + 128 + (2 * 128 * 10 + 10) + 5 * 10;
    expect(c.forwardFlopsPerSample).to.equal(forward);
    expect(c.trainFlopsPerSample).to.equal(3 * forward);
    expect(c.params).to.equal(784 * 128 + 128 + 128 * 10 + 10);
    expect(c.layers.map((l) => l.outputShape)).to.deep.equal([[128], [10]]);
  });

  it("tau of a small CNN tracks shapes through conv, pooling and flatten; accepts JSON strings and converter files", () => {
    const c = p.estimateModelCost(JSON.stringify({ modelTopology: cnn }));
    expect(c.layers.map((l) => l.outputShape)).to.deep.equal([[26, 26, 8], [13, 13, 8], [1352], [10]]);
    expect(c.layers[0].forwardFlops).to.equal(26 * 26 * 8 * (2 * 9 + 1) + 26 * 26 * 8);
    expect(c.params).to.equal(3 * 3 * 8 + 8 + 1352 * 10 + 10);
  });

  it("prices Reshape at 0 FLOPs and tracks its shape (the engine trains it too); refuses a target that does not hold the input", () => {
    const reshape = (target: number[]) => ({
      class_name: "Sequential",
      config: {
        layers: [
          dense(12, "relu", [3]),
          { class_name: "Reshape", config: { target_shape: target } },
          dense(2, "softmax"),
        ],
      },
    });
    const c = p.estimateModelCost(reshape([3, 4]));
    expect(c.layers.map((l) => l.outputShape)).to.deep.equal([[12], [3, 4], [3, 2]]);
    expect(c.layers[1].forwardFlops).to.equal(0);
    expect(() => p.estimateModelCost(reshape([5]))).to.throw(
      p.UnsupportedModelError,
      /target_shape \[5\] does not hold \[12\]/,
    );
  });

  it("rejects unsupported layers and settings with the layer named", () => {
    const bad = {
      class_name: "Sequential",
      config: { layers: [dense(4, "relu", [3]), { class_name: "LSTM", config: {} }] },
    };
    expect(() => p.estimateModelCost(bad)).to.throw(p.UnsupportedModelError, /layer 1 \(LSTM\)/);
    expect(() => p.estimateModelCost({ class_name: "Model", config: {} })).to.throw(
      p.UnsupportedModelError,
      /Sequential/,
    );
    expect(() =>
      p.estimateModelCost({ class_name: "Sequential", config: { layers: [dense(4, "relu")] } }),
    ).to.throw(p.UnsupportedModelError, /batch_input_shape/);
    expect(() =>
      p.estimateModelCost({ class_name: "Sequential", config: { layers: [dense(4, "gelu_new", [3])] } }),
    ).to.throw(p.UnsupportedModelError, /activation/);
    expect(() => p.estimateModelCost("{not json")).to.throw(p.UnsupportedModelError, /JSON/);
  });

  it("Delta sizes a stage to the target time and retargets on the block rate", () => {
    const plan = p.planStage({
      trainFlopsPerSample: 1e6,
      batchSize: 64,
      targetStageSeconds: 10,
      referenceFlopsPerSecond: 6.4e9,
    });
    expect(plan.stepsPerStage).to.equal(1000);
    expect(plan.estimatedSeconds).to.be.closeTo(10, 1e-9);
    const fast = p.planStage({
      trainFlopsPerSample: 1e6,
      batchSize: 64,
      targetStageSeconds: 10,
      referenceFlopsPerSecond: 6.4e9,
      recentBlocks: { observed: 200, expected: 100 },
    });
    expect(fast.stepsPerStage).to.equal(2000);
    const clamped = p.planStage({
      trainFlopsPerSample: 1e6,
      batchSize: 64,
      targetStageSeconds: 10,
      referenceFlopsPerSecond: 6.4e9,
      recentBlocks: { observed: 0, expected: 100 },
    });
    expect(clamped.rateFactor).to.equal(0.25);
    const tiny = p.planStage({
      trainFlopsPerSample: 1e12,
      batchSize: 64,
      targetStageSeconds: 1,
      referenceFlopsPerSecond: 1e9,
    });
    expect(tiny.stepsPerStage).to.equal(p.MIN_STEPS_PER_STAGE);
  });

  it("Delta rejects batch size below 2 and non-positive inputs", () => {
    const ok = {
      trainFlopsPerSample: 1e6,
      batchSize: 64,
      targetStageSeconds: 10,
      referenceFlopsPerSecond: 1e9,
    };
    expect(() => p.planStage({ ...ok, batchSize: 1 })).to.throw(p.InvalidArgumentError, /batchSize/);
    expect(() => p.planStage({ ...ok, targetStageSeconds: 0 })).to.throw(
      p.InvalidArgumentError,
      /targetStageSeconds/,
    );
    expect(() => p.planStage({ ...ok, trainFlopsPerSample: NaN })).to.throw(
      p.InvalidArgumentError,
      /trainFlopsPerSample/,
    );
  });

  it("planJob cuts steps into stages; a remainder below 2 steps joins the last stage", () => {
    expect(p.planJob({ samples: 640, batchSize: 64, epochs: 1, stepsPerStage: 4 }).stageSteps).to.deep.equal([
      4, 4, 2,
    ]);
    expect(p.planJob({ samples: 640, batchSize: 64, epochs: 1, stepsPerStage: 3 }).stageSteps).to.deep.equal([
      3, 3, 4,
    ]);
    expect(p.planJob({ samples: 700, batchSize: 64, epochs: 2, stepsPerStage: 5 })).to.deep.include({
      totalSteps: 20,
      batchesPerEpoch: 10,
    });
    expect(() => p.planJob({ samples: 640, batchSize: 64, epochs: 1, stepsPerStage: 1 })).to.throw(
      p.InvalidArgumentError,
      /stepsPerStage/,
    );
    expect(() => p.planJob({ samples: 100, batchSize: 64, epochs: 1, stepsPerStage: 2 })).to.throw(
      p.InvalidArgumentError,
      /at least 2/,
    );
  });
});
