/**
 * Job planning, pure: from the dataset size and the model spec to stages, steps per stage (tau of
 * src/ml/model-cost.ts, Delta of src/protocol/planning.ts), the expected wall time, how the fee splits per stage, and the gas the job
 * costs (figures of docs/bench/gas.md). No I/O: `pot job create --dry-run` prints exactly this.
 */
import { estimateModelCost } from "../ml/model-cost";
import { validateCheckpointEvery } from "../ml/model-spec";
import { planStage, MIN_BATCH_SIZE, MIN_STEPS_PER_STAGE } from "../protocol";

/**
 * Sustained training FLOP/s of the reference machine, counted as tau counts them (3x the forward FLOPs):
 * docs/bench/training.md measures runStage on a 2-core machine at ~380 MLP steps/s of 64 samples of
 * 784-128-10, i.e. 380 x 64 x 3 x 203,520 = 1.5e10 FLOP/s; the CNN reaches less, so we take 1e10.
 */
export const REFERENCE_FLOPS_PER_SECOND = 1e10;

/**
 * When the steps per stage come from the stage target (Delta) and the data is too small for that many
 * steps, a stage gets fewer steps so that the data still fills this many stages (MNIST's 8,000 samples
 * give 125 steps of 64, while Delta for 60 s of the 784-64-10 MLP is ~30,000 steps).
 */
export const DEFAULT_MIN_STAGES = 10;

/**
 * Default training.checkpointEvery: a step checkpoint (the state's bytes out of wasm memory and their
 * sha256, kept for IPFS) at least every this many steps costs at most 3% of a stage's training time on
 * the training benchmark (docs/BENCHMARKS.md, "Session 8: checkpoints").
 */
export const MIN_DEFAULT_CHECKPOINT_EVERY = 20;

/**
 * By default a stage has at most this many checkpoints (longer stages checkpoint less often), so that a
 * miner's disk per stage stays bounded: at most this many states per stage (docs/miner.md).
 */
export const MAX_DEFAULT_CHECKPOINTS = 16;

/** The default checkpointEvery of a stage of `stepsPerStage` steps: max(20, ceil(steps / 16)). */
export function defaultCheckpointEvery(stepsPerStage: number): number {
  return Math.max(MIN_DEFAULT_CHECKPOINT_EVERY, Math.ceil(stepsPerStage / MAX_DEFAULT_CHECKPOINTS));
}

/**
 * Gas figures of the split contracts (docs/bench/gas.md: solc 0.8.28, viaIR, C=3..10, K=3, signatures in
 * the wrap; steady = the mean of a job's stages 3..N; createJob measured for a first job of an employer).
 */
export const GAS = {
  createJob: 179_952,
  expireJob: 60_000,
  withdraw: 35_000,
  /** Whole stage (C declarations + header + wrap) by C, first stage and steady state. */
  stageByC: [
    { c: 3, first: 670_311, steady: 434_023 },
    { c: 5, first: 895_901, steady: 586_439 },
    { c: 10, first: 1_434_069, steady: 940_987 },
  ],
} as const;

/** Basis points of the escrow's fee split (local and testnet parameters, deploy/params.ts). */
export const DEFAULT_SHARES = { builderBps: 2000, attesterBps: 2000 } as const;

/** What planning needs. */
export interface PlanInput {
  /** LayersModel topology JSON of the model (tau comes from it). */
  model: unknown;
  /** Training samples available. */
  samples: number;
  batchSize: number;
  epochs: number;
  /** Fixed steps per stage; default: Delta for `targetStageSeconds`. */
  stepsPerStage?: number;
  /** Steps between two step checkpoints (0 = none); default `defaultCheckpointEvery(stepsPerStage)`. */
  checkpointEvery?: number;
  /** T: target time of one stage on the reference machine (default 60 s). */
  targetStageSeconds?: number;
  referenceFlopsPerSecond?: number;
  /**
   * With the steps per stage derived from the target: at most total steps / minStages per stage, so small
   * data still makes this many stages (default DEFAULT_MIN_STAGES; never below MIN_STEPS_PER_STAGE).
   */
  minStages?: number;
  /** Largest number of stages (the rest of the data is dropped; default unbounded). */
  maxStages?: number;
  /** Fee in wei, escrowed at creation. */
  fee: bigint;
  /** Agreeing declarations per stage (>= 2). */
  c: number;
  /** PoA committee size (>= 1). */
  k: number;
  /** Seconds a stage's declarations stay open at least (the job's stageSeconds). */
  stageSeconds: number;
  /**
   * Seconds a stage's declarations stay open at least (the job term minDeclareSeconds); default:
   * `plannedMinDeclareSeconds` of the stage's training time.
   */
  minDeclareSeconds?: number;
  /** Seconds from training done to wrap: close delay, header, PoA (default 30). */
  confirmationSeconds?: number;
  /** Gas price in wei for the cost estimate (default: no price, gas only). */
  gasPrice?: bigint;
  shares?: { builderBps: number; attesterBps: number };
}

/** The fee of one stage, split as the ledger splits it (assuming exactly C declarations). */
export interface FeeSplit {
  perStage: bigint;
  builder: bigint;
  /** Per committee member. */
  attester: bigint;
  /** Per declaration, if exactly C declare (more declarations each get less). */
  declarant: bigint;
  /** Rounding dust per stage (the escrow pays it to the builder). */
  dust: bigint;
  /** fee - perStage x numStages, returned to the employer at the last wrap. */
  remainder: bigint;
}

/** A planned job. */
export interface JobPlanEstimate {
  numStages: number;
  stepsPerStage: number;
  /** training.checkpointEvery of the job spec (0 = no step checkpoints). */
  checkpointEvery: number;
  /** Delta for the stage target, when the data was too small and the steps per stage were capped. */
  targetStepsPerStage?: number;
  batchSize: number;
  samplesPerStage: number;
  /** Samples the stages consume (over all epochs). */
  samplesUsed: number;
  /** Steps of the run that did not fill a whole stage (dropped). */
  droppedSteps: number;
  /** tau: training FLOPs per sample. */
  trainFlopsPerSample: number;
  params: number;
  flopsPerStage: number;
  /** Training time of one stage on the reference machine. */
  stageTrainingSeconds: number;
  /**
   * The job's minimum declaration window: declarations of a stage close no sooner than this after it
   * opened, so that honest miners have trained before a fast copier can close the stage.
   */
  minDeclareSeconds: number;
  /** Expected wall time of the job: stages x max(training + confirmation, stageSeconds... see docs). */
  expectedSeconds: number;
  fee: FeeSplit;
  gas: {
    /** The employer's transaction. */
    createJob: number;
    /** What the miners spend to finalize every stage (paid by them, covered by their rewards). */
    stages: number;
    /** Gas of a refund (expireJob + withdraw), only if the job expires. */
    refund: number;
    /** Wei at `gasPrice` of the employer's createJob, when a price is given. */
    createJobWei?: bigint;
    /** Wei at `gasPrice` of all stages, when a price is given. */
    stagesWei?: bigint;
  };
}

/** Gas of one stage at C declarations by interpolating (linearly, extrapolating at the ends) the table. */
export function stageGas(c: number, first: boolean): number {
  const t = GAS.stageByC;
  const pick = (row: (typeof t)[number]) => (first ? row.first : row.steady);
  let lo: (typeof t)[number] = t[0];
  let hi: (typeof t)[number] = t[1];
  for (let i = 0; i + 1 < t.length; i++) {
    lo = t[i];
    hi = t[i + 1];
    if (c <= t[i + 1].c) break;
  }
  const slope = (pick(hi) - pick(lo)) / (hi.c - lo.c);
  return Math.max(0, Math.round(pick(lo) + slope * (c - lo.c)));
}

/** The fee split of one stage (docs/contracts/ledger.md, "Money"). */
export function splitFee(
  fee: bigint,
  numStages: number,
  c: number,
  k: number,
  shares: { builderBps: number; attesterBps: number } = DEFAULT_SHARES,
): FeeSplit {
  const perStage = fee / BigInt(numStages);
  const builder = (perStage * BigInt(shares.builderBps)) / 10_000n;
  const attesterPool = (perStage * BigInt(shares.attesterBps)) / 10_000n;
  const attester = attesterPool / BigInt(k);
  const declPool = perStage - builder - attesterPool;
  const declarant = declPool / BigInt(c);
  const dust = perStage - builder - attester * BigInt(k) - declarant * BigInt(c);
  return { perStage, builder, attester, declarant, dust, remainder: fee - perStage * BigInt(numStages) };
}

/** Plans a job; throws (with the field) on inputs no job could use. */
export function planJobCreation(input: PlanInput): JobPlanEstimate {
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new RangeError(what);
  };
  check(
    Number.isSafeInteger(input.batchSize) && input.batchSize >= MIN_BATCH_SIZE,
    `batchSize must be an integer >= ${MIN_BATCH_SIZE}`,
  );
  check(Number.isSafeInteger(input.epochs) && input.epochs >= 1, "epochs must be an integer >= 1");
  check(Number.isSafeInteger(input.c) && input.c >= 2, "c must be an integer >= 2");
  check(Number.isSafeInteger(input.k) && input.k >= 1, "k must be an integer >= 1");
  check(input.fee > 0n, "fee must be above zero");
  check(
    Number.isSafeInteger(input.stageSeconds) && input.stageSeconds > 0,
    "stageSeconds must be a positive integer",
  );
  const cost = estimateModelCost(input.model);
  const reference = input.referenceFlopsPerSecond ?? REFERENCE_FLOPS_PER_SECOND;
  const batchesPerEpoch = Math.floor(input.samples / input.batchSize);
  const totalSteps = batchesPerEpoch * input.epochs;
  const targetSteps =
    input.stepsPerStage === undefined
      ? planStage({
          trainFlopsPerSample: cost.trainFlopsPerSample,
          batchSize: input.batchSize,
          targetStageSeconds: input.targetStageSeconds ?? 60,
          referenceFlopsPerSecond: reference,
        }).stepsPerStage
      : undefined;
  const dataCap = Math.max(
    MIN_STEPS_PER_STAGE,
    Math.floor(totalSteps / Math.max(1, input.minStages ?? DEFAULT_MIN_STAGES)),
  );
  const stepsPerStage = input.stepsPerStage ?? Math.min(targetSteps!, dataCap);
  check(
    Number.isSafeInteger(stepsPerStage) && stepsPerStage >= MIN_STEPS_PER_STAGE,
    `stepsPerStage must be >= ${MIN_STEPS_PER_STAGE}`,
  );
  const checkpointEvery =
    input.checkpointEvery === undefined
      ? defaultCheckpointEvery(stepsPerStage)
      : validateCheckpointEvery(input.checkpointEvery);
  let numStages = Math.floor(totalSteps / stepsPerStage);
  if (input.maxStages !== undefined) numStages = Math.min(numStages, input.maxStages);
  if (numStages < 1) {
    throw new RangeError(
      `${input.samples} samples x ${input.epochs} epoch(s) give ${totalSteps} steps of ${input.batchSize}: ` +
        `not one stage of ${stepsPerStage} steps. Use more data or epochs, or fewer steps per stage`,
    );
  }
  check(BigInt(numStages) <= input.fee, `the fee must give at least 1 wei per stage (${numStages} stages)`);
  const samplesPerStage = stepsPerStage * input.batchSize;
  const flopsPerStage = cost.trainFlopsPerSample * samplesPerStage;
  const stageTrainingSeconds = flopsPerStage / reference;
  const confirmation = input.confirmationSeconds ?? 30;
  const fee = splitFee(input.fee, numStages, input.c, input.k, input.shares);
  const stagesGas =
    numStages === 0 ? 0 : stageGas(input.c, true) + (numStages - 1) * stageGas(input.c, false);
  const gas: JobPlanEstimate["gas"] = {
    createJob: GAS.createJob,
    stages: stagesGas,
    refund: GAS.expireJob + GAS.withdraw,
  };
  if (input.gasPrice !== undefined) {
    gas.createJobWei = BigInt(GAS.createJob) * input.gasPrice;
    gas.stagesWei = BigInt(stagesGas) * input.gasPrice;
  }
  return {
    numStages,
    stepsPerStage,
    checkpointEvery,
    targetStepsPerStage: targetSteps !== undefined && targetSteps > stepsPerStage ? targetSteps : undefined,
    batchSize: input.batchSize,
    samplesPerStage,
    samplesUsed: numStages * samplesPerStage,
    droppedSteps: totalSteps - numStages * stepsPerStage,
    trainFlopsPerSample: cost.trainFlopsPerSample,
    params: cost.params,
    flopsPerStage,
    stageTrainingSeconds,
    minDeclareSeconds:
      input.minDeclareSeconds ?? plannedMinDeclareSeconds(stageTrainingSeconds, input.stageSeconds),
    // Miners pipeline: a stage's training overlaps the previous stage's confirmation, so a stage costs
    // about max(training, confirmation); the first stage pays both.
    expectedSeconds:
      stageTrainingSeconds + confirmation + (numStages - 1) * Math.max(stageTrainingSeconds, confirmation),
    fee,
    gas,
  };
}

/**
 * The minimum declaration window planned for a stage: its training time on the reference machine (rounded
 * up), at least `floor` (the contracts' minDeclareSeconds) and at most the stage window `stageSeconds`.
 */
export function plannedMinDeclareSeconds(
  stageTrainingSeconds: number,
  stageSeconds: number,
  floor = 0,
): number {
  return Math.min(stageSeconds, Math.max(floor, Math.ceil(stageTrainingSeconds)));
}

/** A deadline that leaves the job `slack` times its expected time (at least `minSeconds`). */
export function suggestedDeadlineSeconds(plan: JobPlanEstimate, slack = 4, minSeconds = 3600): number {
  return Math.max(minSeconds, Math.ceil(plan.expectedSeconds * slack));
}
