/**
 * What the explorer page shows, as one JSON document (wei and token amounts as decimal strings): the jobs
 * (the dummy job 0 included) with their stages, faulty declarations, juries and curves, the chain of
 * wrapped blocks with who trained, built and attested each, the stakers, the rewards per account and role,
 * and the slashes.
 */
import type { Address, Hex } from "viem";
import { describeTarget } from "../protocol/outcome";
import { type JobEvents, type StageEvents } from "../chain/job-events";
import { DUMMY_JOB_ID } from "../chain/ledger-reads";
import { rewardTotals } from "../chain/stage-rewards";
import { FAULT, JURY_REASON } from "../chain/ledger-events";
import { stageStatuses, type LossPoint } from "../chain/job-record";
import type { ChainReader } from "./chain-reader";
import type { JobCurve } from "./loss-evaluator";

/** One stage of a job on the page. */
export interface StageRow {
  readonly stage: number;
  readonly phase: string;
  readonly declarants: Address[];
  /** Declarations the header marked faulty (they did not open against the stage's result and rho). */
  readonly faulty: Address[];
  readonly builder?: Address;
  readonly attesters: Address[];
  readonly wrapper?: Address;
  readonly block?: string;
  readonly resultCid?: string;
  /**
   * The held-out metric the wrapped stage's outcome declares (on-chain, agreed by its declarants): the loss
   * and the accuracy (a fraction) where measured.
   */
  readonly heldOut?: { readonly loss?: number; readonly accuracy?: number };
  /** S_stage evaluated by the explorer on the job's test set. */
  readonly loss?: LossPoint;
  /** The jury, for a stage that went to one. */
  readonly jury?: JuryRow;
}

/** A stage's jury on the page. */
export interface JuryRow {
  /** Why it sat: disputed, stalled or contested. */
  readonly reason: string;
  readonly rounds: number;
  /** Seats of the last drawn round (a juror may hold several). */
  readonly seats: Address[];
  /** Revealed votes. */
  readonly votes: {
    readonly juror: Address;
    readonly round: number;
    readonly resultHash: Hex;
    readonly seats: number;
  }[];
  /** The decided (result, rho), once decided. */
  readonly decided?: { readonly resultHash: Hex; readonly rho: Hex };
}

/** One job on the page. */
export interface JobRow {
  readonly id: string;
  /** The built-in dummy job 0 (coinbase only, endless; trained when the network is idle). */
  readonly dummy: boolean;
  readonly name?: string;
  readonly employer: Address;
  readonly status: string;
  readonly numStages: number;
  readonly wrappedStages: number;
  readonly fee: string;
  readonly escrowLeft: string;
  readonly c: number;
  readonly k: number;
  readonly createdBlock: string;
  /** The early-stopping target in words ("held-out accuracy >= 97.00 %"), if the job has one. */
  readonly target?: string;
  /** The stage that reached the target: the job finished there. */
  readonly finishedEarlyAt?: number;
  readonly stages: StageRow[];
  /** S_0 and the wrapped states evaluated so far on the job's test set. */
  readonly curve: LossPoint[];
  readonly curvePending: number;
  readonly curveNote?: string;
}

/** One wrapped block of the global PoT chain. */
export interface BlockRow {
  readonly index: string;
  readonly jobId: string;
  readonly stage: number;
  readonly hash: string;
  readonly evmBlock: string;
  readonly timestamp: string;
  readonly declarants: Address[];
  readonly builder?: Address;
  readonly attesters: Address[];
  readonly wrapper: Address;
}

/** The whole page. */
export interface Snapshot {
  readonly chainId: number;
  /** PoTStages, the contract the PoT chain of wrapped blocks lives in. */
  readonly stages: Address;
  readonly head: { readonly number: string; readonly timestamp: string };
  readonly updatedAt: string;
  readonly jobs: JobRow[];
  /** Newest first. */
  readonly blocks: BlockRow[];
  readonly stakers: {
    readonly address: Address;
    readonly stake: string;
    readonly drawWeight: string;
    readonly coinAge: string;
    readonly peer: string;
  }[];
  readonly totalStake: string;
  readonly totalDrawWeight: string;
  /** Credited rewards summed per account and role. */
  readonly rewards: { readonly account: Address; readonly role: string; readonly amount: string }[];
  readonly slashes: {
    readonly jobId: string;
    readonly stage: number;
    readonly staker: Address;
    readonly fault: string;
    readonly amount: string;
    readonly reporter: Address;
    readonly evmBlock: string;
  }[];
}

const FAULT_NAME: Record<number, string> = {
  [FAULT.declaration]: "declaration",
  [FAULT.jurorVote]: "juror vote",
  [FAULT.jurorAbsent]: "juror absent",
};

/** The jury of a stage, as the page shows it. */
function juryRow(s: StageEvents): JuryRow | undefined {
  const j = s.jury;
  if (j === undefined) return undefined;
  return {
    reason: JURY_REASON[j.reason as keyof typeof JURY_REASON] ?? `reason ${j.reason}`,
    rounds: j.rounds,
    seats: j.seats ?? [],
    votes: (j.votes ?? []).map((v) => ({
      juror: v.juror,
      round: v.round,
      resultHash: v.resultHash,
      seats: v.seats,
    })),
    decided: j.decided,
  };
}

/** Builds the page's document from the chain and the curves evaluated so far. */
export async function buildSnapshot(
  chain: ChainReader,
  curveOf: (events: JobEvents) => JobCurve,
  identity: { chainId: number; stages: Address },
): Promise<Snapshot> {
  const head = await chain.head();
  const jobEvents = chain.jobs();
  const [onChain, stakers] = await Promise.all([
    Promise.all(jobEvents.map((e) => chain.job(e.jobId))),
    chain.stakers(head.number),
  ]);
  const jobs = jobEvents.map((events, i) => jobRow(events, onChain[i], curveOf(events)));
  return {
    ...identity,
    head: { number: String(head.number), timestamp: String(head.timestamp) },
    updatedAt: new Date().toISOString(),
    jobs: jobs.reverse(),
    blocks: chain
      .wrappedBlocks()
      .reverse()
      .map((w) => ({
        index: String(w.index),
        jobId: String(w.jobId),
        stage: w.stage,
        hash: w.blockHash,
        evmBlock: String(w.blockNumber),
        timestamp: String(w.timestamp),
        declarants: w.declarants,
        builder: w.builder,
        attesters: w.attesters,
        wrapper: w.wrapper,
      })),
    stakers: stakers.map((s) => ({
      address: s.address,
      stake: String(s.stake),
      drawWeight: String(s.drawWeight),
      coinAge: String(s.coinAge),
      peer: s.peer,
    })),
    totalStake: String(stakers.reduce((a, s) => a + s.stake, 0n)),
    totalDrawWeight: String(stakers.reduce((a, s) => a + s.drawWeight, 0n)),
    rewards: rewardTotals(jobEvents).map((r) => ({ ...r, amount: String(r.amount) })),
    slashes: chain.slashes().map((s) => ({
      jobId: String(s.jobId),
      stage: s.stage,
      staker: s.staker,
      fault: FAULT_NAME[s.fault] ?? `fault ${s.fault}`,
      amount: String(s.amount),
      reporter: s.reporter,
      evmBlock: String(s.blockNumber),
    })),
  };
}

function jobRow(
  events: JobEvents,
  job: { statusName: string; wrappedStages: number; escrow: bigint },
  curve: JobCurve,
): JobRow {
  const c = events.created;
  const byStage = new Map(curve.points.map((p) => [p.stage, p]));
  const dummy = events.jobId === DUMMY_JOB_ID;
  return {
    id: String(events.jobId),
    dummy,
    name: dummy ? "dummy job (coinbase only)" : curve.name,
    employer: c.employer,
    status: job.statusName,
    numStages: c.numStages,
    wrappedStages: job.wrappedStages,
    fee: String(c.fee),
    escrowLeft: String(job.escrow),
    c: c.c,
    k: c.k,
    createdBlock: String(c.blockNumber),
    ...(events.target !== undefined && events.target.kind !== 0
      ? { target: describeTarget(events.target) }
      : {}),
    ...(events.targetReached !== undefined ? { finishedEarlyAt: events.targetReached.stage } : {}),
    stages: stageStatuses(events).map((s, i) => ({
      stage: s.stage,
      phase: s.phase,
      declarants: s.declarants,
      faulty: s.faulty ?? [],
      builder: s.builder,
      attesters: s.attesters ?? [],
      wrapper: s.wrapper,
      block: s.blockIndex === undefined ? undefined : String(s.blockIndex),
      resultCid: s.resultCid,
      ...(s.heldOut !== undefined ? { heldOut: s.heldOut } : {}),
      loss: byStage.get(s.stage),
      jury: juryRow(events.stages[i]),
    })),
    curve: curve.points,
    curvePending: curve.pending,
    curveNote: curve.note,
  };
}
