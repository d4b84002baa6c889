/**
 * The one adapter between the agents and the PoT ledger, staking and jury contracts: every call, view and
 * event decoding the miner (and later the employer and the verifier) needs, with ABIs from the Hardhat
 * artifacts. When a contract signature changes, this file is the one to touch: the agents see only the
 * typed `LedgerEvent` union and the methods below.
 */
import {
  encodeAbiParameters,
  getAddress,
  keccak256,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { loadArtifact } from "./artifacts";
import type { PotSession } from "./contracts";
import { errorsAbi } from "./artifacts";
import { EventWatcher, type WatchedLog } from "./events";
import type { SendOptions, SentTx, TxSender } from "./tx-sender";

/** Where a decoded event sits in the chain. */
export interface EventPosition {
  readonly blockNumber: bigint;
  readonly logIndex: number;
  readonly blockHash: Hex;
  readonly txHash: Hex;
}

/**
 * What the ledger keeps of a wrapped stage (its StageSettled event); every claim and slash of the stage
 * passes it back unchanged (pull payments: the wrap credits nobody).
 */
export interface Settlement {
  parent: Hex;
  result: Hex;
  rho: Hex;
  perDeclaration: bigint;
  builder: Address;
  builderPart: bigint;
  perMember: bigint;
  committeeHash: Hex;
  opened: Address[];
  openedCoinbase: bigint[];
}

/**
 * The wrapping committee in draw order, from BlockWrapped (the members other than the wrapper, in order,
 * and the wrapper): the wrapper's position is the one whose list hashes to `committeeHash`.
 */
export function committeeOfWrap(
  attesters: Address[],
  wrapper: Address,
  committeeHash: Hex,
): Address[] | undefined {
  for (let w = 0; w <= attesters.length; w++) {
    const members = [...attesters.slice(0, w), wrapper, ...attesters.slice(w)];
    const h = keccak256(encodeAbiParameters([{ type: "address[]" }], [members]));
    if (h.toLowerCase() === committeeHash.toLowerCase()) return members;
  }
  return undefined;
}

/**
 * The ledger and jury events the agents act on or report, decoded into plain values (the miner watches
 * LEDGER_EVENTS and JURY_EVENTS; the employer and verifier read every event of a job).
 */
export type LedgerEvent = EventPosition &
  (
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
        deadline: bigint;
      }
    | { kind: "StageOpened"; jobId: bigint; stage: number; parentHash: Hex; deadline: bigint; seed: Hex }
    | {
        kind: "Declared";
        jobId: bigint;
        stage: number;
        declarer: Address;
        parentHash: Hex;
        resultHash: Hex;
        commitment: Hex;
        rand: Hex;
        timestamp: bigint;
      }
    | {
        kind: "DeclarationsClosed";
        jobId: bigint;
        stage: number;
        closeBlock: bigint;
        leadResult: Hex;
        disputed: boolean;
      }
    | {
        kind: "HeaderSubmitted";
        jobId: bigint;
        stage: number;
        builder: Address;
        headerHash: Hex;
        parentHash: Hex;
        resultHash: Hex;
        rho: Hex;
        resultCid: Hex;
        timestamp: bigint;
        opened: Address[];
        randBlock: bigint;
      }
    | { kind: "Attested"; jobId: bigint; stage: number; member: Address; round: number }
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
    | { kind: "StageSettled"; jobId: bigint; stage: number; settlement: Settlement }
    | { kind: "HeaderVoided"; jobId: bigint; stage: number; headerHash: Hex; builder: Address }
    | {
        kind: "Slashed";
        jobId: bigint;
        stage: number;
        staker: Address;
        /** FAULT_DECLARATION (1) or FAULT_JUROR (2). */
        fault: number;
        amount: bigint;
        reporter: Address;
      }
    | { kind: "HeaderContested"; jobId: bigint; stage: number; declarer: Address; headerHash: Hex; rho: Hex }
    | { kind: "JobFinished"; jobId: bigint }
    | { kind: "JobExpired"; jobId: bigint; unspent: bigint }
    | { kind: "Refunded"; jobId: bigint; employer: Address; amount: bigint }
    | {
        kind: "RewardCredited";
        account: Address;
        jobId: bigint;
        stage: number;
        /** REWARD_ROLE: 1 builder, 2 declarant, 3 attester. */
        role: number;
        amount: bigint;
      }
    | { kind: "JuryRequested"; jobId: bigint; stage: number; round: number; randBlock: bigint }
    | { kind: "JuryDrawn"; jobId: bigint; stage: number; round: number; jurors: Address[]; deadline: bigint }
    | { kind: "JuryCommitted"; jobId: bigint; stage: number; juror: Address; round: number; commitment: Hex }
    | {
        kind: "JuryVoted";
        jobId: bigint;
        stage: number;
        juror: Address;
        round: number;
        resultHash: Hex;
        rho: Hex;
      }
    | { kind: "JuryDecided"; jobId: bigint; stage: number; round: number; resultHash: Hex; rho: Hex }
  );

/** The ledger's events the miner watches (names as in the Solidity source). */
const LEDGER_EVENTS = [
  "JobCreated",
  "StageOpened",
  "Declared",
  "DeclarationsClosed",
  "HeaderSubmitted",
  "Attested",
  "BlockWrapped",
  "StageSettled",
  "HeaderVoided",
  "HeaderContested",
  "Slashed",
  "JobFinished",
  "JobExpired",
] as const;
const JURY_EVENTS = ["JuryRequested", "JuryDrawn", "JuryCommitted", "JuryVoted", "JuryDecided"] as const;

/**
 * The fields of an accepted header (the ledger's `HeaderFields`): the ledger stores only the header's hash;
 * `wrap`, `voidHeader` and `contest` pass these back. Build them from HeaderSubmitted with `headerFieldsOf`.
 */
export interface HeaderFields {
  readonly builder: Address;
  readonly parent: Hex;
  readonly result: Hex;
  readonly rho: Hex;
  readonly resultCidHash: Hex;
  readonly timestamp: bigint;
}

/** HeaderFields of a header, from its HeaderSubmitted event (or the miner's view of it). */
export function headerFieldsOf(h: {
  builder: Address;
  parentHash: Hex;
  resultHash: Hex;
  rho: Hex;
  resultCid: Hex;
  timestamp: bigint;
}): HeaderFields {
  return {
    builder: h.builder,
    parent: h.parentHash,
    result: h.resultHash,
    rho: h.rho,
    resultCidHash: keccak256(h.resultCid),
    timestamp: h.timestamp,
  };
}

/** A declaration as the header (or a claim) opens it: the `Opening` struct of the ledger. */
export interface Opening {
  readonly declarer: Address;
  readonly commitment: Hex;
  readonly rand: Hex;
  readonly timestamp: bigint;
}

/** The ledger parameters the agents need (immutables of PoTLedger). */
export interface LedgerParamsView {
  readonly sealWindowSeconds: bigint;
  readonly closeDelayBlocks: bigint;
  readonly poaWindowBlocks: bigint;
  readonly poaMaxRounds: bigint;
  readonly targetPerCoinSecond: bigint;
  readonly minStake: bigint;
}

/** The current PoA committee of a headered stage. */
export interface Committee {
  readonly round: number;
  readonly members: Address[];
  readonly lastBlock: bigint;
}

/** A contract's address and ABI. */
interface Ref {
  readonly address: Address;
  readonly abi: Abi;
}

const num = (v: unknown): number => Number(v as bigint | number);
const big = (v: unknown): bigint => BigInt(v as bigint | number);

/** Maps a decoded log (viem's `eventName` + named `args`) to a `LedgerEvent`; undefined for others. */
export function decodeLedgerLog(log: WatchedLog): LedgerEvent | undefined {
  const a = log.args as Record<string, unknown>;
  const pos: EventPosition = {
    blockNumber: log.blockNumber,
    logIndex: log.logIndex,
    blockHash: log.blockHash,
    txHash: log.transactionHash,
  };
  switch (log.eventName) {
    case "JobCreated":
      return {
        ...pos,
        kind: "JobCreated",
        jobId: big(a.jobId),
        employer: a.employer as Address,
        fee: big(a.fee),
        specCid: a.specCid as Hex,
        manifestRoot: a.manifestRoot as Hex,
        initialStateHash: a.initialStateHash as Hex,
        numStages: num(a.numStages),
        c: num(a.c),
        k: num(a.k),
        stageSeconds: num(a.stageSeconds),
        deadline: big(a.deadline),
      };
    case "StageOpened":
      return {
        ...pos,
        kind: "StageOpened",
        jobId: big(a.jobId),
        stage: num(a.stage),
        parentHash: a.parentHash as Hex,
        deadline: big(a.deadline),
        seed: a.seed as Hex,
      };
    case "Declared":
      return {
        ...pos,
        kind: "Declared",
        jobId: big(a.jobId),
        stage: num(a.stage),
        declarer: a.declarer as Address,
        parentHash: a.parentHash as Hex,
        resultHash: a.resultHash as Hex,
        commitment: a.commitment as Hex,
        rand: a.rand as Hex,
        timestamp: big(a.timestamp),
      };
    case "DeclarationsClosed":
      return {
        ...pos,
        kind: "DeclarationsClosed",
        jobId: big(a.jobId),
        stage: num(a.stage),
        closeBlock: big(a.closeBlock),
        leadResult: a.leadResult as Hex,
        disputed: Boolean(a.disputed),
      };
    case "HeaderSubmitted":
      return {
        ...pos,
        kind: "HeaderSubmitted",
        jobId: big(a.jobId),
        stage: num(a.stage),
        builder: a.builder as Address,
        headerHash: a.headerHash as Hex,
        parentHash: a.parentHash as Hex,
        resultHash: a.resultHash as Hex,
        rho: a.rho as Hex,
        resultCid: a.resultCid as Hex,
        timestamp: big(a.timestamp),
        opened: [...(a.opened as Address[])],
        randBlock: big(a.randBlock),
      };
    case "Attested":
      return {
        ...pos,
        kind: "Attested",
        jobId: big(a.jobId),
        stage: num(a.stage),
        member: a.member as Address,
        round: num(a.round),
      };
    case "BlockWrapped":
      return {
        ...pos,
        kind: "BlockWrapped",
        index: big(a.index),
        blockHash: a.blockHash as Hex,
        jobId: big(a.jobId),
        stage: num(a.stage),
        parentBlockHash: a.parentBlockHash as Hex,
        headerHash: a.headerHash as Hex,
        attesters: [...(a.attesters as Address[])],
        wrapper: a.wrapper as Address,
        timestamp: big(a.timestamp),
      };
    case "StageSettled": {
      const s = a.settlement as Record<string, unknown>;
      return {
        ...pos,
        kind: "StageSettled",
        jobId: big(a.jobId),
        stage: num(a.stage),
        settlement: {
          parent: s.parent as Hex,
          result: s.result as Hex,
          rho: s.rho as Hex,
          perDeclaration: big(s.perDeclaration),
          builder: s.builder as Address,
          builderPart: big(s.builderPart),
          perMember: big(s.perMember),
          committeeHash: s.committeeHash as Hex,
          opened: [...(s.opened as Address[])],
          openedCoinbase: (s.openedCoinbase as unknown[]).map(big),
        },
      };
    }
    case "HeaderVoided":
      return {
        ...pos,
        kind: "HeaderVoided",
        jobId: big(a.jobId),
        stage: num(a.stage),
        headerHash: a.headerHash as Hex,
        builder: a.builder as Address,
      };
    case "Slashed":
      return {
        ...pos,
        kind: "Slashed",
        jobId: big(a.jobId),
        stage: num(a.stage),
        staker: a.staker as Address,
        fault: num(a.fault),
        amount: big(a.amount),
        reporter: a.reporter as Address,
      };
    case "HeaderContested":
      return {
        ...pos,
        kind: "HeaderContested",
        jobId: big(a.jobId),
        stage: num(a.stage),
        declarer: a.declarer as Address,
        headerHash: a.headerHash as Hex,
        rho: a.rho as Hex,
      };
    case "JobFinished":
      return { ...pos, kind: "JobFinished", jobId: big(a.jobId) };
    case "JobExpired":
      return { ...pos, kind: "JobExpired", jobId: big(a.jobId), unspent: big(a.unspent) };
    case "Refunded":
      return {
        ...pos,
        kind: "Refunded",
        jobId: big(a.jobId),
        employer: a.employer as Address,
        amount: big(a.amount),
      };
    case "RewardCredited":
      return {
        ...pos,
        kind: "RewardCredited",
        account: a.account as Address,
        jobId: big(a.jobId),
        stage: num(a.stage),
        role: num(a.role),
        amount: big(a.amount),
      };
    case "JuryRequested":
      return {
        ...pos,
        kind: "JuryRequested",
        jobId: big(a.jobId),
        stage: num(a.stage),
        round: num(a.round),
        randBlock: big(a.randBlock),
      };
    case "JuryDrawn":
      return {
        ...pos,
        kind: "JuryDrawn",
        jobId: big(a.jobId),
        stage: num(a.stage),
        round: num(a.round),
        jurors: [...(a.jurors as Address[])],
        deadline: big(a.deadline),
      };
    case "JuryCommitted":
      return {
        ...pos,
        kind: "JuryCommitted",
        jobId: big(a.jobId),
        stage: num(a.stage),
        juror: a.juror as Address,
        round: num(a.round),
        commitment: a.commitment as Hex,
      };
    case "JuryVoted":
      return {
        ...pos,
        kind: "JuryVoted",
        jobId: big(a.jobId),
        stage: num(a.stage),
        juror: a.juror as Address,
        round: num(a.round),
        resultHash: a.resultHash as Hex,
        rho: a.rho as Hex,
      };
    case "JuryDecided":
      return {
        ...pos,
        kind: "JuryDecided",
        jobId: big(a.jobId),
        stage: num(a.stage),
        round: num(a.round),
        resultHash: a.resultHash as Hex,
        rho: a.rho as Hex,
      };
    default:
      return undefined;
  }
}

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

/** Typed access to the ledger, staking, token and jury of one deployment, for one signing account. */
export class PotContractsAdapter {
  readonly ledger: Ref;
  readonly staking: Ref;
  readonly token: Ref;
  readonly client: PublicClient;
  private juryRef: Ref | undefined;
  private params: LedgerParamsView | undefined;
  private epochBlocksCache: bigint | undefined;
  private domain: Hex | undefined;

  constructor(
    private readonly session: PotSession,
    private readonly sender: TxSender,
    private readonly options: PotContractsOptions = {},
  ) {
    const ledger = session.contracts.ledger;
    if (ledger === undefined)
      throw new Error(
        `The deployment ${session.contracts.deployment.path} has no PoTLedger; deploy the ledger first (pot deploy)`,
      );
    this.ledger = ledger;
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

  private read<T>(ref: Ref, functionName: string, args: readonly unknown[] = []): Promise<T> {
    return this.client.readContract({
      address: ref.address,
      abi: ref.abi,
      functionName,
      args,
    } as never) as Promise<T>;
  }

  private send(
    ref: Ref,
    functionName: string,
    args: readonly unknown[] = [],
    options: SendOptions = {},
  ): Promise<SentTx> {
    return this.sender.send(
      {
        address: ref.address,
        abi: [...ref.abi, ...this.errorsOf()] as Abi,
        functionName,
        args,
      },
      options,
    );
  }

  /** Send options of declare, submitHeader, attest and wrap (see PotContractsOptions). */
  private get stageTx(): SendOptions {
    return { confirmations: this.options.stageTxConfirmations };
  }

  private errorsOf(): Abi {
    return this.juryRef ? errorsAbi(this.juryRef.abi) : [];
  }

  /** The jury contract (its address is read from the ledger once). */
  async jury(): Promise<Ref> {
    if (this.juryRef === undefined) {
      const address = getAddress(await this.read<Address>(this.ledger, "jury"));
      this.juryRef = {
        address,
        abi: loadArtifact(this.session.config.artifactsDir, "PoTJury", "ledger/PoTJury.sol").abi,
      };
    }
    return this.juryRef;
  }

  /** The protocol domain (EIP-712 separator of the ledger). */
  async domainSeparator(): Promise<Hex> {
    this.domain ??= await this.read<Hex>(this.ledger, "domainSeparator");
    return this.domain;
  }

  /** The ledger's immutable parameters. */
  async ledgerParams(): Promise<LedgerParamsView> {
    if (this.params === undefined) {
      const names = [
        "sealWindowSeconds",
        "closeDelayBlocks",
        "poaWindowBlocks",
        "poaMaxRounds",
        "targetPerCoinSecond",
        "minStake",
      ] as const;
      const values = await Promise.all(names.map((n) => this.read<bigint | number>(this.ledger, n)));
      const p: Record<string, bigint> = {};
      names.forEach((n, i) => (p[n] = BigInt(values[i])));
      this.params = p as unknown as LedgerParamsView;
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
    return this.read<bigint>(this.staking, "stakeOf", [who]);
  }

  /**
   * Blocks per draw epoch of the staking contract: committees and juries are drawn over the stake
   * weights as of the start of their randomness block's epoch, so a new stake is drawable from the
   * next epoch on.
   */
  async epochBlocks(): Promise<bigint> {
    this.epochBlocksCache ??= await this.read<bigint>(this.staking, "epochBlocks", []);
    return this.epochBlocksCache;
  }

  async coinAgeOf(who: Address): Promise<bigint> {
    return this.read<bigint>(this.staking, "coinAgeOf", [who]);
  }

  async peerOf(who: Address): Promise<string> {
    return this.read<string>(this.staking, "peerOf", [who]);
  }

  async tokenBalance(who: Address): Promise<bigint> {
    return this.read<bigint>(this.token, "balanceOf", [who]);
  }

  async claimable(who: Address): Promise<bigint> {
    return this.read<bigint>(this.ledger, "claimable", [who]);
  }

  async totalOwed(): Promise<bigint> {
    return this.read<bigint>(this.ledger, "totalOwed");
  }

  /** Whether `who` has a declaration recorded for exactly (jobId, stage). */
  async hasDeclared(jobId: bigint, stage: number, who: Address): Promise<boolean> {
    const [slotStage] = await this.read<readonly [number, number, bigint]>(this.ledger, "declarationSlot", [
      jobId,
      who,
      stage,
    ]);
    return Number(slotStage) === stage;
  }

  /** The ledger's phase of a stage (0 none, 1 open, 2 jury, 3 decided, 4 headered, 5 wrapped). */
  async stagePhase(jobId: bigint, stage: number): Promise<number> {
    const st = await this.read<{ phase: number }>(this.ledger, "getStage", [jobId, stage]);
    return Number(st.phase);
  }

  /** The current committee of a headered stage, or undefined when there is none now (not ready, expired). */
  async committeeOf(jobId: bigint, stage: number): Promise<Committee | undefined> {
    try {
      const [round, members, lastBlock] = await this.read<readonly [number, readonly Address[], bigint]>(
        this.ledger,
        "committeeOf",
        [jobId, stage],
      );
      return {
        round: Number(round),
        members: members.map((m) => getAddress(m)),
        lastBlock: BigInt(lastBlock),
      };
    } catch {
      return undefined;
    }
  }

  // ----- transactions

  async faucet(): Promise<SentTx> {
    return this.send(this.token, "faucet");
  }

  /** Approves the staking contract when needed, then stakes `amount`. */
  async stake(amount: bigint): Promise<SentTx> {
    const allowance = await this.read<bigint>(this.token, "allowance", [this.me, this.staking.address]);
    if (allowance < amount) await this.send(this.token, "approve", [this.staking.address, amount]);
    return this.send(this.staking, "stake", [amount]);
  }

  async setPeer(multiaddr: string): Promise<SentTx> {
    return this.send(this.staking, "setPeer", [multiaddr]);
  }

  async declare(d: {
    jobId: bigint;
    stage: number;
    parentHash: Hex;
    resultHash: Hex;
    commitment: Hex;
    rand: Hex;
    timestamp: bigint;
  }): Promise<SentTx> {
    return this.send(
      this.ledger,
      "declare",
      [d.jobId, d.stage, d.parentHash, d.resultHash, d.commitment, d.rand, d.timestamp],
      this.stageTx,
    );
  }

  /**
   * Submits a header; `openings` are sorted here by declarer address, as the ledger requires.
   * `resultHash` is the stage's declared (or jury-decided) result H(S_stage).
   */
  async submitHeader(h: {
    jobId: bigint;
    stage: number;
    resultHash: Hex;
    rho: Hex;
    resultCid: Hex;
    timestamp: bigint;
    openings: Opening[];
  }): Promise<SentTx> {
    const sorted = [...h.openings].sort((x, y) => (BigInt(x.declarer) < BigInt(y.declarer) ? -1 : 1));
    return this.send(
      this.ledger,
      "submitHeader",
      [h.jobId, h.stage, h.resultHash, h.rho, h.resultCid, h.timestamp, sorted],
      this.stageTx,
    );
  }

  async attest(jobId: bigint, stage: number): Promise<SentTx> {
    return this.send(this.ledger, "attest", [jobId, stage], this.stageTx);
  }

  /**
   * Wraps with tx attestations only (an empty signature per member). `members` is the current committee
   * in draw order, as `committeeOf` returns it (the ledger verifies it against the draw).
   */
  async wrap(
    jobId: bigint,
    stage: number,
    header: HeaderFields,
    opened: Address[],
    members: Address[],
  ): Promise<SentTx> {
    return this.send(
      this.ledger,
      "wrap",
      [jobId, stage, header, opened, members, members.map(() => "0x")],
      this.stageTx,
    );
  }

  /** Claims a declaration's share (and coinbase) of a wrapped stage; `settlement` from StageSettled. */
  async claimDeclaration(jobId: bigint, stage: number, settlement: Settlement, o: Opening): Promise<SentTx> {
    return this.send(this.ledger, "claimDeclaration", [jobId, stage, settlement, o]);
  }

  /** Claims the builder's share of a wrapped stage (credited to the settlement's builder). */
  async claimBuilder(jobId: bigint, stage: number, settlement: Settlement): Promise<SentTx> {
    return this.send(this.ledger, "claimBuilder", [jobId, stage, settlement]);
  }

  /** Claims committee member `index`'s share of a wrapped stage (`members` in draw order). */
  async claimAttester(
    jobId: bigint,
    stage: number,
    settlement: Settlement,
    members: Address[],
    index: number,
  ): Promise<SentTx> {
    return this.send(this.ledger, "claimAttester", [jobId, stage, settlement, members, BigInt(index)]);
  }

  /**
   * Slashes a provably wrong declaration of a wrapped stage (anyone may; the reporter receives the slash
   * bounty, slashBountyBps of it, and the rest is burned):
   * its result differs from the settled one or its commitment does not open against the settled rho.
   * `resultHash` and the opening are the declaration's, from its `Declared` event.
   */
  async slashDeclaration(
    jobId: bigint,
    stage: number,
    settlement: Settlement,
    resultHash: Hex,
    o: Opening,
  ): Promise<SentTx> {
    return this.send(this.ledger, "slashDeclaration", [jobId, stage, settlement, resultHash, o]);
  }

  /**
   * Voids a header whose PoA rounds all passed without a wrap (anyone may, after `poaMaxRounds` rounds);
   * `header` is the voided header's fields (its rho stays fixed, its builder is barred).
   */
  async voidHeader(jobId: bigint, stage: number, header: HeaderFields): Promise<SentTx> {
    return this.send(this.ledger, "voidHeader", [jobId, stage, header]);
  }

  async withdraw(): Promise<SentTx> {
    return this.send(this.ledger, "withdraw");
  }

  async requestJury(jobId: bigint, stage: number): Promise<SentTx> {
    await this.jury();
    return this.send(this.ledger, "requestJury", [jobId, stage]);
  }

  async drawJury(jobId: bigint, stage: number): Promise<SentTx> {
    return this.send(await this.jury(), "draw", [jobId, stage]);
  }

  /**
   * Commits a juror's vote (commit-reveal): `commitment` is `juryVoteCommitment` of src/protocol over the
   * (result, rho) pair it obtained by training the stage itself and a secret salt (keep the salt: the
   * reveal needs it).
   */
  async commitVote(v: { jobId: bigint; stage: number; jurors: Address[]; commitment: Hex }): Promise<SentTx> {
    return this.send(await this.jury(), "commitVote", [v.jobId, v.stage, v.jurors, v.commitment]);
  }

  /**
   * Reveals a juror's committed vote: the (result, rho) pair and the commitment's salt. The jury accepts
   * reveals once more than half its jurors have committed.
   */
  async vote(v: {
    jobId: bigint;
    stage: number;
    jurors: Address[];
    resultHash: Hex;
    rho: Hex;
    salt: Hex;
  }): Promise<SentTx> {
    return this.send(await this.jury(), "vote", [v.jobId, v.stage, v.jurors, v.resultHash, v.rho, v.salt]);
  }

  /** Contests a header whose rho differs from the one our declaration of the same result opens against. */
  async contest(jobId: bigint, stage: number, header: HeaderFields, rho: Hex, o: Opening): Promise<SentTx> {
    await this.jury();
    return this.send(this.ledger, "contest", [jobId, stage, header, rho, o]);
  }

  // ----- events

  /** A watcher over the ledger's and the jury's events, from `fromBlock`, `confirmations` deep. */
  async watcher(options: {
    fromBlock: bigint;
    confirmations: number;
    pollingIntervalMs: number;
  }): Promise<EventWatcher> {
    const jury = await this.jury();
    const events = [...this.ledger.abi, ...jury.abi].filter(
      (item) =>
        item.type === "event" &&
        ([...LEDGER_EVENTS, ...JURY_EVENTS] as readonly string[]).includes(item.name),
    );
    return new EventWatcher({
      client: this.client,
      address: [this.ledger.address, jury.address],
      abi: events as Abi,
      fromBlock: options.fromBlock,
      confirmations: options.confirmations,
      pollingIntervalMs: options.pollingIntervalMs,
    });
  }
}
