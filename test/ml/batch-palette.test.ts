import { expect } from "chai";
import {
  decodeBatch,
  encodeBatch,
  initialState,
  InvalidBatchError,
  loadIris,
  loadMnist,
  runStage,
  takeSamples,
  type Batch,
} from "../support/ml-exports";
import { mlpSpec, RHO_CTX } from "../support/ml-fixtures";

function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function expectInvalid(f: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (err) {
    caught = err;
  }
  expect(caught).to.be.instanceOf(InvalidBatchError);
  expect((caught as Error).message).to.match(pattern);
}

describe("batch format: the uint8 palette form of features", function () {
  this.timeout(120_000);
  const mnist = takeSamples(loadMnist().train, 0, 64);

  it("decodes MNIST to the very float32 bits it encoded, in about a quarter of the bytes", function () {
    const plain = encodeBatch(mnist);
    const packed = encodeBatch(mnist, { features: "palette" });
    expect(packed[5]).to.equal(2);
    expect(packed.length).to.be.below(plain.length / 3.5);
    const back = decodeBatch(packed);
    expect(Buffer.from(bitsOf(back.features).buffer)).to.deep.equal(
      Buffer.from(bitsOf(mnist.features).slice().buffer),
    );
    expect(Array.from(back.labels)).to.deep.equal(Array.from(mnist.labels));
    // canonical: re-encoding the decoded batch gives the same bytes (hence the same CID)
    expect(encodeBatch(back, { features: "palette" })).to.deep.equal(packed);
    expect(encodeBatch(mnist, { features: "auto" })).to.deep.equal(packed);
  });

  it("keeps -0 and +0 apart, and auto falls back to float32 past 256 distinct values", function () {
    const features = new Float32Array([0, -0, 1.5, -2, 0, -0, 1.5, -2]);
    const b: Batch = {
      count: 2,
      featureShape: [4],
      features,
      labelShape: [],
      labels: new Int32Array([1, 0]),
    };
    const back = decodeBatch(encodeBatch(b, { features: "palette" }));
    expect(Array.from(bitsOf(back.features))).to.deep.equal(Array.from(bitsOf(features)));
    const iris = loadIris(); // 150 samples x 4 measurements with one decimal: a small palette
    const many: Batch = {
      count: 300,
      featureShape: [1],
      features: Float32Array.from({ length: 300 }, (_, i) => i / 7),
      labelShape: [],
      labels: new Int32Array(300),
    };
    expect(encodeBatch(many, { features: "auto" })[5]).to.equal(1);
    expectInvalid(() => encodeBatch(many, { features: "palette" }), /at most 256 distinct values/);
    expect(decodeBatch(encodeBatch(iris, { features: "auto" })).features).to.deep.equal(iris.features);
  });

  it("rejects a bad palette: index out of range, unsorted or duplicate values, non-finite values", function () {
    const b: Batch = {
      count: 1,
      featureShape: [3],
      features: new Float32Array([0.5, 0.25, 0.5]),
      labelShape: [],
      labels: new Int32Array([2]),
    };
    const bytes = encodeBatch(b, { features: "palette" });
    // header: 8 + count 4 + rank 4 + dim 4 + label rank 4 = 24; palette size at 24, values at 28, 32
    const view = (x: Uint8Array) => new DataView(x.buffer, x.byteOffset, x.byteLength);
    expect(view(bytes).getUint32(24, true)).to.equal(2);
    const outOfRange = bytes.slice();
    outOfRange[36] = 2;
    expectInvalid(() => decodeBatch(outOfRange), /features\[0\]: palette index 2 >= palette size 2/);
    const unsorted = bytes.slice();
    view(unsorted).setFloat32(28, 0.75, true);
    expectInvalid(() => decodeBatch(unsorted), /palette\[1\]: palette values must be distinct and ascending/);
    const duplicate = bytes.slice();
    view(duplicate).setFloat32(32, 0.25, true);
    expectInvalid(() => decodeBatch(duplicate), /palette\[1\]/);
    const inf = bytes.slice();
    view(inf).setFloat32(32, Infinity, true);
    expectInvalid(() => decodeBatch(inf), /palette\[1\]: is Infinity/);
    const size0 = bytes.slice();
    view(size0).setUint32(24, 0, true);
    expectInvalid(() => decodeBatch(size0), /palette size: expected 1\.\.256, got 0/);
    expectInvalid(() => decodeBatch(bytes.subarray(0, 30)), /truncated/);
    const badDtype = bytes.slice();
    badDtype[5] = 3;
    expectInvalid(
      () => decodeBatch(badDtype),
      /feature dtype: expected 1 \(float32\) or 2 \(uint8 palette\), got 3/,
    );
  });

  it("a stage trained on palette-encoded batches equals the stage trained on float32 ones", async function () {
    const spec = await mlpSpec({ name: "sgd", learningRate: 0.2 }, 2, 32);
    const s0 = await initialState(spec);
    const fromPlain = await runStage(spec, s0, decodeBatch(encodeBatch(mnist)), RHO_CTX);
    const fromPalette = await runStage(
      spec,
      s0,
      decodeBatch(encodeBatch(mnist, { features: "palette" })),
      RHO_CTX,
    );
    expect(fromPalette.stateHash).to.equal(fromPlain.stateHash);
    expect(fromPalette.rho).to.equal(fromPlain.rho);
  });
});
