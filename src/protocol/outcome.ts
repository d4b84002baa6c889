/**
 * The stage outcome: what a declaration's `resultHash` commits to (docs/PROTOCOL.md "Stage outcome").
 *
 * A stage produces S_{i+1}; the job may also name a held-out test set and checkpoints. Declarants
 * bind all of it into one hash, so the C agreeing declarations, the jury and re-execution verify the
 * held-out metric and the checkpoint root exactly as they verify the weights:
 *
 *   resultHash = keccak256(abi.encode(STAGE_OUTCOME_TYPEHASH, stateHash, checkpointRoot,
 *                                     uint32 heldOutLoss, uint32 heldOutAccuracy))
 *
 * PoTHashes.outcome computes the same bytes; the header reveals the outcome and the ledger checks it.
 */
import { encodeAbiParameters, keccak256, toBytes, type Hex } from "viem";
import { assertBytes32, assertUint, MAX_UINT32 } from "./bytes";
import { InvalidArgumentError } from "./errors";

export const STAGE_OUTCOME_TYPEHASH: Hex = keccak256(
  toBytes(
    "PoT.StageOutcome(bytes32 stateHash,bytes32 checkpointRoot,uint32 heldOutLoss,uint32 heldOutAccuracy)",
  ),
);

/** A held-out metric that is not there: the job names no test set (or, for accuracy, no class labels). */
export const NO_METRIC = 0xffffffff;
/** Parts per million: the unit of a held-out accuracy. */
export const PPM = 1_000_000;
/** float32 bits of +infinity (a loss target must be below it). */
const FLOAT32_INFINITY_BITS = 0x7f800000;

/** What a stage produced, as its resultHash opens (the Solidity struct StageOutcome). */
export interface StageOutcome {
  /** H(S_{i+1}): sha256 of the canonical state bytes. */
  readonly stateHash: Hex;
  /** Merkle root of the stage's checkpoint state hashes; EMPTY_CHECKPOINT_ROOT (32 zero bytes) without checkpoints. */
  readonly checkpointRoot: Hex;
  /** float32 bits of the mean held-out loss of S_{i+1}; NO_METRIC without a test set. */
  readonly heldOutLoss: number;
  /** floor(correct * 1e6 / samples) on the held-out set; NO_METRIC without a test set or class labels. */
  readonly heldOutAccuracy: number;
}

/** The stage outcome hash: a declaration's and a header's resultHash. */
export function outcomeHash(o: StageOutcome): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint32" }, { type: "uint32" }],
      [
        STAGE_OUTCOME_TYPEHASH,
        assertBytes32("outcome.stateHash", o.stateHash),
        assertBytes32("outcome.checkpointRoot", o.checkpointRoot),
        Number(assertUint("outcome.heldOutLoss", o.heldOutLoss, MAX_UINT32)),
        Number(assertUint("outcome.heldOutAccuracy", o.heldOutAccuracy, MAX_UINT32)),
      ],
    ),
  );
}

/** IEEE-754 binary32 bits of `x` rounded to float32 (Math.fround), as an unsigned 32-bit integer. */
export function float32Bits(x: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, x);
  return view.getUint32(0);
}

/** The float32 value of `bits`. */
export function float32FromBits(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits >>> 0);
  return view.getFloat32(0);
}

/** A held-out evaluation as src/ml computes it (per-sample float32 losses summed in float64, in order). */
export interface HeldOutEvaluation {
  /** Sum of the per-sample losses over the count, float64. */
  readonly loss: number;
  /** Samples whose arg-max output is the label; undefined without class labels. */
  readonly correct?: number;
  /** Samples evaluated (> 0). */
  readonly count: number;
}

/**
 * The two metric fields of an outcome: the loss as float32 bits of the float64 mean, the accuracy in
 * integer ppm (exact integer division, floor). Without an evaluation both are NO_METRIC.
 */
export function heldOutMetric(
  e: HeldOutEvaluation | undefined,
): Pick<StageOutcome, "heldOutLoss" | "heldOutAccuracy"> {
  if (e === undefined) return { heldOutLoss: NO_METRIC, heldOutAccuracy: NO_METRIC };
  if (!Number.isSafeInteger(e.count) || e.count <= 0) {
    throw new InvalidArgumentError("evaluation.count", `expected a positive integer, got ${e.count}`);
  }
  let accuracy = NO_METRIC;
  if (e.correct !== undefined) {
    if (!Number.isSafeInteger(e.correct) || e.correct < 0 || e.correct > e.count) {
      throw new InvalidArgumentError(
        "evaluation.correct",
        `expected an integer in 0..${e.count}, got ${e.correct}`,
      );
    }
    const scaled = e.correct * PPM; // < 2^53 for any test set below 9e9 samples: exact
    accuracy = (scaled - (scaled % e.count)) / e.count;
  }
  return { heldOutLoss: float32Bits(e.loss), heldOutAccuracy: accuracy };
}

/** The held-out metric of an outcome in human units (undefined where NO_METRIC). */
export function readMetric(o: Pick<StageOutcome, "heldOutLoss" | "heldOutAccuracy">): {
  loss?: number;
  accuracy?: number;
} {
  return {
    ...(o.heldOutLoss !== NO_METRIC ? { loss: float32FromBits(o.heldOutLoss) } : {}),
    ...(o.heldOutAccuracy !== NO_METRIC ? { accuracy: o.heldOutAccuracy / PPM } : {}),
  };
}

// ----- early stopping --------------------------------------------------------------------------

/** JobTerms.targetKind. */
export enum TargetKind {
  None = 0,
  /** the held-out loss is at most the value (float32 bits) */
  LossAtMost = 1,
  /** the held-out accuracy is at least the value (ppm) */
  AccuracyAtLeast = 2,
}

/** An early-stopping target as the ledger stores it. */
export interface JobTarget {
  readonly kind: TargetKind;
  readonly value: number;
}

export const NO_TARGET: JobTarget = { kind: TargetKind.None, value: 0 };

/** A loss target: finish at the first wrapped stage whose held-out loss is <= `loss` (finite, >= 0). */
export function lossTarget(loss: number): JobTarget {
  const bits = float32Bits(loss);
  if (!Number.isFinite(loss) || loss < 0 || bits >= FLOAT32_INFINITY_BITS) {
    throw new InvalidArgumentError("target loss", `expected a finite number >= 0, got ${loss}`);
  }
  return { kind: TargetKind.LossAtMost, value: bits };
}

/** An accuracy target: finish at the first wrapped stage whose held-out accuracy is >= `fraction` (0..1]. */
export function accuracyTarget(fraction: number): JobTarget {
  const ppm = Math.round(fraction * PPM);
  if (!Number.isFinite(fraction) || ppm <= 0 || ppm > PPM) {
    throw new InvalidArgumentError(
      "target accuracy",
      `expected a fraction in (0, 1] (0.97 for 97 %), got ${fraction}`,
    );
  }
  return { kind: TargetKind.AccuracyAtLeast, value: ppm };
}

/**
 * Whether the ledger accepts a target, exactly as PoTStages._validTarget decides at createJob: none with
 * value 0, a loss's float32 bits below +infinity (finite, >= 0), an accuracy of 1..1,000,000 ppm.
 */
export function isValidTarget(target: JobTarget): boolean {
  const v = target.value;
  if (!Number.isSafeInteger(v) || v < 0) return false;
  switch (target.kind) {
    case TargetKind.None:
      return v === 0;
    case TargetKind.LossAtMost:
      return v < FLOAT32_INFINITY_BITS;
    case TargetKind.AccuracyAtLeast:
      return v >= 1 && v <= PPM;
    default:
      return false;
  }
}

/** Whether an outcome meets a target, exactly as PoTStages._reached decides at the wrap. */
export function targetReached(
  target: JobTarget,
  o: Pick<StageOutcome, "heldOutLoss" | "heldOutAccuracy">,
): boolean {
  switch (target.kind) {
    case TargetKind.LossAtMost:
      // the bits of two finite non-negative floats order as the floats; NO_METRIC and NaN never meet it
      return o.heldOutLoss >>> 0 <= target.value >>> 0;
    case TargetKind.AccuracyAtLeast:
      return o.heldOutAccuracy !== NO_METRIC && o.heldOutAccuracy >= target.value;
    default:
      return false;
  }
}

/** A target in words: "held-out accuracy >= 97 %", "held-out loss <= 0.25", "none". */
export function describeTarget(target: JobTarget): string {
  switch (target.kind) {
    case TargetKind.LossAtMost:
      return `held-out loss <= ${float32FromBits(target.value)}`;
    case TargetKind.AccuracyAtLeast:
      return `held-out accuracy >= ${(target.value / 10_000).toFixed(2)} %`;
    default:
      return "none";
  }
}

/**
 * A held-out metric in words, with the exact encoding: "loss 0.2345 (float32 0x3e7020c5), accuracy 97.1000 %
 * (971000 ppm)"; "no held-out metric" where both fields are NO_METRIC.
 */
export function describeMetric(o: Pick<StageOutcome, "heldOutLoss" | "heldOutAccuracy">): string {
  const m = readMetric(o);
  const parts = [
    ...(m.loss !== undefined
      ? [`loss ${m.loss.toPrecision(6)} (float32 0x${(o.heldOutLoss >>> 0).toString(16).padStart(8, "0")})`]
      : []),
    ...(m.accuracy !== undefined
      ? [`accuracy ${(m.accuracy * 100).toFixed(4)} % (${o.heldOutAccuracy} ppm)`]
      : []),
  ];
  return parts.length > 0 ? parts.join(", ") : "no held-out metric";
}
