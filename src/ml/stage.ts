/**
 * One stage S_i -> S_{i+1} (seed 002, section 3), with its training secret rho, and S_0.
 */
import * as tf from "@tensorflow/tfjs";
import type { Hex } from "viem";
import { RhoHasher, stateHash, type RhoContext } from "../protocol/rho";
import { initEngine } from "./backend";
import { assertEngineMatches } from "./engine-id";
import { InvalidBatchError, InvalidModelSpecError } from "./errors";
import { validateJobSpec, type CompiledModel, type JobSpec } from "./model-spec";
import { encodeState } from "./state";
import { assertBatch, type Batch } from "./data/batch-format";
import { assertBatchFits, Trainer } from "./trainer";

/** What a stage produced. */
export interface StageResult {
  /** Canonical bytes of S_{i+1}. */
  state: Uint8Array;
  /** H(S_{i+1}) = sha256 of `state`. */
  stateHash: Hex;
  /** H(state after stepsPerStage-1 updates), chained into rho before the last step. */
  intermediateStateHash: Hex;
  /** The training secret. */
  rho: Hex;
  /** Mean of every per-sample loss of the stage (float64 mean of the float32 losses). */
  meanLoss: number;
  /** Per-step, per-sample float32 losses (what rho absorbed). */
  stepLosses: Float32Array[];
  /**
   * Step checkpoints (docs/PROTOCOL.md, "Step checkpoints"): H(state) after steps min(k e, T),
   * k = 1..ceil(T/e), with e = training.checkpointEvery and T = stepsPerStage; the last is `stateHash`.
   * Empty when checkpointEvery is 0.
   */
  checkpoints: Hex[];
  /** Canonical bytes of each checkpoint (the last is `state` itself). */
  checkpointStates: Uint8Array[];
}

/**
 * Validates a job spec for this node: spec syntax and shapes, then the engine id.
 * Throws InvalidModelSpecError or EngineMismatchError.
 */
export async function prepareJob(spec: unknown): Promise<{ spec: JobSpec; model: CompiledModel }> {
  await initEngine();
  const validated = validateJobSpec(spec);
  assertEngineMatches(validated.spec);
  return validated;
}

/**
 * Cuts the stage's data into steps: either one Batch per step (each of batchSize samples) or a
 * single Batch of stepsPerStage * batchSize samples, consumed in order.
 */
export function stageSteps(spec: JobSpec, batches: Batch | Batch[]): { batch: Batch; start: number }[] {
  const { batchSize, stepsPerStage } = spec.training;
  const list = Array.isArray(batches) ? batches : [batches];
  list.forEach((b, i) => {
    assertBatch(b, `batches[${i}]`, false);
    assertBatchFits(spec, b, `batches[${i}]`);
  });
  if (list.length === 1 && list[0].count === batchSize * stepsPerStage) {
    return Array.from({ length: stepsPerStage }, (_, s) => ({ batch: list[0], start: s * batchSize }));
  }
  if (list.length !== stepsPerStage) {
    throw new InvalidBatchError(
      "count",
      `a stage needs ${stepsPerStage} batches of ${batchSize} samples (or one of ${stepsPerStage * batchSize}), got ${list.length} batch(es)` +
        (list.length === 1 ? ` of ${list[0].count} samples` : ""),
    );
  }
  list.forEach((b, i) => {
    if (b.count !== batchSize) {
      throw new InvalidBatchError(
        `batches[${i}].count`,
        `expected the job's batchSize ${batchSize}, got ${b.count}`,
      );
    }
  });
  return list.map((batch) => ({ batch, start: 0 }));
}

/**
 * Trains one stage: S_{i+1} = f(S_i, B_{i+1}) over training.stepsPerStage SGD steps, and the
 * training secret rho (src/protocol/rho.ts) over every step's per-sample losses, the hash of the
 * state before the last step, and H(S_{i+1}).
 *
 * @param spec the job spec (validated here; its engineId must be this node's)
 * @param stateBytes canonical bytes of S_i
 * @param batches the stage's data (see stageSteps)
 * @param ctx what rho is bound to: domain, job id, and the stage being produced (i+1)
 */
export async function runStage(
  spec: unknown,
  stateBytes: Uint8Array,
  batches: Batch | Batch[],
  ctx: RhoContext,
): Promise<StageResult> {
  const job = await prepareJob(spec);
  const trainer = new Trainer(job.spec, job.model);
  try {
    return runStageWith(trainer, stateBytes, batches, ctx);
  } finally {
    trainer.dispose();
  }
}

/** runStage on an existing Trainer (no re-validation): for loops that run many stages. */
export function runStageWith(
  trainer: Trainer,
  stateBytes: Uint8Array,
  batches: Batch | Batch[],
  ctx: RhoContext,
): StageResult {
  const run = stageRun(trainer, stateBytes, batches, ctx);
  let next = run.next();
  while (!next.done) next = run.next();
  return next.value;
}

/** Options of runStageAsync. */
export interface AsyncStageOptions {
  /** Longest stretch of training between two yields to the event loop, ms (default 25). */
  readonly yieldEveryMs?: number;
  /** Checked at every yield: an aborted signal stops the stage with its reason. */
  readonly signal?: AbortSignal;
}

/**
 * runStageWith that yields to the event loop between steps (at least every `yieldEveryMs`), so that a
 * process training a long stage still answers its timers and sockets: a miner must attest, declare and
 * build headers while it trains. Bit-identical to runStageWith (the same steps in the same order; only
 * the scheduling differs). The Trainer must not be used by anything else until the promise settles.
 */
export async function runStageAsync(
  trainer: Trainer,
  stateBytes: Uint8Array,
  batches: Batch | Batch[],
  ctx: RhoContext,
  options: AsyncStageOptions = {},
): Promise<StageResult> {
  const every = options.yieldEveryMs ?? 25;
  options.signal?.throwIfAborted();
  const run = stageRun(trainer, stateBytes, batches, ctx);
  let last = performance.now();
  let next = run.next();
  while (!next.done) {
    if (performance.now() - last >= every) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      options.signal?.throwIfAborted();
      last = performance.now();
    }
    next = run.next();
  }
  return next.value;
}

/** The stage as a generator that pauses after every step (runStageWith and runStageAsync drive it). */
function* stageRun(
  trainer: Trainer,
  stateBytes: Uint8Array,
  batches: Batch | Batch[],
  ctx: RhoContext,
): Generator<void, StageResult, void> {
  const steps = stageSteps(trainer.spec, batches);
  trainer.load(stateBytes);
  const hasher = new RhoHasher(ctx, steps.length);
  const stepLosses: Float32Array[] = [];
  const every = trainer.spec.training.checkpointEvery ?? 0;
  const checkpointStates: Uint8Array[] = [];
  let sum = 0;
  let n = 0;
  let intermediateStateHash: Hex | undefined;
  for (const [s, { batch, start }] of steps.entries()) {
    if (s === steps.length - 1) {
      intermediateStateHash = trainer.stateHash();
      hasher.absorbIntermediateState(intermediateStateHash);
    }
    const losses = trainer.trainStep(batch, start);
    hasher.absorbStepLosses(losses);
    stepLosses.push(losses);
    for (let j = 0; j < losses.length; j++) sum += losses[j];
    n += losses.length;
    if (s < steps.length - 1) {
      if (every > 0 && (s + 1) % every === 0) checkpointStates.push(trainer.stateBytes());
      yield;
    }
  }
  const state = trainer.stateBytes();
  const finalHash = stateHash(state);
  const rho = hasher.finish(finalHash);
  if (every > 0) checkpointStates.push(state);
  return {
    state,
    stateHash: finalHash,
    intermediateStateHash: intermediateStateHash!,
    rho,
    meanLoss: sum / n,
    stepLosses,
    checkpoints: checkpointStates.map((bytes) => (bytes === state ? finalHash : stateHash(bytes))),
    checkpointStates,
  };
}

/**
 * Re-executes steps (fromStep, toStep] of a stage (counted from its start, 0 <= fromStep < toStep <=
 * stepsPerStage) from `startState`, the state after `fromStep` steps (S_i when 0): one checkpoint segment
 * (src/protocol/checkpoints.ts `segmentBounds`). Bit-identical to the same steps inside runStage (the
 * same trainStep on the same samples); no training secret. Returns the end state and its hash.
 */
export function runSegment(
  trainer: Trainer,
  startState: Uint8Array,
  batches: Batch | Batch[],
  fromStep: number,
  toStep: number,
): { state: Uint8Array; stateHash: Hex } {
  const steps = stageSteps(trainer.spec, batches);
  if (
    !Number.isSafeInteger(fromStep) ||
    !Number.isSafeInteger(toStep) ||
    fromStep < 0 ||
    toStep <= fromStep ||
    toStep > steps.length
  ) {
    throw new InvalidBatchError(
      "segment",
      `steps (${fromStep}, ${toStep}] are not a segment of a stage of ${steps.length} steps`,
    );
  }
  trainer.load(startState);
  for (const { batch, start } of steps.slice(fromStep, toStep)) trainer.trainStep(batch, start);
  const state = trainer.stateBytes();
  return { state, stateHash: stateHash(state) };
}

/**
 * S_0: the model's seeded initializers (as TensorFlow.js builds them from the model JSON),
 * zero optimizer slots, step 0, as canonical bytes.
 */
export async function initialState(spec: unknown): Promise<Uint8Array> {
  const job = await prepareJob(spec);
  const topology = typeof job.spec.model === "string" ? JSON.parse(job.spec.model) : job.spec.model;
  let built: tf.LayersModel;
  try {
    built = await tf.models.modelFromJSON({
      modelTopology: (topology.modelTopology ?? topology) as tf.io.ModelJSON["modelTopology"],
    });
  } catch (err) {
    throw new InvalidModelSpecError("model", `TensorFlow.js could not build it: ${(err as Error).message}`);
  }
  try {
    const values = built.getWeights();
    if (values.length !== job.model.weights.length) {
      throw new InvalidModelSpecError(
        "model",
        `built ${values.length} weights, expected ${job.model.weights.length}`,
      );
    }
    const weights = values.map((v, i) => {
      const want = job.model.weights[i];
      if (v.shape.length !== want.shape.length || v.shape.some((d, k) => d !== want.shape[k])) {
        throw new InvalidModelSpecError(
          "model",
          `weight ${i} (${want.name}) has shape [${v.shape}], expected [${want.shape}]`,
        );
      }
      return v.dataSync() as Float32Array;
    });
    return encodeState(
      {
        optimizer: job.spec.training.optimizer.name,
        step: 0,
        weights,
        slots: Trainer.zeroSlots(job.spec, job.model),
      },
      job.model.weights,
    );
  } finally {
    built.dispose();
  }
}
