/**
 * Creating a job: plan it, build the ml job spec and S_0, cut the dataset into per-stage batches in the
 * batch format, publish them with their manifest, upload S_0, the test set and the job document, and open
 * the job on the ledger with its fee. `estimateJob` is the dry run: the same plan, nothing uploaded or sent.
 */
import type { Address, Hex, PublicClient } from "viem";
import type { PotSuite, StakingRef } from "../chain/contracts";
import type { TxSender } from "../chain/tx-sender";
import { ChainNudger } from "../chain/on-demand-mining";
import {
  buildJobSpec,
  encodeBatch,
  initialState,
  seedInitializers,
  type Batch,
  type FeatureEncoding,
  type JobSpec,
  type LossName,
  type OptimizerConfig,
} from "../ml";
import {
  encodeJobDocument,
  JOB_DOCUMENT_FORMAT,
  stateHash,
  type JobDocument,
  type JobTarget,
} from "../protocol";
import { publishDataset, type ContentStore } from "../storage";
import type { LoadedDataset } from "./dataset";
import { stageBatches } from "./dataset";
import {
  readJobLimits,
  readStakerCounts,
  sendCreateJob,
  type LedgerHandle,
  type StakerCounts,
} from "./ledger";
import { cidToBytesHex } from "../storage";
import { checkParent, fetchParentFinalState, readParentJob, type ParentJob } from "./parent";
import { planJobCreation, suggestedDeadlineSeconds, type JobPlanEstimate } from "./plan";
import {
  assertPreflight,
  checkAgainstNetwork,
  checkJobOffline,
  jobMinDeclareSeconds,
  PreflightError,
  readNetworkFacts,
  stakersNeeded,
  stakersPendingForJob,
  type NetworkFacts,
  type PreflightIssue,
} from "./preflight";

/** Largest stage object before a stage is split into one batch per step (bytes). */
export const MAX_STAGE_OBJECT_BYTES = 4 * 1024 * 1024;

/** What the employer asks for. */
export interface JobInput {
  /** Human-readable job name. */
  name: string;
  dataset: LoadedDataset;
  /** LayersModel topology JSON; unseeded random initializers are seeded from `seed`. */
  model: unknown;
  optimizer: OptimizerConfig;
  /** Default: sparseCategoricalCrossentropy for class labels, meanSquaredError for float targets. */
  loss?: LossName;
  batchSize: number;
  epochs: number;
  /** Fixed steps per stage (default: Delta for targetStageSeconds). */
  stepsPerStage?: number;
  /** Steps between two step checkpoints, 0 = none (default: `defaultCheckpointEvery` of the plan). */
  checkpointEvery?: number;
  targetStageSeconds?: number;
  referenceFlopsPerSecond?: number;
  maxStages?: number;
  /** Seeds the initializers and the epoch shuffles. */
  seed: number;
  fee: bigint;
  c: number;
  k: number;
  stageSeconds: number;
  /**
   * Declarations of a stage close no sooner than this after it opened (default: the stage's estimated
   * training time, at least the network's minimum, at most `stageSeconds`; `jobMinDeclareSeconds`).
   */
  minDeclareSeconds?: number;
  /** Seconds from now to the job deadline (default: 4x the expected time, at least an hour). */
  deadlineSeconds?: number;
  gasPrice?: bigint;
  /**
   * How batch features are uploaded (default `auto`: the 4x smaller uint8 palette form when a batch has at
   * most 256 distinct feature values, as MNIST does; float32 otherwise). Training is bit-identical either way.
   */
  featureEncoding?: FeatureEncoding;
  /**
   * Fine-tune finished job `fromJob`: S_0 is its final state (weights and optimizer state), `model` must have
   * its topology and `optimizer` its optimizer (the preflight refuses otherwise; docs/PROTOCOL.md 4b).
   */
  fromJob?: bigint;
  /**
   * Early stopping (protocol/outcome.ts accuracyTarget / lossTarget; parseAccuracyTarget / parseLossTarget of
   * ./target.ts from text): the job finishes at the first wrapped stage whose held-out metric meets it, and
   * the unwrapped stages' fee is refunded. Needs `dataset.test` (and class labels for an accuracy target):
   * the preflight refuses it otherwise. Absent: every stage is trained.
   */
  target?: JobTarget;
}

/** Progress of a job creation, for progress bars. */
export type CreateProgress =
  | { phase: "spec" }
  /** Enough miners are staked but drawable only from block `untilBlock` (the next draw epoch): waiting. */
  | { phase: "stakers"; head: bigint; untilBlock: bigint }
  | { phase: "upload"; done: number; total: number }
  | { phase: "transaction" }
  /** A note about the chain (e.g. that it mines only on demand and the employer mines empty blocks). */
  | { phase: "chain"; message: string };

/** Where a job is created. */
export interface EmployerContext {
  readonly client: PublicClient;
  readonly suite: PotSuite;
  readonly staking: StakingRef;
  readonly store: ContentStore;
  readonly sender: TxSender;
}

/** Options of `createJob`. */
export interface CreateOptions {
  /** Go ahead despite preflight warnings (never despite errors). */
  force?: boolean;
  /** Longest wait for staked miners to become drawable at the next draw epoch (default 10 min). */
  stakerWaitMs?: number;
  /**
   * The network is a local development network: while waiting for the next draw epoch on a chain that
   * mines only on demand, mine to it (also done on a node that says it is Hardhat or anvil; see
   * src/chain/on-demand-mining.ts).
   */
  isLocal?: boolean;
}

/**
 * Waits until the job's C and K stakers are drawable: miners that staked in this draw epoch count from the
 * next one (a local chain with 1 s blocks and 32-block epochs: at most about half a minute). Throws
 * PreflightError when they are not drawable within `timeoutMs` (nothing uploaded or sent yet).
 */
async function waitForDrawableStakers(
  ctx: EmployerContext,
  input: JobInput,
  counted: StakerCounts,
  onProgress: (p: CreateProgress) => void,
  timeoutMs: number,
  isLocal: boolean,
): Promise<void> {
  const h = { client: ctx.client, suite: ctx.suite, staking: ctx.staking };
  const nudger = new ChainNudger({
    client: ctx.client,
    isLocal,
    notice: (message) => onProgress({ phase: "chain", message }),
  });
  const limits = await readJobLimits(h);
  const end = Date.now() + timeoutMs;
  let stakers = counted;
  while (stakersNeeded(input) > stakers.drawable) {
    if (Date.now() > end || !stakersPendingForJob(input, stakers))
      throw new PreflightError([
        {
          check: "stakers",
          level: "error",
          message: `The job needs ${stakersNeeded(input)} drawable stakers; ${stakers.drawable} are, ${stakers.pending} more from the next draw epoch (block ${stakers.nextEpochStart}, head ${stakers.head})`,
          hint: "Wait for the miners' stakes to count (pot miner status), or lower --c/--k",
        },
      ]);
    onProgress({ phase: "stakers", head: stakers.head, untilBlock: stakers.nextEpochStart });
    await nudger.waiting(stakers.head, stakers.nextEpochStart);
    await new Promise((r) => setTimeout(r, 1_000));
    stakers = await readStakerCounts(h, limits.minStake);
  }
}

/** A job that was opened. */
export interface CreatedJob {
  jobId: bigint;
  txHash: Hex;
  employer: Address;
  specCid: string;
  manifestCid: string;
  initialStateCid: string;
  testSetCid?: string;
  manifestRoot: Hex;
  initialStateHash: Hex;
  /** The finished job this one fine-tunes (its S_0 is that job's final state). */
  parentJobId?: bigint;
  deadline: bigint;
  /** The job term minDeclareSeconds sent. */
  minDeclareSeconds: number;
  /** The early-stopping target sent (JobTarget event), if any. */
  target?: JobTarget;
  plan: JobPlanEstimate;
  /** Preflight warnings the job was created despite (with `force`). */
  warnings: PreflightIssue[];
  /** Every CID the job needs available while it runs (to pin / serve). */
  cids: string[];
}

function lossOf(input: JobInput): LossName {
  if (input.loss) return input.loss;
  return input.dataset.train.labels instanceof Int32Array
    ? "sparseCategoricalCrossentropy"
    : "meanSquaredError";
}

/** The plan of a job (pure; the dry run prints it). */
export function estimateJob(input: JobInput): JobPlanEstimate {
  return planJobCreation({
    model: input.model,
    samples: input.dataset.train.count,
    batchSize: input.batchSize,
    epochs: input.epochs,
    stepsPerStage: input.stepsPerStage,
    checkpointEvery: input.checkpointEvery,
    targetStageSeconds: input.targetStageSeconds,
    referenceFlopsPerSecond: input.referenceFlopsPerSecond,
    maxStages: input.maxStages,
    fee: input.fee,
    c: input.c,
    k: input.k,
    stageSeconds: input.stageSeconds,
    minDeclareSeconds: input.minDeclareSeconds,
    gasPrice: input.gasPrice,
  });
}

/** The validated ml job spec of a job (seeded initializers, this node's engine id). */
export async function buildSpec(input: JobInput, plan: JobPlanEstimate): Promise<JobSpec> {
  const train = input.dataset.train;
  return buildJobSpec({
    model: seedInitializers(input.model, input.seed),
    training: {
      optimizer: input.optimizer,
      loss: lossOf(input),
      batchSize: input.batchSize,
      stepsPerStage: plan.stepsPerStage,
      seed: input.seed,
      checkpointEvery: plan.checkpointEvery,
    },
    data: {
      featureShape: [...train.featureShape],
      labels:
        train.labels instanceof Int32Array
          ? { kind: "classIndex", numClasses: input.dataset.numClasses }
          : { kind: "float32", shape: [...train.labelShape] },
    },
  });
}

/** What `preflightJob` found. */
export interface PreflightReport {
  plan: JobPlanEstimate;
  /** The job spec, when the model fits the data. */
  spec?: JobSpec;
  issues: PreflightIssue[];
  /** What the chain said, when a network was given. */
  facts?: NetworkFacts;
  /** The parent job of a fine-tuning job (`input.fromJob`), when the network and store were given. */
  parent?: ParentJob;
}

/**
 * Every check a job must pass before anything is uploaded or sent (src/employer/preflight.ts): the data,
 * the model against the data, the plan, and with `network` the ledger's limits, the stakers who can serve
 * it and the employer's balance. Throws only when no plan can be made (RangeError).
 */
export async function preflightJob(
  input: JobInput,
  network?: LedgerHandle & { employer?: Address; store?: ContentStore },
): Promise<PreflightReport> {
  const plan = estimateJob(input);
  let spec: JobSpec | undefined;
  let modelProblem: string | undefined;
  try {
    spec = await buildSpec(input, plan);
  } catch (error) {
    modelProblem = (error as Error).message;
  }
  const issues = checkJobOffline(input, plan, modelProblem);
  let facts: NetworkFacts | undefined;
  if (network !== undefined) {
    facts = await readNetworkFacts(network, network.employer);
    issues.push(...checkAgainstNetwork(input, plan, facts));
  }
  let parent: ParentJob | undefined;
  if (input.fromJob !== undefined) {
    if (network?.store === undefined)
      issues.push({
        check: "parent-finished",
        level: "error",
        message: `Fine-tuning job ${input.fromJob} cannot be checked without the chain and IPFS`,
        hint: "Run against a network (pot node) with its IPFS node",
      });
    else {
      parent = await readParentJob(network, network.store, input.fromJob);
      issues.push(...checkParent(parent, spec));
    }
  }
  return { plan, spec, issues, facts, parent };
}

/** Batches per stage: one object per stage, or one per step when a stage would exceed MAX_STAGE_OBJECT_BYTES. */
export function batchesPerStageFor(plan: JobPlanEstimate, train: Batch): number {
  const fs = train.featureShape.reduce((a, d) => a * d, 1);
  const ls = Math.max(
    1,
    train.labelShape.reduce((a, d) => a * d, 1),
  );
  const bytes = plan.samplesPerStage * 4 * (fs + ls);
  return bytes <= MAX_STAGE_OBJECT_BYTES ? 1 : plan.stepsPerStage;
}

/**
 * Creates the job: runs the preflight (throws `PreflightError` on any error, and on warnings unless
 * `options.force`), uploads everything (pinned in `ctx.store`), then sends createJob with the fee.
 * Nothing is sent when the preflight refuses the job or an upload fails.
 */
export async function createJob(
  ctx: EmployerContext,
  input: JobInput,
  onProgress: (p: CreateProgress) => void = () => {},
  options: CreateOptions = {},
): Promise<CreatedJob> {
  onProgress({ phase: "spec" });
  const {
    plan,
    spec: checked,
    issues,
    facts,
    parent,
  } = await preflightJob(input, {
    client: ctx.client,
    suite: ctx.suite,
    staking: ctx.staking,
    employer: ctx.sender.address,
    store: ctx.store,
  });
  assertPreflight(issues, options.force);
  if (facts !== undefined && stakersPendingForJob(input, facts.stakers))
    await waitForDrawableStakers(
      ctx,
      input,
      facts.stakers,
      onProgress,
      options.stakerWaitMs ?? 600_000,
      options.isLocal ?? false,
    );
  const minDeclareSeconds = jobMinDeclareSeconds(input, plan, facts?.limits);
  const spec = checked!;
  // A fine-tuning job starts from its parent's final state (checked against H(S_n) as it is fetched).
  const s0 = parent === undefined ? await initialState(spec) : await fetchParentFinalState(ctx.store, parent);
  const batchesPerStage = batchesPerStageFor(plan, input.dataset.train);
  const stages = stageBatches(input.dataset.train, {
    numStages: plan.numStages,
    stepsPerStage: plan.stepsPerStage,
    batchSize: plan.batchSize,
    batchesPerStage,
    seed: input.seed,
  });
  const total = plan.numStages * batchesPerStage + 3 + (input.dataset.test ? 1 : 0);
  let done = 0;
  const tick = () => onProgress({ phase: "upload", done: ++done, total });
  const features = input.featureEncoding ?? "auto";
  const objects = stages.flat().map((b) => ({ bytes: encodeBatch(b, { features }), sampleCount: b.count }));
  const counting = new Proxy(ctx.store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop === "put") {
        return async (...args: Parameters<ContentStore["put"]>) => {
          const cid = await target.put(...args);
          tick();
          return cid;
        };
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const published = await publishDataset(counting, objects, {
    name: input.name,
    featureShape: [...input.dataset.train.featureShape],
    labelShape: [...input.dataset.train.labelShape],
    numClasses: input.dataset.numClasses,
    numStages: plan.numStages,
    batchesPerStage,
  });
  const initialStateCid = await counting.put(s0, { pin: true });
  const testSetCid = input.dataset.test
    ? await counting.put(encodeBatch(input.dataset.test, { features }), { pin: true })
    : undefined;
  const doc: JobDocument = {
    format: JOB_DOCUMENT_FORMAT,
    name: input.name,
    spec,
    manifestCid: published.manifestCid,
    initialStateCid,
    ...(testSetCid !== undefined ? { testSetCid } : {}),
  };
  const specCid = await counting.put(encodeJobDocument(doc), { pin: true });

  onProgress({ phase: "transaction" });
  const head = await ctx.client.getBlock({ blockTag: "latest" });
  const deadline = head.timestamp + BigInt(input.deadlineSeconds ?? suggestedDeadlineSeconds(plan));
  const initialStateHash = stateHash(s0);
  const { jobId, tx } = await sendCreateJob(
    ctx.sender,
    ctx.suite,
    {
      specCid: cidToBytesHex(specCid),
      manifestRoot: published.root,
      initialStateHash,
      numStages: plan.numStages,
      c: input.c,
      k: input.k,
      stageSeconds: input.stageSeconds,
      minDeclareSeconds,
      deadline,
      parentJobId: parent?.jobId,
      ...(input.target !== undefined ? { target: input.target } : {}),
    },
    input.fee,
  );
  return {
    jobId,
    txHash: tx.hash,
    employer: ctx.sender.address,
    specCid,
    manifestCid: published.manifestCid,
    initialStateCid,
    testSetCid,
    manifestRoot: published.root,
    initialStateHash,
    ...(parent !== undefined ? { parentJobId: parent.jobId } : {}),
    deadline,
    minDeclareSeconds,
    ...(input.target !== undefined ? { target: input.target } : {}),
    plan,
    warnings: issues,
    cids: [
      specCid,
      published.manifestCid,
      initialStateCid,
      ...(testSetCid ? [testSetCid] : []),
      ...published.manifest.batches.map((b) => b.cid),
    ],
  };
}
