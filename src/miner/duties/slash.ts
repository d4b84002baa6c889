/**
 * Slash and release (anyone's duties, for a bounty): slash the faulty declarations of a wrapped stage, and
 * those that do not open against a jury's decision (at once: PoTOpenings lets a decided stage be headered
 * listing slashed declarations, so slashing before the header no longer blocks it); slash absent or wrong
 * jurors after a round's reveal window; release our own bonded declarations of an expired job's unwrapped
 * stages. Each is sent once (`doneKey`); a revert saying someone else was first is benign.
 */
import type { Address, Hex } from "viem";
import { stageAnchor } from "../../protocol/messages";
import { declarationData, type Pair, type StageView } from "../view";
import { doneKey, isDone, stageKey, type DoneKey } from "./keys";
import { juryMembers } from "./jury";
import { opensAgainst, unsettled } from "./stages";
import { sendOnce, type DutyContext } from "./context";
import { lower, samePair, type DutyOf, type StageScope } from "./types";

/** Slash reverts meaning the declaration is no longer slashable (settled, slashed, slot reused): benign. */
export function slashNoLongerNeeded(revert: string | undefined): boolean {
  return (
    revert === "NotDeclared" ||
    revert === "DeclarationMismatch" ||
    revert === "DeclarationSettled" ||
    revert === "DeclarationNotFaulty" ||
    revert === "NotAFault"
  );
}

/**
 * The declarations of a stage to slash now, with the pair to slash against: a wrapped stage's faulty
 * declarations (against the wrapped header's pair), and a jury-decided stage's declarations that do not
 * open against the decision (at once: the stage can still be headered listing them).
 */
export function slashTargets(
  st: StageView,
  domain: Hex | undefined,
  done: Readonly<Record<string, string>>,
): { declarer: Address; pair: Pair }[] {
  const out: { declarer: Address; pair: Pair }[] = [];
  const todo = (declarer: Address) =>
    unsettled(st, declarer) && !isDone({ done }, doneKey.slash(st.jobId, st.stage, declarer));
  if (st.wrapped !== undefined) {
    const pair = { result: st.wrapped.header.result, rho: st.wrapped.header.rho };
    for (const declarer of st.wrapped.faulty) if (todo(declarer)) out.push({ declarer, pair });
  } else if (st.decided !== undefined && domain !== undefined) {
    for (const d of st.declarations.values())
      if (todo(d.declarer) && !opensAgainst(domain, st.jobId, st.stage, st.decided, d))
        out.push({ declarer: d.declarer, pair: st.decided });
  }
  return out;
}

/** Declaration slashes of one stage. */
export function proposeSlashes(scope: StageScope): void {
  const { st } = scope;
  for (const t of slashTargets(st, scope.input.domain, scope.input.state.done))
    scope.push({ kind: "slash", jobId: st.jobId, stage: st.stage, declarer: t.declarer, pair: t.pair });
}

/** Release our own bond of an ended job's unwrapped stage (unless a jury decided another pair). */
export function proposeRelease(scope: StageScope): void {
  const { st, job, mine, onChainMine, me } = scope;
  // an ended job: expired, or finished early at its target with the next stage already open
  if (job.status === "open" || st.wrappedBlock !== undefined || onChainMine === undefined) return;
  if (mine === undefined || !unsettled(st, me)) return;
  if (isDone(scope.input.state, doneKey.release(st.jobId, st.stage))) return;
  const minePair = { result: mine.resultHash, rho: mine.rho };
  if (st.decided === undefined || samePair(minePair, st.decided))
    scope.push({ kind: "release", jobId: st.jobId, stage: st.stage, pair: st.decided ?? minePair });
}

/** Slash jurors of finished rounds: absent (no reveal), or revealed against the decision. */
export function proposeJurorSlashes(scope: StageScope): void {
  const { input, st, me } = scope;
  for (const r of st.rounds.values()) {
    if (r.seats === undefined || r.revealEnd === undefined || input.blockNumber <= r.revealEnd) continue;
    for (const juror of juryMembers(r)) {
      if (lower(juror) === me) continue;
      if (isDone(input.state, doneKey.slashJuror(st.jobId, st.stage, r.round, juror))) continue;
      const v = r.votes.get(lower(juror));
      const wrong = v !== undefined && st.decided !== undefined && !samePair(v, st.decided);
      if (v === undefined || wrong)
        scope.push({ kind: "slash-juror", jobId: st.jobId, stage: st.stage, round: r.round, juror });
    }
  }
}

/**
 * Slashes a declaration that does not open against its stage's final pair, or releases our own bond of
 * an expired job's unwrapped stage. A revert saying the declaration is settled already is benign.
 */
export async function performSettleDeclaration(
  ctx: DutyContext,
  d: DutyOf<"slash" | "release">,
): Promise<void> {
  const st = ctx.view.stages.get(stageKey(d.jobId, d.stage));
  const slash = d.kind === "slash";
  const declarer = slash ? d.declarer : ctx.address;
  const decl = st?.declarations.get(declarer.toLowerCase());
  if (st?.parentHash === undefined || st.seed === undefined || decl === undefined) return;
  const key: DoneKey = slash ? doneKey.slash(d.jobId, d.stage, declarer) : doneKey.release(d.jobId, d.stage);
  const args = {
    jobId: d.jobId,
    stage: d.stage,
    anchor: stageAnchor(st.parentHash, st.seed),
    declaration: declarationData(decl),
    result: d.pair.result,
    rho: d.pair.rho,
  };
  const send = () => (slash ? ctx.chain.slashDeclaration(args) : ctx.chain.release(args));
  const outcome = await sendOnce(ctx, key, send, slashNoLongerNeeded);
  const where = { jobId: d.jobId, stage: d.stage, declarer };
  if ("moot" in outcome) {
    // Settled, slashed or released by someone else first: nothing to do, never again.
    ctx.count(slash ? "slashesLost" : "releasesLost");
    ctx.log.info(`${d.kind} not sent: the declaration is already settled`, {
      ...where,
      revert: outcome.moot,
    });
    return;
  }
  ctx.count(slash ? "slashed" : "released");
  ctx.log.info(slash ? "declaration slashed" : "declaration bond released", {
    ...where,
    resultHash: decl.resultHash,
    tx: outcome.hash,
  });
}

/** Slashes a juror seat holder that did not reveal, or revealed against the decision. */
export async function performSlashJuror(ctx: DutyContext, d: DutyOf<"slash-juror">): Promise<void> {
  const seats = ctx.view.stages.get(stageKey(d.jobId, d.stage))?.rounds.get(d.round)?.seats;
  if (seats === undefined) return;
  const key = doneKey.slashJuror(d.jobId, d.stage, d.round, d.juror);
  const send = () => ctx.chain.slashJuror(d.jobId, d.stage, d.round, seats, d.juror);
  const outcome = await sendOnce(ctx, key, send, (revert) => revert === "NotAFault");
  if ("moot" in outcome) {
    ctx.count("slashesLost");
    return;
  }
  ctx.count("jurorsSlashed");
  ctx.log.info("juror slashed", { jobId: d.jobId, stage: d.stage, round: d.round, juror: d.juror });
}
