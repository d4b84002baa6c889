/**
 * The miner's decisions, as a pure function: given the chain view, the miner's persisted state and a few
 * facts read this tick (head block, committees, what it is owed), the list of duties to perform now. No
 * I/O: the agent (agent.ts) executes the duties and feeds the results back through the state and the view.
 *
 * Rules (docs/miner.md explains them to operators), on the split contracts (docs/contracts/suite.md):
 * - train a stage that is open for declarations, from the parent the chain fixed, when the policy accepts
 *   the job and no result is held; declare it with the stage's (parent, seed) when a result is held, no
 *   declaration exists (locally or on-chain) and the stake covers one more bond: never twice;
 * - pipelining: holding its own result for an open stage s, train s+1 from it before s+1 opens, then s+2
 *   from its own S_{s+2}, and so on up to `speculationDepth` stages past the newest open stage; once the
 *   chain opens a stage from another parent, the speculative results built on it are dropped;
 * - build the header of a closed, undisputed stage whose predecessor is wrapped, when this miner declared
 *   its result (listing every declaration); declarants take turns by a deterministic rank, each waiting
 *   `builderGraceBlocks` more than the previous one, so usually exactly one builds; after a jury decision
 *   any staker holding the decided result builds with the decided pair (never a barred builder); after a
 *   void, the other declarants of the voided pair rebuild;
 * - as a seat holder of the current PoA committee: attest after checking S_{i+1}; wrap once every other
 *   seat holder attested this round;
 * - juries: request one for a closed disputed stage (a declarant) or a stalled one (no header
 *   headerTimeoutSeconds after the deadline; anyone); draw it; as a seat holder commit within the commit
 *   window and reveal in the reveal window; redraw a round that did not decide; slash absent or wrong
 *   jurors after the reveal window;
 * - slash the faulty declarations of a wrapped stage, and those that do not open against a jury's decision
 *   of a stage the job expired without; release our own bonded declarations of an expired job's unwrapped
 *   stages; void a header whose PoA rounds all expired; contest a header carrying our result with
 *   another rho;
 * - claim once per ended job (and the never-ending dummy job whenever its coinbase is worth it), then
 *   withdraw.
 */
import { keccak256, toBytes, type Address, type Hex } from "viem";
import { STAGE_PHASE, type Committee } from "../chain/pot-contracts";
import { commitmentHash } from "../protocol/messages";
import { resultKey, stageKey, voteKey, type MinerState, type ResultRecord } from "./state";
import {
  claimKey,
  currentRound,
  isDisputed,
  skey,
  type ChainView,
  type DeclarationView,
  type HeaderView,
  type JobView,
  type JuryRound,
  type Pair,
  type StageView,
} from "./view";

export { STAGE_PHASE };

export type Duty =
  | {
      kind: "train";
      jobId: bigint;
      stage: number;
      parentHash: Hex;
      speculative: boolean;
      reason: "stage-open" | "pipeline" | "jury";
    }
  | { kind: "drop"; key: string; reason: string }
  | { kind: "declare"; jobId: bigint; stage: number; parentHash: Hex; seed: Hex; resultKey: string }
  /** Build the header with `pair`; `resultKey` names the held result (its CID goes into the header). */
  | { kind: "header"; jobId: bigint; stage: number; pair: Pair; resultKey: string }
  | { kind: "attest"; jobId: bigint; stage: number; round: number }
  | { kind: "wrap"; jobId: bigint; stage: number; round: number; seats: Address[] }
  | { kind: "contest"; jobId: bigint; stage: number }
  | { kind: "request-jury"; jobId: bigint; stage: number; reason: "disputed" | "stalled" }
  | { kind: "draw-jury"; jobId: bigint; stage: number; round: number }
  | { kind: "redraw-jury"; jobId: bigint; stage: number; round: number }
  | { kind: "commit-vote"; jobId: bigint; stage: number; round: number; resultKey: string }
  | { kind: "reveal-vote"; jobId: bigint; stage: number; round: number }
  | { kind: "slash-juror"; jobId: bigint; stage: number; round: number; juror: Address }
  /** Slash `declarer`'s declaration, which does not open against the stage's final `pair`. */
  | { kind: "slash"; jobId: bigint; stage: number; declarer: Address; pair: Pair }
  /** Release our own bonded declaration of an expired job's unwrapped stage (against `pair`). */
  | { kind: "release"; jobId: bigint; stage: number; pair: Pair }
  | { kind: "void"; jobId: bigint; stage: number; headerHash: Hex }
  | { kind: "claim"; jobId: bigint }
  | { kind: "withdraw"; amount: bigint };

/** What `who` is owed in a job (PoTEscrow.owedOf). */
export interface Owed {
  readonly amount: bigint;
  readonly coinbase: bigint;
}

export interface DutyInput {
  readonly view: ChainView;
  readonly state: MinerState;
  readonly me: Address;
  /** Head block number and its timestamp. */
  readonly blockNumber: bigint;
  readonly now: bigint;
  /** Current committees of headered, unwrapped stages (key `skey(jobId, stage)`), as committeeOf returned. */
  readonly committees: ReadonlyMap<string, Committee>;
  /** Whether the policy accepts training the job (the dummy job included). */
  readonly accepts: (job: JobView) => boolean;
  /**
   * Pipelining: how many stages past the newest stage the chain opened this miner trains ahead from its
   * own results (0: none). Each level costs one stored state, dropped if the chain disagrees.
   */
  readonly speculationDepth: number;
  /** Blocks each builder rank waits after the previous one. */
  readonly builderGraceBlocks: bigint;
  /** Claimable wei in the escrow, and the least worth a withdrawal. */
  readonly claimableWei: bigint;
  readonly withdrawMinWei: bigint;
  /** What this miner is owed per job id (decimal), for the jobs `claimCandidates` named. */
  readonly owed: ReadonlyMap<string, Owed>;
  /** The dummy job never ends: claim it once its owed coinbase reaches this (POT wei). */
  readonly dummyClaimMinCoinbase: bigint;
  /**
   * How many more declarations the stake covers: active / declarationSlash - unsettled declarations
   * (undefined: not checked). No declaration is sent beyond it (the contract would refuse: NotEnoughBond).
   */
  readonly bondRoom?: number;
  /** Duty ids already in progress (see dutyId), skipped. */
  readonly inFlight: ReadonlySet<string>;
  /** The protocol domain: needed to recompute commitments; no jury-decision slashing without it. */
  readonly domain?: Hex;
  /** poaMaxRounds * poaWindowBlocks: a header may be voided after randBlock + this; no voiding without it. */
  readonly poaExpiryBlocks?: bigint;
  /** PoTStages.headerTimeoutSeconds: a closed stage without a header this long after its deadline stalls. */
  readonly headerTimeoutSeconds?: bigint;
  /**
   * When each voided, not rebuilt stage was voided (PoTStages' deadline of the decided stage; key
   * `skey`): nobody rebuilding it within headerTimeoutSeconds stalls it too.
   */
  readonly voidedAt?: ReadonlyMap<string, bigint>;
  /** PoTDisputes.drawWindowBlocks: a round undrawn this long after its randomness block is redrawn. */
  readonly drawWindowBlocks?: bigint;
}

const lower = (a: string) => a.toLowerCase();
const same = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && lower(a) === lower(b);
const samePair = (a: Pair, b: Pair) => same(a.result, b.result) && same(a.rho, b.rho);

/**
 * The `state.done` keys of the duties done once (and their duty ids): one typed place instead of strings
 * built by hand in the duties and the agent.
 */
export const doneKey = {
  header: (jobId: bigint, stage: number) => `header:${jobId}:${stage}`,
  attest: (jobId: bigint, stage: number, round: number) => `attest:${jobId}:${stage}:${round}`,
  wrap: (jobId: bigint, stage: number, round: number) => `wrap:${jobId}:${stage}:${round}`,
  contest: (jobId: bigint, stage: number) => `contest:${jobId}:${stage}`,
  slash: (jobId: bigint, stage: number, declarer: Address) => `slash:${jobId}:${stage}:${lower(declarer)}`,
  slashJuror: (jobId: bigint, stage: number, round: number, juror: Address) =>
    `slashj:${jobId}:${stage}:${round}:${lower(juror)}`,
  release: (jobId: bigint, stage: number) => `release:${jobId}:${stage}`,
  void: (jobId: bigint, stage: number, headerHash: Hex) => `void:${jobId}:${stage}:${lower(headerHash)}`,
  claim: (jobId: bigint) => `claim:${jobId}`,
} as const;

/**
 * Forgets the persisted records of stages the view pruned (wrapped, faults settled: nothing asks for their
 * secrets or once-only duties again): declarations, votes, done keys (all but `claim:<job>` name their
 * stage third) and results. Returns the hashes of the results it removed (the agent drops unused bytes).
 */
export function pruneState(state: MinerState, view: ChainView): Hex[] {
  const gone = (jobId: string, stage: number) => stage < (view.prunedBelow.get(jobId) ?? 0);
  for (const [key, d] of Object.entries(state.declarations))
    if (gone(d.jobId, d.stage)) delete state.declarations[key];
  for (const [key, v] of Object.entries(state.votes)) if (gone(v.jobId, v.stage)) delete state.votes[key];
  for (const key of Object.keys(state.done)) {
    const [, jobId, stage] = key.split(":");
    if (stage !== undefined && gone(jobId, Number(stage))) delete state.done[key];
  }
  const dropped: Hex[] = [];
  for (const [key, r] of Object.entries(state.results))
    if (gone(r.jobId, r.stage)) {
      delete state.results[key];
      dropped.push(r.resultHash);
    }
  return dropped;
}

/** A stable id of a duty, to avoid running it twice concurrently. */
export function dutyId(d: Duty): string {
  switch (d.kind) {
    case "train":
      return `train:${d.jobId}:${d.stage}:${lower(d.parentHash)}`;
    case "drop":
      return `drop:${d.key}`;
    case "withdraw":
      return "withdraw";
    case "claim":
      return doneKey.claim(d.jobId);
    case "slash":
      return doneKey.slash(d.jobId, d.stage, d.declarer);
    case "slash-juror":
      return doneKey.slashJuror(d.jobId, d.stage, d.round, d.juror);
    case "void":
      return doneKey.void(d.jobId, d.stage, d.headerHash);
    case "attest":
    case "wrap":
    case "draw-jury":
    case "redraw-jury":
    case "commit-vote":
    case "reveal-vote":
      return `${d.kind}:${d.jobId}:${d.stage}:${d.round}`;
    default:
      return `${d.kind}:${d.jobId}:${d.stage}`;
  }
}

/** Memo of the commitment check (declarations are immutable; a stage's final rho is fixed). */
const opensMemo = new WeakMap<DeclarationView, { key: string; opens: boolean }>();

/**
 * Whether a declaration opens against a (result, rho) pair, as the contracts decide it: it names the result
 * and its commitment opens against rho.
 */
export function opensAgainst(
  domain: Hex,
  jobId: bigint,
  stage: number,
  pair: Pair,
  d: DeclarationView,
): boolean {
  if (!same(d.resultHash, pair.result)) return false;
  const key = `${lower(domain)}:${lower(pair.rho)}`;
  const memo = opensMemo.get(d);
  if (memo !== undefined && memo.key === key) return memo.opens;
  const opens = same(
    commitmentHash({ domain, rho: pair.rho, rand: d.rand, declarer: d.declarer, jobId, stage }),
    d.commitment,
  );
  opensMemo.set(d, { key, opens });
  return opens;
}

/** Whether `declarer`'s declaration of the stage is still bonded (not slashed, released or settled). */
function unsettled(st: StageView, declarer: string): boolean {
  return (st.settled.get(lower(declarer)) ?? 0) < 3;
}

/**
 * The declarations of a stage to slash now, with the pair to slash against: a wrapped stage's faulty
 * declarations (against the wrapped header's pair), and, once the job expired without wrapping a
 * jury-decided stage, those that do not open against the decision. (Never before the header of a decided
 * stage: a slashed declaration can no longer be listed, which would block that header.)
 */
export function slashTargets(
  st: StageView,
  job: JobView,
  domain: Hex | undefined,
  done: Readonly<Record<string, string>>,
): { declarer: Address; pair: Pair }[] {
  const out: { declarer: Address; pair: Pair }[] = [];
  const todo = (declarer: Address) =>
    unsettled(st, declarer) && done[doneKey.slash(st.jobId, st.stage, declarer)] === undefined;
  if (st.wrapped !== undefined) {
    const pair = { result: st.wrapped.header.result, rho: st.wrapped.header.rho };
    for (const declarer of st.wrapped.faulty) if (todo(declarer)) out.push({ declarer, pair });
  } else if (job.status === "expired" && st.decided !== undefined && domain !== undefined) {
    for (const d of st.declarations.values())
      if (todo(d.declarer) && !opensAgainst(domain, st.jobId, st.stage, st.decided, d))
        out.push({ declarer: d.declarer, pair: st.decided });
  }
  return out;
}

/** Whether a header's PoA expired at `blockNumber` (the voidHeader condition). */
export function poaExpired(
  header: Pick<HeaderView, "randBlock">,
  blockNumber: bigint,
  expiryBlocks: bigint,
): boolean {
  return blockNumber > header.randBlock + expiryBlocks;
}

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

/** voidHeader reverts meaning there is nothing to void any more (voided or wrapped first, job over): benign. */
export function voidNoLongerNeeded(revert: string | undefined): boolean {
  return revert === "WrongPhase" || revert === "JobNotOpen" || revert === "UnknownJob";
}

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

/**
 * Whether the stage's declarations are closed at block `blockNumber` with timestamp `now`
 * (PoTStages._closed). Transactions are simulated at the latest block and land in a later one, so a duty
 * that needs the stage closed asks about the latest block, and a declaration, which needs it open, about
 * the next one.
 */
export function declarationsClosed(st: StageView, blockNumber: bigint, now: bigint): boolean {
  if (st.closeBlock !== undefined && blockNumber >= st.closeBlock && now >= (st.notBefore ?? 0n)) return true;
  return isDisputed(st) && st.deadline !== undefined && now >= st.deadline;
}

/** Whether the stage still accepts declarations in the next block: opened, in its open phase, not closed. */
export function acceptsDeclarations(st: StageView, blockNumber: bigint, now: bigint): boolean {
  if (st.parentHash === undefined || st.seed === undefined) return false;
  if (st.header !== undefined || st.wrappedBlock !== undefined) return false;
  if (st.juryReason !== undefined || st.decided !== undefined || st.voided !== undefined) return false;
  return !declarationsClosed(st, blockNumber + 1n, now);
}

/**
 * Whether a header may still be sent for a stage PoTStages shows in `phase` at the latest block: only an
 * open (declarations closed) or decided stage takes one. The agent checks this right before sending,
 * because its view lags the chain by its confirmations and a lower builder rank may have just headered it.
 */
export function headerStillWanted(phase: number): boolean {
  return phase === STAGE_PHASE.open || phase === STAGE_PHASE.decided;
}

/**
 * Whether a failed header submission only lost the race to another builder: it reverted `WrongPhase` and
 * the stage is now headered (or already wrapped). Benign: logged at info, not retried.
 */
export function lostHeaderRace(revert: string | undefined, phaseAfter: number): boolean {
  return (
    revert === "WrongPhase" && (phaseAfter === STAGE_PHASE.headered || phaseAfter === STAGE_PHASE.wrapped)
  );
}

/** The order in which candidates may build the header (rank 0 first). */
export function builderOrder(jobId: bigint, stage: number, declarers: readonly Address[]): Address[] {
  const rank = (a: Address) => BigInt(keccak256(toBytes(`pot-builder:${jobId}:${stage}:${lower(a)}`)));
  return [...declarers].sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0));
}

/** The result every declaration of an undisputed stage names (undefined when disputed or none). */
export function winningResult(st: StageView): Hex | undefined {
  if (isDisputed(st)) return undefined;
  return [...st.declarations.values()][0]?.resultHash;
}

function heldResult(
  state: MinerState,
  jobId: bigint,
  stage: number,
  parentHash: Hex,
): ResultRecord | undefined {
  return state.results[resultKey(jobId, stage, parentHash)];
}

/** Whether an employer job (not the dummy) is open with stages left. */
function employerJobOpen(view: ChainView, now: bigint, accepts: (job: JobView) => boolean): boolean {
  for (const job of view.jobs.values()) {
    if (job.jobId !== 0n && job.status === "open" && job.deadline > now && accepts(job)) return true;
  }
  return false;
}

/**
 * The jobs whose owed balance the agent should read this tick (PoTEscrow.owedOf): ended jobs this miner
 * has not claimed (nor found nothing owed in), and the dummy job.
 */
export function claimCandidates(view: ChainView, state: MinerState, me: Address): bigint[] {
  const out: bigint[] = [];
  for (const job of view.jobs.values()) {
    if (job.jobId === 0n) out.push(0n);
    else if (
      job.status !== "open" &&
      !view.claims.has(claimKey(job.jobId, me)) &&
      state.done[doneKey.claim(job.jobId)] === undefined
    )
      out.push(job.jobId);
  }
  return out;
}

/** The header this miner may build now for a stage, with the pair, the candidates and the rank clock. */
function headerPlan(
  input: DutyInput,
  st: StageView,
  job: JobView,
): { pair: Pair; resultKey: string; candidates: Address[]; from: bigint } | undefined {
  const { view, state, blockNumber, now } = input;
  const me = lower(input.me);
  if (st.parentHash === undefined || st.seed === undefined) return undefined;
  if (st.header !== undefined || st.wrappedBlock !== undefined || st.barredBuilders.has(me)) return undefined;
  if (state.done[doneKey.header(st.jobId, st.stage)] !== undefined) return undefined;
  const prev = st.stage === 1 ? undefined : view.stages.get(skey(st.jobId, st.stage - 1));
  const prevWrapped = st.stage === 1 || prev?.wrappedBlock !== undefined || prev === undefined;
  if (!prevWrapped) return undefined;
  const key = resultKey(st.jobId, st.stage, st.parentHash);
  const held = state.results[key];
  const mine = state.declarations[stageKey(st.jobId, st.stage)];
  const onChainMine = st.declarations.get(me);
  const notBarred = (a: Address) => !st.barredBuilders.has(lower(a));
  const declarersOf = (result: Hex) =>
    [...st.declarations.values()].filter((d) => same(d.resultHash, result) && notBarred(d.declarer));
  const max = (...xs: (bigint | undefined)[]) =>
    xs.reduce<bigint>((a, b) => (b !== undefined && b > a ? b : a), 0n);

  if (st.decided !== undefined) {
    // A jury decided: any staker holding the decided result builds with the decided pair.
    if (held === undefined || !samePair({ result: held.resultHash, rho: held.rho }, st.decided))
      return undefined;
    const voters = new Set<string>();
    for (const r of st.rounds.values())
      for (const [juror, v] of r.votes) if (samePair(v, st.decided)) voters.add(juror);
    const candidates = [
      ...declarersOf(st.decided.result).map((d) => d.declarer),
      ...[...voters]
        .filter((v) => !st.declarations.has(v) && !st.barredBuilders.has(v))
        .map((v) => v as Address),
    ];
    return { pair: st.decided, resultKey: key, candidates, from: max(st.decidedBlock, prev?.wrappedBlock) };
  }
  if (st.juryReason !== undefined) return undefined; // at the jury
  if (mine === undefined || onChainMine === undefined || !same(onChainMine.resultHash, mine.resultHash))
    return undefined;
  const minePair = { result: mine.resultHash, rho: mine.rho };
  if (st.voided !== undefined) {
    // A voided header's pair: its other declarants rebuild on it (C openings still needed).
    if (!samePair(minePair, st.voided)) return undefined;
    const candidates = declarersOf(st.voided.result).map((d) => d.declarer);
    return { pair: st.voided, resultKey: key, candidates, from: max(st.voidedBlock, prev?.wrappedBlock) };
  }
  const winner = winningResult(st);
  if (winner === undefined || !same(winner, mine.resultHash)) return undefined;
  if (st.declarations.size < job.c || !declarationsClosed(st, blockNumber, now)) return undefined;
  const candidates = declarersOf(winner).map((d) => d.declarer);
  return { pair: minePair, resultKey: key, candidates, from: max(st.closeBlock, prev?.wrappedBlock) };
}

/** Jury duties of one stage (request, draw, commit, reveal, redraw, juror slashes). */
function juryDuties(input: DutyInput, st: StageView, live: boolean, push: (d: Duty) => void): void {
  const { state, blockNumber, now } = input;
  const me = lower(input.me);
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
    if (closed && isDisputed(st) && !st.contested && st.declarations.has(me)) {
      push({ kind: "request-jury", jobId, stage, reason: "disputed" });
    } else if (input.headerTimeoutSeconds !== undefined) {
      // stalled: no header headerTimeoutSeconds after the deadline, or after the void nobody rebuilt
      const since = st.voided !== undefined ? input.voidedAt?.get(skey(jobId, stage)) : st.deadline;
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

  // ---- our seats: commit within the commit window, reveal in the reveal window (also after a decision:
  // a seat that never reveals is slashed as absent). Both windows are checked for the latest block (where
  // the transaction is simulated) and the next one (where it lands).
  for (const r of st.rounds.values()) {
    if (!live || r.seats === undefined || r.commitEnd === undefined || r.revealEnd === undefined) continue;
    if (!r.seats.some((s) => lower(s) === me)) continue;
    const vote = state.votes[voteKey(jobId, stage, r.round)];
    const committed = r.commits.has(me) || vote?.commitStatus === "confirmed";
    const revealed = r.votes.has(me) || vote?.status === "confirmed";
    if (
      !committed &&
      st.decided === undefined &&
      blockNumber + 1n <= r.commitEnd &&
      st.parentHash !== undefined
    ) {
      const held = heldResult(state, jobId, stage, st.parentHash);
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

  // ---- slash jurors of finished rounds: absent (no reveal), or revealed against the decision
  for (const r of st.rounds.values()) {
    if (r.seats === undefined || r.revealEnd === undefined || blockNumber <= r.revealEnd) continue;
    for (const juror of juryMembers(r)) {
      if (lower(juror) === me) continue;
      if (state.done[doneKey.slashJuror(jobId, stage, r.round, juror)] !== undefined) continue;
      const v = r.votes.get(lower(juror));
      const wrong = v !== undefined && st.decided !== undefined && !samePair(v, st.decided);
      if (v === undefined || wrong) push({ kind: "slash-juror", jobId, stage, round: r.round, juror });
    }
  }
}

/** The distinct seat holders of a drawn round, in seat order. */
export function juryMembers(r: JuryRound): Address[] {
  const seen = new Set<string>();
  return (r.seats ?? []).filter((s) => !seen.has(lower(s)) && seen.add(lower(s)) !== undefined);
}

/** The duties to perform now. Pure. */
export function computeDuties(input: DutyInput): Duty[] {
  const { view, state, blockNumber, now } = input;
  const me = lower(input.me);
  const duties: Duty[] = [];
  const proposed = new Set<string>();
  const push = (d: Duty) => {
    const id = dutyId(d);
    if (input.inFlight.has(id) || proposed.has(id)) return;
    proposed.add(id);
    duties.push(d);
  };
  let bondRoom = input.bondRoom ?? Number.POSITIVE_INFINITY;
  const busyEmployer = employerJobOpen(view, now, input.accepts);
  const trainable = (job: JobView): boolean => {
    if (job.status !== "open" || job.deadline <= now) return false;
    if (!input.accepts(job)) return false;
    return job.jobId !== 0n || !busyEmployer;
  };

  for (const st of view.stages.values()) {
    const job = view.jobs.get(st.jobId.toString());
    if (job === undefined) continue;
    const key = stageKey(st.jobId, st.stage);
    const mine = state.declarations[key];
    const onChainMine = st.declarations.get(me);
    const live = job.status === "open" && job.deadline > now;

    // ---- train / declare an open stage
    if (live && acceptsDeclarations(st, blockNumber, now) && onChainMine === undefined) {
      const parentHash = st.parentHash!;
      const seed = st.seed!;
      // our faulty declaration two stages back, unslashed, blocks this one (UnsettledDeclaration)
      const back = view.stages.get(skey(st.jobId, st.stage - 2));
      const blocked = back?.wrapped?.faulty.some((a) => lower(a) === me) === true && unsettled(back, me);
      const declare = () => {
        if (blocked || bondRoom <= 0) return;
        bondRoom--;
        push({
          kind: "declare",
          jobId: st.jobId,
          stage: st.stage,
          parentHash,
          seed,
          resultKey: resultKey(st.jobId, st.stage, parentHash),
        });
      };
      if (mine !== undefined) {
        // Prepared or sent but not seen on-chain: (re)send the same opening; the agent checks the chain first.
        if (mine.status !== "confirmed" && same(mine.parentHash, parentHash) && same(mine.seed, seed))
          declare();
      } else if (trainable(job)) {
        if (heldResult(state, st.jobId, st.stage, parentHash) === undefined) {
          push({
            kind: "train",
            jobId: st.jobId,
            stage: st.stage,
            parentHash,
            speculative: false,
            reason: "stage-open",
          });
        } else declare();
      }
    }

    // ---- pipelining: train the next stages from my own results before they open
    if (
      input.speculationDepth > 0 &&
      live &&
      st.jobId !== 0n &&
      st.parentHash !== undefined &&
      st.stage < job.numStages &&
      trainable(job)
    ) {
      let own = heldResult(state, st.jobId, st.stage, st.parentHash);
      const next = view.stages.get(skey(st.jobId, st.stage + 1));
      const nextOpened = next?.parentHash !== undefined;
      const lost = st.header !== undefined && !same(st.header.header.result, own?.resultHash);
      if (own !== undefined && !nextOpened && !lost) {
        // Walk my own chain of results s+1, s+2, ... and train the first missing link, within the depth.
        const last = Math.min(job.numStages, st.stage + input.speculationDepth);
        for (let stage = st.stage + 1; stage <= last && own !== undefined; stage++) {
          const ahead: ResultRecord | undefined = heldResult(state, st.jobId, stage, own.resultHash);
          if (ahead === undefined) {
            push({
              kind: "train",
              jobId: st.jobId,
              stage,
              parentHash: own.resultHash,
              speculative: true,
              reason: "pipeline",
            });
          }
          own = ahead;
        }
      }
    }

    // ---- jury
    juryDuties(input, st, live, push);

    // ---- header
    if (live) {
      const plan = headerPlan(input, st, job);
      if (plan !== undefined) {
        const order = builderOrder(st.jobId, st.stage, plan.candidates);
        const index = order.findIndex((a) => lower(a) === me);
        const rank = BigInt(index < 0 ? order.length : index);
        if (blockNumber >= plan.from + rank * input.builderGraceBlocks)
          push({
            kind: "header",
            jobId: st.jobId,
            stage: st.stage,
            pair: plan.pair,
            resultKey: plan.resultKey,
          });
      }
    }

    // ---- PoA committee: attest, then wrap (seats drawn with replacement; the builder holds none)
    if (st.header !== undefined && st.wrappedBlock === undefined && job.status === "open") {
      const committee = input.committees.get(key);
      if (committee !== undefined && committee.members.some((m) => lower(m) === me)) {
        const attested = st.attested.get(committee.round) ?? new Set<string>();
        const othersDone = committee.members.every((m) => lower(m) === me || attested.has(lower(m)));
        if (othersDone) {
          if (state.done[doneKey.wrap(st.jobId, st.stage, committee.round)] === undefined)
            push({
              kind: "wrap",
              jobId: st.jobId,
              stage: st.stage,
              round: committee.round,
              seats: committee.members,
            });
        } else if (
          !attested.has(me) &&
          state.done[doneKey.attest(st.jobId, st.stage, committee.round)] === undefined
        ) {
          push({ kind: "attest", jobId: st.jobId, stage: st.stage, round: committee.round });
        }
      }
    }

    // ---- rho contest: the header carries our result with another secret (a copied result)
    if (
      live &&
      st.header !== undefined &&
      st.wrappedBlock === undefined &&
      !st.contested &&
      st.decided === undefined &&
      st.juryReason === undefined &&
      mine !== undefined &&
      onChainMine !== undefined &&
      same(onChainMine.resultHash, st.header.header.result) &&
      !same(mine.rho, st.header.header.rho) &&
      state.done[doneKey.contest(st.jobId, st.stage)] === undefined
    ) {
      push({ kind: "contest", jobId: st.jobId, stage: st.stage });
    }

    // ---- slash declarations that do not open against the stage's final pair (anyone; bounty)
    for (const t of slashTargets(st, job, input.domain, state.done))
      push({ kind: "slash", jobId: st.jobId, stage: st.stage, declarer: t.declarer, pair: t.pair });

    // ---- release our own bond of an expired job's unwrapped stage
    if (
      job.status === "expired" &&
      st.wrappedBlock === undefined &&
      onChainMine !== undefined &&
      mine !== undefined &&
      unsettled(st, me) &&
      state.done[doneKey.release(st.jobId, st.stage)] === undefined
    ) {
      const minePair = { result: mine.resultHash, rho: mine.rho };
      if (st.decided === undefined || samePair(minePair, st.decided))
        push({ kind: "release", jobId: st.jobId, stage: st.stage, pair: st.decided ?? minePair });
    }

    // ---- void a header whose PoA rounds all passed without a wrap (anyone may)
    if (
      live &&
      st.header !== undefined &&
      st.wrappedBlock === undefined &&
      input.poaExpiryBlocks !== undefined &&
      poaExpired(st.header, blockNumber, input.poaExpiryBlocks) &&
      state.done[doneKey.void(st.jobId, st.stage, st.header.headerHash)] === undefined
    ) {
      push({ kind: "void", jobId: st.jobId, stage: st.stage, headerHash: st.header.headerHash });
    }
  }

  // ---- claims: once per ended job; the never-ending dummy job when its coinbase is worth a claim
  for (const [id, owed] of input.owed) {
    const job = view.jobs.get(id);
    if (job === undefined || (owed.amount === 0n && owed.coinbase === 0n)) continue;
    const jobId = BigInt(id);
    if (jobId === 0n) {
      if (
        owed.coinbase >= input.dummyClaimMinCoinbase ||
        (owed.amount > 0n && owed.amount >= input.withdrawMinWei)
      )
        push({ kind: "claim", jobId });
    } else if (
      job.status !== "open" &&
      !view.claims.has(claimKey(jobId, input.me)) &&
      state.done[doneKey.claim(jobId)] === undefined
    ) {
      push({ kind: "claim", jobId });
    }
  }

  // ---- drop speculative results the chain made stale
  for (const [key, r] of Object.entries(state.results)) {
    const st = view.stages.get(skey(r.jobId, r.stage));
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

  if (input.claimableWei > 0n && input.claimableWei >= input.withdrawMinWei)
    push({ kind: "withdraw", amount: input.claimableWei });
  return duties;
}
