/**
 * `pot job create`: the job's inputs from the options, the plan and preflight (`--dry-run`), then the job
 * created on-chain with its data on IPFS (docs/employer.md).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { Address } from "viem";
import type { PotSession } from "../../../chain/contracts";
import type { DatasetSource, JobInput, PreflightIssue } from "../../../employer";
import type { FeatureEncoding, OptimizerConfig } from "../../../ml";
import { formatEth } from "../../amounts";
import type { CliContext } from "../../context";
import { CliUsageError } from "../../errors";
import { employer, storage, storageConfig, viem } from "../../lazy";
import { terminalProgress } from "../../progress";
import { handleOf, parseIntOption, parseJobId } from "../../args";
import { withStore } from "./store";

interface CreateOptions {
  name: string;
  dataset: string;
  trainSize?: string;
  testSize?: string;
  model: string;
  hidden: string;
  optimizer: string;
  lr: string;
  batchSize: string;
  epochs: string;
  stepsPerStage?: string;
  checkpointEvery?: string;
  stageTarget: string;
  maxStages?: string;
  seed: string;
  fee: string;
  c: string;
  k: string;
  stageSeconds: string;
  minDeclareSeconds?: string;
  deadline?: string;
  featureEncoding: string;
  dryRun?: boolean;
  force?: boolean;
  fromJob?: string;
  targetAccuracy?: string;
  targetLoss?: string;
}

async function jobInput(o: CreateOptions): Promise<JobInput> {
  const { assertPreflight, checkDataset, loadDataset, presetModel, targetFromOptions } = employer();
  // A bad target value is refused before the dataset is even loaded.
  const target = targetFromOptions(o);
  const source: DatasetSource =
    o.dataset === "mnist"
      ? {
          kind: "mnist",
          trainSize: parseIntOption("train-size", o.trainSize, 1),
          testSize: parseIntOption("test-size", o.testSize, 0),
        }
      : o.dataset === "iris"
        ? { kind: "iris" }
        : { kind: "dir", path: resolve(o.dataset) };
  const dataset = loadDataset(source);
  // Before a preset model is built for it: a typo'd label (5,000,000) would build a 5M-unit layer.
  assertPreflight(checkDataset(dataset), o.force === true);
  const model = o.model.endsWith(".json")
    ? (JSON.parse(readFileSync(resolve(o.model), "utf8")) as unknown)
    : await presetModel(
        o.model,
        dataset.train.featureShape,
        Math.max(dataset.numClasses, 1),
        parseIntOption("hidden", o.hidden, 1),
      );
  const lr = Number(o.lr);
  if (!(lr > 0)) throw new CliUsageError(`Invalid --lr "${o.lr}"`, "Give a positive learning rate, e.g. 0.1");
  const optimizer: OptimizerConfig =
    o.optimizer === "sgd"
      ? { name: "sgd", learningRate: lr }
      : o.optimizer === "momentum"
        ? { name: "momentum", learningRate: lr, momentum: 0.9 }
        : o.optimizer === "adam"
          ? { name: "adam", learningRate: lr, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }
          : (() => {
              throw new CliUsageError(`Unknown --optimizer "${o.optimizer}"`, "Use sgd, momentum or adam");
            })();
  if (!["auto", "palette", "float32"].includes(o.featureEncoding))
    throw new CliUsageError(
      `Unknown --feature-encoding "${o.featureEncoding}"`,
      "Use auto, palette (at most 256 distinct feature values) or float32",
    );
  if (!/^\d+(\.\d{1,18})?$/.test(o.fee))
    throw new CliUsageError(`Invalid --fee "${o.fee}"`, "Give the fee in ETH, e.g. 0.1");
  return {
    name: o.name,
    dataset,
    model,
    optimizer,
    batchSize: parseIntOption("batch-size", o.batchSize, 2)!,
    epochs: parseIntOption("epochs", o.epochs, 1)!,
    stepsPerStage: parseIntOption("steps-per-stage", o.stepsPerStage, 2),
    // checked by the plan (InvalidModelSpecError naming training.checkpointEvery), as in a job spec
    checkpointEvery: o.checkpointEvery === undefined ? undefined : Number(o.checkpointEvery),
    targetStageSeconds: Number(o.stageTarget),
    maxStages: parseIntOption("max-stages", o.maxStages, 1),
    seed: parseIntOption("seed", o.seed, 1)!,
    fee: viem().parseUnits(o.fee, 18),
    c: parseIntOption("c", o.c, 2)!,
    k: parseIntOption("k", o.k, 1)!,
    stageSeconds: parseIntOption("stage-seconds", o.stageSeconds, 1)!,
    minDeclareSeconds: parseIntOption("min-declare-seconds", o.minDeclareSeconds, 0),
    deadlineSeconds: parseIntOption("deadline", o.deadline, 1),
    featureEncoding: o.featureEncoding as FeatureEncoding,
    ...(target !== undefined ? { target } : {}),
  };
}

/**
 * `--from-job N`: the job fine-tunes finished job N. Its model is N's (unless a model file is given: the
 * preflight then checks its topology against N's); the preflight refuses a parent that did not finish.
 */
async function fineTuneInput(ctx: CliContext, o: CreateOptions, input: JobInput): Promise<JobInput> {
  if (o.fromJob === undefined) return input;
  const fromJob = parseJobId(o.fromJob);
  const session = await ctx.readSession();
  const parent = await withStore(
    ctx,
    (store) => employer().readParentJob(handleOf(session), store, fromJob),
    session,
  );
  return { ...input, fromJob, model: o.model.endsWith(".json") ? input.model : parent.spec.model };
}

/** The dry run's preflight: the offline checks, and the network's when a node answers. */
async function dryRunPreflight(ctx: CliContext, input: JobInput) {
  let session: PotSession;
  try {
    session = await ctx.readSession();
  } catch (error) {
    ctx.out.note(
      `Preflight without the network (${(error as Error).message.split(". ")[0]}): C, K, deadline, stakers and balance not checked`,
    );
    return employer().preflightJob(input);
  }
  const h = handleOf(session);
  let payer: Address | undefined;
  try {
    payer = ctx.walletAddress();
  } catch {
    payer = undefined; // an unreadable keystore: the balance check is skipped, the rest still runs
  }
  if (input.fromJob === undefined) return employer().preflightJob(input, { ...h, employer: payer });
  return withStore(ctx, (store) => employer().preflightJob(input, { ...h, employer: payer, store }), session);
}

/** Text lines of preflight findings. */
function preflightLines(issues: readonly PreflightIssue[], force: boolean): string[] {
  if (issues.length === 0) return ["Preflight: every check passed"];
  return issues.map((i) => {
    const label = i.level === "error" ? "error" : force ? "warning (forced)" : "warning (needs --force)";
    return `Preflight ${label} [${i.check}]: ${i.message}. ${i.hint}`;
  });
}

/** Registers `pot job create`. */
export function registerCreateCommand(job: Command, context: () => CliContext): void {
  job
    .command("create")
    .description("plan a job, upload its data, model spec and S_0 to IPFS, and open it on-chain with its fee")
    .option("--name <name>", "job name", "pot-job")
    .option(
      "--dataset <mnist|iris|dir>",
      "built-in mnist or iris, or a directory of batch files (test* files = test set)",
      "mnist",
    )
    .option("--train-size <n>", "mnist training samples (default 8000)")
    .option("--test-size <n>", "mnist held-out samples (default 2000)")
    .option("--model <mlp|linear|file.json>", "model preset, or a tfjs LayersModel JSON file", "mlp")
    .option("--hidden <n>", "hidden units of the mlp preset", "64")
    .option("--optimizer <sgd|momentum|adam>", "optimizer", "sgd")
    .option("--lr <rate>", "learning rate", "0.1")
    .option("--batch-size <n>", "samples per SGD step", "64")
    .option("--epochs <n>", "passes over the training data", "1")
    .option("--steps-per-stage <n>", "SGD steps per stage (default: Delta for --stage-target)")
    .option(
      "--checkpoint-every <n>",
      "take a step checkpoint every n steps of a stage, 0 = none (default: max(20, ceil(steps per stage / 16)))",
    )
    .option("--stage-target <seconds>", "target training time of a stage on the reference machine", "60")
    .option("--max-stages <n>", "at most this many stages")
    .option("--seed <n>", "seed of the initializers and epoch shuffles", "1")
    .option("--fee <eth>", "fee escrowed for the whole job, in ETH", "0.1")
    .option("--c <n>", "agreeing declarations per stage (>= 2)", "3")
    .option("--k <n>", "PoA committee size (>= 1)", "3")
    .option("--stage-seconds <n>", "seconds each stage's declarations stay open at least", "600")
    .option(
      "--min-declare-seconds <n>",
      "declarations of a stage close no sooner than this after it opened (default: the stage's estimated training time, at least the network's minimum, at most --stage-seconds)",
    )
    .option("--deadline <seconds>", "job deadline, seconds from now (default: 4x the expected time, >= 1 h)")
    .option(
      "--feature-encoding <auto|palette|float32>",
      "how batches store features: palette = uint8 indices into <= 256 float32 values (4x smaller, lossless)",
      "auto",
    )
    .option(
      "--from-job <id>",
      "fine-tune finished job <id>: S_0 is its final state (weights and optimizer state), its model and optimizer are kept",
    )
    .option(
      "--target-accuracy <fraction|percent>",
      "early stopping: the job finishes at the first wrapped stage whose held-out accuracy is at least this (0.97 or 97%); needs a test set with class labels",
    )
    .option(
      "--target-loss <loss>",
      "early stopping: the job finishes at the first wrapped stage whose held-out loss is at most this (e.g. 0.25); needs a test set",
    )
    .option("--dry-run", "print the plan, cost estimate and preflight checks; upload and send nothing")
    .option("--force", "create the job despite preflight warnings (never despite errors)")
    .action(async (o: CreateOptions) => {
      const ctx = context();
      const input = await fineTuneInput(ctx, o, await jobInput(o));
      const force = o.force === true;
      // Without --dry-run, the network checks run in createJob, right before anything is uploaded or sent
      // (the offline ones here; a fine-tuning job's parent needs the network, createJob checks it).
      const { plan, issues, facts } = o.dryRun
        ? await dryRunPreflight(ctx, input)
        : await employer().preflightJob({ ...input, fromJob: undefined });
      const summary = {
        numStages: plan.numStages,
        stepsPerStage: plan.stepsPerStage,
        checkpointEvery: plan.checkpointEvery,
        batchSize: plan.batchSize,
        samplesUsed: plan.samplesUsed,
        trainFlopsPerSample: plan.trainFlopsPerSample,
        stageTrainingSeconds: plan.stageTrainingSeconds,
        minDeclareSeconds: plan.minDeclareSeconds,
        expectedSeconds: plan.expectedSeconds,
        fee: input.fee,
        feePerStage: plan.fee,
        gas: plan.gas,
        target:
          input.target === undefined
            ? null
            : { ...input.target, description: employer().describeJobTarget(input.target) },
      };
      const planLines = () => [
        `Plan: ${plan.numStages} stages x ${plan.stepsPerStage} steps of ${plan.batchSize} samples (${plan.samplesUsed} samples, ${plan.droppedSteps} steps dropped)`,
        ...(plan.targetStepsPerStage !== undefined
          ? [
              `  (--stage-target ${o.stageTarget} s would take ${plan.targetStepsPerStage} steps per stage, more than the data holds: capped so it fills ${employer().DEFAULT_MIN_STAGES} stages; --steps-per-stage sets it)`,
            ]
          : []),
        plan.checkpointEvery === 0
          ? "Step checkpoints: none (--checkpoint-every 0)"
          : `Step checkpoints: every ${plan.checkpointEvery} steps, ${Math.ceil(plan.stepsPerStage / plan.checkpointEvery)} per stage (--checkpoint-every)`,
        `tau: ${plan.trainFlopsPerSample} training FLOPs/sample; a stage ~${plan.stageTrainingSeconds.toFixed(2)} s on the reference machine`,
        `Declarations close no sooner than ${plan.minDeclareSeconds} s after a stage opens (--min-declare-seconds; raised to the network's minimum when lower)`,
        `Expected time: ~${Math.ceil(plan.expectedSeconds)} s (all ${plan.numStages} stages)`,
        `Early stopping: ${employer().describeJobTarget(input.target)}`,
        `Fee: ${formatEth(input.fee)}; per stage ${formatEth(plan.fee.perStage)} (builder ${formatEth(plan.fee.builder)}, each of ${input.k} attesters ${formatEth(plan.fee.attester)}, each of ${input.c} declarants ${formatEth(plan.fee.declarant)}, dust ${formatEth(plan.fee.dust)})`,
        `Gas: createJob ~${plan.gas.createJob} (yours); stages ~${plan.gas.stages} (paid by miners); refund ~${plan.gas.refund} if the job expires`,
      ];
      if (o.dryRun) {
        const blocked = issues.some((i) => i.level === "error" || !force);
        const pending =
          facts !== undefined && employer().stakersPendingForJob(input, facts.stakers)
            ? [
                `Stakers: ${facts.stakers.drawable} drawable now, ${facts.stakers.pending} more from block ${facts.stakers.nextEpochStart} (the next draw epoch; head ${facts.stakers.head}): pot job create waits for it`,
              ]
            : [];
        ctx.out.result({ dryRun: true, ...summary, preflight: issues, stakers: facts?.stakers }, () => [
          ...planLines(),
          ...pending,
          ...preflightLines(issues, force),
          "Dry run: nothing uploaded, nothing sent.",
        ]);
        if (blocked) process.exitCode = 1;
        return;
      }
      employer().assertPreflight(issues, force);
      const session = await ctx.signingSession();
      const handle = handleOf(session);
      const progress = terminalProgress(!ctx.config.json);
      const created = await withStore(
        ctx,
        async (store) => {
          const job = await employer().createJob(
            {
              client: handle.client,
              suite: handle.suite,
              staking: handle.staking,
              store,
              sender: session.sender,
            },
            input,
            (p) => {
              if (p.phase === "spec") progress.step("encoding the batches and S_0");
              else if (p.phase === "stakers")
                progress.step(
                  `waiting for block ${p.untilBlock} (head ${p.head}): the miners' stakes are drawable from the next draw epoch`,
                );
              else if (p.phase === "upload") progress.count("upload", p.done, p.total, "objects");
              else if (p.phase === "transaction") progress.step("sending createJob");
              else if (p.phase === "chain") progress.log(`note: ${p.message}`);
            },
            { force, isLocal: ctx.config.isLocal },
          );
          // `pot job status` of this job then reads its document without starting an IPFS node.
          const cache = new (storage().ObjectCache)(storageConfig().objectCacheDirOf(ctx.config));
          await cache.put(job.specCid, await store.get(job.specCid)).catch(() => false);
          return job;
        },
        // a fine-tuning job fetches its parent's final state from the miners that hold it
        input.fromJob !== undefined ? session : undefined,
        progress,
      );
      progress.stop();
      ctx.out.result({ ...created, plan: summary }, () => [
        ...planLines(),
        ...preflightLines(created.warnings, force),
        `Created job ${created.jobId} (tx ${created.txHash}); declarations close no sooner than ${created.minDeclareSeconds} s after a stage opens`,
        `Job document ${created.specCid}; manifest ${created.manifestCid}; S_0 ${created.initialStateCid}` +
          (created.parentJobId !== undefined ? ` (the final state of job ${created.parentJobId})` : ""),
        `Keep the data available while it trains: pot job serve ${created.jobId}`,
      ]);
    });
}
