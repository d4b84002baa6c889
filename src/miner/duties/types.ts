/**
 * The duties a miner performs (one variant per transaction or local job), what the pure proposal logic
 * reads each tick (`DutyInput`), and the scope one stage's proposers share (`StageScope`).
 */
import type { Address, Hex } from "viem";
import type { Committee } from "../../chain/pot-contracts";
import type { DeclarationRecord, MinerState } from "../state";
import type { ChainView, DeclarationView, JobView, Pair, StageView } from "../view";

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

/** The duty variant of kind `K`. */
export type DutyOf<K extends Duty["kind"]> = Extract<Duty, { kind: K }>;

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
  /** Current committees of headered, unwrapped stages (key `stageKey(jobId, stage)`), as committeeOf returned. */
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
   * `stageKey`): nobody rebuilding it within headerTimeoutSeconds stalls it too.
   */
  readonly voidedAt?: ReadonlyMap<string, bigint>;
  /** PoTDisputes.drawWindowBlocks: a round undrawn this long after its randomness block is redrawn. */
  readonly drawWindowBlocks?: bigint;
}

/** What every proposer of one stage reads: the stage, its job, our records of it, and where duties go. */
export interface StageScope {
  readonly input: DutyInput;
  readonly st: StageView;
  readonly job: JobView;
  /** This miner, lower-case. */
  readonly me: string;
  /** Our persisted declaration of the stage, and the one the chain shows. */
  readonly mine: DeclarationRecord | undefined;
  readonly onChainMine: DeclarationView | undefined;
  /** The job is open and before its deadline. */
  readonly live: boolean;
  /** This miner trains the job now (live, accepted, and for the dummy job: no employer job open). */
  readonly trainable: boolean;
  readonly push: (d: Duty) => void;
}

export const lower = (a: string): string => a.toLowerCase();
export const same = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && lower(a) === lower(b);
export const samePair = (a: Pair, b: Pair): boolean => same(a.result, b.result) && same(a.rho, b.rho);
