import { expect } from "chai";
import {
  assertEngineMatches,
  decodeBatch,
  decodeState,
  encodeBatch,
  encodeState,
  EngineMismatchError,
  initialState,
  InvalidBatchError,
  InvalidModelSpecError,
  InvalidStateBytesError,
  loadIris,
  loadMnist,
  prepareJob,
  runStage,
  takeSamples,
  validateJobSpec,
  seedInitializers,
  type JobSpec,
} from "../support/ml-exports";
import { ADAM, irisSpec, mlpSpec, RHO_CTX, SGD } from "../support/ml-fixtures";

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJson = any;

function expectThrow(f: () => unknown, type: new (...args: never[]) => Error, pattern: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${type.name}`).to.be.instanceOf(type);
  expect((caught as Error).message).to.match(pattern);
}

async function expectReject(
  p: Promise<unknown>,
  type: new (...args: never[]) => Error,
  pattern: RegExp,
): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${type.name}`).to.be.instanceOf(type);
  expect((caught as Error).message).to.match(pattern);
}

describe("ml: bad inputs give clear errors", function () {
  let spec: JobSpec;
  before(async function () {
    spec = await mlpSpec(SGD, 2, 8);
  });

  it("accepts the fixture spec", function () {
    const v = validateJobSpec(spec);
    expect(v.model.weights.map((w) => w.shape)).to.deep.equal([[784, 128], [128], [128, 10], [10]]);
  });

  it("rejects an unseeded initializer, naming the field", function () {
    const bad: AnyJson = clone(spec);
    delete bad.model.config.layers[1].config.kernel_initializer.config.seed;
    expectThrow(
      () => validateJobSpec(bad),
      InvalidModelSpecError,
      /layers\[1\]\.config\.kernel_initializer\.config\.seed: .*no seed/,
    );
    // seedInitializers repairs it deterministically.
    const fixed = { ...bad, model: seedInitializers(bad.model, 9) };
    expect(validateJobSpec(fixed).model.weights).to.have.length(4);
    expect((fixed.model as AnyJson).config.layers[1].config.kernel_initializer.config.seed).to.equal(10);
  });

  it("rejects an unsupported layer, naming it", function () {
    const bad: AnyJson = clone(spec);
    bad.model.config.layers.splice(1, 0, { class_name: "Dropout", config: { rate: 0.5, name: "drop" } });
    expectThrow(
      () => validateJobSpec(bad),
      InvalidModelSpecError,
      /layers\[1\]\.class_name: unsupported layer "Dropout"/,
    );
    const lstm: AnyJson = clone(spec);
    lstm.model.config.layers[0].class_name = "LSTM";
    expectThrow(() => validateJobSpec(lstm), InvalidModelSpecError, /unsupported layer "LSTM"/);
  });

  it("rejects batch size 1 and a single-step stage", function () {
    const bad: AnyJson = clone(spec);
    bad.training.batchSize = 1;
    expectThrow(
      () => validateJobSpec(bad),
      InvalidModelSpecError,
      /training\.batchSize: must be an integer >= 2/,
    );
    const steps: AnyJson = clone(spec);
    steps.training.stepsPerStage = 1;
    expectThrow(
      () => validateJobSpec(steps),
      InvalidModelSpecError,
      /training\.stepsPerStage: must be an integer >= 2/,
    );
  });

  it("training.checkpointEvery: absent stays absent (no checkpoints), an integer >= 0 is kept, anything else is refused", function () {
    const absent: AnyJson = clone(spec);
    delete absent.training.checkpointEvery;
    expect(validateJobSpec(absent).spec.training).to.not.have.property("checkpointEvery");
    const every: AnyJson = clone(spec);
    every.training.checkpointEvery = 8;
    expect(validateJobSpec(every).spec.training.checkpointEvery).to.equal(8);
    for (const value of [-1, 2.5, "8", null]) {
      const bad: AnyJson = clone(spec);
      bad.training.checkpointEvery = value;
      expectThrow(
        () => validateJobSpec(bad),
        InvalidModelSpecError,
        /training\.checkpointEvery: must be an integer >= 0 \(steps between two step checkpoints; 0 = none\)/,
      );
    }
  });

  it("rejects shapes inconsistent with the dataset, and bad optimizer settings", function () {
    const shape: AnyJson = clone(spec);
    shape.data.featureShape = [28, 28, 1];
    expectThrow(
      () => validateJobSpec(shape),
      InvalidModelSpecError,
      /batch_input_shape: model input \[784\] does not match data\.featureShape \[28,28,1\]/,
    );
    const classes: AnyJson = clone(spec);
    classes.data.labels.numClasses = 5;
    expectThrow(
      () => validateJobSpec(classes),
      InvalidModelSpecError,
      /output shape \[10\] does not match data\.labels\.numClasses 5/,
    );
    const opt: AnyJson = clone(spec);
    opt.training.optimizer = { name: "rmsprop", learningRate: 0.1 };
    expectThrow(
      () => validateJobSpec(opt),
      InvalidModelSpecError,
      /training\.optimizer\.name: unsupported optimizer "rmsprop"/,
    );
    const lr: AnyJson = clone(spec);
    lr.training.optimizer.learningRate = -1;
    expectThrow(() => validateJobSpec(lr), InvalidModelSpecError, /training\.optimizer\.learningRate/);
  });

  it("a miner whose engine id differs refuses the job", async function () {
    const other = { ...spec, engineId: `0x${"ab".repeat(32)}` };
    expectThrow(() => assertEngineMatches(other), EngineMismatchError, /refuses the job/);
    await expectReject(prepareJob(other), EngineMismatchError, /engineId is 0xabab/);
  });

  it("rejects a batch of the wrong shape", async function () {
    const iris = await irisSpec(SGD, 2, 10);
    const s0 = await initialState(iris);
    const data = takeSamples(loadIris(), 0, 20);
    const wrongShape = { ...data, featureShape: [2, 2] };
    await expectReject(
      runStage(iris, s0, wrongShape, RHO_CTX),
      InvalidBatchError,
      /featureShape: is \[2,2\], the job's data\.featureShape is \[4\]/,
    );
    await expectReject(
      runStage(iris, s0, takeSamples(loadIris(), 0, 15), RHO_CTX),
      InvalidBatchError,
      /a stage needs 2 batches of 10 samples/,
    );
    const badLabel = takeSamples(loadIris(), 0, 20);
    badLabel.labels[3] = 7;
    await expectReject(
      runStage(iris, s0, badLabel, RHO_CTX),
      InvalidBatchError,
      /labels\[3\]: class 7 is outside \[0, 3\)/,
    );
  });

  it("rejects truncated or mismatched state bytes", async function () {
    const s0 = await initialState(spec);
    const { model } = validateJobSpec(spec);
    expectThrow(
      () => decodeState(s0.subarray(0, s0.length - 4), model.weights, "sgd"),
      InvalidStateBytesError,
      /length: expected \d+ bytes .*got \d+ \(truncated\)/,
    );
    expectThrow(
      () => decodeState(s0.subarray(0, 10), model.weights, "sgd"),
      InvalidStateBytesError,
      /truncated/,
    );
    expectThrow(
      () => decodeState(s0, model.weights, "adam"),
      InvalidStateBytesError,
      /optimizer: the job trains with adam/,
    );
    const corrupt = s0.slice();
    corrupt[0] = 0x58;
    expectThrow(() => decodeState(corrupt, model.weights, "sgd"), InvalidStateBytesError, /magic/);
    const mnist = loadMnist({ trainSize: 16, testSize: 0 }).train;
    await expectReject(
      runStage(spec, s0.subarray(0, 100), mnist, RHO_CTX),
      InvalidStateBytesError,
      /truncated/,
    );
  });

  it("canonical state bytes round-trip exactly (adam slots and step count included)", async function () {
    const adam = await mlpSpec(ADAM, 2, 8);
    const { model } = validateJobSpec(adam);
    const s0 = await initialState(adam);
    const st = decodeState(s0, model.weights, "adam");
    expect(st.step).to.equal(0);
    expect(st.slots).to.have.length(2);
    st.slots[1][2][5] = 0.25;
    st.step = 123;
    const again = encodeState(st, model.weights);
    // Compared as bytes (chai's deep equal walks 100k-element typed arrays one element at a time).
    const back = decodeState(again, model.weights, "adam");
    const same = (x: Float32Array[], y: Float32Array[]) =>
      x.length === y.length &&
      x.every((a, i) =>
        Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
          Buffer.from(y[i].buffer, y[i].byteOffset, y[i].byteLength),
        ),
      );
    expect([back.optimizer, back.step, back.slots.length]).to.deep.equal(["adam", 123, 2]);
    expect(same(back.weights, st.weights), "weights").to.equal(true);
    expect(
      back.slots.every((slot, k) => same(slot, st.slots[k])),
      "slots",
    ).to.equal(true);
    expect(back.slots[1][2][5]).to.equal(0.25);
    expect(Buffer.from(again.subarray(0, 4)).toString()).to.equal("POTS");
    expect(new DataView(again.buffer).getBigUint64(8, true)).to.equal(123n);
  });

  it("the batch format round-trips and its decoder rejects bad bytes", function () {
    const iris = takeSamples(loadIris(), 0, 7);
    const bytes = encodeBatch(iris);
    const back = decodeBatch(bytes);
    expect(back.count).to.equal(7);
    expect(Array.from(back.features)).to.deep.equal(Array.from(iris.features));
    expect(Array.from(back.labels)).to.deep.equal(Array.from(iris.labels));
    expect(encodeBatch(back)).to.deep.equal(bytes);
    expectThrow(
      () => decodeBatch(bytes.subarray(0, bytes.length - 1)),
      InvalidBatchError,
      /length: header announces 7 samples of \[4\].*\(truncated\)/,
    );
    const nan = bytes.slice();
    new DataView(nan.buffer).setFloat32(24, NaN, true);
    expectThrow(() => decodeBatch(nan), InvalidBatchError, /features\[0\]: is NaN/);
    expectThrow(() => decodeBatch(new Uint8Array(5)), InvalidBatchError, /truncated/);
  });
});
