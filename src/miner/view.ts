/**
 * The miner's view of the chain, folded from the protocol's events (escrow, stages, committee, disputes;
 * src/chain/ledger-events.ts). Applying an event twice (a reorg re-delivers a log at its new position)
 * leaves the view unchanged. Stages long wrapped are pruned (`pruneView`); their late events are ignored.
 * No I/O here.
 */
import type { Address, Hex } from "viem";
import {
  DECLARATION_STATUS,
  FAULT,
  type DeclarationData,
  type EventPosition,
  type HeaderData,
  type LedgerEvent,
} from "../chain/pot-contracts";
import { claimKey, stageKey } from "./duties/keys";
import type { StageOutcome } from "../protocol/outcome";

/** A job as its JobCreated event announced it, and its status since. */
export type JobView = Readonly<
  Omit<Extract<LedgerEvent, { kind: "JobCreated" }>, "kind" | keyof EventPosition>
> & { status: "open" | "finished" | "expired"; endedBlock?: bigint };

/** A declaration as Declared announced it (the `DeclarationData` a header, slash or release lists). */
export interface DeclarationView extends DeclarationData {
  readonly blockNumber: bigint;
}

/** The stage's current header, as HeaderSubmitted carried it. */
export interface HeaderView {
  readonly headerHash: Hex;
  readonly header: HeaderData;
  readonly resultCid: Hex;
  readonly openers: Address[];
  readonly weights: bigint[];
  readonly faulty: Address[];
  readonly randBlock: bigint;
  readonly blockNumber: bigint;
  /** What header.result opens to (OutcomeRevealed, emitted right after the header in its transaction). */
  outcome?: StageOutcome;
}

/** A (result, rho) pair: a jury's decision, a voided header's, a wrapped header's. */
export interface Pair {
  readonly result: Hex;
  readonly rho: Hex;
}

/** One jury round of a stage (PoTDisputes). */
export interface JuryRound {
  readonly round: number;
  readonly randBlock: bigint;
  /** The seats as JuryDrawn listed them (with replacement; pass them back exactly). */
  seats?: Address[];
  commitEnd?: bigint;
  revealEnd?: bigint;
  /** Lower-case jurors who committed this round. */
  commits: Set<string>;
  /** Lower-case juror -> the pair revealed this round. */
  votes: Map<string, Pair>;
}

export interface StageView {
  readonly jobId: bigint;
  readonly stage: number;
  /** Set by StageOpened. */
  parentHash?: Hex;
  seed?: Hex;
  deadline?: bigint;
  /** Declarations never close before this timestamp (StageOpened). */
  notBefore?: bigint;
  openedBlock?: bigint;
  /** Lower-case declarer -> declaration. */
  declarations: Map<string, DeclarationView>;
  /** Block at which declarations close (DeclarationsClosing, at the C-th declaration). */
  closeBlock?: bigint;
  header?: HeaderView;
  /** PoTStages sent the stage to the jury (JURY_REASON key); cleared by StageDecided. */
  juryReason?: number;
  /** Jury rounds by number (PoTDisputes' JuryRequested .. JuryVoted). */
  rounds: Map<number, JuryRound>;
  /** The jury's decision (StageDecided) and the block it landed in. */
  decided?: Pair;
  decidedBlock?: bigint;
  /** The pair of the last voided header (its stage may be rebuilt on it by another builder). */
  voided?: Pair;
  voidedBlock?: bigint;
  /** Lower-case builders whose header was voided (barred from building this stage again). */
  barredBuilders: Set<string>;
  /** Lower-case declarers whose declaration left the bond: slashed or released (or settled at a wrap). */
  settled: Map<string, number>;
  /** Round -> lower-case members who attested by transaction. */
  attested: Map<number, Set<string>>;
  /** The wrapped header (BlockWrapped): its pair is the stage's final one, its faulty list slashable. */
  wrapped?: HeaderView;
  wrappedBlock?: bigint;
  /** A declarant contested the header's rho: the stage went to the jury. */
  contested?: boolean;
}

export interface ChainView {
  jobs: Map<string, JobView>;
  stages: Map<string, StageView>;
  /** Wrapped blocks seen (the global chain's length). */
  wrappedCount: number;
  /** Lower-case `${jobId}:${account}` pairs that were claimed (Claimed). */
  claims: Set<string>;
  /** Job id -> stages below this one were pruned: events about them are ignored. */
  prunedBelow: Map<string, number>;
}

/** The key of `view.stages` (duties/keys.ts `stageKey`). */
export const skey = stageKey;
export { claimKey };

export function emptyView(): ChainView {
  return { jobs: new Map(), stages: new Map(), wrappedCount: 0, claims: new Set(), prunedBelow: new Map() };
}

/** The stage's record, created on first mention (undefined for a pruned stage). */
export function stageOf(view: ChainView, jobId: bigint, stage: number): StageView | undefined {
  if (stage < (view.prunedBelow.get(jobId.toString()) ?? 0)) return undefined;
  const key = skey(jobId, stage);
  let st = view.stages.get(key);
  if (st === undefined) {
    st = {
      jobId,
      stage,
      declarations: new Map(),
      rounds: new Map(),
      barredBuilders: new Set(),
      settled: new Map(),
      attested: new Map(),
    };
    view.stages.set(key, st);
  }
  return st;
}

/** Whether the stage's declarations name more than one result (or a declarant contested the header). */
export function isDisputed(st: StageView): boolean {
  if (st.contested) return true;
  const results = new Set([...st.declarations.values()].map((d) => d.resultHash.toLowerCase()));
  return results.size > 1;
}

/** The current (highest) jury round of the stage, if any. */
export function currentRound(st: StageView): JuryRound | undefined {
  let top: JuryRound | undefined;
  for (const r of st.rounds.values()) if (top === undefined || r.round > top.round) top = r;
  return top;
}

/** The `DeclarationData` of a declaration view (what the contracts take back). */
export function declarationData(d: DeclarationView): DeclarationData {
  return {
    declarer: d.declarer,
    resultHash: d.resultHash,
    commitment: d.commitment,
    rand: d.rand,
    timestamp: d.timestamp,
  };
}

function headerView(e: Extract<LedgerEvent, { kind: "HeaderSubmitted" }>): HeaderView {
  return {
    headerHash: e.headerHash,
    header: e.header,
    resultCid: e.resultCid,
    openers: e.openers,
    weights: e.weights,
    faulty: e.faulty,
    randBlock: e.randBlock,
    blockNumber: e.blockNumber,
  };
}

const sameHex = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** Folds one event into the view (idempotent). */
export function applyEvent(view: ChainView, e: LedgerEvent): void {
  switch (e.kind) {
    case "JobCreated":
      if (!view.jobs.has(e.jobId.toString())) {
        const { kind: _k, blockNumber: _b, logIndex: _l, blockHash: _h, txHash: _t, ...terms } = e;
        view.jobs.set(e.jobId.toString(), { ...terms, status: "open" });
      }
      return;
    case "StageOpened": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st === undefined) return;
      st.parentHash = e.parentHash;
      st.seed = e.seed;
      st.deadline = e.deadline;
      st.notBefore = e.notBefore;
      st.openedBlock = e.blockNumber;
      return;
    }
    case "Declared":
      stageOf(view, e.jobId, e.stage)?.declarations.set(e.declarer.toLowerCase(), {
        declarer: e.declarer,
        resultHash: e.resultHash,
        commitment: e.commitment,
        rand: e.rand,
        timestamp: e.timestamp,
        blockNumber: e.blockNumber,
      });
      return;
    case "DeclarationsClosing": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st !== undefined && (st.closeBlock === undefined || e.closeBlock < st.closeBlock))
        st.closeBlock = e.closeBlock;
      return;
    }
    case "HeaderSubmitted": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st === undefined || st.wrapped !== undefined) return;
      st.header = headerView(e);
      st.attested.clear();
      return;
    }
    case "OutcomeRevealed": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st?.header !== undefined && sameHex(st.header.header.result, e.resultHash))
        st.header.outcome = e.outcome;
      return;
    }
    case "Attested": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st === undefined) return;
      let set = st.attested.get(e.round);
      if (set === undefined) st.attested.set(e.round, (set = new Set()));
      set.add(e.member.toLowerCase());
      return;
    }
    case "BlockWrapped": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st === undefined || st.wrappedBlock !== undefined) return;
      st.wrappedBlock = e.blockNumber;
      if (st.header !== undefined && sameHex(st.header.headerHash, e.headerHash)) st.wrapped = st.header;
      view.wrappedCount = Math.max(view.wrappedCount, Number(e.index) + 1);
      return;
    }
    case "HeaderVoided": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st === undefined) return;
      st.barredBuilders.add(e.builder.toLowerCase());
      if (st.header !== undefined && sameHex(st.header.headerHash, e.headerHash)) {
        st.voided = { result: st.header.header.result, rho: st.header.header.rho };
        st.voidedBlock = e.blockNumber;
        st.header = undefined;
        st.attested.clear();
      }
      return;
    }
    case "HeaderContested": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st !== undefined && st.header !== undefined && sameHex(st.header.headerHash, e.headerHash)) {
        st.contested = true;
        st.barredBuilders.add(st.header.header.builder.toLowerCase());
        st.header = undefined;
        st.attested.clear();
      }
      return;
    }
    case "StageToJury": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st !== undefined && st.decided === undefined) st.juryReason = e.reason;
      return;
    }
    case "StageDecided": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st === undefined) return;
      st.decided = { result: e.resultHash, rho: e.rho };
      st.decidedBlock ??= e.blockNumber;
      return;
    }
    case "DeclarationSettled":
      stageOf(view, e.jobId, e.stage)?.settled.set(e.declarer.toLowerCase(), e.status);
      return;
    case "Slashed":
      if (e.fault === FAULT.declaration)
        stageOf(view, e.jobId, e.stage)?.settled.set(e.staker.toLowerCase(), DECLARATION_STATUS.slashed);
      return;
    case "JobFinished":
    case "JobExpired": {
      const job = view.jobs.get(e.jobId.toString());
      if (job) {
        job.status = e.kind === "JobFinished" ? "finished" : "expired";
        job.endedBlock ??= e.blockNumber;
      }
      return;
    }
    case "Claimed":
      view.claims.add(claimKey(e.jobId, e.account));
      return;
    case "JuryRequested": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st !== undefined && !st.rounds.has(e.round))
        st.rounds.set(e.round, {
          round: e.round,
          randBlock: e.randBlock,
          commits: new Set(),
          votes: new Map(),
        });
      return;
    }
    case "JuryDrawn": {
      const r = stageOf(view, e.jobId, e.stage)?.rounds.get(e.round);
      if (r !== undefined) {
        r.seats = e.seats;
        r.commitEnd = e.commitEnd;
        r.revealEnd = e.revealEnd;
      }
      return;
    }
    case "JuryCommitted":
      stageOf(view, e.jobId, e.stage)?.rounds.get(e.round)?.commits.add(e.juror.toLowerCase());
      return;
    case "JuryVoted":
      stageOf(view, e.jobId, e.stage)
        ?.rounds.get(e.round)
        ?.votes.set(e.juror.toLowerCase(), { result: e.resultHash, rho: e.rho });
      return;
    default:
      // StagePaid, Refunded, Swept, Withdrawn, JuryDecided (StageDecided carries the decision)
      return;
  }
}

/** Stages kept below a job's newest wrapped stage before older wrapped, settled ones are pruned. */
export const RETAINED_WRAPPED_STAGES = 3;

/**
 * Forgets stages that need nothing more from anyone: wrapped, with every faulty declaration settled, and
 * at least `keep` stages below the job's newest wrapped stage (the dummy job never ends; without this its
 * view would grow by a stage a minute forever). Returns how many stages it pruned; their keys are appended
 * to `pruned` (the state forgets their records: `pruneState`).
 */
export function pruneView(view: ChainView, keep = RETAINED_WRAPPED_STAGES, pruned: string[] = []): number {
  const newest = new Map<string, number>();
  for (const st of view.stages.values()) {
    if (st.wrappedBlock === undefined) continue;
    const id = st.jobId.toString();
    newest.set(id, Math.max(newest.get(id) ?? 0, st.stage));
  }
  const before = pruned.length;
  for (const [key, st] of view.stages) {
    const id = st.jobId.toString();
    const top = newest.get(id);
    if (top === undefined || st.stage > top - keep || st.wrappedBlock === undefined) continue;
    const faultyOpen = (st.wrapped?.faulty ?? []).some(
      (a) => (st.settled.get(a.toLowerCase()) ?? 0) < DECLARATION_STATUS.slashed,
    );
    if (faultyOpen) continue;
    view.stages.delete(key);
    pruned.push(key);
  }
  // the watermark: below it every stage is pruned (each was wrapped), so late events about them are ignored
  for (const [id, top] of newest) {
    let below = Math.max(1, view.prunedBelow.get(id) ?? 1);
    while (below <= top - keep && !view.stages.has(skey(id, below))) below++;
    view.prunedBelow.set(id, below);
  }
  return pruned.length - before;
}

/**
 * Forgets every stage of an ended job (the agent calls it once the job owes this miner nothing more and no
 * duty of it is left); late events about it are ignored. Appends the pruned keys to `pruned`.
 */
export function pruneJob(view: ChainView, jobId: string, pruned: string[] = []): void {
  for (const [key, st] of view.stages)
    if (st.jobId.toString() === jobId) {
      view.stages.delete(key);
      pruned.push(key);
    }
  view.prunedBelow.set(jobId, Number.MAX_SAFE_INTEGER);
}
