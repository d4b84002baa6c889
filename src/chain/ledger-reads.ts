/**
 * Reads of the protocol's state that every agent and the explorer share: a job's terms and status, its
 * lineage, a stage's record, balances owed, the peer registry, the job limits and the staker counts. The
 * per-job fold of the events is job-events.ts; what each stage paid is stage-rewards.ts.
 */
import type { Address, Hex, PublicClient } from "viem";
import { DRAW_WEIGHT_UNIT, nextDrawEpochStart } from "../protocol";
import type { PotSuite, StakingRef } from "./contracts";
import { ChainError } from "./errors";
import type { JobCreatedEvent } from "./job-events";
import { decodeLedgerLog } from "./ledger-events";

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
