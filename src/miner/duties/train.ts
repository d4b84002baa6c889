/**
 * Train: pipelining (train the next stages from our own results before the chain opens them, up to
 * `speculationDepth`), dropping results the chain made stale, and the training itself (in the background,
 * one stage at a time; speculative work is aborted when the chain opens its stage from another parent).
 * Training for an open stage and for a jury seat is proposed by the declare and jury modules.
 */
import { DummyJobUnsupportedError } from "../errors";
import { EngineMismatchError } from "../../ml/errors";
import type { ResultRecord } from "../state";
import { dutyId, resultKey, stageKey } from "./keys";
import { heldResult } from "./stages";
import type { DutyContext } from "./context";
import { same, type Duty, type DutyInput, type DutyOf, type StageScope } from "./types";

/** Pipelining: holding our result for stage s, train s+1, s+2, ... from our own chain of results. */
export function proposePipeline(scope: StageScope): void {
  const { input, st, job, live, push } = scope;
  if (input.speculationDepth <= 0 || !live || st.jobId === 0n || st.parentHash === undefined) return;
  if (st.stage >= job.numStages || !scope.trainable) return;
  let own = heldResult(input.state, st.jobId, st.stage, st.parentHash);
  const next = input.view.stages.get(stageKey(st.jobId, st.stage + 1));
  const nextOpened = next?.parentHash !== undefined;
  const lost = st.header !== undefined && !same(st.header.header.result, own?.resultHash);
  if (own === undefined || nextOpened || lost) return;
  // Walk my own chain of results s+1, s+2, ... and train the first missing link, within the depth.
  const last = Math.min(job.numStages, st.stage + input.speculationDepth);
  for (let stage = st.stage + 1; stage <= last && own !== undefined; stage++) {
    // the next stage trains from the state our result commits to (StageOpened will name it)
    const parentHash = own.outcome.stateHash;
    const ahead: ResultRecord | undefined = heldResult(input.state, st.jobId, stage, parentHash);
    if (ahead === undefined)
      push({
        kind: "train",
        jobId: st.jobId,
        stage,
        parentHash,
        speculative: true,
        reason: "pipeline",
      });
    own = ahead;
  }
}

/** Drops held results the chain made stale (another parent, job ended, another result finalized). */
export function proposeDrops(input: DutyInput, push: (d: Duty) => void): void {
  const { view, state } = input;
  for (const [key, r] of Object.entries(state.results)) {
    const st = view.stages.get(stageKey(r.jobId, r.stage));
    const job = view.jobs.get(r.jobId);
    const declared = state.declarations[stageKey(r.jobId, r.stage)];
    if (declared !== undefined && same(declared.resultHash, r.resultHash)) continue;
    if (st?.parentHash !== undefined && !same(st.parentHash, r.parentHash)) {
      push({ kind: "drop", key, reason: "the chain opened the stage from another parent" });
    } else if (job !== undefined && job.status !== "open") {
      push({ kind: "drop", key, reason: `the job is ${job.status}` });
    } else if (st?.header !== undefined && !same(st.header.header.result, r.resultHash)) {
      push({ kind: "drop", key, reason: "the stage was finalized with another result" });
    }
  }
}

/** Trains a stage in the trainer pool and records the result (S_{i+1} bytes are kept by the store). */
export async function performTrain(ctx: DutyContext, d: DutyOf<"train">): Promise<void> {
  const job = ctx.view.jobs.get(d.jobId.toString());
  if (job === undefined) return;
  const st = ctx.view.stages.get(stageKey(d.jobId, d.stage));
  const ctrl = new AbortController();
  const id = dutyId(d);
  const { speculative, unsupported } = ctx.training;
  if (d.speculative) speculative.set(id, { ctrl, jobId: d.jobId, stage: d.stage, parentHash: d.parentHash });
  try {
    const rec = await ctx.pool.train(
      { job, stage: d.stage, parentHash: d.parentHash, speculative: d.speculative, seed: st?.seed },
      ctrl.signal,
    );
    if (ctrl.signal.aborted) return;
    ctx.book.state.results[resultKey(d.jobId, d.stage, d.parentHash)] = rec;
    await ctx.book.save();
    ctx.count(d.speculative ? "trainedSpeculative" : "trained");
  } catch (error) {
    if (error instanceof DummyJobUnsupportedError || error instanceof EngineMismatchError) {
      unsupported.add(d.jobId.toString());
      ctx.log.warn("job not trainable on this node; skipping it", { jobId: d.jobId, error });
      return;
    }
    if (ctrl.signal.aborted) return;
    throw error;
  } finally {
    speculative.delete(id);
  }
}

/** Forgets a stale result, and its bytes when no other result uses them. */
export async function performDrop(ctx: DutyContext, d: DutyOf<"drop">): Promise<void> {
  const { state, store } = ctx.book;
  const r = state.results[d.key];
  if (r === undefined) return;
  delete state.results[d.key];
  await ctx.book.save();
  const hash = r.outcome.stateHash.toLowerCase();
  const used = Object.values(state.results).some((x) => x.outcome.stateHash.toLowerCase() === hash);
  if (!used) store.dropState(r.outcome.stateHash);
  ctx.log.info("result dropped", {
    jobId: r.jobId,
    stage: r.stage,
    speculative: r.speculative,
    reason: d.reason,
  });
  ctx.count("dropped");
}
