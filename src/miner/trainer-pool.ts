/**
 * Runs stages for the miner: loads a job once (job document from IPFS, spec validated, engine id checked,
 * one `Trainer` kept per job), gets S_i (local bytes, else IPFS by the previous header's CID, else the
 * job's S_0) and the stage's batches (IPFS, verified against the manifest root; the dummy job derives its
 * batch from the stage seed), trains, stores S_{i+1} locally and on its IPFS node (pinned, served to
 * peers). Speculative work is cancelled through an AbortSignal between its I/O steps; a result that the
 * chain made stale is dropped by the duty logic.
 */
import type { Hex } from "viem";
import type { RetryPolicy } from "../config/types";
import { withRetry } from "../chain/retry";
import {
  compiledModelCost,
  decodeBatch,
  evaluateWith,
  prepareJob,
  Trainer,
  runStageAsync,
  stageOutcome,
  type Batch,
  type JobSpec,
} from "../ml";
import { parseJobDocument, type JobDocument } from "../protocol/job-document";
import { stateHash } from "../protocol/rho";
import { outcomeHash, readMetric } from "../protocol/outcome";
import {
  cidFromBytesHex,
  fetchManifest,
  fetchStageBatches,
  verifyManifest,
  type ContentStore,
  type DatasetManifest,
} from "../storage";
import type { ManifestCommitment } from "../protocol/manifest";
import { DUMMY_JOB_ID, dummyJob, dummyStageBatch, isBuiltinDummySpec } from "./dummy-job";
import { DummyJobUnsupportedError } from "./errors";
import type { Logger } from "./log";
import type { MinerStore, ResultRecord } from "./state";
import type { JobView } from "./view";

interface JobContext {
  readonly spec: JobSpec;
  readonly trainer: Trainer;
  readonly doc?: JobDocument;
  readonly manifest?: DatasetManifest;
  /** The manifest's verified commitment (verified once at load, reused for every stage's batches). */
  readonly commitment?: ManifestCommitment;
  readonly s0?: Uint8Array;
  /** The job document's held-out test set (testSetCid): every result commits to its metric on it. */
  readonly testSet?: Batch;
  readonly flopsPerStage: number;
  /** Settles when the Trainer is free (stages of a job train one after another). */
  busy: Promise<void>;
  /** Batches fetched (or being fetched) ahead of their stage, by stage: see `prefetch`. */
  readonly prefetched: Map<number, Promise<Batch[]>>;
}

/** How many stages past the one being trained the pool fetches batches for. */
export const DEFAULT_PREFETCH_STAGES = 2;

export interface TrainerPoolOptions {
  readonly ipfs: ContentStore;
  readonly store: MinerStore;
  readonly domain: Hex;
  readonly log: Logger;
  readonly retry: RetryPolicy;
  /** Fetch timeout of one IPFS object (no-progress), ms. */
  readonly fetchTimeoutMs?: number;
  /** Dials the IPFS nodes that may hold a job's data (registry lookup by the agent). */
  readonly dialFor: (jobId: bigint, stage: number) => Promise<void>;
  /** The CID (ledger bytes) of S_stage from its header, if known. */
  readonly headerCid: (jobId: bigint, stage: number) => Hex | undefined;
  /**
   * Stages past the one being trained whose batches are fetched in the background while it trains
   * (default DEFAULT_PREFETCH_STAGES; 0 turns prefetching off). The data then arrives while the CPU
   * trains, instead of between stages.
   */
  readonly prefetchStages?: number;
}

/** What a train request needs. */
export interface TrainRequest {
  readonly job: JobView;
  readonly stage: number;
  readonly parentHash: Hex;
  readonly speculative: boolean;
  /** StageOpened.seed (the dummy job's data source). */
  readonly seed?: Hex;
}

const retryableFetch = (error: unknown) => {
  const code = (error as { code?: unknown }).code;
  return code === "FETCH_TIMEOUT" || code === "CONTENT_NOT_FOUND";
};

export class TrainerPool {
  private readonly jobs = new Map<string, Promise<JobContext>>();

  constructor(private readonly o: TrainerPoolOptions) {}

  /** IPFS get with backoff and a limit (fetch timeouts, missing content while peers connect). */
  private async fetch(cid: string, jobId: bigint, stage: number, signal?: AbortSignal): Promise<Uint8Array> {
    return withRetry(
      async () => {
        await this.o.dialFor(jobId, stage).catch(() => undefined);
        return this.o.ipfs.get(cid, { timeoutMs: this.o.fetchTimeoutMs, signal });
      },
      this.o.retry,
      {
        isRetryable: retryableFetch,
        signal,
        onRetry: ({ attempt, delayMs, error }) =>
          this.o.log.warn("ipfs fetch failed, retrying", { cid, attempt, delayMs, error }),
      },
    );
  }

  /** Loads (once) what training `job` needs; throws for a job this node cannot train. */
  context(job: JobView): Promise<JobContext> {
    const key = job.jobId.toString();
    let ctx = this.jobs.get(key);
    if (ctx === undefined) {
      ctx = this.load(job);
      this.jobs.set(key, ctx);
      ctx.catch(() => this.jobs.delete(key));
    }
    return ctx;
  }

  /** Estimated training FLOPs of one stage of a loaded job (per-step FLOPs x steps). */
  async flopsPerStage(job: JobView): Promise<number> {
    return (await this.context(job)).flopsPerStage;
  }

  private async load(job: JobView): Promise<JobContext> {
    if (job.jobId === DUMMY_JOB_ID) {
      if (!isBuiltinDummySpec(job.specCid)) throw new DummyJobUnsupportedError(`dummySpecCid ${job.specCid}`);
      const d = await dummyJob();
      if (d.s0Hash.toLowerCase() !== job.initialStateHash.toLowerCase()) {
        throw new DummyJobUnsupportedError(
          `dummyInitialStateHash ${job.initialStateHash} is not ${d.s0Hash}`,
        );
      }
      const prepared = await prepareJob(d.spec);
      return {
        spec: prepared.spec,
        trainer: new Trainer(prepared.spec, prepared.model),
        s0: d.s0,
        flopsPerStage: 0,
        busy: Promise.resolve(),
        prefetched: new Map(),
      };
    }
    const docCid = cidFromBytesHex(job.specCid);
    const doc = parseJobDocument(await this.fetch(docCid, job.jobId, 1));
    const prepared = await prepareJob(doc.spec);
    const manifest = await withRetry(
      () =>
        fetchManifest(this.o.ipfs, doc.manifestCid, job.manifestRoot, { timeoutMs: this.o.fetchTimeoutMs }),
      this.o.retry,
      {
        isRetryable: retryableFetch,
      },
    );
    const t = prepared.spec.training;
    // tau of the validated model (src/protocol/model-layers.ts), the estimate employers plan and price jobs
    // with, so a miner's fee-per-FLOP policy compares like with like. Every layer the engine trains has a cost.
    const flops = compiledModelCost(prepared.model).trainFlopsPerSample * t.batchSize * t.stepsPerStage;
    this.o.log.info("job loaded", {
      jobId: job.jobId,
      name: doc.name,
      stages: job.numStages,
      steps: t.stepsPerStage,
      batch: t.batchSize,
    });
    const testSet =
      doc.testSetCid === undefined ? undefined : decodeBatch(await this.fetch(doc.testSetCid, job.jobId, 1));
    return {
      spec: prepared.spec,
      trainer: new Trainer(prepared.spec, prepared.model),
      doc,
      testSet,
      manifest,
      commitment: verifyManifest(manifest, job.manifestRoot),
      flopsPerStage: flops,
      busy: Promise.resolve(),
      prefetched: new Map(),
    };
  }

  /** S_{stage-1} bytes with hash `parentHash`: local, else S_0, else IPFS by the previous header's CID. */
  private async parentState(
    ctx: JobContext,
    job: JobView,
    stage: number,
    parentHash: Hex,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const local = this.o.store.getState(parentHash);
    if (local !== undefined) return local;
    let bytes: Uint8Array | undefined;
    if (stage === 1) {
      bytes = ctx.s0 ?? (await this.fetch(ctx.doc!.initialStateCid, job.jobId, 1, signal));
    } else {
      const cid = this.o.headerCid(job.jobId, stage - 1);
      if (cid === undefined)
        throw new Error(
          `S_${stage - 1} of job ${job.jobId} (${parentHash}) is neither held locally nor named by a header yet`,
        );
      bytes = await this.fetch(cidFromBytesHex(cid), job.jobId, stage - 1, signal);
    }
    if (stateHash(bytes).toLowerCase() !== parentHash.toLowerCase()) {
      throw new Error(
        `S_${stage - 1} of job ${job.jobId} fetched from IPFS hashes to ${stateHash(bytes)}, not the chain's ${parentHash}`,
      );
    }
    this.o.store.putState(parentHash, bytes);
    return bytes;
  }

  /** Fetches and decodes one stage's batches (IPFS, verified against the manifest root), with retries. */
  private async fetchBatches(
    ctx: JobContext,
    job: JobView,
    stage: number,
    signal?: AbortSignal,
  ): Promise<Batch[]> {
    const fetched = await withRetry(
      async () => {
        await this.o.dialFor(job.jobId, stage).catch(() => undefined);
        return fetchStageBatches(this.o.ipfs, ctx.manifest!, job.manifestRoot, stage, {
          verified: ctx.commitment,
          timeoutMs: this.o.fetchTimeoutMs,
          signal,
        });
      },
      this.o.retry,
      { isRetryable: retryableFetch, signal },
    );
    return fetched.map((b) => decodeBatch(b.bytes));
  }

  /**
   * Starts fetching the batches of the next `prefetchStages` stages after `stage` (once each), so the
   * data of stage i+1 arrives while stage i trains. Batches of stages at or before `stage` are forgotten.
   * A failed prefetch is forgotten too: the stage then fetches its batches itself (with its own retries).
   */
  private prefetch(ctx: JobContext, job: JobView, stage: number): void {
    const ahead = this.o.prefetchStages ?? DEFAULT_PREFETCH_STAGES;
    for (const s of ctx.prefetched.keys()) if (s <= stage) ctx.prefetched.delete(s);
    for (let s = stage + 1; s <= Math.min(stage + ahead, job.numStages); s++) {
      if (ctx.prefetched.has(s)) continue;
      // One stage after the other: the nearer stage's data is needed first.
      const before = ctx.prefetched.get(s - 1) ?? Promise.resolve(undefined);
      const p = before.catch(() => undefined).then(() => this.fetchBatches(ctx, job, s));
      ctx.prefetched.set(s, p);
      p.catch((error: unknown) => {
        if (ctx.prefetched.get(s) === p) ctx.prefetched.delete(s);
        this.o.log.debug("batch prefetch failed; the stage will fetch its batches itself", {
          jobId: job.jobId,
          stage: s,
          error,
        });
      });
    }
  }

  private async batches(ctx: JobContext, req: TrainRequest, signal?: AbortSignal): Promise<Batch[]> {
    if (req.job.jobId === DUMMY_JOB_ID) {
      if (req.seed === undefined) throw new Error(`dummy stage ${req.stage} has no seed yet`);
      return [dummyStageBatch(req.seed, req.stage)];
    }
    const early = ctx.prefetched.get(req.stage);
    this.prefetch(ctx, req.job, req.stage);
    if (early !== undefined) {
      const got = await early.catch(() => undefined);
      if (got !== undefined) return got;
    }
    return this.fetchBatches(ctx, req.job, req.stage, signal);
  }

  /** Trains one stage and returns its result record (S_{i+1} stored locally and on IPFS, pinned). */
  async train(req: TrainRequest, signal?: AbortSignal): Promise<ResultRecord> {
    const ctx = await this.context(req.job);
    const parent = await this.parentState(ctx, req.job, req.stage, req.parentHash, signal);
    const batches = await this.batches(ctx, req, signal);
    signal?.throwIfAborted();
    // One stage at a time per Trainer: runStageAsync yields to the event loop between steps (so the
    // agent keeps attesting and declaring during a long stage), and nothing else may touch the Trainer
    // meanwhile.
    const turn = ctx.busy.then(async () => {
      const t0 = performance.now();
      const result = await runStageAsync(
        ctx.trainer,
        parent,
        batches.length === 1 ? batches[0] : batches,
        { domain: this.o.domain, jobId: req.job.jobId, stage: req.stage },
        { signal },
      );
      // the Trainer holds S_{i+1} now: its held-out metric, inside the same turn
      const evaluation = ctx.testSet === undefined ? undefined : evaluateWith(ctx.trainer, ctx.testSet);
      return { result, evaluation, ms: Math.round(performance.now() - t0) };
    });
    ctx.busy = turn.then(
      () => undefined,
      () => undefined,
    );
    const { result: out, evaluation, ms } = await turn;
    const { outcome, checkpoints } = stageOutcome(out, evaluation);
    const resultHash = outcomeHash(outcome);
    this.o.store.putState(out.stateHash, out.state);
    const cid = await this.o.ipfs.put(out.state, { pin: true });
    // Step checkpoints as raw blocks (CID = cidOfStateHash(hash)), pinned and served to verifiers; the
    // last one is S_{i+1}, stored just above.
    for (const bytes of out.checkpointStates.slice(0, -1))
      await this.o.ipfs.putRawBlock(bytes, { pin: true });
    this.o.log.info("stage trained", {
      jobId: req.job.jobId,
      stage: req.stage,
      speculative: req.speculative,
      resultHash,
      stateHash: out.stateHash,
      meanLoss: out.meanLoss,
      ...readMetric(outcome),
      ms,
    });
    return {
      jobId: req.job.jobId.toString(),
      stage: req.stage,
      parentHash: req.parentHash,
      resultHash,
      outcome,
      checkpoints,
      rho: out.rho,
      resultCid: cid,
      meanLoss: out.meanLoss,
      speculative: req.speculative,
    };
  }

  /** Releases the trainers. */
  dispose(): void {
    for (const ctx of this.jobs.values()) void ctx.then((c) => c.trainer.dispose()).catch(() => undefined);
    this.jobs.clear();
  }
}
