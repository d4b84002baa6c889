/**
 * The miner's duties, like a validator client's: each module proposes its duties from the chain view and
 * the persisted state (pure) and performs them (through a `DutyContext`). This index runs the proposers
 * over every stage (`computeDuties`, pure: no I/O) and dispatches a duty to its executor (`performDuty`).
 * The agent (../agent.ts) schedules them: priorities, cooldowns, deferred bookkeeping.
 *
 * Rules (docs/miner.md explains them to operators), on the split contracts (docs/contracts/suite.md):
 * - declare.ts: train a stage that is open for declarations, from the parent the chain fixed, when the
 *   policy accepts the job and no result is held; declare it with the stage's (parent, seed) when a
 *   result is held, no declaration exists (locally or on-chain) and the stake covers one more bond;
 * - train.ts: pipelining (train s+1, s+2, ... from our own results, up to `speculationDepth`), dropping
 *   results the chain made stale, and the training itself;
 * - header.ts: build the header of a closed stage (declarants by rank; after a jury decision anyone holding
 *   the decided pair; after a void the other declarants of its pair); contest a header carrying our result
 *   with another rho;
 * - poa.ts: attest and wrap as a committee seat holder; void a header whose PoA expired;
 * - jury.ts: request, draw, redraw; commit and reveal our seats' votes;
 * - slash.ts: slash faulty declarations (a wrapped stage's, and those against a jury's decision), absent or
 *   wrong jurors; release our own bonds of an expired job's unwrapped stages;
 * - claim.ts: claim once per ended job (and the dummy job when worth it), then withdraw.
 * Stake and peer identity are set up once at start (../identity.ts).
 */
import { STAGE_PHASE } from "../../chain/pot-contracts";
import { stageKey } from "./keys";
import { proposeClaims, proposeWithdraw, performClaim, performWithdraw } from "./claim";
import { proposeOpenStage, performDeclare } from "./declare";
import { proposeContest, proposeHeader, performContest, performHeader } from "./header";
import {
  performCommitVote,
  performJuryStep,
  performRevealVote,
  proposeJurySeats,
  proposeJurySteps,
} from "./jury";
import { proposeCommitteeDuties, proposeVoid, performPoa, performVoid } from "./poa";
import {
  proposeJurorSlashes,
  proposeRelease,
  proposeSlashes,
  performSettleDeclaration,
  performSlashJuror,
} from "./slash";
import { performDrop, performTrain, proposeDrops, proposePipeline } from "./train";
import type { DutyContext } from "./context";
import { lower, type Duty, type DutyInput, type StageScope } from "./types";
import { dutyId } from "./keys";
import type { ChainView, JobView } from "../view";

export { STAGE_PHASE };
export * from "./types";
export * from "./keys";
export { acceptsDeclarations, declarationsClosed, opensAgainst } from "./stages";
export {
  builderOrder,
  headerStillWanted,
  lostHeaderRace,
  winningResult,
  HEADER_LOST_PAUSE_MS,
} from "./header";
export { juryMembers, juryStepNoLongerNeeded } from "./jury";
export { poaExpired, voidNoLongerNeeded } from "./poa";
export { slashNoLongerNeeded, slashTargets } from "./slash";
export { claimCandidates, OwedReader } from "./claim";
export { revertName as revertNameOf, type DutyContext, type TrainingRegistry } from "./context";

/** Whether an employer job (not the dummy) is open with stages left. */
function employerJobOpen(view: ChainView, now: bigint, accepts: (job: JobView) => boolean): boolean {
  for (const job of view.jobs.values()) {
    if (job.jobId !== 0n && job.status === "open" && job.deadline > now && accepts(job)) return true;
  }
  return false;
}

/** The duties to perform now. Pure. */
export function computeDuties(input: DutyInput): Duty[] {
  const { view, state, now } = input;
  const me = lower(input.me);
  const duties: Duty[] = [];
  const proposed = new Set<string>();
  const push = (d: Duty) => {
    const id = dutyId(d);
    if (input.inFlight.has(id) || proposed.has(id)) return;
    proposed.add(id);
    duties.push(d);
  };
  const bond = { room: input.bondRoom ?? Number.POSITIVE_INFINITY };
  const busyEmployer = employerJobOpen(view, now, input.accepts);
  const trainable = (job: JobView): boolean => {
    if (job.status !== "open" || job.deadline <= now) return false;
    if (!input.accepts(job)) return false;
    return job.jobId !== 0n || !busyEmployer;
  };

  for (const st of view.stages.values()) {
    const job = view.jobs.get(st.jobId.toString());
    if (job === undefined) continue;
    const scope: StageScope = {
      input,
      st,
      job,
      me,
      mine: state.declarations[stageKey(st.jobId, st.stage)],
      onChainMine: st.declarations.get(me),
      live: job.status === "open" && job.deadline > now,
      trainable: trainable(job),
      push,
    };
    proposeOpenStage(scope, bond);
    proposePipeline(scope);
    proposeJurySteps(scope);
    proposeJurySeats(scope);
    proposeJurorSlashes(scope);
    proposeHeader(scope);
    proposeCommitteeDuties(scope);
    proposeContest(scope);
    proposeSlashes(scope);
    proposeRelease(scope);
    proposeVoid(scope);
  }
  proposeClaims(input, push);
  proposeDrops(input, push);
  proposeWithdraw(input, push);
  return duties;
}

/** Performs a duty; a number asks for a pause (ms) before the same duty is proposed again. */
export async function performDuty(ctx: DutyContext, d: Duty): Promise<number | void> {
  switch (d.kind) {
    case "train":
      return performTrain(ctx, d);
    case "drop":
      return performDrop(ctx, d);
    case "declare":
      return performDeclare(ctx, d);
    case "header":
      return performHeader(ctx, d);
    case "attest":
    case "wrap":
      return performPoa(ctx, d);
    case "claim":
      return performClaim(ctx, d);
    case "contest":
      return performContest(ctx, d);
    case "request-jury":
    case "draw-jury":
    case "redraw-jury":
      return performJuryStep(ctx, d);
    case "commit-vote":
      return performCommitVote(ctx, d);
    case "reveal-vote":
      return performRevealVote(ctx, d);
    case "slash":
    case "release":
      return performSettleDeclaration(ctx, d);
    case "slash-juror":
      return performSlashJuror(ctx, d);
    case "void":
      return performVoid(ctx, d);
    case "withdraw":
      return performWithdraw(ctx, d);
  }
}
