import { expect } from "chai";
import {
  decodeState,
  evaluateWith,
  initialState,
  loadIris,
  loadMnist,
  runStage,
  runStageWith,
  runStageAsync,
  stateHash,
  takeSamples,
  tf,
  Trainer,
  prepareJob,
  type JobSpec,
  type OptimizerConfig,
} from "../support/ml-exports";
import { ADAM, cnnSpec, irisSpec, mlpSpec, MOMENTUM, RHO_CTX, SGD } from "../support/ml-fixtures";

/** Runs `total` steps from S_0 as stages of `perStage` steps, passing the state as bytes. */
async function trainInStages(
  make: (o: OptimizerConfig, steps: number) => Promise<JobSpec>,
  optimizer: OptimizerConfig,
  total: number,
  perStage: number,
  featureShape: number[],
) {
  const spec = await make(optimizer, perStage);
  const { train } = loadMnist({ featureShape, trainSize: 2000, testSize: 0, seed: 5 });
  let state = await initialState(spec);
  const bs = spec.training.batchSize;
  for (let s = 0; s < total / perStage; s++) {
    const data = takeSamples(train, s * perStage * bs, perStage * bs);
    state = (await runStage(spec, state, data, { ...RHO_CTX, stage: s + 1 })).state;
  }
  return state;
}

describe("ml: stages", function () {
  for (const optimizer of [SGD, MOMENTUM, ADAM]) {
    it(`splitting 6 steps into stages changes nothing (${optimizer.name}, MLP): 1x6 = 2x3 = 3x2`, async function () {
      const mlp = (o: OptimizerConfig, steps: number) => mlpSpec(o, steps, 32);
      const one = await trainInStages(mlp, optimizer, 6, 6, [784]);
      const two = await trainInStages(mlp, optimizer, 6, 3, [784]);
      const three = await trainInStages(mlp, optimizer, 6, 2, [784]);
      expect(stateHash(two)).to.equal(stateHash(one));
      expect(stateHash(three)).to.equal(stateHash(one));
      const spec = await mlpSpec(optimizer, 2, 32);
      const decoded = decodeState(one, (await prepareJob(spec)).model.weights, optimizer.name);
      expect(decoded.step).to.equal(6);
      if (optimizer.name !== "sgd") expect(decoded.slots[0][0].some((v) => v !== 0)).to.equal(true);
    });
  }

  it("splitting changes nothing for the CNN either (adam, 4 steps: 1x4 = 2x2)", async function () {
    const cnn = (o: OptimizerConfig, steps: number) => cnnSpec(o, steps, 8);
    const one = await trainInStages(cnn, ADAM, 4, 4, [28, 28, 1]);
    const two = await trainInStages(cnn, ADAM, 4, 2, [28, 28, 1]);
    expect(stateHash(two)).to.equal(stateHash(one));
  });

  it("rho binds the stage context, the data and the state", async function () {
    const spec = await irisSpec(MOMENTUM, 3, 10);
    const s0 = await initialState(spec);
    const iris = loadIris(1);
    const data = takeSamples(iris, 0, 30);
    const a = await runStage(spec, s0, data, RHO_CTX);
    const b = await runStage(spec, s0, data, RHO_CTX);
    expect(b.rho).to.equal(a.rho);
    expect(b.stateHash).to.equal(a.stateHash);
    const otherStage = await runStage(spec, s0, data, { ...RHO_CTX, stage: 2 });
    expect(otherStage.rho).to.not.equal(a.rho);
    expect(otherStage.stateHash).to.equal(a.stateHash);
    const otherData = await runStage(spec, s0, takeSamples(iris, 30, 30), RHO_CTX);
    expect(otherData.rho).to.not.equal(a.rho);
    expect(a.stepLosses).to.have.length(3);
    expect(a.stepLosses[0]).to.have.length(10);
    expect(a.meanLoss).to.be.greaterThan(0);
    // One Batch per step gives the same as one Batch for the whole stage.
    const perStep = await runStage(
      spec,
      s0,
      [0, 1, 2].map((s) => takeSamples(iris, s * 10, 10)),
      RHO_CTX,
    );
    expect(perStep.rho).to.equal(a.rho);
  });

  it("the per-sample losses are those of the forward pass on the pre-update weights", async function () {
    const spec = await irisSpec(SGD, 2, 10);
    const job = await prepareJob(spec);
    const s0 = await initialState(spec);
    const iris = loadIris(2);
    const r = await runStage(spec, s0, takeSamples(iris, 0, 20), RHO_CTX);
    // Recompute the first step's losses with a forward pass only, from S_0.
    const trainer = new Trainer(job.spec, job.model);
    trainer.load(s0);
    const ev = evaluateWith(trainer, takeSamples(iris, 0, 10), 10);
    trainer.dispose();
    const mean = r.stepLosses[0].reduce((a, b) => a + b, 0) / 10;
    expect(ev.loss).to.be.closeTo(mean, 1e-6);
  });

  it("the streamed state hash equals sha256 of the canonical bytes (and the intermediate hash is real)", async function () {
    const spec = await mlpSpec(ADAM, 3, 8);
    const job = await prepareJob(spec);
    const { train } = loadMnist({ trainSize: 100, testSize: 0 });
    const trainer = new Trainer(job.spec, job.model);
    const s0 = await initialState(spec);
    trainer.load(s0);
    expect(trainer.stateHash()).to.equal(stateHash(s0));
    trainer.trainStep(train, 0);
    trainer.trainStep(train, 8);
    expect(trainer.stateHash()).to.equal(stateHash(trainer.stateBytes()));
    const r = runStageWith(trainer, s0, takeSamples(train, 0, 24), RHO_CTX);
    expect(r.stateHash).to.equal(stateHash(r.state));
    // The intermediate state is the state after 2 of the 3 steps, i.e. the one hashed above.
    trainer.load(s0);
    trainer.trainStep(train, 0);
    trainer.trainStep(train, 8);
    expect(r.intermediateStateHash).to.equal(stateHash(trainer.stateBytes()));
    trainer.dispose();
  });

  it("runStageAsync yields to the event loop mid-stage and is bit-identical to runStageWith; an abort stops it", async () => {
    const spec = await mlpSpec(MOMENTUM, 40, 16);
    const job = await prepareJob(spec);
    const { train } = loadMnist({ trainSize: 640, testSize: 0 });
    const trainer = new Trainer(job.spec, job.model);
    const s0 = await initialState(spec);
    const sync = runStageWith(trainer, s0, takeSamples(train, 0, 640), RHO_CTX);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const asyncRun = await runStageAsync(trainer, s0, takeSamples(train, 0, 640), RHO_CTX, {
      yieldEveryMs: 0,
    }).finally(() => clearInterval(timer));
    expect(ticks, "timers ran while the stage trained").to.be.greaterThan(0);
    expect(asyncRun.stateHash).to.equal(sync.stateHash);
    expect(asyncRun.rho).to.equal(sync.rho);
    expect(Buffer.from(asyncRun.state).equals(Buffer.from(sync.state))).to.equal(true);

    const ctrl = new AbortController();
    setImmediate(() => ctrl.abort(new Error("stale speculative work")));
    let error: unknown;
    await runStageAsync(trainer, s0, takeSamples(train, 0, 640), RHO_CTX, {
      yieldEveryMs: 0,
      signal: ctrl.signal,
    }).catch((e: unknown) => (error = e));
    expect((error as Error)?.message).to.equal("stale speculative work");
    trainer.dispose();
  });

  it("leaks no tensors over many steps", async function () {
    const spec = await mlpSpec(ADAM, 50, 16);
    const job = await prepareJob(spec);
    const { train } = loadMnist({ trainSize: 1000, testSize: 0 });
    const trainer = new Trainer(job.spec, job.model);
    let state = await initialState(spec);
    runStageWith(trainer, state, takeSamples(train, 0, 800), RHO_CTX);
    const before = tf.memory().numTensors;
    for (let s = 0; s < 4; s++)
      state = runStageWith(trainer, state, takeSamples(train, 800 * s, 800), RHO_CTX).state;
    expect(tf.memory().numTensors).to.equal(before);
    trainer.dispose();
  });
});
