/**
 * `pot job create|serve|status|fetch|refund` and `pot verify`: thin commands over src/employer and
 * src/verify (docs/employer.md, docs/verifier.md).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { Address } from "viem";
import type { PotSession } from "../../chain/contracts";
import type { ContentStore } from "../../storage";
import type { DatasetSource, JobInput, LedgerHandle, PreflightIssue, ServeEvent } from "../../employer";
import type { Announcement } from "../../miner/announce";
import type { Sample } from "../../verify";
import type { FeatureEncoding, OptimizerConfig } from "../../ml";
import { formatEth } from "../amounts";
import type { CliContext } from "../context";
import { CliUsageError } from "../errors";
import { ChainNudger } from "../../chain/on-demand-mining";
import {
  employer,
  employerLedger,
  employerStatus,
  minerAnnounce,
  storage,
  storageConfig,
  verifier,
  viem,
} from "../lazy";
import { silentProgress, terminalProgress, type Progress } from "../progress";
import { clock } from "../../miner/log";
import { serveEventLine, serveInputsLine } from "../serve-report";
import { handleOf, parseIntOption, parseJobId } from "../args";

/**
 * Opens the configured content store; with a session, first dials the IPFS nodes announced in the staking
 * contract's peer registry (the miners hold the stage results and the data they fetched) and, with `jobId`,
 * the node of the job's employer (`pot job serve --announce`: the test set is only there).
 */
async function openDialedStore(
  ctx: CliContext,
  session: PotSession | undefined,
  progress: Progress,
  jobId: bigint | undefined,
): Promise<ContentStore> {
  progress.step("opening the IPFS node");
  const store = await storage().openContentStore(storageConfig().storageConfigOf(ctx.config));
  if (session === undefined) return store;
  progress.step("dialing the miners' IPFS nodes");
  const { readJob, readPeerRegistry } = employerLedger();
  const jobEmployer =
    jobId === undefined || session.contracts.suite === undefined
      ? undefined
      : await readJob(handleOf(session), jobId)
          .then((j) => j.employer)
          .catch(() => undefined);
  const peers = await readPeerRegistry(
    session.publicClient,
    session.contracts.staking,
    500,
    jobEmployer === undefined ? [] : [jobEmployer],
  ).catch(() => [] as string[]);
  if (peers.length > 0)
    await store.dial(peers).catch((error: unknown) => progress.log(`warning: ${(error as Error).message}`));
  return store;
}

/** Runs `fn` with the configured content store open (see `openDialedStore`), and closes it. */
async function withStore<T>(
  ctx: CliContext,
  fn: (store: ContentStore) => Promise<T>,
  session?: PotSession,
  progress: Progress = silentProgress,
  jobId?: bigint,
): Promise<T> {
  const store = await openDialedStore(ctx, session, progress, jobId);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * Like `withStore`, but small documents read before come from the verified cache under the data directory
 * and the IPFS node is opened (and the peers dialed) only on a miss: `pot job status` of a job whose
 * document is cached starts no IPFS node.
 */
async function withCachedStore<T>(
  ctx: CliContext,
  fn: (store: ContentStore) => Promise<T>,
  session: PotSession,
  progress: Progress,
  jobId: bigint,
): Promise<T> {
  const { CachedContentStore, ObjectCache, DEFAULT_FETCH_TIMEOUT_MS } = storage();
  const config = storageConfig().storageConfigOf(ctx.config);
  const store = new CachedContentStore(
    new ObjectCache(storageConfig().objectCacheDirOf(ctx.config)),
    () => openDialedStore(ctx, session, progress, jobId),
    config.kind,
    config.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
  );
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

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
}

async function jobInput(o: CreateOptions): Promise<JobInput> {
  const { assertPreflight, checkDataset, loadDataset, presetModel } = employer();
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

/**
 * Polls the job until it is no longer open (finished, or expired by a call of expireJob) or its deadline
 * passed, noting each newly wrapped stage on stderr.
 */
async function waitForJobEnd(ctx: CliContext, h: LedgerHandle, jobId: bigint): Promise<void> {
  let wrapped = -1;
  const nudger = new ChainNudger({
    client: h.client,
    isLocal: ctx.config.isLocal,
    notice: (message) => ctx.out.note(`note: ${message}`),
  });
  for (;;) {
    const job = await employer().readJob(h, jobId);
    if (job.status === 0)
      throw new CliUsageError(
        `Job ${jobId} does not exist on this deployment`,
        "Check the job id and the network",
      );
    if (job.wrappedStages !== wrapped) {
      wrapped = job.wrappedStages;
      ctx.out.note(`job ${jobId}: ${job.statusName}, ${wrapped}/${job.numStages} stages wrapped`);
    }
    if (job.statusName !== "open") return;
    const head = await h.client.getBlock({ blockTag: "latest" });
    if (head.timestamp > job.deadline) {
      ctx.out.note(`job ${jobId}: its deadline passed unfinished (pot job refund ${jobId} returns the fee)`);
      return;
    }
    await nudger.waiting(head.number);
    await new Promise((r) => setTimeout(r, Math.max(ctx.config.pollingIntervalMs, 1_000)));
  }
}

/** Registers `pot job ...` and `pot verify`. */
export function registerJobCommands(program: Command, context: () => CliContext): void {
  const job = program
    .command("job")
    .description("employer: create, serve, watch, fetch and refund training jobs");

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
        batchSize: plan.batchSize,
        samplesUsed: plan.samplesUsed,
        trainFlopsPerSample: plan.trainFlopsPerSample,
        stageTrainingSeconds: plan.stageTrainingSeconds,
        minDeclareSeconds: plan.minDeclareSeconds,
        expectedSeconds: plan.expectedSeconds,
        fee: input.fee,
        feePerStage: plan.fee,
        gas: plan.gas,
      };
      const planLines = () => [
        `Plan: ${plan.numStages} stages x ${plan.stepsPerStage} steps of ${plan.batchSize} samples (${plan.samplesUsed} samples, ${plan.droppedSteps} steps dropped)`,
        ...(plan.targetStepsPerStage !== undefined
          ? [
              `  (--stage-target ${o.stageTarget} s would take ${plan.targetStepsPerStage} steps per stage, more than the data holds: capped so it fills ${employer().DEFAULT_MIN_STAGES} stages; --steps-per-stage sets it)`,
            ]
          : []),
        `tau: ${plan.trainFlopsPerSample} training FLOPs/sample; a stage ~${plan.stageTrainingSeconds.toFixed(2)} s on the reference machine`,
        `Declarations close no sooner than ${plan.minDeclareSeconds} s after a stage opens (--min-declare-seconds; raised to the network's minimum when lower)`,
        `Expected time: ~${Math.ceil(plan.expectedSeconds)} s`,
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

  job
    .command("serve")
    .description(
      "keep the job's data available: pin it in the IPFS node, dial the registry's miners, pin each stage result; Ctrl-C stops",
    )
    .argument("<jobId>", "job id")
    .option(
      "--announce",
      "register this IPFS node's first dialable address in the peer registry (staking setPeer) from the configured account",
    )
    .option(
      "--listen <multiaddr>",
      "listen address of the embedded IPFS node (repeatable; default a random loopback TCP port)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      "--exit-when-finished",
      "exit once the job is finished or expired (default: keep serving its data for pot job fetch and pot verify)",
    )
    .action(
      async (jobIdText: string, o: { announce?: boolean; listen?: string[]; exitWhenFinished?: boolean }) => {
        const ctx = context();
        const jobId = parseJobId(jobIdText);
        const session = o.announce === true ? await ctx.signingSession() : await ctx.readSession();
        if (o.listen !== undefined && ctx.config.ipfs.mode === "kubo")
          throw new CliUsageError(
            "--listen configures the embedded IPFS node",
            "Set the listen address in the Kubo daemon's config, or drop --listen",
          );
        const { serveJob, storageConfigOf } = employer();
        const { announcePeerWith } = minerAnnounce();
        const store = await storage().openContentStore(storageConfigOf(ctx.config, { listen: o.listen }));
        let announced: Announcement | undefined;
        if (o.announce === true) {
          try {
            announced = await announcePeerWith(
              session as Parameters<typeof announcePeerWith>[0],
              await store.addresses(),
            );
          } catch (error) {
            await store.close();
            throw error;
          }
          if (announced === undefined) {
            await store.close();
            throw new CliUsageError("the IPFS node has no address to announce", "Pass --listen <multiaddr>");
          }
          ctx.out.note(
            announced.sent
              ? `announced ${announced.multiaddr} in the peer registry (tx ${announced.txHash})`
              : `the peer registry already holds ${announced.multiaddr}`,
          );
        }
        const progress = terminalProgress(!ctx.config.json);
        let inputs: Extract<ServeEvent, { kind: "inputs" }> | undefined;
        let ended: () => void = () => undefined;
        const jobEnded = new Promise<void>((resolve) => (ended = resolve));
        progress.step("pinning the job document, manifest, S_0 and test set");
        const server = await serveJob(handleOf(session), store, jobId, {
          staking: session.contracts.staking,
          pollingIntervalMs: ctx.config.pollingIntervalMs,
          onProgress: (event) => {
            if (event.kind === "inputs") {
              inputs = event;
              progress.count("pin batches", event.pinned, event.total);
              return;
            }
            const line = serveEventLine(jobId, event, o.exitWhenFinished === true);
            if (line !== undefined) progress.log(`${clock()} ${line}`);
            if (event.kind === "finished" || event.kind === "expired") ended();
          },
          onError: (error) => progress.log(`${clock()} warning: ${(error as Error).message}`),
          isLocal: ctx.config.isLocal,
          onNotice: (message) => progress.log(`${clock()} note: ${message}`),
        });
        progress.stop();
        ctx.out.note(`${clock()} ${serveInputsLine(jobId, server.pinned.size, inputs)}`);
        ctx.out.result(
          {
            jobId,
            addresses: server.addresses,
            pinned: [...server.pinned],
            announced: announced?.multiaddr ?? null,
          },
          () => [
            `Serving job ${jobId}: ${server.pinned.size} objects pinned`,
            ...server.addresses.map((a) => `  ${a}`),
            announced !== undefined
              ? `Announced ${announced.multiaddr} in the peer registry; Ctrl-C stops.`
              : "Announce an address with --announce (or pot peer set <multiaddr>); Ctrl-C stops.",
          ],
        );
        await new Promise<void>((done) => {
          process.once("SIGINT", done);
          process.once("SIGTERM", done);
          if (o.exitWhenFinished === true) void jobEnded.then(done);
        });
        await server.stop();
        await store.close();
      },
    );

  job
    .command("status")
    .description(
      "stages, declarants, builders, committees, rewards and (with --loss) the loss curve on the test set",
    )
    .argument("<jobId>", "job id")
    .option("--loss", "evaluate S_0 and every wrapped stage on the job's test set")
    .option("--wait", "first wait until the job is finished or expired, noting each wrapped stage")
    .action(async (jobIdText: string, o: { loss?: boolean; wait?: boolean }) => {
      const ctx = context();
      const jobId = parseJobId(jobIdText);
      const session = await ctx.readSession();
      const { formatStatus, jobStatus } = employerStatus();
      if (o.wait === true) await waitForJobEnd(ctx, handleOf(session), jobId);
      const progress = terminalProgress(!ctx.config.json && o.loss === true);
      const status = await withCachedStore(
        ctx,
        (store) => {
          progress.step("reading the job from the chain and IPFS");
          return jobStatus(handleOf(session), store, jobId, {
            evaluate: o.loss === true,
            onEvaluated: (p, done, total) => progress.count("evaluate", done, total, `S_${p.stage}`),
          });
        },
        session,
        progress,
        jobId,
      );
      progress.stop();
      ctx.out.result(status, () => formatStatus(status));
    });

  job
    .command("fetch")
    .description(
      "download the last wrapped S, check it against the chain, write model.json + weights.bin (TensorFlow.js layers model)",
    )
    .argument("<jobId>", "job id")
    .option("--out <dir>", "output directory", "model")
    .option("--stage <n>", "a given stage instead of the last wrapped one (0 = S_0)")
    .option("--allow-unfinished", "write the untrained S_0 of a job with no wrapped stage (exit 0)")
    .option("--force", "overwrite an --out folder that already holds files")
    .action(
      async (
        jobIdText: string,
        o: { out: string; stage?: string; allowUnfinished?: boolean; force?: boolean },
      ) => {
        const ctx = context();
        const jobId = parseJobId(jobIdText);
        const session = await ctx.readSession();
        const progress = terminalProgress(!ctx.config.json);
        const fetched = await withStore(
          ctx,
          async (store) => {
            progress.step(`downloading ${o.stage === undefined ? "the last wrapped state" : `S_${o.stage}`}`);
            const model = await employer().fetchModel(handleOf(session), store, jobId, resolve(o.out), {
              stage: parseIntOption("stage", o.stage, 0),
              allowUnfinished: o.allowUnfinished === true,
              overwrite: o.force === true,
            });
            progress.step("writing certificate.json (the stages, headers and committee attestations)");
            const { path, certificate } = await verifier().certifyModel(handleOf(session), store, model);
            return { ...model, certificate: path, metric: certificate.metric };
          },
          session,
          progress,
          jobId,
        );
        progress.stop();
        const wrapped = `${fetched.wrappedStages} of ${fetched.numStages} stages wrapped`;
        ctx.out.result(fetched, () => [
          `Wrote ${fetched.modelJson} and ${fetched.weightsBin}: S_${fetched.stage} of job ${jobId} ` +
            `(${wrapped}${fetched.final ? ", final" : fetched.stage === 0 ? ", UNTRAINED" : ", unfinished"}), ` +
            `${fetched.step} steps, H(S) ${fetched.stateHash} checked`,
          `Wrote ${fetched.certificate}${fetched.metric === null ? "" : ` (test accuracy ${(fetched.metric.accuracy * 100).toFixed(2)}% on ${fetched.metric.samples} samples)`}: check it with pot verify --certificate ${fetched.dir}`,
          ...employer().loadModelHint(fetched.dir),
        ]);
      },
    );

  job
    .command("refund")
    .description("reclaim the unspent fee of a job that expired unfinished (expireJob + withdraw)")
    .argument("<jobId>", "job id")
    .action(async (jobIdText: string) => {
      const ctx = context();
      const jobId = parseJobId(jobIdText);
      const session = await ctx.signingSession();
      const r = await employer().refundJob(handleOf(session), session.sender, jobId);
      ctx.out.result(r, () => [
        `Job ${jobId}: ${formatEth(r.unspent)} unspent escrow credited; withdrew ${formatEth(r.withdrawn)} to ${session.sender.address as Address}`,
      ]);
    });

  program
    .command("verify")
    .description(
      "audit a job's lineage from the chain and IPFS and re-execute stages bit for bit, or check a model certificate (--certificate)",
    )
    .argument("[jobId]", "job id (not with --certificate)")
    .option("--all", "re-execute every wrapped stage (default)")
    .option("--sample <n>", "re-execute n stages chosen uniformly at random")
    .option("--fraction <f>", "re-execute a fraction f of the stages")
    .option("--seed <n>", "seed of the sample (default random; printed)")
    .option("--allow-unfinished", "exit 0 for a job with no wrapped stage (nothing trained to verify)")
    .option(
      "--certificate <dir>",
      "check the certificate.json and model files pot job fetch wrote in <dir>: offline, then against the chain",
    )
    .option("--offline", "with --certificate: no chain check (signatures, hash chain and weights only)")
    .action(
      async (
        jobIdText: string | undefined,
        o: {
          all?: boolean;
          sample?: string;
          fraction?: string;
          seed?: string;
          allowUnfinished?: boolean;
          certificate?: string;
          offline?: boolean;
        },
      ) => {
        const ctx = context();
        if (o.certificate !== undefined) {
          if (jobIdText !== undefined)
            throw new CliUsageError(
              "Give a job id or --certificate, not both",
              "pot verify --certificate <dir>",
            );
          const dir = resolve(o.certificate);
          const { checkCertificate, checkCertificateOnChain, formatCertificateSummary, readCertificate } =
            verifier();
          let summary = await checkCertificate(dir);
          if (o.offline !== true) {
            await checkCertificateOnChain(handleOf(await ctx.readSession()), readCertificate(dir));
            summary = { ...summary, onChain: true };
          }
          ctx.out.result(summary, () => formatCertificateSummary(dir, summary));
          return;
        }
        if (jobIdText === undefined)
          throw new CliUsageError(
            "Give a job id, or --certificate <dir>",
            "pot verify 3, or pot verify --certificate model",
          );
        const jobId = parseJobId(jobIdText);
        let sample: Sample = { kind: "all" };
        if (o.sample !== undefined) sample = { kind: "count", count: parseIntOption("sample", o.sample, 0)! };
        if (o.fraction !== undefined) {
          const f = Number(o.fraction);
          if (!(f >= 0 && f <= 1))
            throw new CliUsageError(`Invalid --fraction "${o.fraction}"`, "Give a number from 0 to 1");
          sample = { kind: "fraction", fraction: f };
        }
        const session = await ctx.readSession();
        const { formatReport, verifyJob } = verifier();
        const progress = terminalProgress(!ctx.config.json);
        const report = await withStore(
          ctx,
          (store) => {
            progress.step("reading the job from the chain and IPFS");
            return verifyJob(handleOf(session), store, jobId, {
              sample,
              seed: parseIntOption("seed", o.seed, 0),
              onProgress: (p) =>
                p.phase === "lineage"
                  ? progress.step(`checking the lineage: stage ${p.stage}`)
                  : progress.count("re-execute", p.done, p.total, `stage ${p.stage}`),
            });
          },
          session,
          progress,
          jobId,
        );
        progress.stop();
        ctx.out.result(report, () => formatReport(report));
        const code = verifier().verifyExitCode(report, o.allowUnfinished === true);
        if (code !== 0) process.exitCode = code;
      },
    );
}
