/**
 * Preflight: every check a job must pass before any wei is spent on it (docs/employer.md, "Preflight").
 * A job that can never succeed is refused with a clear error; one a user could still mean (more miners
 * may stake before the deadline, a long job on purpose) is refused with a warning unless forced.
 *
 * `checkDataset` runs on the data alone (before a preset model is built for it), `checkJobOffline` on
 * the data, model and plan (the dry run), `checkAgainstNetwork` on what the chain allows and holds, and
 * `preflightJob` runs them all.
 */
import { formatEther, type Address } from "viem";
import { withGasHeadroom } from "../chain/tx-sender";
import { PotError } from "../errors";
import { GAS, plannedMinDeclareSeconds, suggestedDeadlineSeconds, type JobPlanEstimate } from "./plan";
import type { LoadedDataset } from "./dataset";
import type { JobInput } from "./create-job";
import { checkTarget } from "./target";
import {
  readJobLimits,
  readStakerCounts,
  type JobLimits,
  type LedgerHandle,
  type StakerCounts,
} from "./ledger";

/** One finding. An `error` can never work; a `warning` stops the job unless forced (`--force`). */
export interface PreflightIssue {
  /** Stable id of the check, e.g. `stakers`, `balance`, `test-shape`. */
  readonly check: string;
  readonly level: "error" | "warning";
  readonly message: string;
  /** What to do about it. */
  readonly hint: string;
}

/** The job was refused before anything was uploaded or sent. */
export class PreflightError extends PotError {
  declare readonly hint: string;
  constructor(readonly issues: readonly PreflightIssue[]) {
    super(
      `Job refused before anything was spent: ${issues.map((i) => `${i.message}. ${i.hint}`).join("; ")}`,
      // Where to see every check (the message carries each finding's own hint).
      { hint: "pot job create --dry-run shows every check" },
    );
  }
}

/** More classes than this is refused outright (a label typo such as 5,000,000 makes a 5M-unit layer). */
export const MAX_CLASSES = 100_000;
/** A training state (weights + optimizer slots) above this is refused: wasm memory is 4 GiB in all. */
export const MAX_STATE_BYTES = 1024 * 1024 * 1024;
/** A training state above this needs --force: every declarant downloads, hashes and uploads it per stage. */
export const LARGE_STATE_BYTES = 64 * 1024 * 1024;

const SLOTS = { sgd: 0, momentum: 1, adam: 2 } as const;

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

const error = (check: string, message: string, hint: string): PreflightIssue => ({
  check,
  level: "error",
  message,
  hint,
});
const warning = (check: string, message: string, hint: string): PreflightIssue => ({
  check,
  level: "warning",
  message,
  hint,
});

const FORCE = "pass --force if you mean it";

/** Checks of the data alone: test set shaped like the training set, sane class counts. */
export function checkDataset(dataset: LoadedDataset): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  const { train, test } = dataset;
  if (test !== undefined) {
    if (!same(test.featureShape, train.featureShape)) {
      issues.push(
        error(
          "test-shape",
          `The test set's samples have shape [${test.featureShape}] but the training samples [${train.featureShape}]`,
          "Give test files cut like the training files (same feature shape)",
        ),
      );
    }
    const testKind = test.labels instanceof Int32Array ? "class index" : "float32";
    const trainKind = train.labels instanceof Int32Array ? "class index" : "float32";
    if (testKind !== trainKind || !same(test.labelShape, train.labelShape)) {
      issues.push(
        error(
          "test-shape",
          `The test set's labels are ${testKind} [${test.labelShape}] but the training labels ${trainKind} [${train.labelShape}]`,
          "Give test files with labels of the training files' kind and shape",
        ),
      );
    }
  }
  if (train.labels instanceof Int32Array) {
    const all = test?.labels instanceof Int32Array ? [train, test] : [train];
    const negative = all.some((b) => (b.labels as Int32Array).some((l) => l < 0));
    if (negative)
      issues.push(error("classes", "A class label is negative", "Class labels are 0, 1, ..., classes - 1"));
    const classes = dataset.numClasses;
    const distinct = new Set(all.flatMap((b) => [...(b.labels as Int32Array)])).size;
    if (classes > MAX_CLASSES) {
      issues.push(
        error(
          "classes",
          `The largest class label is ${classes - 1}: the model would need a ${classes}-class output layer (at most ${MAX_CLASSES})`,
          `The labels hold ${distinct} distinct values: number the classes 0..${distinct - 1}`,
        ),
      );
    } else if (classes > 100 && distinct * 2 < classes) {
      issues.push(
        warning(
          "classes",
          `The labels hold ${distinct} distinct values but the largest is ${classes - 1}: a ${classes}-class output layer, mostly never trained`,
          `Number the classes 0..${distinct - 1}, or ${FORCE}`,
        ),
      );
    }
    if (classes < 2 && !negative)
      issues.push(
        error("classes", `The labels name ${classes} class(es)`, "A classifier needs at least 2 classes"),
      );
  }
  if (train.count === 0) issues.push(error("data", "The training set is empty", "Give training samples"));
  return issues;
}

/**
 * Checks of the job without the chain (what the dry run always shows): the data, the early-stopping
 * target against the data (src/employer/target.ts), the plan, the model against the data (shape, size)
 * and against the stage time, and the deadline against the plan.
 * `modelProblem` is why the model does not fit the data (from building the job spec), if it does not.
 */
export function checkJobOffline(
  input: JobInput,
  plan: JobPlanEstimate,
  modelProblem?: string,
): PreflightIssue[] {
  const issues = checkDataset(input.dataset);
  issues.push(...checkTarget(input.target, input.dataset));
  if (modelProblem !== undefined) {
    issues.push(
      error(
        "model-shape",
        `The model does not fit the data (samples [${input.dataset.train.featureShape}], ${
          input.dataset.numClasses > 0
            ? `${input.dataset.numClasses} classes`
            : `targets [${input.dataset.train.labelShape}]`
        }): ${modelProblem}`,
        "Give a model whose input shape is the samples' shape and whose output is one unit per class (or the target shape)",
      ),
    );
  }
  const stateBytes = plan.params * 4 * (1 + SLOTS[input.optimizer.name]);
  const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
  if (stateBytes > MAX_STATE_BYTES) {
    issues.push(
      error(
        "model-size",
        `The model has ${plan.params.toLocaleString("en")} parameters: a ${mib(stateBytes)} training state, above the ${mib(MAX_STATE_BYTES)} a miner can train`,
        "Use a smaller model (fewer or narrower layers)",
      ),
    );
  } else if (stateBytes > LARGE_STATE_BYTES) {
    issues.push(
      warning(
        "model-size",
        `The model has ${plan.params.toLocaleString("en")} parameters: a ${mib(stateBytes)} training state that every declarant downloads, hashes and uploads each stage`,
        `Use a smaller model, or ${FORCE}`,
      ),
    );
  }
  if (plan.stageTrainingSeconds > input.stageSeconds) {
    issues.push(
      warning(
        "stage-time",
        `A stage trains ~${Math.ceil(plan.stageTrainingSeconds)} s on the reference machine but its declarations close ${input.stageSeconds} s after it opens (--stage-seconds): no miner can declare in time`,
        `Use a smaller model, fewer --steps-per-stage or a longer --stage-seconds, or ${FORCE}`,
      ),
    );
  } else if (
    input.stepsPerStage === undefined &&
    plan.stageTrainingSeconds > 2 * (input.targetStageSeconds ?? 60)
  ) {
    issues.push(
      warning(
        "stage-time",
        `Even the shortest stage (${plan.stepsPerStage} steps) trains ~${Math.ceil(plan.stageTrainingSeconds)} s on the reference machine, over twice the ${input.targetStageSeconds ?? 60} s target`,
        `Use a smaller model or batch, or ${FORCE}`,
      ),
    );
  }
  const declare = input.minDeclareSeconds;
  if (
    declare !== undefined &&
    (!Number.isSafeInteger(declare) || declare < 0 || declare > input.stageSeconds)
  ) {
    issues.push(
      error(
        "min-declare-seconds",
        `--min-declare-seconds ${declare} is not a whole number of seconds from 0 to the stage window (--stage-seconds ${input.stageSeconds})`,
        `Use --min-declare-seconds ${plannedMinDeclareSeconds(plan.stageTrainingSeconds, input.stageSeconds)} (the stage's training time) or drop it`,
      ),
    );
  }
  const deadline = input.deadlineSeconds ?? suggestedDeadlineSeconds(plan);
  if (deadline < plan.expectedSeconds) {
    issues.push(
      warning(
        "deadline",
        `The deadline (${deadline} s) is shorter than the ${Math.ceil(plan.expectedSeconds)} s the plan expects: the job would expire unfinished`,
        `Give --deadline ${suggestedDeadlineSeconds(plan)} (4x the expected time) or drop it, or ${FORCE}`,
      ),
    );
  }
  return issues;
}

/** What the chain says about a job request. */
export interface NetworkFacts {
  readonly limits: JobLimits;
  readonly stakers: StakerCounts;
  /** The employer's ETH (undefined when no employer account was given). */
  readonly balance?: bigint;
  readonly gasPrice: bigint;
}

/**
 * The job's minimum declaration window (JobTerms.minDeclareSeconds): `--min-declare-seconds` when given,
 * else the stage's training time on the reference machine, at least the contracts' minimum (`limits`,
 * when known) and at most the stage window.
 */
export function jobMinDeclareSeconds(
  input: Pick<JobInput, "minDeclareSeconds" | "stageSeconds">,
  plan: Pick<JobPlanEstimate, "stageTrainingSeconds">,
  limits?: Pick<JobLimits, "minDeclareSeconds">,
): number {
  return (
    input.minDeclareSeconds ??
    plannedMinDeclareSeconds(plan.stageTrainingSeconds, input.stageSeconds, limits?.minDeclareSeconds)
  );
}

/** Stakers a job needs drawable: C declarants, or a committee of K. */
export function stakersNeeded(input: Pick<JobInput, "c" | "k">): number {
  return Math.max(input.c, input.k);
}

/**
 * Whether enough stakers for the job are staked but drawable only from the next draw epoch (a miner that
 * just started): then `createJob` waits for that epoch's first block instead of refusing the job.
 */
export function stakersPendingForJob(input: Pick<JobInput, "c" | "k">, stakers: StakerCounts): boolean {
  const need = stakersNeeded(input);
  return need > stakers.drawable && need <= stakers.drawable + stakers.pending;
}

/** Reads the contracts' job limits, the stakers who can serve a job, and the employer's balance. */
export async function readNetworkFacts(h: LedgerHandle, employer?: Address): Promise<NetworkFacts> {
  const client = h.client;
  const limits = await readJobLimits(h);
  const [stakers, balance, gasPrice] = await Promise.all([
    readStakerCounts(h, limits.minStake),
    employer === undefined ? undefined : client.getBalance({ address: employer }),
    client.getGasPrice(),
  ]);
  return { limits, stakers, balance, gasPrice };
}

/** Checks of the job against the ledger's limits, the stakers and the employer's balance. */
export function checkAgainstNetwork(
  input: JobInput,
  plan: JobPlanEstimate,
  facts: NetworkFacts,
): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  const { limits, stakers } = facts;
  if (input.c > limits.maxC)
    issues.push(
      error(
        "c",
        `C = ${input.c} is above this ledger's maximum ${limits.maxC}`,
        `Use --c ${limits.maxC} or less`,
      ),
    );
  if (input.k > limits.maxK)
    issues.push(
      error(
        "k",
        `K = ${input.k} is above this ledger's maximum ${limits.maxK}`,
        `Use --k ${limits.maxK} or less`,
      ),
    );
  if (input.stageSeconds < limits.minStageSeconds)
    issues.push(
      error(
        "stage-seconds",
        `--stage-seconds ${input.stageSeconds} is below this ledger's minimum ${limits.minStageSeconds}`,
        `Use --stage-seconds ${limits.minStageSeconds} or more`,
      ),
    );
  const declare = jobMinDeclareSeconds(input, plan, limits);
  if (declare < limits.minDeclareSeconds)
    issues.push(
      error(
        "min-declare-seconds",
        `The minimum declaration window (${declare} s) is below this network's minimum of ${limits.minDeclareSeconds} s`,
        `Use --min-declare-seconds ${limits.minDeclareSeconds} or more (and --stage-seconds at least that)`,
      ),
    );
  else if (declare > input.stageSeconds)
    issues.push(
      error(
        "min-declare-seconds",
        `The minimum declaration window (${declare} s) is longer than the stage window (--stage-seconds ${input.stageSeconds})`,
        `Use --stage-seconds ${declare} or more`,
      ),
    );
  const deadline = input.deadlineSeconds ?? suggestedDeadlineSeconds(plan);
  if (deadline > limits.maxJobSeconds)
    issues.push(
      error(
        "deadline",
        `The deadline (${deadline} s from now) is beyond this network's maximum job length of ${limits.maxJobSeconds} s`,
        `Use --deadline ${limits.maxJobSeconds} or less (fewer stages or a smaller model if the job needs longer)`,
      ),
    );
  if (deadline < limits.minJobSeconds)
    issues.push(
      error(
        "deadline",
        `The deadline (${deadline} s from now) is below this ledger's minimum of ${limits.minJobSeconds} s`,
        `Use --deadline ${Math.max(limits.minJobSeconds, suggestedDeadlineSeconds(plan))} or drop it (default: 4x the expected time, at least an hour)`,
      ),
    );
  const need = stakersNeeded(input);
  if (need > stakers.drawable + stakers.pending) {
    const which =
      input.c >= input.k ? `C = ${input.c} agreeing declarations` : `a committee of K = ${input.k}`;
    issues.push(
      warning(
        "stakers",
        `Each stage needs ${which} but only ${stakers.drawable} staker(s) hold at least the minimum stake of ${formatEther(limits.minStake)} POT in the current draw epoch` +
          (stakers.pending > 0 ? ` (${stakers.pending} more count from the next epoch)` : "") +
          ": the fee would stay locked until the deadline",
        `Lower --c/--k to ${Math.max(2, stakers.drawable)} or less, wait for more miners to stake, or ${FORCE}`,
      ),
    );
  }
  const gasWei = withGasHeadroom(BigInt(GAS.createJob)) * facts.gasPrice;
  if (facts.balance !== undefined && facts.balance < input.fee + gasWei) {
    issues.push(
      error(
        "balance",
        `The wallet holds ${formatEther(facts.balance)} ETH: too little for the fee of ${formatEther(input.fee)} ETH plus ~${formatEther(gasWei)} ETH gas`,
        input.fee > facts.balance
          ? "Lower --fee, or fund the wallet"
          : "Lower --fee a little, or send the wallet some ETH for gas",
      ),
    );
  }
  return issues;
}

/** Throws `PreflightError` with every error, and every warning unless `force`. */
export function assertPreflight(issues: readonly PreflightIssue[], force = false): void {
  const blocking = issues.filter((i) => i.level === "error" || !force);
  if (blocking.length > 0) throw new PreflightError(blocking);
}
