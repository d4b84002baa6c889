/** Planning is pure: stages, steps, fee split, gas and time from the dataset size and the model. */
import { expect } from "chai";
import { InvalidModelSpecError } from "../../src/ml/errors";
import {
  defaultCheckpointEvery,
  DEFAULT_MIN_STAGES,
  planJobCreation,
  plannedMinDeclareSeconds,
  splitFee,
  stageGas,
  GAS,
} from "../../src/employer/plan";
import { detectionProbability, sampleSize } from "../../src/verify/report";

const dense = (units: number, activation: string, input?: number[]) => ({
  class_name: "Dense",
  config: {
    name: `d${units}`,
    units,
    activation,
    use_bias: true,
    kernel_initializer: { class_name: "GlorotUniform", config: { seed: 1 } },
    bias_initializer: { class_name: "Zeros", config: {} },
    ...(input ? { batch_input_shape: [null, ...input] } : {}),
  },
});
const mlp = {
  class_name: "Sequential",
  config: { name: "m", layers: [dense(128, "relu", [784]), dense(10, "softmax")] },
};

describe("employer plan (pure)", () => {
  it("cuts the run into whole stages, drops the remainder, and computes tau", () => {
    const p = planJobCreation({
      model: mlp,
      samples: 8000,
      batchSize: 64,
      epochs: 2,
      stepsPerStage: 50,
      fee: 10n ** 18n,
      c: 3,
      k: 3,
      stageSeconds: 60,
    });
    // 125 steps per epoch x 2 = 250 steps = 5 stages of 50.
    expect(p.numStages).to.equal(5);
    expect(p.droppedSteps).to.equal(0);
    expect(p.samplesPerStage).to.equal(3200);
    expect(p.params).to.equal(784 * 128 + 128 + 128 * 10 + 10);
    expect(p.trainFlopsPerSample).to.be.greaterThan(3 * 2 * 784 * 128);
    const q = planJobCreation({
      model: mlp,
      samples: 8000,
      batchSize: 64,
      epochs: 1,
      stepsPerStage: 40,
      fee: 10n ** 18n,
      c: 3,
      k: 3,
      stageSeconds: 60,
    });
    expect(q.numStages).to.equal(3);
    expect(q.droppedSteps).to.equal(5);
  });

  it("caps Delta so that data too small for the stage target still fills DEFAULT_MIN_STAGES stages", () => {
    const base = { model: mlp, batchSize: 64, epochs: 1, fee: 10n ** 17n, c: 2, k: 2, stageSeconds: 600 };
    // MNIST's 8,000 samples: 125 steps, while Delta for 60 s is thousands of steps.
    const capped = planJobCreation({ ...base, samples: 8000 });
    expect(capped.targetStepsPerStage).to.be.greaterThan(125);
    expect(capped.stepsPerStage).to.equal(Math.floor(125 / DEFAULT_MIN_STAGES));
    expect(capped.numStages).to.equal(DEFAULT_MIN_STAGES);
    // An explicit --steps-per-stage is never capped, and a big enough dataset keeps Delta.
    expect(planJobCreation({ ...base, samples: 8000, stepsPerStage: 40 })).to.include({
      stepsPerStage: 40,
      numStages: 3,
      targetStepsPerStage: undefined,
    });
    const big = planJobCreation({ ...base, samples: 8000, targetStageSeconds: 0.001 });
    expect(big.targetStepsPerStage).to.equal(undefined);
  });

  it("picks steps per stage with Delta when none is given, longer stages for a longer target", () => {
    const a = planJobCreation({
      model: mlp,
      samples: 60000,
      batchSize: 32,
      epochs: 1,
      targetStageSeconds: 0.05,
      fee: 10n ** 18n,
      c: 2,
      k: 1,
      stageSeconds: 60,
    });
    const b = planJobCreation({
      model: mlp,
      samples: 60000,
      batchSize: 32,
      epochs: 1,
      targetStageSeconds: 0.2,
      fee: 10n ** 18n,
      c: 2,
      k: 1,
      stageSeconds: 60,
    });
    expect(b.stepsPerStage).to.be.greaterThan(a.stepsPerStage * 3);
    expect(a.stageTrainingSeconds).to.be.closeTo(0.05, 0.01);
    expect(a.expectedSeconds).to.be.greaterThan(a.numStages * a.stageTrainingSeconds);
  });

  it("splits the fee as the ledger does and accounts for every wei", () => {
    const fee = 1_000_003n;
    const s = splitFee(fee, 3, 3, 2);
    expect(s.perStage).to.equal(333_334n);
    expect(s.remainder).to.equal(fee - 3n * 333_334n);
    expect(s.builder).to.equal((333_334n * 2000n) / 10_000n);
    expect(s.builder + 2n * s.attester + 3n * s.declarant + s.dust).to.equal(s.perStage);
  });

  it("estimates gas from docs/bench/gas-ledger.md and prices it", () => {
    expect(stageGas(3, false)).to.equal(434_023);
    expect(stageGas(5, true)).to.equal(895_901);
    expect(stageGas(4, false)).to.be.within(434_023, 586_439);
    const p = planJobCreation({
      model: mlp,
      samples: 6400,
      batchSize: 64,
      epochs: 1,
      stepsPerStage: 50,
      fee: 10n ** 18n,
      c: 3,
      k: 3,
      stageSeconds: 60,
      gasPrice: 10n,
    });
    expect(p.numStages).to.equal(2);
    expect(p.gas.createJob).to.equal(GAS.createJob);
    expect(p.gas.stages).to.equal(670_311 + 434_023);
    expect(p.gas.createJobWei).to.equal(BigInt(GAS.createJob) * 10n);
  });

  it("plans the minimum declaration window from a stage's training time, within the network's bounds", () => {
    expect(plannedMinDeclareSeconds(12.3, 600)).to.equal(13);
    expect(plannedMinDeclareSeconds(12.3, 600, 60)).to.equal(60);
    expect(plannedMinDeclareSeconds(700, 600)).to.equal(600);
    expect(plannedMinDeclareSeconds(0, 600)).to.equal(0);
  });

  it("refuses plans no job could use, saying why", () => {
    expect(() =>
      planJobCreation({
        model: mlp,
        samples: 100,
        batchSize: 64,
        epochs: 1,
        stepsPerStage: 50,
        fee: 1n,
        c: 2,
        k: 1,
        stageSeconds: 60,
      }),
    ).to.throw(/not one stage/);
    expect(() =>
      planJobCreation({
        model: mlp,
        samples: 6400,
        batchSize: 64,
        epochs: 1,
        stepsPerStage: 2,
        fee: 10n,
        c: 2,
        k: 1,
        stageSeconds: 60,
      }),
    ).to.throw(/1 wei per stage/);
    expect(() =>
      planJobCreation({
        model: mlp,
        samples: 6400,
        batchSize: 64,
        epochs: 1,
        fee: 10n,
        c: 1,
        k: 1,
        stageSeconds: 60,
      }),
    ).to.throw(/c must be/);
  });

  it("detection probability: m/n for one wrong stage, 1 for all, more for several", () => {
    expect(detectionProbability(10, 3)).to.equal(0.3);
    expect(detectionProbability(10, 10)).to.equal(1);
    expect(detectionProbability(10, 0)).to.equal(0);
    expect(detectionProbability(10, 3, 2)).to.be.closeTo(1 - (8 / 10) * (7 / 9) * (6 / 8), 1e-12);
    expect(sampleSize({ kind: "fraction", fraction: 0.25 }, 10)).to.equal(3);
    expect(sampleSize({ kind: "fraction", fraction: 0.2 }, 10)).to.equal(2);
    expect(sampleSize({ kind: "count", count: 20 }, 10)).to.equal(10);
  });

  it("checkpointEvery: max(20, ceil(steps / 16)) by default, as given otherwise, refused when not an integer >= 0", () => {
    expect([2, 12, 320, 321, 30_000].map(defaultCheckpointEvery)).to.deep.equal([20, 20, 20, 21, 1875]);
    const plan = (checkpointEvery?: number) =>
      planJobCreation({
        model: mlp,
        samples: 8000,
        batchSize: 64,
        epochs: 1,
        stepsPerStage: 40,
        checkpointEvery,
        fee: 10n ** 18n,
        c: 3,
        k: 3,
        stageSeconds: 60,
      });
    expect(plan().checkpointEvery).to.equal(20);
    expect(plan(0).checkpointEvery).to.equal(0);
    expect(plan(7).checkpointEvery).to.equal(7);
    for (const bad of [-1, 1.5, Number.NaN])
      expect(() => plan(bad)).to.throw(
        InvalidModelSpecError,
        /training\.checkpointEvery: must be an integer >= 0/,
      );
  });
});
