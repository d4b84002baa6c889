/**
 * Proof of attestation: as a seat holder of a headered stage's current committee, attest after checking
 * S_{i+1} (fetched by the header's CID); wrap once every other seat holder attested this round. Void: a
 * header whose PoA rounds all expired without a wrap is voided (anyone may), once per header.
 */
import type { HeaderView } from "../view";
import { STAGE_PHASE } from "../../chain/pot-contracts";
import { stateHash } from "../../protocol/rho";
import { cidFromBytesHex } from "../../storage";
import { doneKey, isDone, stageKey } from "./keys";
import { revertName, sendOnce, type DutyContext } from "./context";
import { lower, type DutyOf, type StageScope } from "./types";

/** Whether a header's PoA expired at `blockNumber` (the voidHeader condition). */
export function poaExpired(
  header: Pick<HeaderView, "randBlock">,
  blockNumber: bigint,
  expiryBlocks: bigint,
): boolean {
  return blockNumber > header.randBlock + expiryBlocks;
}

/** voidHeader reverts meaning there is nothing to void any more (voided or wrapped first, job over): benign. */
export function voidNoLongerNeeded(revert: string | undefined): boolean {
  return revert === "WrongPhase" || revert === "JobNotOpen" || revert === "UnknownJob";
}

/** Attest, then wrap, as a seat holder of the stage's current committee (the builder holds no seat). */
export function proposeCommitteeDuties(scope: StageScope): void {
  const { input, st, job, me, push } = scope;
  if (st.header === undefined || st.wrappedBlock !== undefined || job.status !== "open") return;
  const committee = input.committees.get(stageKey(st.jobId, st.stage));
  if (committee === undefined || !committee.members.some((m) => lower(m) === me)) return;
  const attested = st.attested.get(committee.round) ?? new Set<string>();
  const othersDone = committee.members.every((m) => lower(m) === me || attested.has(lower(m)));
  if (othersDone) {
    if (!isDone(input.state, doneKey.wrap(st.jobId, st.stage, committee.round)))
      push({
        kind: "wrap",
        jobId: st.jobId,
        stage: st.stage,
        round: committee.round,
        seats: committee.members,
      });
  } else if (!attested.has(me) && !isDone(input.state, doneKey.attest(st.jobId, st.stage, committee.round))) {
    push({ kind: "attest", jobId: st.jobId, stage: st.stage, round: committee.round });
  }
}

/** Void a header whose PoA rounds all passed without a wrap. */
export function proposeVoid(scope: StageScope): void {
  const { input, st } = scope;
  if (
    scope.live &&
    st.header !== undefined &&
    st.wrappedBlock === undefined &&
    input.poaExpiryBlocks !== undefined &&
    poaExpired(st.header, input.blockNumber, input.poaExpiryBlocks) &&
    !isDone(input.state, doneKey.void(st.jobId, st.stage, st.header.headerHash))
  )
    scope.push({ kind: "void", jobId: st.jobId, stage: st.stage, headerHash: st.header.headerHash });
}

/** Fetches S_{i+1} by the header's CID and checks its hash (what an attestation asserts). */
async function checkResult(ctx: DutyContext, jobId: bigint, stage: number): Promise<void> {
  const st = ctx.view.stages.get(stageKey(jobId, stage));
  if (st?.header === undefined) throw new Error("no header");
  const outcome = st.header.outcome;
  if (outcome === undefined) throw new Error("the header's outcome (OutcomeRevealed) is not read yet");
  const cid = cidFromBytesHex(st.header.resultCid);
  await ctx.dialFor(jobId, stage + 1).catch(() => undefined);
  const bytes = await ctx.ipfs.get(cid, { timeoutMs: 30_000 });
  if (stateHash(bytes).toLowerCase() !== outcome.stateHash.toLowerCase()) {
    throw new Error(
      `S_${stage} at ${cid} hashes to ${stateHash(bytes)}, not the header's ${outcome.stateHash}; not attesting`,
    );
  }
}

export async function performPoa(ctx: DutyContext, d: DutyOf<"attest" | "wrap">): Promise<void> {
  await checkResult(ctx, d.jobId, d.stage);
  if (d.kind === "attest") {
    const sent = await ctx.chain.attest(d.jobId, d.stage);
    await ctx.book.markDone(doneKey.attest(d.jobId, d.stage, d.round), sent.hash);
    ctx.count("attested");
    ctx.log.info("attested", { jobId: d.jobId, stage: d.stage, round: d.round });
    return;
  }
  const h = ctx.view.stages.get(stageKey(d.jobId, d.stage))?.header;
  if (h?.outcome === undefined) return;
  const sent = await ctx.chain.wrap({
    jobId: d.jobId,
    stage: d.stage,
    header: h.header,
    openers: h.openers,
    weights: h.weights,
    faulty: h.faulty,
    seats: d.seats,
    outcome: h.outcome,
  });
  await ctx.book.markDone(doneKey.wrap(d.jobId, d.stage, d.round), sent.hash);
  ctx.count("wrapped");
  ctx.log.info("wrapped", { jobId: d.jobId, stage: d.stage, round: d.round, tx: sent.hash });
}

/** Voids a header whose PoA expired; a revert because another miner voided it first is benign. */
export async function performVoid(ctx: DutyContext, d: DutyOf<"void">): Promise<number | void> {
  const key = doneKey.void(d.jobId, d.stage, d.headerHash);
  const benign = (revert: string | undefined, phase: number) => {
    ctx.count("voidsLost");
    ctx.log.info("header not voided: already voided or wrapped, or the job ended", {
      jobId: d.jobId,
      stage: d.stage,
      revert,
      phase,
    });
  };
  // The view lags by the confirmations: ask PoTStages (latest block) first.
  const phase = await ctx.chain.stagePhase(d.jobId, d.stage);
  const header = ctx.view.stages.get(stageKey(d.jobId, d.stage))?.header;
  if (
    phase !== STAGE_PHASE.headered ||
    header === undefined ||
    header.headerHash.toLowerCase() !== d.headerHash.toLowerCase()
  ) {
    await ctx.book.markDone(key, "reverted:phase");
    return benign(undefined, phase);
  }
  let outcome;
  try {
    outcome = await sendOnce(
      ctx,
      key,
      () => ctx.chain.voidHeader(d.jobId, d.stage, header.header),
      voidNoLongerNeeded,
    );
  } catch (error) {
    if (revertName(error) === "PoaNotExpired") return 2_000; // our head was ahead of the block it lands in
    throw error;
  }
  if ("moot" in outcome) return benign(outcome.moot, -1);
  ctx.count("voided");
  ctx.log.warn("header voided: its PoA expired without a wrap", {
    jobId: d.jobId,
    stage: d.stage,
    headerHash: d.headerHash,
    tx: outcome.hash,
  });
}
