/**
 * The protocol's events as the agents see them: every event of the four protocol contracts (escrow,
 * stages, committee, disputes; docs/contracts/suite.md), decoded by their generated ABIs into one
 * discriminated union, `LedgerEvent`. The miner's view, the job history of the employer, the verifier and
 * the explorer are all folds of these.
 */
import { decodeEventLog, type Address, type Hex, type Log } from "viem";
import { potCommitteeAbi, potDisputesAbi, potEscrowAbi, potStagesAbi } from "./abi";
import type { PotSuite } from "./contracts";
import type { StageOutcome } from "../protocol/outcome";

/** Where a decoded event sits in the chain. */
export interface EventPosition {
  readonly blockNumber: bigint;
  readonly logIndex: number;
  readonly blockHash: Hex;
  readonly txHash: Hex;
}

/**
 * A header's fields (the contracts' `HeaderData`): the stages contract stores only the header's hash;
 * `wrap`, `voidHeader` and `contest` pass these back, as HeaderSubmitted carried them.
 */
export interface HeaderData {
  readonly builder: Address;
  readonly parent: Hex;
  readonly seed: Hex;
  readonly result: Hex;
  readonly rho: Hex;
  readonly resultCidHash: Hex;
  readonly timestamp: bigint;
}

/** A declaration as a header, a slash or a release lists it (the contracts' `DeclarationData`). */
export interface DeclarationData {
  readonly declarer: Address;
  readonly resultHash: Hex;
  readonly commitment: Hex;
  readonly rand: Hex;
  readonly timestamp: bigint;
}

/** Why a stage went to the jury (PoTStages JURY_*). */
export const JURY_REASON = { 1: "disputed", 2: "stalled", 3: "contested" } as const;
/** Faults of `Slashed` (PoTDisputes). */
export const FAULT = { declaration: 1, jurorVote: 2, jurorAbsent: 3 } as const;
/** Declaration statuses of `DeclarationSettled` (types/PoTTypes.sol DECL_*). */
export const DECLARATION_STATUS = { declared: 1, faulty: 2, slashed: 3, released: 4 } as const;

type Positioned<T> = EventPosition & T;

/** Every protocol event, decoded. */
export type LedgerEvent = Positioned<
  | {
      kind: "JobCreated";
      jobId: bigint;
      employer: Address;
      fee: bigint;
      specCid: Hex;
      manifestRoot: Hex;
      initialStateHash: Hex;
      numStages: number;
      c: number;
      k: number;
      stageSeconds: number;
      minDeclareSeconds: number;
      deadline: bigint;
    }
  | {
      kind: "StageOpened";
      jobId: bigint;
      stage: number;
      parentHash: Hex;
      seed: Hex;
      deadline: bigint;
      notBefore: bigint;
    }
  | {
      kind: "Declared";
      jobId: bigint;
      stage: number;
      declarer: Address;
      resultHash: Hex;
      commitment: Hex;
      rand: Hex;
      timestamp: bigint;
    }
  | { kind: "DeclarationsClosing"; jobId: bigint; stage: number; closeBlock: bigint; disputed: boolean }
  | {
      kind: "HeaderSubmitted";
      jobId: bigint;
      stage: number;
      builder: Address;
      headerHash: Hex;
      header: HeaderData;
      resultCid: Hex;
      openers: Address[];
      weights: bigint[];
      faulty: Address[];
      randBlock: bigint;
    }
  /** PoTStages sent the stage to the jury (its `JuryRequested`; `reason` keys JURY_REASON). */
  | { kind: "StageToJury"; jobId: bigint; stage: number; reason: number }
  | { kind: "StageDecided"; jobId: bigint; stage: number; resultHash: Hex; rho: Hex }
  | { kind: "HeaderVoided"; jobId: bigint; stage: number; headerHash: Hex; builder: Address }
  | { kind: "HeaderContested"; jobId: bigint; stage: number; declarer: Address; headerHash: Hex; rho: Hex }
  | {
      kind: "BlockWrapped";
      index: bigint;
      blockHash: Hex;
      jobId: bigint;
      stage: number;
      parentBlockHash: Hex;
      headerHash: Hex;
      attesters: Address[];
      wrapper: Address;
      timestamp: bigint;
    }
  | { kind: "DeclarationSettled"; jobId: bigint; stage: number; declarer: Address; status: number }
  | { kind: "JobDerived"; jobId: bigint; parentJobId: bigint; parentFinalHash: Hex }
  /** The job stops early at the first wrapped stage meeting this target (protocol/outcome.ts TargetKind). */
  | { kind: "JobTarget"; jobId: bigint; kind_: number; value: number }
  /** A header revealed its result's outcome: H(S), checkpoint root, held-out metric, checkpoint list. */
  | {
      kind: "OutcomeRevealed";
      jobId: bigint;
      stage: number;
      resultHash: Hex;
      outcome: StageOutcome;
      checkpoints: Hex[];
    }
  /** A wrapped stage met the job's target: the job finished there. */
  | { kind: "TargetReached"; jobId: bigint; stage: number; heldOutLoss: number; heldOutAccuracy: number }
  | { kind: "JobFinished"; jobId: bigint }
  | { kind: "JobExpired"; jobId: bigint }
  | {
      kind: "StagePaid";
      jobId: bigint;
      stage: number;
      builderPart: bigint;
      perSeat: bigint;
      declarationPool: bigint;
      dust: bigint;
    }
  | { kind: "Claimed"; jobId: bigint; account: Address; amount: bigint; coinbase: bigint }
  | { kind: "Swept"; jobId: bigint; account: Address; amount: bigint }
  | { kind: "Refunded"; jobId: bigint; employer: Address; amount: bigint }
  | { kind: "Withdrawn"; account: Address; amount: bigint }
  | { kind: "Attested"; jobId: bigint; stage: number; member: Address; round: number }
  /** PoTDisputes opened jury round `round` (its `JuryRequested`). */
  | { kind: "JuryRequested"; jobId: bigint; stage: number; round: number; randBlock: bigint }
  | {
      kind: "JuryDrawn";
      jobId: bigint;
      stage: number;
      round: number;
      seats: Address[];
      commitEnd: bigint;
      revealEnd: bigint;
    }
  | { kind: "JuryCommitted"; jobId: bigint; stage: number; juror: Address; round: number; commitment: Hex }
  | {
      kind: "JuryVoted";
      jobId: bigint;
      stage: number;
      juror: Address;
      round: number;
      resultHash: Hex;
      rho: Hex;
      seats: number;
    }
  | { kind: "JuryDecided"; jobId: bigint; stage: number; round: number; resultHash: Hex; rho: Hex }
  | {
      kind: "Slashed";
      jobId: bigint;
      stage: number;
      staker: Address;
      /** FAULT: 1 declaration, 2 juror vote, 3 juror absent. */
      fault: number;
      amount: bigint;
      reporter: Address;
    }
>;

/** A raw log with its position (what `eth_getLogs` returns for a mined block). */
export type RawLog = Pick<Log<bigint, number, false>, "address" | "data" | "topics"> & {
  readonly blockNumber: bigint;
  readonly logIndex: number;
  readonly blockHash: Hex;
  readonly transactionHash: Hex;
};

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Decodes a log of one of the suite's contracts into a `LedgerEvent` (by the emitting contract's ABI);
 * undefined for logs of other contracts and for events the agents do not use (SealSynced).
 */
export function decodeLedgerLog(suite: PotSuite, log: RawLog): LedgerEvent | undefined {
  const pos: EventPosition = {
    blockNumber: log.blockNumber,
    logIndex: log.logIndex,
    blockHash: log.blockHash,
    txHash: log.transactionHash,
  };
  const raw = { data: log.data, topics: log.topics as [Hex, ...Hex[]] };
  try {
    if (same(log.address, suite.stages.address)) return stagesEvent(pos, raw);
    if (same(log.address, suite.escrow.address)) return escrowEvent(pos, raw);
    if (same(log.address, suite.committee.address)) return committeeEvent(pos, raw);
    if (same(log.address, suite.disputes.address)) return disputesEvent(pos, raw);
  } catch {
    return undefined; // an event of a later contract version this client does not know
  }
  return undefined;
}

type RawData = { data: Hex; topics: [Hex, ...Hex[]] };

function stagesEvent(pos: EventPosition, raw: RawData): LedgerEvent | undefined {
  const e = decodeEventLog({ abi: potStagesAbi, ...raw });
  switch (e.eventName) {
    case "JobCreated":
      return { ...pos, kind: "JobCreated", ...e.args, specCid: e.args.specCid };
    case "StageOpened":
      return { ...pos, kind: "StageOpened", ...e.args };
    case "Declared":
      return { ...pos, kind: "Declared", ...e.args };
    case "DeclarationsClosing":
      return { ...pos, kind: "DeclarationsClosing", ...e.args };
    case "HeaderSubmitted":
      return {
        ...pos,
        kind: "HeaderSubmitted",
        ...e.args,
        header: { ...e.args.header },
        openers: [...e.args.openers],
        weights: [...e.args.weights],
        faulty: [...e.args.faulty],
      };
    case "JuryRequested":
      return { ...pos, kind: "StageToJury", ...e.args };
    case "StageDecided":
      return { ...pos, kind: "StageDecided", ...e.args };
    case "HeaderVoided":
      return { ...pos, kind: "HeaderVoided", ...e.args };
    case "HeaderContested":
      return { ...pos, kind: "HeaderContested", ...e.args };
    case "BlockWrapped":
      return { ...pos, kind: "BlockWrapped", ...e.args, attesters: [...e.args.attesters] };
    case "DeclarationSettled":
      return { ...pos, kind: "DeclarationSettled", ...e.args };
    case "JobDerived":
      return { ...pos, kind: "JobDerived", ...e.args };
    case "JobTarget":
      return { ...pos, kind: "JobTarget", jobId: e.args.jobId, kind_: e.args.kind, value: e.args.value };
    case "OutcomeRevealed":
      return {
        ...pos,
        kind: "OutcomeRevealed",
        ...e.args,
        outcome: { ...e.args.outcome },
        checkpoints: [...e.args.checkpoints],
      };
    case "TargetReached":
      return { ...pos, kind: "TargetReached", ...e.args };
    case "JobFinished":
      return { ...pos, kind: "JobFinished", ...e.args };
    case "JobExpired":
      return { ...pos, kind: "JobExpired", ...e.args };
    default:
      return undefined;
  }
}

function escrowEvent(pos: EventPosition, raw: RawData): LedgerEvent | undefined {
  const e = decodeEventLog({ abi: potEscrowAbi, ...raw });
  switch (e.eventName) {
    case "StagePaid":
      return { ...pos, kind: "StagePaid", ...e.args };
    case "Claimed":
      return { ...pos, kind: "Claimed", ...e.args };
    case "Swept":
      return { ...pos, kind: "Swept", ...e.args };
    case "Refunded":
      return { ...pos, kind: "Refunded", ...e.args };
    case "Withdrawn":
      return { ...pos, kind: "Withdrawn", ...e.args };
    default:
      return undefined;
  }
}

function committeeEvent(pos: EventPosition, raw: RawData): LedgerEvent | undefined {
  const e = decodeEventLog({ abi: potCommitteeAbi, ...raw });
  return e.eventName === "Attested" ? { ...pos, kind: "Attested", ...e.args } : undefined;
}

function disputesEvent(pos: EventPosition, raw: RawData): LedgerEvent | undefined {
  const e = decodeEventLog({ abi: potDisputesAbi, ...raw });
  switch (e.eventName) {
    case "JuryRequested":
      return { ...pos, kind: "JuryRequested", ...e.args };
    case "JuryDrawn":
      return { ...pos, kind: "JuryDrawn", ...e.args, seats: [...e.args.seats] };
    case "JuryCommitted":
      return { ...pos, kind: "JuryCommitted", ...e.args };
    case "JuryVoted":
      return { ...pos, kind: "JuryVoted", ...e.args };
    case "JuryDecided":
      return { ...pos, kind: "JuryDecided", ...e.args };
    case "Slashed":
      return { ...pos, kind: "Slashed", ...e.args };
    default:
      return undefined;
  }
}
