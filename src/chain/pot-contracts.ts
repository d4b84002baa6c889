/**
 * The one adapter between the agents and the protocol's contracts (escrow, stages, committee, disputes,
 * staking, token; docs/contracts/suite.md) for one signing account: every call and view the agents need,
 * typed by the generated ABIs (src/chain/abi), and a watcher over the protocol's events, decoded into
 * `LedgerEvent` (ledger-events.ts). When a contract signature changes, `npm run abi` regenerates the ABIs
 * and the compiler points at the lines here to change; the agents see only the methods below.
 */
import { getAddress, type Address, type Hex, type PublicClient } from "viem";
import {
  requireSuite,
  txOf,
  type PotSession,
  type PotSuite,
  type StakingRef,
  type TokenRef,
} from "./contracts";
import { EventWatcher } from "./events";
import type { DeclarationData, HeaderData } from "./ledger-events";
import type { StageOutcome } from "../protocol/outcome";
import type { SendOptions, SentTx, TxSender } from "./tx-sender";

export * from "./ledger-events";

/** The contracts' parameters the agents need (immutables of PoTStages and PoTDisputes). */
export interface LedgerParamsView {
  readonly sealWindowSeconds: bigint;
  readonly closeDelayBlocks: bigint;
  readonly headerTimeoutSeconds: bigint;
  readonly poaWindowBlocks: bigint;
  readonly poaMaxRounds: bigint;
  /** PoS difficulty: a seal passes when its kernel <= active stake in gwei * targetPerGwei. */
  readonly targetPerGwei: bigint;
  readonly minStake: bigint;
  /** Slash per faulty declaration; each unsettled declaration needs this much active stake behind it. */
  readonly declarationSlash: bigint;
  readonly jurySize: bigint;
  readonly commitBlocks: bigint;
  readonly revealBlocks: bigint;
  /** Blocks after a jury round's randomness block within which it can be drawn (else it is redrawn). */
  readonly drawWindowBlocks: bigint;
}

/** The current PoA committee of a headered stage: seats in draw order (a member may hold several). */
export interface Committee {
  readonly round: number;
  readonly members: Address[];
  readonly lastBlock: bigint;
}

/** A staker's seal copy in PoTStages: active stake (its PoS weight) and declarations not yet settled. */
export interface SealView {
  readonly active: bigint;
  readonly since: bigint;
}

/** Stage phases of PoTStages (its PHASE_* constants), as `stagePhase` returns them. */
export const STAGE_PHASE = { none: 0, open: 1, jury: 2, decided: 3, headered: 4, wrapped: 5 } as const;
/** Job statuses of PoTStages (types/PoTTypes.sol JOB_*). */
export const JOB_STATUS = { unknown: 0, open: 1, finished: 2, expired: 3 } as const;

/** Options of a `PotContractsAdapter`. */
export interface PotContractsOptions {
  /**
   * Confirmations awaited after the receipt of the stage transactions (declare, submitHeader, attest,
   * wrap), instead of the sender's. The miner uses 0 so that its one-at-a-time queue does not idle a
   * block per transaction: it acts only on confirmed events, re-sends a declaration a reorg removed, and
   * leaves a removed header, attestation or wrap to the next builder rank or committee round (losing that
   * share, not the stage). Claims, stakes and withdrawals always wait for the sender's confirmations.
   */
  readonly stageTxConfirmations?: number;
}

/** Sorts declarations by declarer address, as a header must list them. */
export function sortedDeclarations<T extends { declarer: Address }>(decls: readonly T[]): T[] {
  return [...decls].sort((x, y) => (BigInt(x.declarer) < BigInt(y.declarer) ? -1 : 1));
}

/**
 * A declaration judged against a stage's final (result, rho): what `slashDeclaration` and `release` pass.
 * `anchor` is the stage's keccak256(abi.encode(parent, seed)) (`stageAnchor` of src/protocol).
 */
export interface DeclarationAgainstPair {
  readonly jobId: bigint;
  readonly stage: number;
  readonly anchor: Hex;
  readonly declaration: DeclarationData;
  readonly result: Hex;
  readonly rho: Hex;
}

/** Typed access to the protocol's contracts of one deployment, for one signing account. */
export class PotContractsAdapter {
  readonly suite: PotSuite;
  readonly staking: StakingRef;
  readonly token: TokenRef;
  readonly client: PublicClient;
  private params: LedgerParamsView | undefined;
  private epochBlocksCache: bigint | undefined;
  private domain: Hex | undefined;

  constructor(
    private readonly session: PotSession,
    private readonly sender: TxSender,
    private readonly options: PotContractsOptions = {},
  ) {
    this.suite = requireSuite(session.contracts);
    this.staking = session.contracts.staking;
    this.token = session.contracts.token;
    this.client = session.publicClient;
  }

  /** The signing account. */
  get me(): Address {
    return this.sender.address;
  }

  /** The block the deployment started at (where event replay begins). */
  get deployBlock(): bigint {
    return this.session.contracts.deployment.deployBlock ?? 0n;
  }

  /** Send options of declare, submitHeader, attest and wrap (see PotContractsOptions). */
  private get stageTx(): SendOptions {
    return { confirmations: this.options.stageTxConfirmations };
  }

  /** The protocol domain (EIP-712 separator of PoTStages). */
  async domainSeparator(): Promise<Hex> {
    this.domain ??= await this.client.readContract({ ...this.suite.stages, functionName: "domainSeparator" });
    return this.domain;
  }

  /** The contracts' immutable parameters. */
  async ledgerParams(): Promise<LedgerParamsView> {
    if (this.params === undefined) {
      const stages = this.suite.stages;
      const disputes = this.suite.disputes;
      const r = this.client;
      const [
        seal,
        close,
        timeout,
        poaWindow,
        poaRounds,
        target,
        minStake,
        slash,
        jury,
        commit,
        reveal,
        drawWindow,
      ] = await Promise.all([
        r.readContract({ ...stages, functionName: "sealWindowSeconds" }),
        r.readContract({ ...stages, functionName: "closeDelayBlocks" }),
        r.readContract({ ...stages, functionName: "headerTimeoutSeconds" }),
        r.readContract({ ...stages, functionName: "poaWindowBlocks" }),
        r.readContract({ ...stages, functionName: "poaMaxRounds" }),
        r.readContract({ ...stages, functionName: "targetPerGwei" }),
        r.readContract({ ...stages, functionName: "minStake" }),
        r.readContract({ ...stages, functionName: "declarationSlash" }),
        r.readContract({ ...disputes, functionName: "jurySize" }),
        r.readContract({ ...disputes, functionName: "commitBlocks" }),
        r.readContract({ ...disputes, functionName: "revealBlocks" }),
        r.readContract({ ...disputes, functionName: "drawWindowBlocks" }),
      ]);
      this.params = {
        sealWindowSeconds: BigInt(seal),
        closeDelayBlocks: BigInt(close),
        headerTimeoutSeconds: BigInt(timeout),
        poaWindowBlocks: BigInt(poaWindow),
        poaMaxRounds: BigInt(poaRounds),
        targetPerGwei: target,
        minStake,
        declarationSlash: slash,
        jurySize: BigInt(jury),
        commitBlocks: BigInt(commit),
        revealBlocks: BigInt(reveal),
        drawWindowBlocks: BigInt(drawWindow),
      };
    }
    return this.params;
  }

  // ----- views

  async blockNumber(): Promise<bigint> {
    return this.client.getBlockNumber({ cacheTime: 0 });
  }

  async latestBlock(): Promise<{ number: bigint; timestamp: bigint }> {
    const b = await this.client.getBlock({ blockTag: "latest" });
    return { number: b.number, timestamp: b.timestamp };
  }

  async stakeOf(who: Address): Promise<bigint> {
    return this.client.readContract({ ...this.staking, functionName: "stakeOf", args: [who] });
  }

  /**
   * Blocks per draw epoch of the staking contract: committees and juries are drawn over the stake
   * weights as of the start of their randomness block's epoch, so a new stake is drawable from the
   * next epoch on.
   */
  async epochBlocks(): Promise<bigint> {
    this.epochBlocksCache ??= await this.client.readContract({
      ...this.staking,
      functionName: "epochBlocks",
    });
    return this.epochBlocksCache;
  }

  /** The PoS weight source of `who`: its active stake as PoTStages sees it (the seal copy, else staking's). */
  async sealOf(who: Address): Promise<SealView> {
    const [active, since, synced] = await this.client.readContract({
      ...this.suite.stages,
      functionName: "sealOf",
      args: [who],
    });
    if (synced) return { active, since: BigInt(since) };
    const [stake, stakeSince] = await Promise.all([
      this.stakeOf(who),
      this.client.readContract({ ...this.staking, functionName: "stakeSinceOf", args: [who] }),
    ]);
    return { active: stake, since: BigInt(stakeSince) };
  }

  /** Unsettled declarations of `who` (its bond count). */
  async bondedOf(who: Address): Promise<bigint> {
    return this.client.readContract({ ...this.suite.stages, functionName: "bondedOf", args: [who] });
  }

  async peerOf(who: Address): Promise<string> {
    return this.client.readContract({ ...this.staking, functionName: "peerOf", args: [who] });
  }

  async tokenBalance(who: Address): Promise<bigint> {
    return this.client.readContract({ ...this.token, functionName: "balanceOf", args: [who] });
  }

  /** Wei `who` may withdraw now (claimed balances of every job). */
  async claimable(who: Address): Promise<bigint> {
    return this.client.readContract({ ...this.suite.escrow, functionName: "claimable", args: [who] });
  }

  /** What `who` earned in job `jobId` and has not claimed: wei and coinbase POT. */
  async owedOf(jobId: bigint, who: Address): Promise<{ amount: bigint; coinbase: bigint }> {
    const [amount, coinbase] = await this.client.readContract({
      ...this.suite.escrow,
      functionName: "owedOf",
      args: [jobId, who],
    });
    return { amount, coinbase };
  }

  async totalOwed(): Promise<bigint> {
    return this.client.readContract({ ...this.suite.escrow, functionName: "totalOwed" });
  }

  /** Whether `who` has a declaration recorded for exactly (jobId, stage). */
  async hasDeclared(jobId: bigint, stage: number, who: Address): Promise<boolean> {
    const slot = await this.client.readContract({
      ...this.suite.stages,
      functionName: "declarationSlot",
      args: [jobId, who, stage],
    });
    return Number(slot >> 224n) === stage;
  }

  /** PoTStages' phase of a stage (STAGE_PHASE; `none` once its record was reused two stages later). */
  async stagePhase(jobId: bigint, stage: number): Promise<number> {
    const st = await this.client.readContract({
      ...this.suite.stages,
      functionName: "getStage",
      args: [jobId, stage],
    });
    return st.phase;
  }

  /**
   * PoTStages' record of a stage at the latest block: its phase (STAGE_PHASE), how many declarations it
   * holds (a header must list them all; an agent's view may lag the latest declaration) and its deadline
   * (of a decided stage: when it was decided or its header voided, which starts the header timeout).
   */
  async stageSnapshot(
    jobId: bigint,
    stage: number,
  ): Promise<{ phase: number; declarations: number; deadline: bigint }> {
    const st = await this.client.readContract({
      ...this.suite.stages,
      functionName: "getStage",
      args: [jobId, stage],
    });
    return { phase: st.phase, declarations: st.declCount, deadline: BigInt(st.deadline) };
  }

  /** A job's status (JOB_STATUS) and its wrapped stages. */
  async jobStatus(jobId: bigint): Promise<{ status: number; wrappedStages: number }> {
    const [status, wrappedStages] = await this.client.readContract({
      ...this.suite.stages,
      functionName: "jobStatus",
      args: [jobId],
    });
    return { status, wrappedStages };
  }

  /** The current committee of a headered stage, or undefined when there is none now (not ready, expired). */
  async committeeOf(jobId: bigint, stage: number): Promise<Committee | undefined> {
    try {
      const [round, members, lastBlock] = await this.client.readContract({
        ...this.suite.committee,
        functionName: "committeeOf",
        args: [jobId, stage],
      });
      return { round, members: members.map((m) => getAddress(m)), lastBlock };
    } catch {
      return undefined;
    }
  }

  // ----- transactions

  async faucet(): Promise<SentTx> {
    return this.sender.send(txOf(this.token, "faucet", []));
  }

  /** Approves the staking contract when needed, then stakes `amount`. */
  async stake(amount: bigint): Promise<SentTx> {
    const allowance = await this.client.readContract({
      ...this.token,
      functionName: "allowance",
      args: [this.me, this.staking.address],
    });
    if (allowance < amount)
      await this.sender.send(txOf(this.token, "approve", [this.staking.address, amount]));
    return this.sender.send(txOf(this.staking, "stake", [amount]));
  }

  async setPeer(multiaddr: string): Promise<SentTx> {
    return this.sender.send(txOf(this.staking, "setPeer", [multiaddr]));
  }

  /** Declares the training of (jobId, stage) from the stage's (parent, seed) of StageOpened. */
  async declare(d: {
    jobId: bigint;
    stage: number;
    parentHash: Hex;
    seed: Hex;
    resultHash: Hex;
    commitment: Hex;
    rand: Hex;
    timestamp: bigint;
  }): Promise<SentTx> {
    return this.sender.send(
      txOf(this.suite.stages, "declare", [
        d.jobId,
        d.stage,
        d.parentHash,
        d.seed,
        d.resultHash,
        d.commitment,
        d.rand,
        d.timestamp,
      ]),
      this.stageTx,
    );
  }

  /**
   * Submits a header listing every declaration of the stage (sorted here by declarer, as the contract
   * requires); `header.builder` must be this account.
   */
  async submitHeader(h: {
    jobId: bigint;
    stage: number;
    header: HeaderData;
    resultCid: Hex;
    declarations: readonly DeclarationData[];
    /** What header.result opens to. */
    outcome: StageOutcome;
    /** The stage's checkpoint state hashes (their Merkle root is outcome.checkpointRoot); [] without. */
    checkpoints: readonly Hex[];
  }): Promise<SentTx> {
    return this.sender.send(
      txOf(this.suite.stages, "submitHeader", [
        h.jobId,
        h.stage,
        h.header,
        h.resultCid,
        sortedDeclarations(h.declarations),
        h.outcome,
        h.checkpoints,
      ]),
      this.stageTx,
    );
  }

  async attest(jobId: bigint, stage: number): Promise<SentTx> {
    return this.sender.send(txOf(this.suite.committee, "attest", [jobId, stage]), this.stageTx);
  }

  /**
   * Wraps with transaction attestations only (an empty signature per seat). `seats` is the current
   * committee as `committeeOf` returns it; `openers`, `weights`, `faulty` as HeaderSubmitted listed them.
   */
  async wrap(w: {
    jobId: bigint;
    stage: number;
    header: HeaderData;
    openers: readonly Address[];
    weights: readonly bigint[];
    faulty: readonly Address[];
    seats: readonly Address[];
    /** What header.result opens to (OutcomeRevealed). */
    outcome: StageOutcome;
  }): Promise<SentTx> {
    return this.sender.send(
      txOf(this.suite.stages, "wrap", [
        w.jobId,
        w.stage,
        w.header,
        w.openers,
        w.weights,
        w.faulty,
        w.seats,
        w.seats.map(() => "0x" as Hex),
        w.outcome,
      ]),
      this.stageTx,
    );
  }

  /** Credits everything `account` earned in job `jobId` (every stage and role) and mints its coinbase. */
  async claim(jobId: bigint, account: Address = this.me): Promise<SentTx> {
    return this.sender.send(txOf(this.suite.escrow, "claim", [jobId, account]));
  }

  async withdraw(): Promise<SentTx> {
    return this.sender.send(txOf(this.suite.escrow, "withdraw", []));
  }

  /** Ends a job whose deadline passed unfinished (anyone); the escrow refunds its unspent fee. */
  async expireJob(jobId: bigint): Promise<SentTx> {
    return this.sender.send(txOf(this.suite.stages, "expireJob", [jobId]));
  }

  /**
   * Slashes a declaration that does not open against its stage's final (result, rho): the wrap's or the
   * jury's (anyone; the reporter gets the bounty, the rest is burned). `anchor` is the stage's
   * keccak256(abi.encode(parent, seed)).
   */
  async slashDeclaration(s: DeclarationAgainstPair): Promise<SentTx> {
    return this.sender.send(
      txOf(this.suite.disputes, "slashDeclaration", [
        s.jobId,
        s.stage,
        s.anchor,
        s.declaration,
        s.result,
        s.rho,
      ]),
    );
  }

  /** Releases the bond of a declaration of an expired job's unwrapped stage (anyone). */
  async release(s: DeclarationAgainstPair): Promise<SentTx> {
    return this.sender.send(
      txOf(this.suite.disputes, "release", [s.jobId, s.stage, s.anchor, s.declaration, s.result, s.rho]),
    );
  }

  /** Slashes a juror seat holder that voted against the decision, or did not commit or reveal (anyone). */
  async slashJuror(jobId: bigint, stage: number, round: number, seats: readonly Address[], juror: Address) {
    return this.sender.send(txOf(this.suite.disputes, "slashJuror", [jobId, stage, round, seats, juror]));
  }

  /** Voids a header whose PoA rounds all passed without a wrap (anyone). */
  async voidHeader(jobId: bigint, stage: number, header: HeaderData): Promise<SentTx> {
    return this.sender.send(txOf(this.suite.stages, "voidHeader", [jobId, stage, header]));
  }

  /** Sends a closed stage to the jury: disputed at once, undisputed after the header timeout (anyone). */
  async requestJury(jobId: bigint, stage: number): Promise<SentTx> {
    return this.sender.send(txOf(this.suite.stages, "requestJury", [jobId, stage]));
  }

  async drawJury(jobId: bigint, stage: number): Promise<SentTx> {
    return this.sender.send(txOf(this.suite.disputes, "draw", [jobId, stage]));
  }

  /** Opens a new jury round when the current one cannot decide (randomness expired, no majority). */
  async redrawJury(jobId: bigint, stage: number): Promise<SentTx> {
    return this.sender.send(txOf(this.suite.disputes, "redraw", [jobId, stage]));
  }

  /**
   * Commits a juror's vote (until the round's commitEnd): `commitment` is `juryVoteCommitment` of
   * src/protocol over the round, the (result, rho) pair and a secret salt (keep the salt for the reveal).
   */
  async commitVote(v: { jobId: bigint; stage: number; seats: readonly Address[]; commitment: Hex }) {
    return this.sender.send(
      txOf(this.suite.disputes, "commitVote", [v.jobId, v.stage, v.seats, v.commitment]),
    );
  }

  /** Reveals a committed vote, in (commitEnd, revealEnd] of the round. */
  async vote(v: {
    jobId: bigint;
    stage: number;
    seats: readonly Address[];
    resultHash: Hex;
    rho: Hex;
    salt: Hex;
  }): Promise<SentTx> {
    return this.sender.send(
      txOf(this.suite.disputes, "vote", [v.jobId, v.stage, v.seats, v.resultHash, v.rho, v.salt]),
    );
  }

  /** Contests a header whose rho differs from the one our declaration of the same result opens against. */
  async contest(
    jobId: bigint,
    stage: number,
    header: HeaderData,
    rho: Hex,
    declaration: DeclarationData,
  ): Promise<SentTx> {
    return this.sender.send(txOf(this.suite.stages, "contest", [jobId, stage, header, rho, declaration]));
  }

  // ----- events

  /** A watcher over the protocol's events (decode them with `decodeLedgerLog(this.suite, log)`). */
  watcher(options: { fromBlock: bigint; confirmations: number; pollingIntervalMs: number }): EventWatcher {
    return suiteWatcher(this.client, this.suite, options);
  }
}

/** An EventWatcher over the four protocol contracts' events. */
export function suiteWatcher(
  client: PublicClient,
  suite: PotSuite,
  options: { fromBlock: bigint; confirmations: number; pollingIntervalMs?: number },
): EventWatcher {
  const abi = [
    ...suite.stages.abi,
    ...suite.escrow.abi,
    ...suite.committee.abi,
    ...suite.disputes.abi,
  ].filter((item) => item.type === "event");
  return new EventWatcher({
    client,
    address: [suite.stages.address, suite.escrow.address, suite.committee.address, suite.disputes.address],
    abi,
    fromBlock: options.fromBlock,
    confirmations: options.confirmations,
    pollingIntervalMs: options.pollingIntervalMs,
  });
}
