/**
 * Juries: request one for a closed disputed stage (a declarant) or a stalled one (no header
 * headerTimeoutSeconds after the deadline or the void; anyone); draw it; redraw a round undrawn too long or
 * undecided after its reveal window; as a seat holder commit within the commit window (the salt saved
 * first) and reveal in the reveal window. Juror slashes are in slash.ts.
 */
import { randomBytes } from "node:crypto";
import { toHex, type Address } from "viem";
import { juryVoteCommitment } from "../../protocol/messages";
import { ContractRevertError } from "../../chain/errors";
import { currentRound, isDisputed, type JuryRound } from "../view";
import { resultKey, stageKey, voteKey } from "./keys";
import { declarationsClosed, heldResult } from "./stages";
import { revertName, type DutyContext } from "./context";
import { lower, type DutyOf, type StageScope } from "./types";

/** Pause after a jury step another miner did first (until the view shows it). */
const JURY_STEP_MOOT_PAUSE_MS = 5_000;

/** Jury reverts meaning another miner did it first (requested, drew, redrew) or it is moot: benign. */
export function juryStepNoLongerNeeded(revert: string | undefined): boolean {
  return (
    revert === "WrongPhase" ||
    revert === "JuryAlreadyDrawn" ||
    revert === "JuryDecidedAlready" ||
    revert === "JuryNotStale" ||
    revert === "JobNotOpen"
  );
}

/** The distinct seat holders of a drawn round, in seat order. */
export function juryMembers(r: JuryRound): Address[] {
  const seen = new Set<string>();
  return (r.seats ?? []).filter((s) => !seen.has(lower(s)) && seen.add(lower(s)) !== undefined);
}

/** Request, draw and redraw duties of one stage. */
export function proposeJurySteps(scope: StageScope): void {
  const { input, st, live, push } = scope;
  const { blockNumber, now } = input;
  const { jobId, stage } = st;
  const unheadered = st.header === undefined && st.wrappedBlock === undefined;

  // ---- request: a disputed closed stage (its declarants), a stalled one (anyone)
  if (
    live &&
    unheadered &&
    st.parentHash !== undefined &&
    st.juryReason === undefined &&
    st.decided === undefined
  ) {
    const closed = declarationsClosed(st, blockNumber, now);
    if (closed && isDisputed(st) && !st.contested && st.declarations.has(scope.me)) {
      push({ kind: "request-jury", jobId, stage, reason: "disputed" });
    } else if (input.headerTimeoutSeconds !== undefined) {
      // stalled: no header headerTimeoutSeconds after the deadline, or after the void nobody rebuilt
      const since = st.voided !== undefined ? input.voidedAt?.get(stageKey(jobId, stage)) : st.deadline;
      const stalled = st.voided !== undefined || (closed && !isDisputed(st));
      if (stalled && since !== undefined && now >= since + input.headerTimeoutSeconds)
        push({ kind: "request-jury", jobId, stage, reason: "stalled" });
    }
  }

  // ---- draw and redraw the current round
  const cur = currentRound(st);
  if (live && cur !== undefined && st.decided === undefined) {
    if (cur.seats === undefined) {
      if (input.drawWindowBlocks !== undefined && blockNumber > cur.randBlock + input.drawWindowBlocks)
        push({ kind: "redraw-jury", jobId, stage, round: cur.round });
      else if (blockNumber > cur.randBlock) push({ kind: "draw-jury", jobId, stage, round: cur.round });
    } else if (cur.revealEnd !== undefined && blockNumber > cur.revealEnd) {
      push({ kind: "redraw-jury", jobId, stage, round: cur.round });
    }
  }
}

/**
 * Our seats: commit within the commit window, reveal in the reveal window (also after a decision: a seat
 * that never reveals is slashed as absent). Both windows are checked for the latest block (where the
 * transaction is simulated) and the next one (where it lands).
 */
export function proposeJurySeats(scope: StageScope): void {
  const { input, st, me, push } = scope;
  const { blockNumber } = input;
  const { jobId, stage } = st;
  for (const r of st.rounds.values()) {
    if (!scope.live || r.seats === undefined || r.commitEnd === undefined || r.revealEnd === undefined)
      continue;
    if (!r.seats.some((s) => lower(s) === me)) continue;
    const vote = input.state.votes[voteKey(jobId, stage, r.round)];
    const committed = r.commits.has(me) || vote?.commitStatus === "confirmed";
    const revealed = r.votes.has(me) || vote?.status === "confirmed";
    if (
      !committed &&
      st.decided === undefined &&
      blockNumber + 1n <= r.commitEnd &&
      st.parentHash !== undefined
    ) {
      const held = heldResult(input.state, jobId, stage, st.parentHash);
      if (held === undefined)
        push({ kind: "train", jobId, stage, parentHash: st.parentHash, speculative: false, reason: "jury" });
      else
        push({
          kind: "commit-vote",
          jobId,
          stage,
          round: r.round,
          resultKey: resultKey(jobId, stage, st.parentHash),
        });
    } else if (committed && !revealed && blockNumber > r.commitEnd && blockNumber + 1n <= r.revealEnd) {
      push({ kind: "reveal-vote", jobId, stage, round: r.round });
    }
  }
}

/** Requests, draws or redraws a jury; a revert because another miner did it first is benign. */
export async function performJuryStep(
  ctx: DutyContext,
  d: DutyOf<"request-jury" | "draw-jury" | "redraw-jury">,
): Promise<number | void> {
  try {
    if (d.kind === "request-jury") await ctx.chain.requestJury(d.jobId, d.stage);
    else if (d.kind === "draw-jury") await ctx.chain.drawJury(d.jobId, d.stage);
    else await ctx.chain.redrawJury(d.jobId, d.stage);
  } catch (error) {
    const revert = revertName(error);
    if (!juryStepNoLongerNeeded(revert)) throw error;
    ctx.log.info("jury step not needed (another miner was first)", {
      step: d.kind,
      jobId: d.jobId,
      stage: d.stage,
      revert,
    });
    return JURY_STEP_MOOT_PAUSE_MS; // until the view shows what the chain already has
  }
  ctx.count(d.kind === "request-jury" ? "juryRequests" : "juryDraws");
  ctx.log.info(d.kind === "request-jury" ? "jury requested" : "jury drawn", {
    jobId: d.jobId,
    stage: d.stage,
    reason: d.kind === "request-jury" ? d.reason : undefined,
  });
}

/** Commits our vote for a jury round: the salt is persisted before the commitment is sent. */
export async function performCommitVote(ctx: DutyContext, d: DutyOf<"commit-vote">): Promise<void> {
  const { book } = ctx;
  const key = voteKey(d.jobId, d.stage, d.round);
  const seats = ctx.view.stages.get(stageKey(d.jobId, d.stage))?.rounds.get(d.round)?.seats;
  const result = book.state.results[d.resultKey];
  if (seats === undefined || result === undefined) return;
  let rec = book.state.votes[key];
  if (rec === undefined || rec.salt === undefined) {
    rec = {
      jobId: d.jobId.toString(),
      stage: d.stage,
      round: d.round,
      resultHash: result.resultHash,
      rho: result.rho,
      salt: toHex(randomBytes(32)),
      commitStatus: "prepared",
      status: "prepared",
    };
    book.state.votes[key] = rec;
    await book.save();
  }
  const commitment = juryVoteCommitment({
    domain: ctx.domain,
    jobId: d.jobId,
    stage: d.stage,
    round: d.round,
    juror: ctx.address,
    resultHash: rec.resultHash,
    rho: rec.rho,
    salt: rec.salt!,
  });
  rec.commitStatus = "sent";
  await book.save();
  let committed;
  try {
    committed = await ctx.chain.commitVote({ jobId: d.jobId, stage: d.stage, seats, commitment });
  } catch (error) {
    // a commitment of ours that our view had not seen yet: it is on chain
    if (!(error instanceof ContractRevertError && error.errorName === "AlreadyCommitted")) throw error;
  }
  rec.commitStatus = "confirmed";
  rec.commitTxHash = committed?.hash;
  await book.save();
  ctx.count("juryCommits");
  ctx.log.info("jury vote committed", { jobId: d.jobId, stage: d.stage, round: d.round });
}

/** Reveals our committed vote in the round's reveal window. */
export async function performRevealVote(ctx: DutyContext, d: DutyOf<"reveal-vote">): Promise<void> {
  const { book } = ctx;
  const rec = book.state.votes[voteKey(d.jobId, d.stage, d.round)];
  const seats = ctx.view.stages.get(stageKey(d.jobId, d.stage))?.rounds.get(d.round)?.seats;
  if (seats === undefined || rec?.salt === undefined) {
    ctx.log.warn("jury vote cannot be revealed: its salt is not in the miner state", {
      jobId: d.jobId,
      stage: d.stage,
      round: d.round,
    });
    return;
  }
  rec.status = "sent";
  await book.save();
  const sent = await ctx.chain.vote({
    jobId: d.jobId,
    stage: d.stage,
    seats,
    resultHash: rec.resultHash,
    rho: rec.rho,
    salt: rec.salt,
  });
  rec.status = "confirmed";
  rec.txHash = sent.hash;
  await book.save();
  ctx.count("votes");
  ctx.log.info("jury vote revealed", {
    jobId: d.jobId,
    stage: d.stage,
    round: d.round,
    resultHash: rec.resultHash,
  });
}
