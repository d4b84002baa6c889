/**
 * The training secret rho (seed 002, section 3, equation (1)), as an incremental hasher that the
 * training engine feeds while it trains.
 *
 * Equation (1) chains the per-sample losses: rho = H(l_b || H(l_{b-1} || ... H(l_1))). We extend it
 * over every SGD step of a stage and close three holes (docs/PROTOCOL.md, "Training secret"):
 *  - salt: the chain starts from a hash of (domain, job, stage), so a secret computed for one
 *    job, stage, chain or deployment is worthless for any other;
 *  - backward pass: right before the last step's losses the chain absorbs H(state before the last
 *    step); that state exists only after the backward passes of all earlier steps;
 *  - result: the chain ends with H(S_{i+1}), so the secret names the state it produced.
 * The losses of one step form one link of the chain (not one link per sample): the same secret
 * material and order, at one SHA-256 call per step instead of one per sample (measured: 2 us vs
 * 112 us per step of 64 samples, against a ~3 ms training step). Links are SHA-256 via node:crypto:
 * rho never has to be computed on-chain, only compared, and bulk state bytes are hashed once each.
 */
import { createHash } from "node:crypto";
import { encodeAbiParameters, keccak256, toBytes, type Hex } from "viem";
import { assertBytes32, assertCount, assertUint, MAX_UINT32, MAX_UINT64 } from "./bytes";
import { HasherOrderError, InvalidArgumentError, NonFiniteLossError } from "./errors";

/** Fewest SGD steps in a stage: one for the losses, one to prove the backward pass of the first. */
export const MIN_STEPS_PER_STAGE = 2;
/** Fewest samples per batch (seed 002: with one sample its loss would be derivable from the state). */
export const MIN_BATCH_SIZE = 2;

export const RHO_SALT_TYPEHASH = keccak256(toBytes("PoT.RhoSalt(bytes32 domain,uint64 jobId,uint32 stage)"));

/** Link tags: one byte in front of each link's payload, so links of different kinds never collide. */
const TAG_STEP = 0x01;
const TAG_INTERMEDIATE_STATE = 0x02;
const TAG_FINAL_STATE = 0x03;

/** What one stage's secret is bound to. */
export interface RhoContext {
  /** domainSeparator() of the ledger. */
  domain: Hex;
  jobId: bigint;
  /** The stage being produced: i+1 when training S_i -> S_{i+1}. */
  stage: number;
}

/** h_0 = sha256(abi.encode(RHO_SALT_TYPEHASH, domain, jobId, stage)). */
export function rhoSalt(ctx: RhoContext): Buffer {
  const domain = assertBytes32("rho.domain", ctx.domain);
  const jobId = assertUint("rho.jobId", ctx.jobId, MAX_UINT64);
  const stage = assertUint("rho.stage", ctx.stage, MAX_UINT32);
  const encoded = encodeAbiParameters(
    [{ type: "bytes32" }, { type: "bytes32" }, { type: "uint64" }, { type: "uint32" }],
    [RHO_SALT_TYPEHASH, domain, jobId, Number(stage)],
  );
  return createHash("sha256").update(toBytes(encoded)).digest();
}

/**
 * Feeds one stage's training into the secret. Order, enforced (HasherOrderError otherwise):
 *   absorbStepLosses x (steps-1), absorbIntermediateState once, absorbStepLosses once, finish.
 *
 * Usage by the engine: after step `steps-1` has updated the weights, hash the canonical state
 * bytes once and pass that hash; then run the last step and finish with H(S_{i+1}).
 */
export class RhoHasher {
  readonly steps: number;
  private chain: Buffer;
  private stepsAbsorbed = 0;
  private intermediateAbsorbed = false;
  private finished = false;
  private batchSize: number | undefined;

  constructor(ctx: RhoContext, steps: number) {
    this.steps = assertCount("steps per stage", steps, MIN_STEPS_PER_STAGE, Number(MAX_UINT32));
    this.chain = rhoSalt(ctx);
  }

  /** Absorbs the per-sample losses of the next step (float32, in batch order). */
  absorbStepLosses(losses: Float32Array): void {
    this.assertOpen();
    if (!(losses instanceof Float32Array)) {
      throw new InvalidArgumentError("losses", "expected a Float32Array of per-sample losses");
    }
    assertCount("losses.length (batch size)", losses.length, MIN_BATCH_SIZE, Number(MAX_UINT32));
    if (this.batchSize !== undefined && losses.length !== this.batchSize) {
      throw new InvalidArgumentError(
        "losses.length",
        `batch size changed from ${this.batchSize} to ${losses.length}`,
      );
    }
    if (this.stepsAbsorbed === this.steps) {
      throw new HasherOrderError(`all ${this.steps} steps were already absorbed`);
    }
    if (this.stepsAbsorbed === this.steps - 1 && !this.intermediateAbsorbed) {
      throw new HasherOrderError("the last step's losses need absorbIntermediateState() first");
    }
    for (let j = 0; j < losses.length; j++) {
      const v = losses[j];
      if (!Number.isFinite(v)) throw new NonFiniteLossError(this.stepsAbsorbed, j, v);
    }
    this.batchSize = losses.length;
    const header = Buffer.allocUnsafe(9);
    header.writeUInt8(TAG_STEP, 0);
    header.writeUInt32BE(this.stepsAbsorbed, 1);
    header.writeUInt32BE(losses.length, 5);
    // Float32Array memory is little-endian on every platform Node runs on; assert it once below.
    const lossBytes = new Uint8Array(losses.buffer, losses.byteOffset, losses.byteLength);
    this.chain = createHash("sha256").update(this.chain).update(header).update(lossBytes).digest();
    this.stepsAbsorbed++;
  }

  /** Absorbs H(canonical state bytes) after `steps-1` updates: the state the last step starts from. */
  absorbIntermediateState(stateHash: Hex): void {
    this.assertOpen();
    const h = assertBytes32("intermediate state hash", stateHash);
    if (this.intermediateAbsorbed) throw new HasherOrderError("intermediate state already absorbed");
    if (this.stepsAbsorbed !== this.steps - 1) {
      throw new HasherOrderError(
        `intermediate state belongs after step ${this.steps - 1} of ${this.steps}, but ${this.stepsAbsorbed} steps were absorbed`,
      );
    }
    this.link(TAG_INTERMEDIATE_STATE, h);
    this.intermediateAbsorbed = true;
  }

  /** Closes the chain with H(S_{i+1}) and returns rho as 0x + 64 hex digits. */
  finish(finalStateHash: Hex): Hex {
    this.assertOpen();
    const h = assertBytes32("final state hash", finalStateHash);
    if (this.stepsAbsorbed !== this.steps) {
      throw new HasherOrderError(`finish() after ${this.stepsAbsorbed} of ${this.steps} steps`);
    }
    this.link(TAG_FINAL_STATE, h);
    this.finished = true;
    return `0x${this.chain.toString("hex")}`;
  }

  private link(tag: number, hash: Hex): void {
    this.chain = createHash("sha256")
      .update(this.chain)
      .update(Uint8Array.of(tag))
      .update(Buffer.from(hash.slice(2), "hex"))
      .digest();
  }

  private assertOpen(): void {
    if (this.finished) throw new HasherOrderError("finish() was already called");
  }
}

/** H(S): sha256 of canonical training-state bytes (docs/PROTOCOL.md, "State hash"). */
export function stateHash(stateBytes: Uint8Array): Hex {
  if (!(stateBytes instanceof Uint8Array) || stateBytes.length === 0) {
    throw new InvalidArgumentError("state bytes", "expected a non-empty Uint8Array of canonical state bytes");
  }
  return `0x${createHash("sha256").update(stateBytes).digest("hex")}`;
}

/** Convenience for verifiers and tests: rho of a whole stage from its recorded losses. */
export function computeRho(
  ctx: RhoContext,
  stepLosses: Float32Array[],
  intermediateStateHash: Hex,
  finalStateHash: Hex,
): Hex {
  const hasher = new RhoHasher(ctx, stepLosses.length);
  stepLosses.forEach((losses, s) => {
    if (s === stepLosses.length - 1) hasher.absorbIntermediateState(intermediateStateHash);
    hasher.absorbStepLosses(losses);
  });
  return hasher.finish(finalStateHash);
}

if (new Uint8Array(new Float32Array([1]).buffer)[3] !== 0x3f) {
  throw new Error(
    "PoT needs a little-endian platform: float32 loss bytes would differ from every other miner",
  );
}
