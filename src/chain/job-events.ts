/**
 * The read side of the PoT ledger that every agent and the explorer share: the job and stage views, the peer
 * registry, and the per-job fold of the ledger's events (decoded by `decodeLedgerLog` in pot-contracts.ts)
 * into stages. Moved here from src/employer/ledger.ts (which re-exports it) so that no agent imports another
 * agent's room to read the chain.
 */
import { parseAbi, type Address, type Hex, type PublicClient } from "viem";
import { DRAW_WEIGHT_UNIT } from "../protocol";
import type { ContractRef } from "./contracts";
import { EventWatcher, type WatchedLog } from "./events";
import { decodeLedgerLog, type LedgerEvent } from "./pot-contracts";

/** Where the ledger is and how to read it. */
export interface LedgerHandle {
  readonly client: PublicClient;
  readonly ledger: ContractRef;
  /** First block to read events from (the deployment block; default 0). */
  readonly fromBlock?: bigint;
}

/** Job status codes of the ledger. */
export const JOB_STATUS = { 0: "unknown", 1: "open", 2: "finished", 3: "expired" } as const;
/** Stage phase codes of the ledger. */
export const STAGE_PHASE = {
  0: "not open",
  1: "open",
  2: "jury",
  3: "decided",
  4: "headered",
  5: "wrapped",
} as const;
/** Reward roles of `RewardCredited`. */
export const REWARD_ROLE = { 1: "builder", 2: "declarant", 3: "attester" } as const;

/** A job as `getJob` returns it. */
export interface OnChainJob {
  readonly employer: Address;
  readonly deadline: bigint;
  readonly stageSeconds: number;
  readonly escrow: bigint;
  readonly feePerStage: bigint;
  readonly numStages: number;
  readonly wrappedStages: number;
  readonly c: number;
  readonly k: number;
  readonly status: number;
  readonly statusName: string;
  readonly initialStateHash: Hex;
}

/** A stage as `getStage` returns it (the fields the agents use). */
export interface OnChainStage {
  readonly phase: number;
  readonly phaseName: string;
  readonly result: Hex;
  readonly rho: Hex;
  readonly headerHash: Hex;
  readonly builder: Address;
  readonly deadline: bigint;
}

interface EventBase {
  readonly blockNumber: bigint;
  readonly txHash: Hex;
}

/** A decoded ledger event of kind K, with its block and transaction but without the fields in Drop. */
type JobEvent<K extends LedgerEvent["kind"], Drop extends string = never> = Readonly<
  Omit<Extract<LedgerEvent, { kind: K }>, "kind" | "logIndex" | Drop>
>;

export type JobCreatedEvent = JobEvent<"JobCreated", "blockHash">;
export type StageOpenedEvent = JobEvent<"StageOpened", "blockHash" | "jobId">;
export type DeclaredEvent = JobEvent<"Declared", "blockHash" | "jobId">;
/** A HeaderSubmitted event; `resultCid` is the binary CID (hex) of S_stage. */
export type HeaderEvent = JobEvent<"HeaderSubmitted", "blockHash" | "jobId" | "randBlock">;
/** A BlockWrapped event; `blockHash` is the wrapped block's hash in the PoT chain. */
export type WrappedEvent = JobEvent<"BlockWrapped", "jobId">;
export type RewardEvent = JobEvent<"RewardCredited", "blockHash" | "jobId">;

/** Everything the chain recorded about one stage. */
export interface StageEvents {
  readonly stage: number;
  opened?: StageOpenedEvent;
  readonly declarations: DeclaredEvent[];
  closed?: { blockNumber: bigint; closeBlock: bigint; leadResult: Hex; disputed: boolean };
  /** Every header submitted, voided ones included, in chain order. */
  readonly headers: HeaderEvent[];
  readonly voidedHeaders: Hex[];
  wrapped?: WrappedEvent;
  readonly rewards: RewardEvent[];
}

/** Everything the chain recorded about one job, by stage (index 0 = stage 1). */
export interface JobEvents {
  readonly jobId: bigint;
  readonly created: JobCreatedEvent;
  readonly stages: StageEvents[];
  finished?: EventBase;
  expired?: EventBase & { unspent: bigint };
  readonly refunds: (EventBase & { amount: bigint })[];
}

/** The job has no JobCreated event on this ledger. */
export class UnknownJobError extends Error {
  constructor(readonly jobId: bigint) {
    super(
      `Job ${jobId} does not exist on this ledger (no JobCreated event). Check the job id and the network`,
    );
    this.name = "UnknownJobError";
  }
}

const n = (v: unknown) => Number(v as bigint | number);

async function read<T>(h: LedgerHandle, functionName: string, args: unknown[] = []): Promise<T> {
  return (await h.client.readContract({ ...h.ledger, functionName, args } as never)) as T;
}

/** `domainSeparator()`: the domain every protocol hash of this ledger is bound to. */
export function readDomain(h: LedgerHandle): Promise<Hex> {
  return read<Hex>(h, "domainSeparator");
}

/** `getJob(jobId)`. */
export async function readJob(h: LedgerHandle, jobId: bigint): Promise<OnChainJob> {
  const j = await read<Record<string, unknown>>(h, "getJob", [jobId]);
  const status = n(j.status);
  return {
    employer: j.employer as Address,
    deadline: BigInt(j.deadline as bigint),
    stageSeconds: n(j.stageSeconds),
    // v3: getJob's escrow is the fee escrowed at creation (zero once the job ended); the unspent part is
    // escrow - wrappedStages * feePerStage + dust (docs/contracts/ledger.md, "Changes in v3").
    escrow:
      BigInt(j.escrow as bigint) === 0n
        ? 0n
        : BigInt(j.escrow as bigint) -
          BigInt(j.wrappedStages as bigint) * BigInt(j.feePerStage as bigint) +
          BigInt((j.dust as bigint | undefined) ?? 0n),
    feePerStage: BigInt(j.feePerStage as bigint),
    numStages: n(j.numStages),
    wrappedStages: n(j.wrappedStages),
    c: n(j.c),
    k: n(j.k),
    status,
    statusName: JOB_STATUS[status as keyof typeof JOB_STATUS] ?? `status ${status}`,
    initialStateHash: j.initialStateHash as Hex,
  };
}

/** `getStage(jobId, stage)`. */
export async function readStage(h: LedgerHandle, jobId: bigint, stage: number): Promise<OnChainStage> {
  const s = await read<Record<string, unknown>>(h, "getStage", [jobId, stage]);
  const phase = n(s.phase);
  return {
    phase,
    phaseName: STAGE_PHASE[phase as keyof typeof STAGE_PHASE] ?? `phase ${phase}`,
    result: s.result as Hex,
    rho: s.rho as Hex,
    headerHash: s.headerHash as Hex,
    builder: s.builder as Address,
    deadline: BigInt(s.deadline as bigint),
  };
}

/** `claimable(account)`: wei the account can withdraw. */
export function readClaimable(h: LedgerHandle, account: Address): Promise<bigint> {
  return read<bigint>(h, "claimable", [account]);
}

/** `totalOwed()`. */
export function readTotalOwed(h: LedgerHandle): Promise<bigint> {
  return read<bigint>(h, "totalOwed");
}

/** `nextJobId()`. */
export function readNextJobId(h: LedgerHandle): Promise<bigint> {
  return read<bigint>(h, "nextJobId");
}

/**
 * Multiaddrs announced in the staking contract's peer registry by current stakers, and by the accounts in
 * `also` (e.g. a job's employer, whose `pot job serve --announce` node holds the job's data but who is not
 * a staker).
 */
export async function readPeerRegistry(
  client: PublicClient,
  staking: ContractRef,
  limit = 500,
  also: readonly Address[] = [],
): Promise<string[]> {
  const [stakers] = (await client.readContract({
    ...staking,
    functionName: "stakersPage",
    args: [0n, BigInt(limit)],
  } as never)) as readonly [Address[], bigint[]];
  const accounts = [...new Set([...stakers, ...also].map((a) => a.toLowerCase() as Address))];
  const peers = await Promise.all(
    accounts.map(
      (s) =>
        client.readContract({ ...staking, functionName: "peerOf", args: [s] } as never) as Promise<string>,
    ),
  );
  return peers.filter((p) => p.length > 0);
}

/**
 * A watcher over every ledger log from `fromBlock`, `confirmations` blocks deep (default 0): each `poll()`
 * returns the logs not delivered before, so a long-running reader (the explorer) follows the chain without
 * re-reading it.
 */
export function ledgerLogWatcher(h: LedgerHandle, confirmations = 0): EventWatcher {
  return new EventWatcher({
    client: h.client,
    address: h.ledger.address,
    abi: h.ledger.abi,
    fromBlock: h.fromBlock ?? 0n,
    confirmations,
    maxBlockRange: 10_000,
  });
}

/** Reads every ledger log from `fromBlock` to the head through the shared event watcher (one poll). */
export async function readLedgerLogs(h: LedgerHandle): Promise<WatchedLog[]> {
  return ledgerLogWatcher(h).poll();
}

/** Decodes the logs of one job into a per-stage record. Throws UnknownJobError when it never existed. */
export function jobEventsFromLogs(jobId: bigint, logs: readonly WatchedLog[]): JobEvents {
  let created: JobCreatedEvent | undefined;
  const stages = new Map<number, StageEvents>();
  const stageOf = (stage: number): StageEvents => {
    let s = stages.get(stage);
    if (s === undefined) {
      s = { stage, declarations: [], headers: [], voidedHeaders: [], rewards: [] };
      stages.set(stage, s);
    }
    return s;
  };
  const out = { jobId, refunds: [] as JobEvents["refunds"] } as {
    finished?: EventBase;
    expired?: EventBase & { unspent: bigint };
    refunds: JobEvents["refunds"];
  };
  for (const log of logs) {
    // One decoder for every agent (src/chain/pot-contracts.ts); here only this job's events count.
    const e = decodeLedgerLog(log);
    if (e === undefined || !("jobId" in e) || e.jobId !== jobId) continue;
    const { blockNumber, txHash } = e;
    const base: EventBase = { blockNumber, txHash };
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
      case "DeclarationsClosed":
        stageOf(e.stage).closed = {
          blockNumber,
          closeBlock: e.closeBlock,
          leadResult: e.leadResult,
          disputed: e.disputed,
        };
        break;
      case "HeaderSubmitted": {
        const { kind: _k, logIndex: _l, blockHash: _b, jobId: _j, randBlock: _r, ...fields } = e;
        stageOf(e.stage).headers.push(fields);
        break;
      }
      case "HeaderVoided":
        stageOf(e.stage).voidedHeaders.push(e.headerHash);
        break;
      case "BlockWrapped": {
        const { kind: _k, logIndex: _l, jobId: _j, ...fields } = e;
        stageOf(e.stage).wrapped = fields;
        break;
      }
      case "RewardCredited": {
        const { kind: _k, logIndex: _l, blockHash: _b, jobId: _j, ...fields } = e;
        stageOf(e.stage).rewards.push(fields);
        break;
      }
      case "JobFinished":
        out.finished = base;
        break;
      case "JobExpired":
        out.expired = { ...base, unspent: e.unspent };
        break;
      case "Refunded":
        out.refunds.push({ ...base, amount: e.amount });
        break;
      default:
        break;
    }
  }
  if (created === undefined) throw new UnknownJobError(jobId);
  const list: StageEvents[] = [];
  for (let s = 1; s <= created.numStages; s++) list.push(stageOf(s));
  return { ...out, jobId, created, stages: list };
}

/** Reads and decodes every event of one job. */
export async function readJobEvents(h: LedgerHandle, jobId: bigint): Promise<JobEvents> {
  return jobEventsFromLogs(jobId, await readLedgerLogs(h));
}

/** The header a stage's wrapped block finalized (undefined if the stage is not wrapped). */
export function wrappedHeader(stage: StageEvents): HeaderEvent | undefined {
  if (stage.wrapped === undefined) return undefined;
  const hash = stage.wrapped.headerHash.toLowerCase();
  return stage.headers.find((h) => h.headerHash.toLowerCase() === hash);
}

/** Credited rewards of some jobs summed per account and role (role names of REWARD_ROLE), largest first. */
export function rewardTotals(
  jobs: readonly JobEvents[],
): { account: Address; role: string; amount: bigint }[] {
  const sums = new Map<string, { account: Address; role: string; amount: bigint }>();
  for (const events of jobs)
    for (const s of events.stages)
      for (const r of s.rewards) {
        const role = REWARD_ROLE[r.role as keyof typeof REWARD_ROLE] ?? `role ${r.role}`;
        const key = `${r.account.toLowerCase()}:${role}`;
        const row = sums.get(key) ?? { account: r.account, role, amount: 0n };
        row.amount += r.amount;
        sums.set(key, row);
      }
  return [...sums.values()].sort((a, b) => (a.amount === b.amount ? 0 : a.amount > b.amount ? -1 : 1));
}

/** The ledger's limits on a job request (immutables of PoTLedger; `createJob` reverts outside them). */
export interface JobLimits {
  readonly maxC: number;
  readonly maxK: number;
  readonly minStageSeconds: number;
  /** The deadline must be at least this many seconds after the creating block. */
  readonly minJobSeconds: number;
  /** Stake (wei) a staker needs to declare, attest or sit on a jury. */
  readonly minStake: bigint;
}

/** `maxC`, `maxK`, `minStageSeconds`, `minJobSeconds` and `minStake` of the ledger. */
export async function readJobLimits(h: LedgerHandle): Promise<JobLimits> {
  const [maxC, maxK, minStageSeconds, minJobSeconds, minStake] = await Promise.all(
    ["maxC", "maxK", "minStageSeconds", "minJobSeconds", "minStake"].map((f) => read<bigint | number>(h, f)),
  );
  return {
    maxC: n(maxC),
    maxK: n(maxK),
    minStageSeconds: n(minStageSeconds),
    minJobSeconds: n(minJobSeconds),
    minStake: BigInt(minStake),
  };
}

/** The staking views the employer reads (through the ledger's `staking()` address). */
const STAKING_VIEWS = parseAbi([
  "function stakersPage(uint256 offset, uint256 limit) view returns (address[] stakers, uint256[] stakes)",
  "function drawWeightsPage(uint256 offset, uint256 limit, uint256 randBlock) view returns (address[] stakers, uint256[] weights)",
]);

/** Who can serve a job now: stakers by draw weight, from the staking contract the ledger uses. */
export interface StakerCounts {
  /** Stakers whose draw weight in the current epoch is at least `minStake` (drawn for committees). */
  readonly drawable: number;
  /** Stakers with at least `minStake` active whose stake counts for draws only from the next epoch. */
  readonly pending: number;
}

/** Counts the stakers of the ledger's staking contract holding at least `minStake` (draw weight and active). */
export async function readStakerCounts(
  h: LedgerHandle,
  minStake: bigint,
  limit = 10_000,
): Promise<StakerCounts> {
  const staking = await read<Address>(h, "staking");
  const head = await h.client.getBlockNumber({ cacheTime: 0 });
  const page = <T>(functionName: "stakersPage" | "drawWeightsPage", args: bigint[]) =>
    h.client.readContract({
      address: staking,
      abi: STAKING_VIEWS,
      functionName,
      args,
    } as never) as Promise<T>;
  const [[, stakes], [, weights]] = await Promise.all([
    page<readonly [Address[], bigint[]]>("stakersPage", [0n, BigInt(limit)]),
    page<readonly [Address[], bigint[]]>("drawWeightsPage", [0n, BigInt(limit), head]),
  ]);
  let drawable = 0;
  let pending = 0;
  stakes.forEach((stake, i) => {
    if (weights[i] > 0n && weights[i] * DRAW_WEIGHT_UNIT >= minStake) drawable++;
    else if (stake > 0n && stake >= minStake) pending++;
  });
  return { drawable, pending };
}
