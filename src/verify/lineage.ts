/**
 * Lineage checks of a job from the chain's events and IPFS, without training anything:
 *  - the job document names a manifest whose root is the on-chain manifestRoot, and S_0 whose hash is the
 *    on-chain initialStateHash;
 *  - every stage trains from the previous stage's result (StageOpened and the header name it as parent,
 *    and the header names the stage's seed);
 *  - every header's hash recomputes; it lists every declaration of the stage, as an opener or as faulty;
 *    every opener opens against its rho (the commitment recomputes from rho, rand, declarer, job and stage)
 *    and names its result, every faulty one does not; a stage a jury decided carries the decided pair;
 *  - every wrapped block's hash recomputes and names the header;
 *  - each header's result R is the hash of the stage outcome its OutcomeRevealed event revealed
 *    (outcomeHash), and the S fetched by the header's CID hashes to that outcome's stateHash;
 *  - early stopping: a job that finished at stage k (TargetReached) met its target there and at no earlier
 *    wrapped stage; a job with a target that a wrapped stage met finished there.
 */
import type { Address, Hex } from "viem";
import {
  blockHash,
  commitmentHash,
  describeMetric,
  describeTarget,
  headerHash,
  NO_TARGET,
  outcomeHash,
  stateHash,
  targetReached,
  type JobTarget,
  type StageOutcome,
} from "../protocol";
import { fetchManifest, type ContentStore, type DatasetManifest, type FetchOptions } from "../storage";
import { validateJobSpec } from "../ml";
import { wrappedHeader, wrappedOutcome } from "../chain/stage-rewards";
import { finalStage, stateRef, type JobRecord } from "../chain/job-record";
import type { JobEvents } from "../chain/job-events";
import type { Check } from "./report";

/** What the lineage pass learned, for re-execution. */
export interface LineageResult {
  readonly checks: Check[];
  readonly manifest?: DatasetManifest;
  /** Wrapped stages, in order. */
  readonly wrapped: number[];
  /** Each wrapped stage's outcome whose hash is its header's result (what re-execution compares with). */
  readonly outcomes: Map<number, StageOutcome>;
  /** The stage the job finished at by reaching its target (TargetReached), if it did. */
  readonly finishedEarlyAt?: number;
}

const eq = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** Runs every lineage check of a job. Never throws for a failed check: it records it. */
export async function checkLineage(
  record: JobRecord,
  domain: Hex,
  store: ContentStore,
  options: FetchOptions & { onStage?: (stage: number) => void } = {},
): Promise<LineageResult> {
  const checks: Check[] = [];
  const add = (id: string, stage: number, ok: boolean, message: string) =>
    checks.push({ id, stage, ok, message });
  const { events, document } = record;
  const created = events.created;
  const jobId = events.jobId;

  try {
    validateJobSpec(document.spec);
    add("job-spec", 0, true, "the job document's ml spec is valid");
  } catch (error) {
    add("job-spec", 0, false, `the job document's ml spec is invalid: ${(error as Error).message}`);
  }

  let manifest: DatasetManifest | undefined;
  try {
    manifest = await fetchManifest(store, document.manifestCid, created.manifestRoot, options);
    add(
      "manifest-root",
      0,
      true,
      `manifest ${document.manifestCid} hashes to the on-chain root ${created.manifestRoot}`,
    );
    if (manifest.numStages !== created.numStages) {
      add(
        "manifest-stages",
        0,
        false,
        `the manifest cuts ${manifest.numStages} stages, the job has ${created.numStages}`,
      );
    }
  } catch (error) {
    add("manifest-root", 0, false, `manifest ${document.manifestCid}: ${(error as Error).message}`);
  }

  try {
    const s0 = await store.get(document.initialStateCid, options);
    const h = stateHash(s0);
    add(
      "state-hash",
      0,
      eq(h, created.initialStateHash),
      eq(h, created.initialStateHash)
        ? `S_0 (${document.initialStateCid}) hashes to the on-chain initialStateHash`
        : `S_0 fetched by CID ${document.initialStateCid} hashes to ${h}, but the job's initialStateHash is ${created.initialStateHash}`,
    );
  } catch (error) {
    add(
      "state-hash",
      0,
      false,
      `S_0 (${document.initialStateCid}) could not be fetched: ${(error as Error).message}`,
    );
  }

  const wrapped: number[] = [];
  const outcomes = new Map<number, StageOutcome>();
  let parent: Hex | undefined = created.initialStateHash;
  for (const s of events.stages) {
    const stage = s.stage;
    options.onStage?.(stage);
    const header = wrappedHeader(s);
    if (s.wrapped === undefined || header === undefined) {
      if (s.wrapped !== undefined)
        add(
          "header-present",
          stage,
          false,
          `block ${s.wrapped.index} wraps header ${s.wrapped.headerHash}, which no HeaderSubmitted event announced`,
        );
      // The lineage ends at the first stage that is not wrapped.
      break;
    }
    wrapped.push(stage);
    const h = header.header;
    if (s.opened !== undefined) {
      const fromParent = eq(s.opened.parentHash, parent);
      add(
        "stage-parent",
        stage,
        fromParent,
        fromParent
          ? `stage ${stage} opened from H(S_${stage - 1})`
          : `stage ${stage} opened from ${s.opened.parentHash}, but H(S_${stage - 1}) is ${parent}`,
      );
      add(
        "header-seed",
        stage,
        eq(h.seed, s.opened.seed),
        eq(h.seed, s.opened.seed)
          ? `the header of stage ${stage} names the stage's seed`
          : `the header of stage ${stage} names seed ${h.seed}, but the stage opened with ${s.opened.seed}`,
      );
    } else {
      add("stage-parent", stage, false, `no StageOpened event for stage ${stage}`);
    }
    add(
      "header-parent",
      stage,
      eq(h.parent, parent),
      eq(h.parent, parent)
        ? `the header of stage ${stage} chains to H(S_${stage - 1})`
        : `the header of stage ${stage} names parent ${h.parent}, but the previous stage's result is ${parent}`,
    );
    const recomputed = headerHash(domain, {
      jobId,
      stage,
      parentHash: h.parent,
      resultHash: h.result,
      rho: h.rho,
      resultCid: header.resultCid,
      timestamp: h.timestamp,
      builder: h.builder,
    });
    add(
      "header-hash",
      stage,
      eq(recomputed, header.headerHash),
      eq(recomputed, header.headerHash)
        ? `header hash of stage ${stage} recomputes`
        : `header of stage ${stage} hashes to ${recomputed}, the chain recorded ${header.headerHash}`,
    );

    // A jury's decision replaces the openings: the header must carry the decided pair.
    const decided = s.jury?.decided;
    if (decided !== undefined) {
      const same = eq(decided.resultHash, h.result) && eq(decided.rho, h.rho);
      add(
        "jury-decision",
        stage,
        same,
        same
          ? `the header of stage ${stage} carries the jury's decision`
          : `the jury decided result ${decided.resultHash} / rho ${decided.rho} for stage ${stage}, the header ${h.result} / ${h.rho}`,
      );
    }
    const needed = decided !== undefined ? 0 : created.c;
    add(
      "openings-count",
      stage,
      header.openers.length >= needed,
      `the header of stage ${stage} opened ${header.openers.length} declaration(s)${header.openers.length >= needed ? "" : `, fewer than the ${needed} required`}`,
    );
    const listed = [...header.openers, ...header.faulty];
    // A declaration slashed against the jury's decision before the header is settled: PoTOpenings checks it
    // against its slot and leaves it out of both lists.
    const settledBefore = (declarer: Address) =>
      decided !== undefined &&
      s.slashes.some((x) => x.fault === 1 && eq(x.staker, declarer) && x.blockNumber <= header.blockNumber);
    const unlisted = s.declarations.filter(
      (d) => !listed.some((a) => eq(a, d.declarer)) && !settledBefore(d.declarer),
    );
    add(
      "declarations-listed",
      stage,
      unlisted.length === 0,
      unlisted.length === 0
        ? `the header of stage ${stage} lists all ${s.declarations.length} declaration(s)`
        : `the header of stage ${stage} leaves out the declaration(s) of ${unlisted.map((d) => d.declarer).join(", ")}`,
    );
    for (const declarer of listed) {
      const isOpener = header.openers.some((a) => eq(a, declarer));
      const d = [...s.declarations].reverse().find((x) => eq(x.declarer, declarer));
      if (d === undefined) {
        add(
          "commitment-opens",
          stage,
          false,
          `the header of stage ${stage} lists ${declarer}, who has no Declared event for it`,
        );
        continue;
      }
      const commitment = commitmentHash({
        domain,
        rho: h.rho,
        rand: d.rand,
        declarer: d.declarer,
        jobId,
        stage,
      });
      const opens = eq(commitment, d.commitment) && eq(d.resultHash, h.result);
      add(
        "commitment-opens",
        stage,
        opens === isOpener,
        isOpener
          ? opens
            ? `declaration of ${declarer} in stage ${stage} opens against rho`
            : `the header of stage ${stage} counts ${declarer} as an opener, but its declaration (result ${d.resultHash}, commitment ${d.commitment}) does not open against ${h.result} / rho ${h.rho}`
          : opens
            ? `the header of stage ${stage} marks ${declarer} faulty, but its declaration opens against rho`
            : `declaration of ${declarer} in stage ${stage} is faulty (does not open against rho), as the header says`,
      );
    }

    const w = s.wrapped;
    const recomputedBlock = blockHash(domain, {
      index: w.index,
      parentBlockHash: w.parentBlockHash,
      jobId,
      stage,
      headerHash: w.headerHash,
      attesters: w.attesters,
      wrapper: w.wrapper,
      timestamp: w.timestamp,
    });
    add(
      "block-hash",
      stage,
      eq(recomputedBlock, w.blockHash),
      eq(recomputedBlock, w.blockHash)
        ? `block ${w.index} (stage ${stage}) hash recomputes`
        : `block ${w.index} of stage ${stage} hashes to ${recomputedBlock}, the chain recorded ${w.blockHash}`,
    );

    // R = outcomeHash(outcome): the header's result commits to H(S), the checkpoint root and the metric
    const outcome = s.outcome?.outcome;
    const r = outcome === undefined ? undefined : outcomeHash(outcome);
    add(
      "outcome-hash",
      stage,
      eq(r, h.result),
      outcome === undefined
        ? `no OutcomeRevealed event reveals what the result ${h.result} of stage ${stage} opens to`
        : eq(r, h.result)
          ? `the outcome of stage ${stage} (H(S_${stage}), checkpoint root, ${describeMetric(outcome)}) hashes to the header's result`
          : `the outcome revealed for stage ${stage} hashes to ${r}, but the header's result is ${h.result}`,
    );
    if (outcome !== undefined && eq(r, h.result)) outcomes.set(stage, outcome);

    const ref = stateRef(record, stage);
    if (ref !== undefined) {
      try {
        const bytes = await store.get(ref.cid, options);
        const got = stateHash(bytes);
        add(
          "state-hash",
          stage,
          eq(got, ref.expectedHash),
          eq(got, ref.expectedHash)
            ? `S_${stage} (${ref.cid}) hashes to the outcome's state hash`
            : `S_${stage} fetched by the header's CID ${ref.cid} hashes to ${got}, but the outcome of stage ${stage} names H(S_${stage}) = ${ref.expectedHash}`,
        );
      } catch (error) {
        add(
          "state-hash",
          stage,
          false,
          `S_${stage} could not be fetched by CID ${ref.cid}: ${(error as Error).message}`,
        );
      }
    }
    parent = wrappedOutcome(s)?.stateHash;
  }
  checks.push(...checkEarlyStop(events, wrapped, outcomes));
  return { checks, manifest, wrapped, outcomes, finishedEarlyAt: events.targetReached?.stage };
}

/**
 * The link of a fine-tuning job to its parent (JobDerived): the parent finished, its last stage's wrapped
 * result is the final state the ledger recorded, and that hash is the child's S_0 hash (the child's S_0
 * bytes are checked against it by `checkLineage`'s `state-hash` of stage 0).
 */
export function checkParentLink(child: JobRecord, parent: JobRecord): Check[] {
  const derived = child.events.derived;
  if (derived === undefined) return [];
  const checks: Check[] = [];
  const add = (id: string, ok: boolean, message: string) => checks.push({ id, stage: 0, ok, message });
  const p = parent.events;
  const finished = p.finished !== undefined;
  add(
    "parent-finished",
    finished,
    finished
      ? `parent job ${p.jobId} finished`
      : `parent job ${p.jobId} has no JobFinished event: an unfinished job cannot be a parent`,
  );
  const end = finalStage(p);
  const last = p.stages[end - 1];
  const final = last === undefined ? undefined : wrappedOutcome(last)?.stateHash;
  const ok = eq(final, derived.parentFinalHash) && eq(final, child.events.created.initialStateHash);
  add(
    "parent-final-state",
    ok,
    ok
      ? `S_0 of job ${child.events.jobId} is the final state S_${end} of job ${p.jobId}`
      : `job ${child.events.jobId} starts from ${child.events.created.initialStateHash} (JobDerived: ${derived.parentFinalHash}), but job ${p.jobId}'s final state S_${end} is ${final ?? "missing"}`,
  );
  return checks;
}

/** The job's early-stopping target as the ledger recorded it (JobTarget), NO_TARGET without one. */
export function jobTarget(events: Pick<JobEvents, "target">): JobTarget {
  return events.target === undefined ? NO_TARGET : { kind: events.target.kind, value: events.target.value };
}

/**
 * Early stopping, as PoTStages decides it at the wrap: the job finishes at the first wrapped stage whose
 * outcome meets its target. A TargetReached stage must meet it, no earlier wrapped stage may, and none
 * after it is wrapped; without TargetReached no wrapped stage may meet it.
 */
function checkEarlyStop(
  events: JobEvents,
  wrapped: readonly number[],
  outcomes: ReadonlyMap<number, StageOutcome>,
): Check[] {
  const target = jobTarget(events);
  const goal = describeTarget(target);
  const meeting = wrapped.filter((st) => {
    const o = outcomes.get(st);
    return o !== undefined && targetReached(target, o);
  });
  const reached = events.targetReached?.stage;
  if (reached === undefined) {
    if (meeting.length === 0) return [];
    const o = outcomes.get(meeting[0])!;
    return [
      {
        id: "target-missed",
        stage: meeting[0],
        ok: false,
        message: `stage ${meeting[0]}'s held-out metric (${describeMetric(o)}) meets the target (${goal}), but the job did not finish there`,
      },
    ];
  }
  const o = outcomes.get(reached);
  const met = o !== undefined && targetReached(target, o);
  const checks: Check[] = [
    {
      id: "target-reached",
      stage: reached,
      ok: met,
      message:
        o === undefined
          ? `the ledger says stage ${reached} reached the target (${goal}), but stage ${reached} has no verified outcome`
          : met
            ? `stage ${reached} met the target (${goal}) with ${describeMetric(o)}: the job finished there, ${events.created.numStages - reached} stage(s) early`
            : `the ledger says stage ${reached} reached the target (${goal}), but its outcome has ${describeMetric(o)}`,
    },
  ];
  const earlier = meeting.filter((st) => st < reached);
  if (earlier.length > 0)
    checks.push({
      id: "target-first",
      stage: earlier[0],
      ok: false,
      message: `stage ${earlier[0]} already met the target (${describeMetric(outcomes.get(earlier[0])!)}; ${goal}), but the job finished only at stage ${reached}`,
    });
  const after = wrapped.filter((st) => st > reached);
  if (after.length > 0)
    checks.push({
      id: "target-reached",
      stage: after[0],
      ok: false,
      message: `the job finished at stage ${reached} (target reached), but stage ${after[0]} was wrapped after it`,
    });
  return checks;
}
