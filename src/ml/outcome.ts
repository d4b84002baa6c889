/**
 * The stage outcome of a trained stage (src/protocol/outcome.ts): its state hash, checkpoint root and
 * held-out metric, as every declarant, juror and verifier computes it from the same StageResult.
 */
import type { Hex } from "viem";
import { checkpointRoot } from "../protocol/checkpoints";
import { heldOutMetric, type StageOutcome } from "../protocol/outcome";
import type { Evaluation } from "./evaluate";
import type { StageResult } from "./stage";

/** A stage's outcome and the checkpoint list its header reveals. */
export interface OutcomeOfStage {
  readonly outcome: StageOutcome;
  /** The checkpoint state hashes (the last is H(S_{i+1})); [] without checkpoints. */
  readonly checkpoints: Hex[];
}

/**
 * The outcome of `result`, with `evaluation` the metric of S_{i+1} on the job's held-out test set
 * (evaluateWith with its default chunk), or undefined when the job names none.
 */
export function stageOutcome(
  result: Pick<StageResult, "stateHash"> & Partial<Pick<StageResult, "checkpoints">>,
  evaluation: Evaluation | undefined,
): OutcomeOfStage {
  const checkpoints = [...(result.checkpoints ?? [])];
  return {
    outcome: {
      stateHash: result.stateHash,
      checkpointRoot: checkpointRoot(checkpoints),
      ...heldOutMetric(evaluation),
    },
    checkpoints,
  };
}
