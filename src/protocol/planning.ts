/**
 * Stage planning: the function Delta of seed 002 (section 3, "Stages"); its input tau, the work of training
 * from the model architecture alone, is `modelCost` of ./model-layers.ts (over the layers src/ml validated).
 * Delta turns tau into a number of SGD steps per stage so a stage takes about the target time T on
 * the reference machine, corrected by the recent block rate the way Bitcoin retargets difficulty.
 */
import { assertCount, assertPositive } from "./bytes";
import { InvalidArgumentError } from "./errors";
import { MIN_BATCH_SIZE, MIN_STEPS_PER_STAGE } from "./rho";

export interface StagePlanInput {
  /** tau per sample: ModelCost.trainFlopsPerSample. */
  trainFlopsPerSample: number;
  batchSize: number;
  /** T: how long one stage should take on the reference machine. */
  targetStageSeconds: number;
  /** Sustained training FLOP/s of the reference machine (docs/BENCHMARKS.md measures ours). */
  referenceFlopsPerSecond: number;
  /** Blocks the network wrapped in the last 24 hours, and how many it should have (86400 / T). */
  recentBlocks?: { observed: number; expected: number };
  /** Upper bound on steps per stage (stage size on IPFS); default 100_000. */
  maxStepsPerStage?: number;
}

export interface StagePlan {
  stepsPerStage: number;
  flopsPerStage: number;
  /** Expected stage time on the reference machine at this many steps. */
  estimatedSeconds: number;
  /** The retarget factor applied (observed / expected blocks, clamped to [1/4, 4]). */
  rateFactor: number;
}

/**
 * Delta: SGD steps per stage. steps = T * referenceFlops / (tau * batch), times the retarget factor
 * observed/expected blocks per day (blocks too fast -> longer stages), clamped to [1/4, 4] as
 * Bitcoin clamps its retarget, then to [MIN_STEPS_PER_STAGE, maxStepsPerStage].
 */
export function planStage(input: StagePlanInput): StagePlan {
  const tau = assertPositive("trainFlopsPerSample", input.trainFlopsPerSample);
  const batch = assertCount("batchSize", input.batchSize, MIN_BATCH_SIZE);
  const target = assertPositive("targetStageSeconds", input.targetStageSeconds);
  const ref = assertPositive("referenceFlopsPerSecond", input.referenceFlopsPerSecond);
  const max = assertCount("maxStepsPerStage", input.maxStepsPerStage ?? 100_000, MIN_STEPS_PER_STAGE);
  let rateFactor = 1;
  if (input.recentBlocks) {
    const observed = assertCount("recentBlocks.observed", input.recentBlocks.observed, 0);
    const expected = assertCount("recentBlocks.expected", input.recentBlocks.expected, 1);
    rateFactor = Math.min(4, Math.max(0.25, observed / expected));
  }
  const raw = Math.round(((target * ref) / (tau * batch)) * rateFactor);
  const steps = Math.min(max, Math.max(MIN_STEPS_PER_STAGE, raw));
  const flopsPerStage = steps * tau * batch;
  return { stepsPerStage: steps, flopsPerStage, estimatedSeconds: flopsPerStage / ref, rateFactor };
}

export interface JobPlan {
  /** Steps of each stage, in order; every entry is at least MIN_STEPS_PER_STAGE. */
  stageSteps: number[];
  totalSteps: number;
  /** Full batches per epoch (a trailing partial batch is dropped: every step sees batchSize samples). */
  batchesPerEpoch: number;
}

/**
 * Cuts a training run into stages of `stepsPerStage` steps; a remainder too short to be a stage
 * (fewer than MIN_STEPS_PER_STAGE steps) joins the last stage.
 */
export function planJob(input: {
  samples: number;
  batchSize: number;
  epochs: number;
  stepsPerStage: number;
}): JobPlan {
  const batch = assertCount("batchSize", input.batchSize, MIN_BATCH_SIZE);
  const samples = assertCount("samples", input.samples, batch);
  const epochs = assertCount("epochs", input.epochs, 1);
  const per = assertCount("stepsPerStage", input.stepsPerStage, MIN_STEPS_PER_STAGE);
  const batchesPerEpoch = Math.floor(samples / batch);
  const totalSteps = batchesPerEpoch * epochs;
  if (totalSteps < MIN_STEPS_PER_STAGE) {
    throw new InvalidArgumentError(
      "samples",
      `${totalSteps} steps in all; a job needs at least ${MIN_STEPS_PER_STAGE}`,
    );
  }
  const stageSteps: number[] = [];
  for (let left = totalSteps; left > 0; left -= per) stageSteps.push(Math.min(per, left));
  const last = stageSteps[stageSteps.length - 1];
  if (last < MIN_STEPS_PER_STAGE && stageSteps.length > 1) {
    stageSteps.pop();
    stageSteps[stageSteps.length - 1] += last;
  }
  return { stageSteps, totalSteps, batchesPerEpoch };
}
