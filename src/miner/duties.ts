/**
 * The miner's decisions, as a pure function: given the chain view, the miner's persisted state and a few
 * facts read this tick (head block, committees), the list of duties to perform now. No I/O: the agent
 * (agent.ts) executes the duties and feeds the results back through the state and the view.
 *
 * Rules (docs/miner.md explains them to operators):
 * - train a stage that is open for declarations, from the parent the chain fixed, when the policy accepts
 *   the job and no result is held; declare it when a result is held and no declaration exists (locally
 *   or on-chain): a stage is never declared twice;
 * - pipelining: holding its own result for an open stage s, train s+1 from it before s+1 opens, then s+2
 *   from its own S_{s+2}, and so on up to `speculationDepth` stages past the newest open stage; once the
 *   chain opens a stage from another parent, the speculative results built on it are dropped;
 * - build the header of a closed, undisputed (or jury-decided) stage whose predecessor is wrapped, when
 *   this miner declared the winning result; declarants take turns by a deterministic rank, each waiting
 *   `builderGraceBlocks` more than the previous one, so usually exactly one builds;
 * - as a member of the current PoA committee: attest after checking S_{i+1}; wrap once every other
 *   member attested this round;
 * - claim a share the header did not open; request, draw and vote in juries; withdraw rewards;
 * - slash every other declaration of a settled stage that does not open against the settled (result, rho)
 *   (anyone may; the reporter earns the slash bounty), once per declaration;
 * - void a header whose PoA rounds all expired without a wrap (anyone may), once per header.
 */
import { keccak256, toBytes, type Address, type Hex } from "viem";
import type { Committee, Settlement } from "../chain/pot-contracts";
import { commitmentHash } from "../protocol/messages";
import { resultKey, stageKey, type MinerState, type ResultRecord } from "./state";
import {
  isDisputed,
  skey,
  type ChainView,
  type DeclarationView,
  type HeaderView,
  type JobView,
  type StageView,
} from "./view";

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
  | { kind: "declare"; jobId: bigint; stage: number; parentHash: Hex; resultKey: string }
  | { kind: "header"; jobId: bigint; stage: number; resultHash: Hex }
  | { kind: "attest"; jobId: bigint; stage: number; round: number }
  | { kind: "wrap"; jobId: bigint; stage: number; round: number; members: Address[] }
  /**
   * Claim shares of a wrapped stage: `declaration` (our declaration's share; it also frees our
   * declaration slot, which stage + 2 of the job reuses, so it is protocol work) or `rewards` (the
   * builder and committee shares: bookkeeping that may wait).
   */
  | { kind: "claim"; jobId: bigint; stage: number; share: "declaration" | "rewards" }
  | { kind: "contest"; jobId: bigint; stage: number }
  | { kind: "request-jury"; jobId: bigint; stage: number }
  | { kind: "draw-jury"; jobId: bigint; stage: number }
  | { kind: "vote"; jobId: bigint; stage: number; round: number; resultKey: string }
  | { kind: "slash"; jobId: bigint; stage: number; declarer: Address }
  | { kind: "void"; jobId: bigint; stage: number; headerHash: Hex }
  | { kind: "withdraw"; amount: bigint };

export interface DutyInput {
  readonly view: ChainView;
  readonly state: MinerState;
  readonly me: Address;
  /** Head block number and its timestamp. */
  readonly blockNumber: bigint;
  readonly now: bigint;
  /** Current committees of headered, unwrapped stages (key `${jobId}:${stage}`), as committeeOf returned. */
  readonly committees: ReadonlyMap<string, Committee>;
  /** Whether the policy accepts training the job (the dummy job included). */
  readonly accepts: (job: JobView) => boolean;
  /**
   * Pipelining: how many stages past the newest stage the chain opened this miner trains ahead from its
   * own results (0: none). Deeper speculation keeps the CPU busy while the chain needs longer than a
   * stage's training to finalize a stage; each level costs one stored state, dropped if the chain disagrees.
   */
  readonly speculationDepth: number;
  /** Blocks each builder rank waits after the previous one. */
  readonly builderGraceBlocks: bigint;
  /** Claimable wei on the ledger, and the least worth a withdrawal. */
  readonly claimableWei: bigint;
  readonly withdrawMinWei: bigint;
  /** Duty ids already in progress (see dutyId), skipped. */
  readonly inFlight: ReadonlySet<string>;
  /** The protocol domain (ledger's domainSeparator): needed to recompute commitments; no slashing without it. */
  readonly domain?: Hex;
  /** poaMaxRounds * poaWindowBlocks of the ledger: a header may be voided after randBlock + this; no voiding without it. */
  readonly poaExpiryBlocks?: bigint;
}

/** A stable id of a duty, to avoid running it twice concurrently. */
export function dutyId(d: Duty): string {
  switch (d.kind) {
    case "train":
      return `train:${d.jobId}:${d.stage}:${d.parentHash.toLowerCase()}`;
    case "drop":
      return `drop:${d.key}`;
    case "withdraw":
      return "withdraw";
    case "slash":
      return slashDoneKey(d.jobId, d.stage, d.declarer);
    case "void":
      return voidDoneKey(d.jobId, d.stage, d.headerHash);
    case "claim":
      return `claim:${d.jobId}:${d.stage}:${d.share}`;
    case "attest":
    case "wrap":
    case "vote":
      return `${d.kind}:${d.jobId}:${d.stage}:${d.round}`;
    default:
      return `${d.kind}:${d.jobId}:${d.stage}`;
  }
}

const lower = (a: string) => a.toLowerCase();

/** The `state.done` key (and duty id) of the slash of `declarer`'s declaration of (jobId, stage). */
export function slashDoneKey(jobId: bigint, stage: number, declarer: Address): string {
  return `slash:${jobId}:${stage}:${lower(declarer)}`;
}

/** The `state.done` key (and duty id) of voiding one header (a later header of the stage is another one). */
export function voidDoneKey(jobId: bigint, stage: number, headerHash: Hex): string {
  return `void:${jobId}:${stage}:${lower(headerHash)}`;
}

/** Memo of the commitment check (declarations are immutable; the settlement's rho is fixed per stage). */
const opensMemo = new WeakMap<DeclarationView, { key: string; opens: boolean }>();

/**
 * Whether a declaration of a settled stage is provably wrong, as `slashDeclaration` decides it: its result
 * differs from the settled one, or its commitment does not open against the settled rho.
 */
export function provablyWrong(
  domain: Hex,
  jobId: bigint,
  stage: number,
  s: Pick<Settlement, "result" | "rho">,
  d: DeclarationView,
): boolean {
  if (lower(d.resultHash) !== lower(s.result)) return true;
  const key = `${lower(domain)}:${lower(s.rho)}`;
  const memo = opensMemo.get(d);
  if (memo !== undefined && memo.key === key) return !memo.opens;
  const opens =
    lower(commitmentHash({ domain, rho: s.rho, rand: d.rand, declarer: d.declarer, jobId, stage })) ===
    lower(d.commitment);
  opensMemo.set(d, { key, opens });
  return !opens;
}

/**
 * The declarers of a settled stage to slash now: provably wrong (see provablyWrong), not ours, not slashed
 * already (a Slashed event), and not reported before by this miner (`done`, including a benign revert).
 */
export function slashTargets(
  st: StageView,
  domain: Hex,
  me: Address,
  done: Readonly<Record<string, string>>,
): Address[] {
  const s = st.settlement;
  if (s === undefined) return [];
  const out: Address[] = [];
  for (const [declarer, d] of st.declarations) {
    if (declarer === lower(me) || st.slashedDeclarers.has(declarer)) continue;
    if (done[slashDoneKey(st.jobId, st.stage, d.declarer)] !== undefined) continue;
    if (provablyWrong(domain, st.jobId, st.stage, s, d)) out.push(d.declarer);
  }
  return out;
}

/** Whether a header's PoA expired at `blockNumber` (the ledger's voidHeader condition). */
export function poaExpired(
  header: Pick<HeaderView, "randBlock">,
  blockNumber: bigint,
  expiryBlocks: bigint,
): boolean {
  return blockNumber > header.randBlock + expiryBlocks;
}

/** Slash reverts meaning the declaration is no longer slashable (settled, slashed, slot reused): benign. */
export function slashNoLongerNeeded(revert: string | undefined): boolean {
  return revert === "NotDeclared" || revert === "DeclarationMismatch" || revert === "NotAFault";
}

/** voidHeader reverts meaning there is nothing to void any more (voided or wrapped first, job over): benign. */
export function voidNoLongerNeeded(revert: string | undefined): boolean {
  return revert === "WrongPhase" || revert === "JobNotOpen" || revert === "UnknownJob";
}

/** Whether the stage accepts declarations at `blockNumber`. */
export function acceptsDeclarations(st: StageView, blockNumber: bigint, now: bigint): boolean {
  if (
    st.parentHash === undefined ||
    st.header !== undefined ||
    st.wrappedBlock !== undefined ||
    st.jury !== undefined
  )
    return false;
  if (st.decidedResult !== undefined) return false;
  if (st.closeBlock !== undefined && blockNumber + 1n >= st.closeBlock) return false;
  if (isDisputed(st) && st.deadline !== undefined && now >= st.deadline) return false;
  return true;
}

/** Whether the stage's declarations are closed (as the ledger decides it for the next block). */
export function declarationsClosed(st: StageView, blockNumber: bigint, now: bigint): boolean {
  if (st.closeBlock !== undefined && blockNumber + 1n >= st.closeBlock) return true;
  return isDisputed(st) && st.deadline !== undefined && now >= st.deadline;
}

/** The ledger's stage phases (PoTLedger PHASE_*), as `stagePhase` returns them. */
export const STAGE_PHASE = { none: 0, open: 1, jury: 2, decided: 3, headered: 4, wrapped: 5 } as const;

/**
 * Whether a header may still be sent for a stage the ledger shows in `phase` at the latest block: only an
 * open (declarations closed) or jury-decided stage takes one. The agent checks this right before sending,
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

/** The order in which the declarants of the winning result may build the header (rank 0 first). */
export function builderOrder(jobId: bigint, stage: number, declarers: readonly Address[]): Address[] {
  const rank = (a: Address) => BigInt(keccak256(toBytes(`pot-builder:${jobId}:${stage}:${lower(a)}`)));
  return [...declarers].sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0));
}

/** The result the header of a closed stage must carry: the jury's decision, else the (undisputed) lead. */
export function winningResult(st: StageView): Hex | undefined {
  if (st.decidedResult !== undefined) return st.decidedResult;
  if (isDisputed(st)) return undefined;
  return st.leadResult ?? [...st.declarations.values()][0]?.resultHash;
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

/** The duties to perform now. Pure. */
export function computeDuties(input: DutyInput): Duty[] {
  const { view, state, blockNumber, now } = input;
  const me = lower(input.me);
  const duties: Duty[] = [];
  const push = (d: Duty) => {
    if (!input.inFlight.has(dutyId(d))) duties.push(d);
  };
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
    if (
      live &&
      st.parentHash !== undefined &&
      acceptsDeclarations(st, blockNumber, now) &&
      onChainMine === undefined
    ) {
      if (mine !== undefined) {
        // Prepared or sent but not seen on-chain: (re)send the same opening; the agent checks the chain first.
        if (mine.status !== "confirmed" && lower(mine.parentHash) === lower(st.parentHash)) {
          push({
            kind: "declare",
            jobId: st.jobId,
            stage: st.stage,
            parentHash: st.parentHash,
            resultKey: resultKey(st.jobId, st.stage, st.parentHash),
          });
        }
      } else if (trainable(job)) {
        const held = heldResult(state, st.jobId, st.stage, st.parentHash);
        if (held === undefined) {
          push({
            kind: "train",
            jobId: st.jobId,
            stage: st.stage,
            parentHash: st.parentHash,
            speculative: false,
            reason: "stage-open",
          });
        } else {
          push({
            kind: "declare",
            jobId: st.jobId,
            stage: st.stage,
            parentHash: st.parentHash,
            resultKey: resultKey(st.jobId, st.stage, st.parentHash),
          });
        }
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
      const lost = st.header !== undefined && lower(st.header.resultHash) !== lower(own?.resultHash ?? "0x");
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
    if (
      live &&
      st.parentHash !== undefined &&
      st.header === undefined &&
      st.decidedResult === undefined &&
      isDisputed(st)
    ) {
      const declared = onChainMine !== undefined;
      if (st.jury === undefined) {
        if (declared && !st.contested && declarationsClosed(st, blockNumber, now))
          push({ kind: "request-jury", jobId: st.jobId, stage: st.stage });
      } else if (st.jury.jurors === undefined) {
        if (declared && blockNumber > st.jury.randBlock)
          push({ kind: "draw-jury", jobId: st.jobId, stage: st.stage });
      } else if (st.jury.jurors.some((j) => lower(j) === me) && !st.jury.votes.has(me)) {
        const voteKey = `${key}:${st.jury.round}`;
        const vote = state.votes[voteKey];
        // Commit-reveal: commit while no vote is revealed yet; once committed, reveal when more than
        // half the jurors have committed (the jury refuses reveals before, and commitments after the
        // first reveal).
        const commits = st.jury.commits;
        const committed = commits?.has(me) === true || vote?.commitStatus === "confirmed";
        const actionable = committed
          ? (commits?.size ?? 0) * 2 > st.jury.jurors.length
          : st.jury.votes.size === 0;
        if ((vote === undefined || vote.status !== "confirmed") && actionable) {
          const held = heldResult(state, st.jobId, st.stage, st.parentHash);
          if (held === undefined) {
            push({
              kind: "train",
              jobId: st.jobId,
              stage: st.stage,
              parentHash: st.parentHash,
              speculative: false,
              reason: "jury",
            });
          } else {
            push({
              kind: "vote",
              jobId: st.jobId,
              stage: st.stage,
              round: st.jury.round,
              resultKey: resultKey(st.jobId, st.stage, st.parentHash),
            });
          }
        }
      }
    }

    // ---- header
    const winner = winningResult(st);
    if (
      live &&
      st.header === undefined &&
      st.wrappedBlock === undefined &&
      winner !== undefined &&
      (st.decidedResult !== undefined || declarationsClosed(st, blockNumber, now)) &&
      onChainMine !== undefined &&
      lower(onChainMine.resultHash) === lower(winner) &&
      mine !== undefined &&
      lower(mine.resultHash) === lower(winner) &&
      (st.decidedRho === undefined || lower(st.decidedRho) === lower(mine.rho)) &&
      !st.voidedBuilders.has(me) &&
      state.done[`header:${key}`] === undefined
    ) {
      const prev = st.stage === 1 ? undefined : view.stages.get(skey(st.jobId, st.stage - 1));
      const prevWrapped = st.stage === 1 || prev?.wrappedBlock !== undefined;
      if (prevWrapped) {
        const agreeing = [...st.declarations.values()].filter(
          (d) => lower(d.resultHash) === lower(winner) && !st.voidedBuilders.has(lower(d.declarer)),
        );
        const order = builderOrder(
          st.jobId,
          st.stage,
          agreeing.map((d) => d.declarer),
        );
        const rank = BigInt(
          Math.max(
            0,
            order.findIndex((a) => lower(a) === me),
          ),
        );
        const from = [st.closeBlock ?? 0n, prev?.wrappedBlock ?? 0n].reduce((a, b) => (a > b ? a : b));
        if (blockNumber >= from + rank * input.builderGraceBlocks)
          push({ kind: "header", jobId: st.jobId, stage: st.stage, resultHash: winner });
      }
    }

    // ---- PoA committee: attest, then wrap
    if (live && st.header !== undefined && st.wrappedBlock === undefined) {
      const committee = input.committees.get(key);
      if (committee !== undefined && committee.members.some((m) => lower(m) === me)) {
        const attested = st.attested.get(committee.round) ?? new Set<string>();
        const others = committee.members.filter((m) => lower(m) !== me);
        const othersDone = others.every((m) => attested.has(lower(m)));
        if (othersDone) {
          if (state.done[`wrap:${key}:${committee.round}`] === undefined) {
            push({
              kind: "wrap",
              jobId: st.jobId,
              stage: st.stage,
              round: committee.round,
              members: committee.members,
            });
          }
        } else if (!attested.has(me) && state.done[`attest:${key}:${committee.round}`] === undefined) {
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
      st.decidedRho === undefined &&
      mine !== undefined &&
      onChainMine !== undefined &&
      lower(onChainMine.resultHash) === lower(st.header.resultHash) &&
      lower(mine.rho) !== lower(st.header.rho) &&
      state.done[`contest:${key}`] === undefined
    ) {
      push({ kind: "contest", jobId: st.jobId, stage: st.stage });
    }

    // ---- claim our shares of a wrapped stage (pull payments: the wrap credits nobody). Our declaration
    // (opened or not) must be claimed before our slot of the same parity is reused two stages later.
    if (st.settlement !== undefined && st.wrappedBlock !== undefined) {
      const s = st.settlement;
      const declPending =
        state.done[`claim:${key}`] === undefined &&
        mine !== undefined &&
        onChainMine !== undefined &&
        lower(mine.resultHash) === lower(s.result) &&
        lower(mine.rho) === lower(s.rho);
      const builderPending = lower(s.builder) === me && state.done[`claimb:${key}`] === undefined;
      const memberPending =
        st.wrapMembers !== undefined &&
        st.wrapMembers.some((a) => lower(a) === me) &&
        state.done[`claima:${key}`] === undefined;
      if (declPending) push({ kind: "claim", jobId: st.jobId, stage: st.stage, share: "declaration" });
      if (builderPending || memberPending)
        push({ kind: "claim", jobId: st.jobId, stage: st.stage, share: "rewards" });
    }

    // ---- slash the provably wrong declarations of a settled stage (anyone may; the reporter earns the bounty)
    if (st.settlement !== undefined && input.domain !== undefined) {
      for (const declarer of slashTargets(st, input.domain, input.me, state.done))
        push({ kind: "slash", jobId: st.jobId, stage: st.stage, declarer });
    }

    // ---- void a header whose PoA rounds all passed without a wrap (anyone may)
    if (
      live &&
      st.header !== undefined &&
      st.wrappedBlock === undefined &&
      input.poaExpiryBlocks !== undefined &&
      poaExpired(st.header, blockNumber, input.poaExpiryBlocks) &&
      state.done[voidDoneKey(st.jobId, st.stage, st.header.headerHash)] === undefined
    ) {
      push({ kind: "void", jobId: st.jobId, stage: st.stage, headerHash: st.header.headerHash });
    }
  }

  // ---- drop speculative results the chain made stale
  for (const [key, r] of Object.entries(state.results)) {
    const st = view.stages.get(skey(r.jobId, r.stage));
    const job = view.jobs.get(r.jobId);
    const declared = state.declarations[stageKey(r.jobId, r.stage)];
    if (declared !== undefined && lower(declared.resultHash) === lower(r.resultHash)) continue;
    if (st?.parentHash !== undefined && lower(st.parentHash) !== lower(r.parentHash)) {
      push({ kind: "drop", key, reason: "the chain opened the stage from another parent" });
    } else if (job !== undefined && job.status !== "open") {
      push({ kind: "drop", key, reason: `the job is ${job.status}` });
    } else if (st?.header !== undefined && lower(st.header.resultHash) !== lower(r.resultHash)) {
      push({ kind: "drop", key, reason: "the stage was finalized with another result" });
    }
  }

  if (input.claimableWei > 0n && input.claimableWei >= input.withdrawMinWei)
    push({ kind: "withdraw", amount: input.claimableWei });
  return duties;
}
