/**
 * The explorer's loss and accuracy curves, computed in the background: the ledger records no losses, so for
 * every job whose document names a test set, S_0 and each wrapped S are fetched from IPFS (checked against
 * the hash the chain recorded) and evaluated on that test set, one state at a time, as `pot job status
 * --loss` does. Points are cached by (job document CID, state hash) in memory and, with `cacheFile`, on
 * disk, so a restart does not evaluate again and a reorged stage never shows a stale point.
 */
import { existsSync, readFileSync } from "node:fs";
import type { JobEvents } from "../chain/job-events";
import { fetchState, jobRecordOf, stateRef, type JobRecord, type LossPoint } from "../chain/job-record";
import { decodeBatch, evaluate, type Batch } from "../ml";
import type { ContentStore } from "../storage";
import { writeFileAtomic } from "../storage/atomic-file";

/** What is known of one job's curve. */
export interface JobCurve {
  /** The job document's name, once fetched. */
  readonly name?: string;
  /** Evaluated points, by stage (0 = S_0). */
  readonly points: LossPoint[];
  /** States still to evaluate. */
  readonly pending: number;
  /** Why there is no curve, or the last error (it is retried). */
  readonly note?: string;
}

/** Options of a `LossEvaluator`. */
export interface LossEvaluatorOptions {
  readonly store: ContentStore;
  /** JSON file the points are kept in across restarts (none: memory only). */
  readonly cacheFile?: string;
  /** Per-fetch timeout from IPFS in ms (default 20,000). */
  readonly fetchTimeoutMs?: number;
  /** Called when a point, a name or a note changed. */
  readonly onChange?: () => void;
}

interface JobState {
  record?: JobRecord;
  test?: Batch;
  note?: string;
  /** Epoch ms before which a failed job is not retried. */
  retryAt: number;
}

/** Evaluates the states of the jobs it is shown, one at a time, in the background. */
export class LossEvaluator {
  private readonly cache = new Map<string, LossPoint>();
  private readonly jobs = new Map<bigint, JobState>();
  private latest: JobEvents[] = [];
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: LossEvaluatorOptions) {
    if (options.cacheFile !== undefined && existsSync(options.cacheFile)) {
      const saved = JSON.parse(readFileSync(options.cacheFile, "utf8")) as Record<string, LossPoint>;
      for (const [key, point] of Object.entries(saved)) this.cache.set(key, point);
    }
  }

  /** Shows the evaluator the jobs as the chain has them now; evaluation of what is missing starts. */
  update(jobs: JobEvents[]): void {
    this.latest = jobs;
    this.running ??= this.work().finally(() => (this.running = undefined));
  }

  /** The curve of a job as far as it is evaluated. */
  curve(events: JobEvents): JobCurve {
    const state = this.jobs.get(events.jobId);
    const record = state?.record;
    if (record === undefined) return { points: [], pending: 0, note: state?.note ?? "fetching job document" };
    if (record.document.testSetCid === undefined)
      return { name: record.document.name, points: [], pending: 0, note: "the job has no test set" };
    const current = { ...record, events };
    const points: LossPoint[] = [];
    let pending = 0;
    for (const stage of this.stagesOf(events)) {
      const point = this.cache.get(this.keyOf(current, stage));
      if (point === undefined) pending++;
      else points.push(point);
    }
    return { name: record.document.name, points, pending, note: state?.note };
  }

  /** Stops after the evaluation in progress. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
  }

  private stagesOf(events: JobEvents): number[] {
    return [0, ...events.stages.filter((s) => s.wrapped !== undefined).map((s) => s.stage)];
  }

  private keyOf(record: JobRecord, stage: number): string {
    return `${record.specCid}:${stateRef(record, stage)!.expectedHash.toLowerCase()}`;
  }

  /** Evaluates until every state of every job shown is cached (or failed for now). */
  private async work(): Promise<void> {
    for (;;) {
      let progressed = false;
      for (const events of this.latest) {
        if (this.closed) return;
        const state = this.jobs.get(events.jobId) ?? { retryAt: 0 };
        this.jobs.set(events.jobId, state);
        if (Date.now() < state.retryAt) continue;
        try {
          progressed = (await this.step(state, events)) || progressed;
          if (state.note !== undefined) {
            state.note = undefined;
            this.options.onChange?.();
          }
        } catch (error) {
          state.note = `${(error as Error).message.slice(0, 300)} (retrying)`;
          state.retryAt = Date.now() + 5_000;
          this.options.onChange?.();
        }
      }
      if (!progressed || this.closed) return;
    }
  }

  /** One unit of work on a job (fetch its document, its test set, or evaluate one state); false if none left. */
  private async step(state: JobState, events: JobEvents): Promise<boolean> {
    const fetch = { timeoutMs: this.options.fetchTimeoutMs ?? 20_000 };
    const { store } = this.options;
    if (state.record === undefined) {
      state.record = await jobRecordOf(events, store, fetch);
      this.options.onChange?.();
      return true;
    }
    const record: JobRecord = { ...state.record, events };
    const testSetCid = record.document.testSetCid;
    if (testSetCid === undefined) return false;
    const stage = this.stagesOf(events).find((s) => !this.cache.has(this.keyOf(record, s)));
    if (stage === undefined) return false;
    state.test ??= decodeBatch(await store.get(testSetCid, fetch));
    const bytes = await fetchState(store, stateRef(record, stage)!, fetch);
    const e = await evaluate(record.document.spec, bytes, state.test);
    this.cache.set(this.keyOf(record, stage), {
      stage,
      loss: e.loss,
      accuracy: e.accuracy,
      samples: e.count,
    });
    this.save();
    this.options.onChange?.();
    return true;
  }

  private save(): void {
    const file = this.options.cacheFile;
    if (file === undefined) return;
    // A cache: readers must never see a torn file, but losing the last write to a power cut is fine.
    writeFileAtomic(file, JSON.stringify(Object.fromEntries(this.cache)), { durable: false });
  }
}
