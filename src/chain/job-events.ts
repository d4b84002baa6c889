/**
 * The read side of the protocol that every agent and the explorer share: job and stage views, the peer
 * registry, and the per-job fold of the protocol's events (decoded by `decodeLedgerLog`,
 * ledger-events.ts) into stages, with each stage's rewards as the escrow credited them.
 */
import { decodeFunctionData, type Address, type Hex, type PublicClient } from "viem";
import { potStagesAbi } from "./abi";
import { DRAW_WEIGHT_UNIT, nextDrawEpochStart } from "../protocol";
import type { PotSuite, StakingRef } from "./contracts";
import { ChainError } from "./errors";
import { EventWatcher, type WatchedLog } from "./events";
import { decodeLedgerLog, type LedgerEvent } from "./ledger-events";
import { suiteWatcher } from "./pot-contracts";

/** Where the protocol's contracts are and how to read them. */
export interface LedgerHandle {
  readonly client: PublicClient;
  readonly suite: PotSuite;
  readonly staking: StakingRef;
  /** First block to read events from (the deployment block; default 0). */
  readonly fromBlock?: bigint;
}

/** Job id of the built-in dummy job of PoTStages (coinbase only, endless; trained when the network is idle). */
export const DUMMY_JOB_ID = 0n;

/** Job status names by PoTStages code. */
export const JOB_STATUS_NAME = { 0: "unknown", 1: "open", 2: "finished", 3: "expired" } as const;
/** Stage phase names by PoTStages code. */
export const STAGE_PHASE_NAME = {
  0: "not open",
  1: "open",
  2: "jury",
  3: "decided",
  4: "headered",
  5: "wrapped",
} as const;

/** A job as the chain holds it: its terms (JobCreated), status (PoTStages) and funds (PoTEscrow). */
export interface OnChainJob {
  readonly employer: Address;
  readonly deadline: bigint;
  readonly stageSeconds: number;
  readonly minDeclareSeconds: number;
  /** Fee still escrowed (0 once the job ended and the rest was refunded). */
  readonly escrow: bigint;
  readonly fee: bigint;
  readonly feePerStage: bigint;
  readonly numStages: number;
  readonly wrappedStages: number;
  readonly c: number;
  readonly k: number;
  readonly status: number;
  readonly statusName: string;
  readonly initialStateHash: Hex;
  /** Unix seconds the job ended (finished or expired), 0 while it runs. */
  readonly endedAt: bigint;
  /** The finished job this one fine-tunes (its S_0 is that job's final state); 0 when trained from its spec. */
  readonly parentJobId: bigint;
  /** H(S_n) once the job finished (PoTStages.finalStateOf), else the zero hash. */
  readonly finalStateHash: Hex;
}

/** A stage as `getStage` returns it (the fields the agents use); phase 0 once its record was reused. */
export interface OnChainStage {
  readonly phase: number;
  readonly phaseName: string;
  readonly result: Hex;
  readonly rho: Hex;
  readonly headerHash: Hex;
  readonly builder: Address;
  readonly deadline: bigint;
  readonly declarations: number;
}

interface EventBase {
  readonly blockNumber: bigint;
  readonly txHash: Hex;
}

/** A decoded event of kind K, with its block and transaction but without the fields in Drop. */
type JobEvent<K extends LedgerEvent["kind"], Drop extends string = never> = Readonly<
  Omit<Extract<LedgerEvent, { kind: K }>, "kind" | "logIndex" | Drop>
>;

export type JobCreatedEvent = JobEvent<"JobCreated", "blockHash">;
export type StageOpenedEvent = JobEvent<"StageOpened", "blockHash" | "jobId">;
export type DeclaredEvent = JobEvent<"Declared", "blockHash" | "jobId">;
/** A HeaderSubmitted event; `resultCid` is the binary CID (hex) of S_stage. */
export type HeaderEvent = JobEvent<"HeaderSubmitted", "blockHash" | "jobId">;
/** A BlockWrapped event; `blockHash` is the wrapped block's hash in the PoT chain. */
export type WrappedEvent = JobEvent<"BlockWrapped", "jobId">;
export type StagePaidEvent = JobEvent<"StagePaid", "blockHash" | "jobId">;
export type SlashedEvent = JobEvent<"Slashed", "blockHash" | "jobId">;

/** A reward the escrow credited for one stage (REWARD_ROLES). */
export interface StageReward {
  readonly account: Address;
  readonly role: RewardRole;
  readonly amount: bigint;
}
export const REWARD_ROLES = ["builder", "declarant", "attester"] as const;
export type RewardRole = (typeof REWARD_ROLES)[number];

/** A stage's jury: why it sat, the seats of its last drawn round, the revealed votes, the decision. */
export interface StageJury {
  reason: number;
  rounds: number;
  /** Seats of the last drawn round, as JuryDrawn listed them (with replacement: a juror may hold several). */
  seats?: Address[];
  /** Revealed votes of every round (JuryVoted), in chain order. */
  votes?: { juror: Address; round: number; resultHash: Hex; rho: Hex; seats: number }[];
  decided?: { resultHash: Hex; rho: Hex };
}

/** Everything the chain recorded about one stage. */
export interface StageEvents {
  readonly stage: number;
  opened?: StageOpenedEvent;
  readonly declarations: DeclaredEvent[];
  /** The C-th declaration set the block declarations close at. */
  closing?: { blockNumber: bigint; closeBlock: bigint; disputed: boolean };
  /** Every header submitted, voided ones included, in chain order. */
  readonly headers: HeaderEvent[];
  readonly voidedHeaders: Hex[];
  /** Why the stage went to a jury (JURY_REASON code), its rounds, seats and votes, and what it decided. */
  jury?: StageJury;
  wrapped?: WrappedEvent;
  paid?: StagePaidEvent;
  /**
   * The committee seats the wrap paid, in draw order (a member with m seats is paid m parts), read from the
   * wrap transaction's calldata by `readJobEvents` (`attachWrapSeats`); absent when not read.
   */
  seats?: Address[];
  readonly slashes: SlashedEvent[];
}

/** Everything the chain recorded about one job, by stage (index 0 = stage 1). */
export interface JobEvents {
  readonly jobId: bigint;
  readonly created: JobCreatedEvent;
  readonly stages: StageEvents[];
  /** JobDerived: the finished job whose final state (hash `parentFinalHash`) is this job's S_0. */
  derived?: EventBase & { parentJobId: bigint; parentFinalHash: Hex };
  finished?: EventBase;
  expired?: EventBase;
  readonly refunds: (EventBase & { amount: bigint })[];
  readonly claims: (EventBase & { account: Address; amount: bigint; coinbase: bigint })[];
  readonly sweeps: (EventBase & { account: Address; amount: bigint })[];
}

/** The job has no JobCreated event on this deployment. */
export class UnknownJobError extends ChainError {
  constructor(readonly jobId: bigint) {
    super(
      `Job ${jobId} does not exist on this deployment (no JobCreated event)`,
      "Check the job id and the network (pot explorer lists every job)",
    );
  }
}

/** `domainSeparator()` of PoTStages: the domain every protocol hash of this deployment is bound to. */
export function readDomain(h: LedgerHandle): Promise<Hex> {
  return h.client.readContract({ ...h.suite.stages, functionName: "domainSeparator" });
}

/** A job's terms, status and funds; UnknownJobError when it never existed. */
export async function readJob(h: LedgerHandle, jobId: bigint): Promise<OnChainJob> {
  const [created, [status, wrappedStages], funds, parentJobId, finalStateHash] = await Promise.all([
    readJobCreated(h, jobId),
    h.client.readContract({ ...h.suite.stages, functionName: "jobStatus", args: [jobId] }),
    h.client.readContract({ ...h.suite.escrow, functionName: "fundsOf", args: [jobId] }),
    h.client.readContract({ ...h.suite.stages, functionName: "parentOf", args: [jobId] }),
    h.client.readContract({ ...h.suite.stages, functionName: "finalStateOf", args: [jobId] }),
  ]);
  const spent = BigInt(wrappedStages) * funds.feePerStage;
  return {
    employer: created.employer,
    deadline: created.deadline,
    stageSeconds: created.stageSeconds,
    minDeclareSeconds: created.minDeclareSeconds,
    escrow: funds.endedAt === 0n ? funds.fee - spent : 0n,
    fee: funds.fee,
    feePerStage: funds.feePerStage,
    numStages: created.numStages,
    wrappedStages,
    c: created.c,
    k: created.k,
    status,
    statusName: JOB_STATUS_NAME[status as keyof typeof JOB_STATUS_NAME] ?? `status ${status}`,
    initialStateHash: created.initialStateHash,
    endedAt: funds.endedAt,
    parentJobId,
    finalStateHash,
  };
}

/** One job of a lineage: its id, status and hashes (readAncestry). */
export interface AncestorJob {
  readonly jobId: bigint;
  readonly statusName: string;
  readonly initialStateHash: Hex;
  readonly finalStateHash: Hex;
  readonly parentJobId: bigint;
}

/**
 * The lineage of a job, from the job itself back to the job trained from its own spec's S_0: each entry's
 * `parentJobId` is the next entry's id (PoTStages.parentOf). At most `maxDepth` jobs (default 64).
 */
export async function readAncestry(h: LedgerHandle, jobId: bigint, maxDepth = 64): Promise<AncestorJob[]> {
  const out: AncestorJob[] = [];
  for (let id = jobId; out.length < maxDepth;) {
    const job = await readJob(h, id);
    out.push({
      jobId: id,
      statusName: job.statusName,
      initialStateHash: job.initialStateHash,
      finalStateHash: job.finalStateHash,
      parentJobId: job.parentJobId,
    });
    if (job.parentJobId === 0n) break;
    id = job.parentJobId;
  }
  return out;
}

/** The JobCreated event of a job (one indexed log query). */
export async function readJobCreated(h: LedgerHandle, jobId: bigint): Promise<JobCreatedEvent> {
  const logs = await h.client.getContractEvents({
    ...h.suite.stages,
    eventName: "JobCreated",
    args: { jobId },
    fromBlock: h.fromBlock ?? 0n,
    toBlock: "latest",
  });
  for (const log of logs) {
    const e = decodeLedgerLog(h.suite, log);
    if (e?.kind === "JobCreated") {
      const { kind: _k, logIndex: _l, blockHash: _b, ...fields } = e;
      return fields;
    }
  }
  throw new UnknownJobError(jobId);
}

/** `getStage(jobId, stage)` of PoTStages. */
export async function readStage(h: LedgerHandle, jobId: bigint, stage: number): Promise<OnChainStage> {
  const s = await h.client.readContract({
    ...h.suite.stages,
    functionName: "getStage",
    args: [jobId, stage],
  });
  return {
    phase: s.phase,
    phaseName: STAGE_PHASE_NAME[s.phase as keyof typeof STAGE_PHASE_NAME] ?? `phase ${s.phase}`,
    result: s.result,
    rho: s.rho,
    headerHash: s.headerHash,
    builder: s.builder,
    deadline: BigInt(s.deadline),
    declarations: s.declCount,
  };
}

/** `claimable(account)`: wei the account can withdraw now. */
export function readClaimable(h: LedgerHandle, account: Address): Promise<bigint> {
  return h.client.readContract({ ...h.suite.escrow, functionName: "claimable", args: [account] });
}

/** `owedOf(jobId, account)`: what the account earned in the job and has not claimed. */
export async function readOwed(
  h: LedgerHandle,
  jobId: bigint,
  account: Address,
): Promise<{ amount: bigint; coinbase: bigint }> {
  const [amount, coinbase] = await h.client.readContract({
    ...h.suite.escrow,
    functionName: "owedOf",
    args: [jobId, account],
  });
  return { amount, coinbase };
}

/** `totalOwed()` of the escrow (at `blockNumber`, default the head): every wei it holds for someone. */
export function readTotalOwed(h: LedgerHandle, blockNumber?: bigint): Promise<bigint> {
  return h.client.readContract({ ...h.suite.escrow, functionName: "totalOwed", blockNumber });
}

/** `nextJobId()` of the escrow. */
export function readNextJobId(h: LedgerHandle): Promise<bigint> {
  return h.client.readContract({ ...h.suite.escrow, functionName: "nextJobId" });
}

/**
 * Multiaddrs announced in the staking contract's peer registry by current stakers, and by the accounts in
 * `also` (e.g. a job's employer, whose `pot job serve --announce` node holds the job's data but who is not
 * a staker).
 */
export async function readPeerRegistry(
  client: PublicClient,
  staking: StakingRef,
  limit = 500,
  also: readonly Address[] = [],
): Promise<string[]> {
  const [stakers] = await client.readContract({
    ...staking,
    functionName: "stakersPage",
    args: [0n, BigInt(limit)],
  });
  const accounts = [...new Set([...stakers, ...also].map((a) => a.toLowerCase() as Address))];
  const peers = await Promise.all(
    accounts.map((s) => client.readContract({ ...staking, functionName: "peerOf", args: [s] })),
  );
  return peers.filter((p) => p.length > 0);
}

/**
 * A watcher over every protocol log from `fromBlock`, `confirmations` blocks deep (default 0): each
 * `poll()` returns the logs not delivered before, so a long-running reader (the explorer) follows the chain
 * without re-reading it.
 */
export function ledgerLogWatcher(h: LedgerHandle, confirmations = 0): EventWatcher {
  return suiteWatcher(h.client, h.suite, { fromBlock: h.fromBlock ?? 0n, confirmations });
}

/** Reads every protocol log from `fromBlock` to the head (one poll). */
export async function readLedgerLogs(h: LedgerHandle): Promise<WatchedLog[]> {
  return ledgerLogWatcher(h).poll();
}

/** Decodes the logs of one job into a per-stage record. Throws UnknownJobError when it never existed. */
export function jobEventsFromLogs(suite: PotSuite, jobId: bigint, logs: readonly WatchedLog[]): JobEvents {
  let created: JobCreatedEvent | undefined;
  const stages = new Map<number, StageEvents>();
  const stageOf = (stage: number): StageEvents => {
    let s = stages.get(stage);
    if (s === undefined) {
      s = { stage, declarations: [], headers: [], voidedHeaders: [], slashes: [] };
      stages.set(stage, s);
    }
    return s;
  };
  const out: Omit<JobEvents, "jobId" | "created" | "stages"> = { refunds: [], claims: [], sweeps: [] };
  for (const log of logs) {
    const e = decodeLedgerLog(suite, log);
    if (e === undefined || !("jobId" in e) || e.jobId !== jobId) continue;
    const base: EventBase = { blockNumber: e.blockNumber, txHash: e.txHash };
    switch (e.kind) {
      case "JobCreated": {
        const { kind: _k, logIndex: _l, blockHash: _b, ...fields } = e;
        created = fields;
        break;
      }
      case "StageOpened": {
        const { kind: _k, logIndex: _l, blockHash: _b, jobId: _j, ...fields } = e;
        stageOf(e.stage).opened = fields;
        break;
      }
      case "Declared": {
        const { kind: _k, logIndex: _l, blockHash: _b, jobId: _j, ...fields } = e;
        stageOf(e.stage).declarations.push(fields);
        break;
      }
      case "DeclarationsClosing":
        stageOf(e.stage).closing = {
          blockNumber: e.blockNumber,
          closeBlock: e.closeBlock,
          disputed: e.disputed,
        };
        break;
      case "HeaderSubmitted": {
        const { kind: _k, logIndex: _l, blockHash: _b, jobId: _j, ...fields } = e;
        stageOf(e.stage).headers.push(fields);
        break;
      }
      case "HeaderVoided":
      case "HeaderContested":
        stageOf(e.stage).voidedHeaders.push(e.headerHash);
        break;
      case "StageToJury": {
        const s = stageOf(e.stage);
        s.jury = { ...s.jury, reason: e.reason, rounds: s.jury?.rounds ?? 0 };
        break;
      }
      case "JuryRequested": {
        const s = stageOf(e.stage);
        s.jury = {
          ...s.jury,
          reason: s.jury?.reason ?? 0,
          rounds: Math.max(s.jury?.rounds ?? 0, e.round + 1),
        };
        break;
      }
      case "JuryDrawn": {
        const s = stageOf(e.stage);
        s.jury = { ...s.jury, reason: s.jury?.reason ?? 0, rounds: s.jury?.rounds ?? 1, seats: e.seats };
        break;
      }
      case "JuryVoted": {
        const s = stageOf(e.stage);
        const vote = { juror: e.juror, round: e.round, resultHash: e.resultHash, rho: e.rho, seats: e.seats };
        s.jury = {
          ...s.jury,
          reason: s.jury?.reason ?? 0,
          rounds: s.jury?.rounds ?? 1,
          votes: [...(s.jury?.votes ?? []), vote],
        };
        break;
      }
      case "StageDecided": {
        const s = stageOf(e.stage);
        s.jury = {
          ...s.jury,
          reason: s.jury?.reason ?? 0,
          rounds: s.jury?.rounds ?? 1,
          decided: { resultHash: e.resultHash, rho: e.rho },
        };
        break;
      }
      case "BlockWrapped": {
        const { kind: _k, logIndex: _l, jobId: _j, ...fields } = e;
        stageOf(e.stage).wrapped = fields;
        break;
      }
      case "StagePaid": {
        const { kind: _k, logIndex: _l, blockHash: _b, jobId: _j, ...fields } = e;
        stageOf(e.stage).paid = fields;
        break;
      }
      case "Slashed": {
        const { kind: _k, logIndex: _l, blockHash: _b, jobId: _j, ...fields } = e;
        stageOf(e.stage).slashes.push(fields);
        break;
      }
      case "JobDerived":
        out.derived = { ...base, parentJobId: e.parentJobId, parentFinalHash: e.parentFinalHash };
        break;
      case "JobFinished":
        out.finished = base;
        break;
      case "JobExpired":
        out.expired = base;
        break;
      case "Refunded":
        out.refunds.push({ ...base, amount: e.amount });
        break;
      case "Claimed":
        out.claims.push({ ...base, account: e.account, amount: e.amount, coinbase: e.coinbase });
        break;
      case "Swept":
        out.sweeps.push({ ...base, account: e.account, amount: e.amount });
        break;
      default:
        break;
    }
  }
  if (created === undefined) throw new UnknownJobError(jobId);
  // The dummy job is endless (numStages 2^32 - 1): list its stages up to the last one with an event.
  const shown = jobId === DUMMY_JOB_ID ? Math.max(0, ...stages.keys()) : created.numStages;
  const list: StageEvents[] = [];
  for (let s = 1; s <= shown; s++) list.push(stageOf(s));
  return { ...out, jobId, created, stages: list };
}

/** Reads and decodes every event of one job, with the seats of each wrap (`attachWrapSeats`). */
export async function readJobEvents(h: LedgerHandle, jobId: bigint): Promise<JobEvents> {
  return attachWrapSeats(h.client, jobEventsFromLogs(h.suite, jobId, await readLedgerLogs(h)));
}

/**
 * Fills `seats` of every wrapped stage from its wrap transaction: PoTStages.wrap's `seats` argument is the
 * committee the escrow paid (StagePaid leaves the list out to save gas). A wrap sent through another
 * contract (a wallet) cannot be decoded this way: its `seats` stay undefined and `stageRewards` credits
 * one seat per distinct attester.
 */
export async function attachWrapSeats(client: PublicClient, events: JobEvents): Promise<JobEvents> {
  await Promise.all(
    events.stages.map(async (s) => {
      if (s.wrapped === undefined || s.seats !== undefined) return;
      const tx = await client.getTransaction({ hash: s.wrapped.txHash });
      try {
        const call = decodeFunctionData({ abi: potStagesAbi, data: tx.input });
        if (call.functionName === "wrap") s.seats = [...call.args[6]];
      } catch {
        // not a direct wrap call
      }
    }),
  );
  return events;
}

/** The header a stage's wrapped block finalized (undefined if the stage is not wrapped). */
export function wrappedHeader(stage: StageEvents): HeaderEvent | undefined {
  if (stage.wrapped === undefined) return undefined;
  const hash = stage.wrapped.headerHash.toLowerCase();
  return stage.headers.find((h) => h.headerHash.toLowerCase() === hash);
}

/**
 * What the escrow credited for a wrapped stage, per account and role, recomputed from StagePaid and the
 * wrapped header exactly as PoTEscrow.payStage credits it: the builder's part plus the rounding dust, one
 * part per committee seat, and the declaration pool over the openers in proportion to their weights.
 */
export function stageRewards(stage: StageEvents): StageReward[] {
  const paid = stage.paid;
  const header = wrappedHeader(stage);
  if (paid === undefined || header === undefined) return [];
  const out: StageReward[] = [];
  const add = (account: Address, role: RewardRole, amount: bigint) => {
    if (amount === 0n) return;
    const row = out.find((r) => r.role === role && r.account.toLowerCase() === account.toLowerCase());
    if (row === undefined) out.push({ account, role, amount });
    else out[out.indexOf(row)] = { ...row, amount: row.amount + amount };
  };
  add(header.builder, "builder", paid.builderPart + paid.dust);
  const total = header.weights.reduce((a, b) => a + b, 0n);
  header.openers.forEach((opener, i) => {
    const share =
      total === 0n
        ? paid.declarationPool / BigInt(header.openers.length)
        : (paid.declarationPool * header.weights[i]) / total;
    add(opener, "declarant", share);
  });
  const seats = stage.seats ?? [
    ...(stage.wrapped?.attesters ?? []),
    ...(stage.wrapped ? [stage.wrapped.wrapper] : []),
  ];
  for (const seat of seats) add(seat, "attester", paid.perSeat);
  return out;
}

/** Credited rewards of some jobs summed per account and role, largest first. */
export function rewardTotals(jobs: readonly JobEvents[]): StageReward[] {
  const sums = new Map<string, StageReward>();
  for (const events of jobs)
    for (const s of events.stages)
      for (const r of stageRewards(s)) {
        const key = `${r.account.toLowerCase()}:${r.role}`;
        const row = sums.get(key);
        sums.set(key, { ...r, amount: (row?.amount ?? 0n) + r.amount });
      }
  return [...sums.values()].sort((a, b) => (a.amount === b.amount ? 0 : a.amount > b.amount ? -1 : 1));
}

/** The limits on a job request (immutables of PoTStages; `createJob` reverts outside them). */
export interface JobLimits {
  readonly maxC: number;
  readonly maxK: number;
  readonly minStageSeconds: number;
  /** A job's minimum declaration window must be at least this (and at most its stage window). */
  readonly minDeclareSeconds: number;
  /** The deadline must be at least this many seconds after the creating block. */
  readonly minJobSeconds: number;
  readonly maxJobSeconds: number;
  /** Stake (wei) a staker needs to declare, attest or sit on a jury. */
  readonly minStake: bigint;
  /** Active stake a staker needs behind each unsettled declaration. */
  readonly declarationSlash: bigint;
}

/** The job limits of PoTStages. */
export async function readJobLimits(h: LedgerHandle): Promise<JobLimits> {
  const r = h.client;
  const stages = h.suite.stages;
  const [maxC, maxK, minStageSeconds, minDeclareSeconds, minJobSeconds, maxJobSeconds, minStake, slash] =
    await Promise.all([
      r.readContract({ ...stages, functionName: "maxC" }),
      r.readContract({ ...stages, functionName: "maxK" }),
      r.readContract({ ...stages, functionName: "minStageSeconds" }),
      r.readContract({ ...stages, functionName: "minDeclareSeconds" }),
      r.readContract({ ...stages, functionName: "minJobSeconds" }),
      r.readContract({ ...stages, functionName: "maxJobSeconds" }),
      r.readContract({ ...stages, functionName: "minStake" }),
      r.readContract({ ...stages, functionName: "declarationSlash" }),
    ]);
  return {
    maxC,
    maxK,
    minStageSeconds,
    minDeclareSeconds,
    minJobSeconds,
    maxJobSeconds,
    minStake,
    declarationSlash: slash,
  };
}

/** Who can serve a job now: stakers by draw weight. */
export interface StakerCounts {
  /** Stakers whose draw weight in the current epoch is at least `minStake` (drawn for committees). */
  readonly drawable: number;
  /** Stakers with at least `minStake` active whose stake counts for draws only from the next epoch. */
  readonly pending: number;
  /** The head block when counted, and the first block of the next draw epoch (when `pending` count). */
  readonly head: bigint;
  readonly nextEpochStart: bigint;
}

/** Counts the stakers holding at least `minStake` (draw weight and active). */
export async function readStakerCounts(
  h: LedgerHandle,
  minStake: bigint,
  limit = 10_000,
): Promise<StakerCounts> {
  const head = await h.client.getBlockNumber({ cacheTime: 0 });
  const [[, stakes], [, weights], epochBlocks] = await Promise.all([
    h.client.readContract({ ...h.staking, functionName: "stakersPage", args: [0n, BigInt(limit)] }),
    h.client.readContract({ ...h.staking, functionName: "drawWeightsPage", args: [0n, BigInt(limit), head] }),
    h.client.readContract({ ...h.staking, functionName: "epochBlocks" }),
  ]);
  let drawable = 0;
  let pending = 0;
  stakes.forEach((stake, i) => {
    if (weights[i] > 0n && weights[i] * DRAW_WEIGHT_UNIT >= minStake) drawable++;
    else if (stake > 0n && stake >= minStake) pending++;
  });
  return { drawable, pending, head, nextEpochStart: nextDrawEpochStart(head, epochBlocks) };
}
