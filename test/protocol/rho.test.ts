import { expect } from "chai";
import { keccak256, toBytes, type Hex } from "viem";
import {
  computeRho,
  HasherOrderError,
  InvalidArgumentError,
  NonFiniteLossError,
  RhoHasher,
  stateHash,
  type RhoContext,
} from "../../src/protocol";

const ctx: RhoContext = { domain: keccak256(toBytes("domain")), jobId: 3n, stage: 5 };
const S1 = keccak256(toBytes("intermediate"));
const S2 = keccak256(toBytes("final"));
const step = (s: number, n = 4) => Float32Array.from({ length: n }, (_, j) => 1 + s * 0.5 + j * 0.25);
const run = (c: RhoContext, losses: Float32Array[], mid: Hex = S1, fin: Hex = S2) =>
  computeRho(c, losses, mid, fin);

describe("training secret rho", () => {
  it("is a 32-byte hex value, deterministic", () => {
    const a = run(ctx, [step(0), step(1), step(2)]);
    expect(a).to.match(/^0x[0-9a-f]{64}$/);
    expect(run(ctx, [step(0), step(1), step(2)])).to.equal(a);
  });

  it("changes with one bit of any loss, the order of samples, or the order of steps", () => {
    const base = run(ctx, [step(0), step(1), step(2)]);
    const flipped = step(1);
    new Uint32Array(flipped.buffer)[2] ^= 1;
    expect(run(ctx, [step(0), flipped, step(2)])).to.not.equal(base);
    expect(run(ctx, [step(0), step(1).reverse(), step(2)])).to.not.equal(base);
    expect(run(ctx, [step(1), step(0), step(2)])).to.not.equal(base);
  });

  it("is salted by domain, job and stage: a secret for one is worthless for another", () => {
    const base = run(ctx, [step(0), step(1)]);
    expect(run({ ...ctx, jobId: 4n }, [step(0), step(1)])).to.not.equal(base);
    expect(run({ ...ctx, stage: 6 }, [step(0), step(1)])).to.not.equal(base);
    expect(run({ ...ctx, domain: keccak256(toBytes("other chain")) }, [step(0), step(1)])).to.not.equal(base);
  });

  it("binds the intermediate state (backward pass) and the final state", () => {
    const base = run(ctx, [step(0), step(1)]);
    expect(run(ctx, [step(0), step(1)], keccak256(toBytes("x")))).to.not.equal(base);
    expect(run(ctx, [step(0), step(1)], S1, keccak256(toBytes("y")))).to.not.equal(base);
  });

  it("rejects NaN and infinite losses with NonFiniteLossError naming step and sample", () => {
    const h = new RhoHasher(ctx, 2);
    const bad = Float32Array.from([1, NaN, 2]);
    expect(() => h.absorbStepLosses(bad)).to.throw(NonFiniteLossError, /sample 1 in step 0/);
    expect(() => new RhoHasher(ctx, 2).absorbStepLosses(Float32Array.from([Infinity, 1]))).to.throw(
      NonFiniteLossError,
    );
  });

  it("rejects fewer than 2 steps and batches below 2 samples", () => {
    expect(() => new RhoHasher(ctx, 1)).to.throw(InvalidArgumentError, /steps per stage/);
    expect(() => new RhoHasher(ctx, 2).absorbStepLosses(Float32Array.from([1]))).to.throw(
      InvalidArgumentError,
      /batch size/,
    );
    expect(() => new RhoHasher(ctx, 2).absorbStepLosses([1, 2] as unknown as Float32Array)).to.throw(
      InvalidArgumentError,
    );
  });

  it("rejects a batch size that changes within a stage", () => {
    const h = new RhoHasher(ctx, 3);
    h.absorbStepLosses(step(0, 4));
    expect(() => h.absorbStepLosses(step(1, 5))).to.throw(InvalidArgumentError, /batch size changed/);
  });

  it("enforces the order: intermediate state exactly before the last step, finish after all", () => {
    const h = new RhoHasher(ctx, 3);
    expect(() => h.absorbIntermediateState(S1)).to.throw(HasherOrderError, /after step 2/);
    h.absorbStepLosses(step(0));
    expect(() => h.finish(S2)).to.throw(HasherOrderError, /1 of 3/);
    h.absorbStepLosses(step(1));
    expect(() => h.absorbStepLosses(step(2))).to.throw(HasherOrderError, /absorbIntermediateState/);
    h.absorbIntermediateState(S1);
    expect(() => h.absorbIntermediateState(S1)).to.throw(HasherOrderError, /already/);
    h.absorbStepLosses(step(2));
    expect(() => h.absorbStepLosses(step(3))).to.throw(HasherOrderError, /already absorbed/);
    h.finish(S2);
    expect(() => h.finish(S2)).to.throw(HasherOrderError, /already called/);
  });

  it("rejects malformed hashes and contexts", () => {
    expect(() => new RhoHasher({ ...ctx, domain: "0x1234" as Hex }, 2)).to.throw(
      InvalidArgumentError,
      /rho.domain/,
    );
    expect(() => new RhoHasher({ ...ctx, jobId: -1n }, 2)).to.throw(InvalidArgumentError, /jobId/);
    expect(() => new RhoHasher({ ...ctx, stage: 2 ** 32 }, 2)).to.throw(InvalidArgumentError, /stage/);
    const h = new RhoHasher(ctx, 2);
    h.absorbStepLosses(step(0));
    expect(() => h.absorbIntermediateState("0xzz" as Hex)).to.throw(InvalidArgumentError, /intermediate/);
  });

  it("stateHash is sha256 of the bytes and rejects empty input", () => {
    expect(stateHash(new Uint8Array([0x61, 0x62, 0x63]))).to.equal(
      "0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(() => stateHash(new Uint8Array())).to.throw(InvalidArgumentError);
  });
});
