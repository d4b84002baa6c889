/**
 * The history of one job: the protocol's events (decoded by `decodeLedgerLog`, ledger-events.ts) folded
 * into stages, with the committee seats each wrap paid (read from the wrap transaction, cached by hash).
 * State reads are ledger-reads.ts; the rewards each stage credited are stage-rewards.ts.
 */
import { decodeFunctionData, type Address, type Hex, type PublicClient } from "viem";
import { potStagesAbi } from "./abi";
import type { PotSuite } from "./contracts";
import type { EventWatcher, WatchedLog } from "./events";
import { DUMMY_JOB_ID, UnknownJobError, type LedgerHandle } from "./ledger-reads";
import { decodeLedgerLog, type LedgerEvent } from "./ledger-events";
import { LruMap } from "./lru-map";
import { suiteWatcher } from "./pot-contracts";

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
/** An OutcomeRevealed event: what the stage's result commits to (H(S), checkpoints, held-out metric). */
export type OutcomeEvent = JobEvent<"OutcomeRevealed", "blockHash" | "jobId">;
export type SlashedEvent = JobEvent<"Slashed", "blockHash" | "jobId">;
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
  /**
   * What the stage's result opens to, as its last header revealed it (a header built again after a void
   * reveals the same values).
   */
  outcome?: OutcomeEvent;
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
  /** The early-stopping target (JobTarget; protocol/outcome.ts TargetKind), if the employer set one. */
  target?: { kind: number; value: number };
  /** The wrapped stage that met the target (TargetReached): the job finished there. */
  targetReached?: EventBase & { stage: number };
  expired?: EventBase;
  readonly refunds: (EventBase & { amount: bigint })[];
  readonly claims: (EventBase & { account: Address; amount: bigint; coinbase: bigint })[];
  readonly sweeps: (EventBase & { account: Address; amount: bigint })[];
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
      case "OutcomeRevealed": {
        const { kind: _k, logIndex: _l, blockHash: _b, jobId: _j, ...fields } = e;
        stageOf(e.stage).outcome = fields;
        break;
      }
      case "JobTarget":
        out.target = { kind: e.kind_, value: e.value };
        break;
      case "TargetReached":
        out.targetReached = { ...base, stage: e.stage };
        break;
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

/** Wrap transactions whose seats a client remembers (bounded: the least recently read are forgotten). */
export const WRAP_SEAT_CACHE_SIZE = 4096;
/** Per client, the seats of each wrap transaction by hash (null: not a direct wrap call). */
const wrapSeatCaches = new WeakMap<PublicClient, LruMap<Hex, readonly Address[] | null>>();

/**
 * Fills `seats` of every wrapped stage from its wrap transaction: PoTStages.wrap's `seats` argument is the
 * committee the escrow paid (StagePaid leaves the list out to save gas). A wrap sent through another
 * contract (a wallet) cannot be decoded this way: its `seats` stay undefined and `stageRewards` credits
 * one seat per distinct attester. A transaction's input is fixed by its hash, so the seats are read once
 * per client and hash (an LRU of WRAP_SEAT_CACHE_SIZE): a reader that folds a job again (the explorer, the
 * devnet, `pot job status --wait`) fetches only the wraps it has not seen.
 */
export async function attachWrapSeats(client: PublicClient, events: JobEvents): Promise<JobEvents> {
  let cache = wrapSeatCaches.get(client);
  if (cache === undefined) {
    cache = new LruMap(WRAP_SEAT_CACHE_SIZE);
    wrapSeatCaches.set(client, cache);
  }
  const known = cache;
  await Promise.all(
    events.stages.map(async (s) => {
      if (s.wrapped === undefined || s.seats !== undefined) return;
      const hash = s.wrapped.txHash.toLowerCase() as Hex;
      let seats = known.get(hash);
      if (seats === undefined) {
        seats = wrapSeatsOf((await client.getTransaction({ hash })).input);
        known.set(hash, seats);
      }
      if (seats !== null) s.seats = [...seats];
    }),
  );
  return events;
}

/** The `seats` argument of a direct PoTStages.wrap call, or null for any other calldata. */
function wrapSeatsOf(input: Hex): readonly Address[] | null {
  try {
    const call = decodeFunctionData({ abi: potStagesAbi, data: input });
    return call.functionName === "wrap" ? [...call.args[6]] : null;
  } catch {
    return null; // not a direct wrap call
  }
}
