/**
 * Re-execution of step-checkpoint segments (docs/PROTOCOL.md, "Step checkpoints"): instead of a whole
 * stage S_i -> S_{i+1}, re-execute K of its m segments chosen at random. Segment j runs steps
 * (j e, min((j+1) e, T)] from checkpoint j-1 (S_i for j = 0) and must end on checkpoint j. A wrong stage
 * (S_{i+1} does not follow from S_i and the batches) with a checkpoint list that hashes to the committed
 * root has at least one segment whose end does not follow from its start, so re-executing K of the m
 * segments, drawn uniformly without replacement, catches it with probability at least K / m
 * (= 1 - C(m-1, K) / C(m, K); `detectionProbability(m, K)`).
 */
import type { Hex } from "viem";
import { prepareJob, runSegment, Trainer, type Batch } from "../ml";
import { checkpointCount, checkpointRoot, segmentBounds } from "../protocol/checkpoints";
import { stateHash } from "../protocol/rho";
import { wrappedHeader } from "../chain/stage-rewards";
import { stateRef, type JobRecord } from "../chain/job-record";
import { cidOfStateHash, type ContentStore, type DatasetManifest, type FetchOptions } from "../storage";
import { chooseSample, stageInputs } from "./reexecute";
import { detectionProbability, type Check } from "./report";

/** What `verifySegments` needs about one stage S_i -> S_{i+1} (stage = i+1). */
export interface SegmentInput {
  /** The job spec (validated here; its training.checkpointEvery is e). */
  readonly spec: unknown;
  /** The stage i+1 (only named in the checks). */
  readonly stage: number;
  /** Canonical bytes of S_i. */
  readonly startState: Uint8Array;
  /** H(S_i) as the chain records it (S_i is checked against it). */
  readonly parentHash: Hex;
  /** H(S_{i+1}) as the stage outcome names it: the last checkpoint must equal it. */
  readonly stateHash: Hex;
  /** The stage's batches (as runStage takes them). */
  readonly batches: Batch | Batch[];
  /** The checkpoint hashes the stage's declaration listed, in order. */
  readonly checkpoints: readonly Hex[];
  /** The checkpoint root the declaration committed to. */
  readonly expectedRoot: Hex;
  /** Fetches a checkpoint state's bytes by its state hash (the bytes are hash-checked here). */
  readonly fetchState: (hash: Hex) => Promise<Uint8Array>;
}

/** How many segments to re-execute and which (seeded). */
export interface SegmentSample {
  /** K: segments to re-execute (clamped to m). */
  readonly count: number;
  /** Seed of `chooseSample` (reproducible). */
  readonly seed: number;
}

/** What `verifySegments` found. */
export interface SegmentReport {
  readonly checks: Check[];
  /** m: segments of the stage. */
  readonly total: number;
  /** The segments re-executed (0-based, increasing). */
  readonly reexecuted: number[];
  /** Probability that the sample catches a wrong stage with a consistent list: K / m. */
  readonly detection: number;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Checks the stage's checkpoint list (count, root, last = H(S_{i+1})) and re-executes `sample.count`
 * segments chosen by `chooseSample(segments, K, seed)`: each segment's start state is fetched and
 * hash-checked, re-executed with the Trainer, and its end hash compared with the listed checkpoint.
 * Never throws for a failed check (see the checks' `ok`); throws InvalidModelSpecError for a bad spec.
 */
export async function verifySegments(input: SegmentInput, sample: SegmentSample): Promise<SegmentReport> {
  const job = await prepareJob(input.spec);
  const { stepsPerStage, checkpointEvery = 0 } = job.spec.training;
  const { stage, checkpoints } = input;
  const m = checkpointCount(stepsPerStage, checkpointEvery);
  const fail = (id: string, message: string): SegmentReport => ({
    checks: [{ id, stage, ok: false, message }],
    total: m,
    reexecuted: [],
    detection: 0,
  });
  if (m === 0)
    return fail("segment-list", `stage ${stage}: the job has no step checkpoints (checkpointEvery 0)`);
  if (checkpoints.length !== m) {
    return fail(
      "segment-list",
      `stage ${stage}: the declaration lists ${checkpoints.length} checkpoints, a stage of ${stepsPerStage} steps checkpointed every ${checkpointEvery} has ${m}`,
    );
  }
  const root = checkpointRoot(checkpoints);
  if (!same(root, input.expectedRoot)) {
    return fail(
      "segment-list",
      `stage ${stage}: the listed checkpoints hash to root ${root}, but the declaration committed to ${input.expectedRoot}`,
    );
  }
  if (!same(checkpoints[m - 1], input.stateHash)) {
    return fail(
      "segment-list",
      `stage ${stage}: the last checkpoint ${checkpoints[m - 1]} is not H(S_${stage}) = ${input.stateHash}`,
    );
  }
  const checks: Check[] = [
    {
      id: "segment-list",
      stage,
      ok: true,
      message: `stage ${stage}: ${m} checkpoints match the committed root`,
    },
  ];
  const chosen = chooseSample(
    Array.from({ length: m }, (_, j) => j),
    sample.count,
    sample.seed,
  );
  const trainer = new Trainer(job.spec, job.model);
  try {
    for (const j of chosen) checks.push(await checkSegment(trainer, input, j));
  } finally {
    trainer.dispose();
  }
  return { checks, total: m, reexecuted: chosen, detection: detectionProbability(m, chosen.length) };
}

/** One segment: its start state (fetched, hash-checked), re-executed, its end against the list. */
async function checkSegment(trainer: Trainer, input: SegmentInput, j: number): Promise<Check> {
  const { stage, checkpoints } = input;
  const { fromStep, toStep } = segmentBounds(
    trainer.spec.training.stepsPerStage,
    trainer.spec.training.checkpointEvery ?? 0,
    j,
  );
  const name = `stage ${stage} segment ${j} (steps ${fromStep + 1}..${toStep})`;
  const startName = j === 0 ? `S_${stage - 1}` : `checkpoint ${j - 1}`;
  const startHash = j === 0 ? input.parentHash : checkpoints[j - 1];
  let start: Uint8Array;
  try {
    start = j === 0 ? input.startState : await input.fetchState(startHash);
  } catch (error) {
    return {
      id: "segment-start",
      stage,
      ok: false,
      message: `${name}: its start state (${startName}, ${startHash}) could not be fetched: ${(error as Error).message}`,
    };
  }
  const got = stateHash(start);
  if (!same(got, startHash)) {
    return {
      id: "segment-start",
      stage,
      ok: false,
      message: `${name}: the state fetched as its start (${startName}) hashes to ${got}, not to the listed ${startHash}`,
    };
  }
  let end: Hex;
  try {
    end = runSegment(trainer, start, input.batches, fromStep, toStep).stateHash;
  } catch (error) {
    return {
      id: "segment-reexec",
      stage,
      ok: false,
      message: `${name} could not be re-executed: ${(error as Error).message}`,
    };
  }
  const ok = same(end, checkpoints[j]);
  return {
    id: "segment-reexec",
    stage,
    ok,
    message: ok
      ? `${name} re-executed: checkpoint ${j} matches`
      : `${name} re-executed from ${startName} gives ${end}, but the declaration listed checkpoint ${j} = ${checkpoints[j]}: the stage's training is wrong in this segment`,
  };
}

/** A wrapped stage's step-checkpoint list and the root its declarations committed to. */
export interface StageCheckpoints {
  readonly hashes: Hex[];
  readonly root: Hex;
}

/** Where the checkpoint list of a wrapped stage comes from (the chain's header event). */
export type CheckpointSource = (record: JobRecord, stage: number) => Promise<StageCheckpoints | undefined>;

/**
 * Re-executes `segments` step-checkpoint segments of each of `stages` (src/verify/segments.ts) instead of
 * the whole stage: the checkpoint list from `checkpointsOf`, the start states from IPFS by their hash
 * (raw blocks, `cidOfStateHash`). Returns the checks and, per stage, the fraction of segments run.
 */
export async function reexecuteSegments(
  record: JobRecord,
  store: ContentStore,
  manifest: DatasetManifest,
  stages: readonly number[],
  sample: { count: number; seed: number },
  checkpointsOf: CheckpointSource,
  options: FetchOptions & { onStage?: (stage: number, done: number, total: number) => void } = {},
): Promise<{ checks: Check[]; detection: number }> {
  const checks: Check[] = [];
  let detection = 1;
  let done = 0;
  for (const stage of stages) {
    const header = wrappedHeader(record.events.stages[stage - 1]);
    const fail = (message: string) => checks.push({ id: "segment-list", stage, ok: false, message });
    try {
      const list = header === undefined ? undefined : await checkpointsOf(record, stage);
      if (header === undefined) fail(`stage ${stage} is not wrapped: nothing to re-execute`);
      else if (list === undefined)
        fail(
          `stage ${stage}: the chain gives no step-checkpoint list for its header (job without checkpoints?)`,
        );
      else {
        const { parent, batches } = await stageInputs(record, store, manifest, stage, options);
        const report = await verifySegments(
          {
            spec: record.document.spec,
            stage,
            startState: parent,
            parentHash: stateRef(record, stage - 1)!.expectedHash,
            stateHash: stateRef(record, stage)!.expectedHash,
            batches,
            checkpoints: list.hashes,
            expectedRoot: list.root,
            fetchState: (hash) => store.getRawBlock(cidOfStateHash(hash), options),
          },
          { count: sample.count, seed: sample.seed + stage },
        );
        checks.push(...report.checks);
        detection = Math.min(detection, report.detection);
      }
    } catch (error) {
      fail(`stage ${stage}: its segments could not be re-executed: ${(error as Error).message}`);
    }
    options.onStage?.(stage, ++done, stages.length);
  }
  return { checks, detection: stages.length === 0 ? 0 : detection };
}
