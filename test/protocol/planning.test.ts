import { expect } from "chai";
import * as p from "../../src/protocol";

describe("stage planning (Delta)", () => {
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
