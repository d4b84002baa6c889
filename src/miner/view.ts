/**
 * The miner's view of the chain, folded from the ledger's and jury's events (src/chain/pot-contracts.ts).
 * Applying an event twice (a reorg re-delivers a log at its new position) leaves the view unchanged.
 * No I/O here.
 */
import type { Address, Hex } from "viem";
import {
  committeeOfWrap,
  type EventPosition,
  type LedgerEvent,
  type Settlement,
} from "../chain/pot-contracts";

/** A job as its JobCreated event announced it, and its status since. */
export type JobView = Readonly<
  Omit<Extract<LedgerEvent, { kind: "JobCreated" }>, "kind" | keyof EventPosition>
> & { status: "open" | "finished" | "expired" };

export interface DeclarationView {
  readonly declarer: Address;
  readonly parentHash: Hex;
  readonly resultHash: Hex;
  readonly commitment: Hex;
  readonly rand: Hex;
  readonly timestamp: bigint;
  readonly blockNumber: bigint;
}

export interface HeaderView {
  readonly builder: Address;
  readonly headerHash: Hex;
  readonly parentHash: Hex;
  readonly timestamp: bigint;
  readonly resultHash: Hex;
  readonly rho: Hex;
  readonly resultCid: Hex;
  readonly opened: Address[];
  readonly randBlock: bigint;
  readonly blockNumber: bigint;
}

export interface JuryView {
  round: number;
  randBlock: bigint;
  jurors?: Address[];
  deadline?: bigint;
  /** Lower-case juror -> result voted (revealed) this round. */
  votes: Map<string, Hex>;
  /** Lower-case jurors who committed their vote this round (commit-reveal). */
  commits?: Set<string>;
}

export interface StageView {
  readonly jobId: bigint;
  readonly stage: number;
  /** Set by StageOpened. */
  parentHash?: Hex;
  deadline?: bigint;
  seed?: Hex;
  openedBlock?: bigint;
  /** Lower-case declarer -> declaration. */
  declarations: Map<string, DeclarationView>;
  closeBlock?: bigint;
  leadResult?: Hex;
  jury?: JuryView;
  decidedResult?: Hex;
  header?: HeaderView;
  /** The wrapping committee in draw order (from BlockWrapped and StageSettled). */
  wrapMembers?: Address[];
  wrapAttesters?: Address[];
  wrapper?: Address;
  /** The stage's settlement (StageSettled): what its claims pass back. */
  settlement?: Settlement;
  /** Lower-case builders whose header was voided (they may not build again). */
  voidedBuilders: Set<string>;
  /** Lower-case declarers whose declaration of this stage was slashed (Slashed, fault 1). */
  slashedDeclarers: Set<string>;
  /** Round -> lower-case members who attested by transaction. */
  attested: Map<number, Set<string>>;
  wrappedBlock?: bigint;
  /** A declarant contested the header's rho: the stage went to the jury. */
  contested?: boolean;
  /** The rho a jury fixed. */
  decidedRho?: Hex;
}

export interface ChainView {
  jobs: Map<string, JobView>;
  stages: Map<string, StageView>;
  /** Wrapped blocks seen (the global chain's length). */
  wrappedCount: number;
}

/** The ledger's fault code of a slashed declaration (PoTLedger FAULT_DECLARATION). */
export const FAULT_DECLARATION = 1;

export const skey = (jobId: bigint | string, stage: number): string => `${jobId}:${stage}`;

export function emptyView(): ChainView {
  return { jobs: new Map(), stages: new Map(), wrappedCount: 0 };
}

/** The stage's record, created on first mention. */
export function stageOf(view: ChainView, jobId: bigint, stage: number): StageView {
  const key = skey(jobId, stage);
  let st = view.stages.get(key);
  if (st === undefined) {
    st = {
      jobId,
      stage,
      declarations: new Map(),
      voidedBuilders: new Set(),
      slashedDeclarers: new Set(),
      attested: new Map(),
    };
    view.stages.set(key, st);
  }
  return st;
}

/** Whether the stage's declarations name more than one result. */
export function isDisputed(st: StageView): boolean {
  if (st.contested) return true;
  const results = new Set([...st.declarations.values()].map((d) => d.resultHash.toLowerCase()));
  return results.size > 1;
}

/** Folds one event into the view (idempotent). */
export function applyEvent(view: ChainView, e: LedgerEvent): void {
  switch (e.kind) {
    case "JobCreated":
      if (!view.jobs.has(e.jobId.toString())) {
        view.jobs.set(e.jobId.toString(), {
          jobId: e.jobId,
          employer: e.employer,
          fee: e.fee,
          specCid: e.specCid,
          manifestRoot: e.manifestRoot,
          initialStateHash: e.initialStateHash,
          numStages: e.numStages,
          c: e.c,
          k: e.k,
          stageSeconds: e.stageSeconds,
          deadline: e.deadline,
          status: "open",
        });
      }
      return;
    case "StageOpened": {
      const st = stageOf(view, e.jobId, e.stage);
      st.parentHash = e.parentHash;
      st.deadline = e.deadline;
      st.seed = e.seed;
      st.openedBlock = e.blockNumber;
      return;
    }
    case "Declared":
      stageOf(view, e.jobId, e.stage).declarations.set(e.declarer.toLowerCase(), {
        declarer: e.declarer,
        parentHash: e.parentHash,
        resultHash: e.resultHash,
        commitment: e.commitment,
        rand: e.rand,
        timestamp: e.timestamp,
        blockNumber: e.blockNumber,
      });
      return;
    case "DeclarationsClosed": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st.closeBlock === undefined || e.closeBlock < st.closeBlock) st.closeBlock = e.closeBlock;
      // a jury request closes with a zero lead result (a disputed stage has none)
      if (BigInt(e.leadResult) !== 0n) st.leadResult ??= e.leadResult;
      return;
    }
    case "HeaderSubmitted":
      stageOf(view, e.jobId, e.stage).header = {
        builder: e.builder,
        headerHash: e.headerHash,
        parentHash: e.parentHash,
        timestamp: e.timestamp,
        resultHash: e.resultHash,
        rho: e.rho,
        resultCid: e.resultCid,
        opened: e.opened,
        randBlock: e.randBlock,
        blockNumber: e.blockNumber,
      };
      return;
    case "Attested": {
      const st = stageOf(view, e.jobId, e.stage);
      let set = st.attested.get(e.round);
      if (set === undefined) st.attested.set(e.round, (set = new Set()));
      set.add(e.member.toLowerCase());
      return;
    }
    case "BlockWrapped": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st.wrappedBlock === undefined) {
        st.wrappedBlock = e.blockNumber;
        view.wrappedCount = Math.max(view.wrappedCount, Number(e.index) + 1);
      }
      st.wrapAttesters = e.attesters;
      st.wrapper = e.wrapper;
      if (st.settlement !== undefined)
        st.wrapMembers = committeeOfWrap(e.attesters, e.wrapper, st.settlement.committeeHash);
      return;
    }
    case "StageSettled": {
      const st = stageOf(view, e.jobId, e.stage);
      st.settlement = e.settlement;
      if (st.wrapAttesters !== undefined && st.wrapper !== undefined)
        st.wrapMembers = committeeOfWrap(st.wrapAttesters, st.wrapper, e.settlement.committeeHash);
      return;
    }
    case "HeaderVoided": {
      const st = stageOf(view, e.jobId, e.stage);
      st.voidedBuilders.add(e.builder.toLowerCase());
      if (st.header?.headerHash === e.headerHash) {
        st.decidedResult ??= st.header.resultHash;
        st.header = undefined;
        st.attested.clear();
      }
      return;
    }
    case "Slashed":
      if (e.fault === FAULT_DECLARATION)
        stageOf(view, e.jobId, e.stage).slashedDeclarers.add(e.staker.toLowerCase());
      return;
    case "HeaderContested": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st.header?.headerHash === e.headerHash) {
        st.contested = true;
        st.header = undefined;
        st.attested.clear();
      }
      return;
    }
    case "JobFinished": {
      const job = view.jobs.get(e.jobId.toString());
      if (job) job.status = "finished";
      return;
    }
    case "JobExpired": {
      const job = view.jobs.get(e.jobId.toString());
      if (job) job.status = "expired";
      return;
    }
    case "JuryRequested": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st.jury === undefined || st.jury.round < e.round)
        st.jury = { round: e.round, randBlock: e.randBlock, votes: new Map() };
      return;
    }
    case "JuryDrawn": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st.jury !== undefined && st.jury.round === e.round) {
        st.jury.jurors = e.jurors;
        st.jury.deadline = e.deadline;
      }
      return;
    }
    case "JuryCommitted": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st.jury !== undefined && st.jury.round === e.round)
        (st.jury.commits ??= new Set()).add(e.juror.toLowerCase());
      return;
    }
    case "JuryVoted": {
      const st = stageOf(view, e.jobId, e.stage);
      if (st.jury !== undefined && st.jury.round === e.round)
        st.jury.votes.set(e.juror.toLowerCase(), e.resultHash);
      return;
    }
    case "JuryDecided": {
      const st = stageOf(view, e.jobId, e.stage);
      st.decidedResult = e.resultHash;
      st.decidedRho = e.rho;
      return;
    }
  }
}
