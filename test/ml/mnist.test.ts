import { expect } from "chai";
import {
  evaluateWith,
  initialState,
  loadMnist,
  prepareJob,
  runStageWith,
  takeSamples,
  Trainer,
} from "../support/ml-exports";
import { mlpSpec, RHO_CTX } from "../support/ml-fixtures";

describe("ml: training is real", function () {
  it("an MLP 784-128-10 on MNIST, trained stage by stage through runStage, reaches >= 90% test accuracy", async function () {
    const spec = await mlpSpec({ name: "sgd", learningRate: 0.2 }, 25, 64);
    const job = await prepareJob(spec);
    const { train, test } = loadMnist({ trainSize: 8000, testSize: 2000, seed: 0 });
    const trainer = new Trainer(job.spec, job.model);
    let state = await initialState(spec);
    const stages = 16; // 400 SGD steps at batch 64 (3.2 epochs of 8,000)
    const perStage = 25 * 64;
    const losses: number[] = [];
    for (let s = 0; s < stages; s++) {
      const r = runStageWith(trainer, state, takeSamples(train, s * perStage, perStage), {
        ...RHO_CTX,
        stage: s + 1,
      });
      state = r.state;
      losses.push(r.meanLoss);
    }
    trainer.load(state);
    const ev = evaluateWith(trainer, test);
    trainer.dispose();
    expect(losses[stages - 1]).to.be.lessThan(losses[0] / 3);
    expect(ev.count).to.equal(2000);
    expect(ev.accuracy, `test accuracy ${ev.accuracy}`).to.be.at.least(0.9);
  });
});
