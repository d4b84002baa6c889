/**
 * Which jobs the miner trains: a policy over the job's on-chain terms and its spec. Pure.
 */
import type { JobView } from "./view";

/** The miner's job-choice settings. */
export interface MiningPolicy {
  /** Smallest fee per stage (wei) worth training; 0 accepts every paid job. */
  readonly minFeePerStageWei: bigint;
  /** Smallest fee per estimated training FLOP (wei per GFLOP) when the job's FLOPs are known; 0 = no bound. */
  readonly minWeiPerGflop: bigint;
  /** Train the built-in dummy job when no employer job is open (keeps blocks coming). */
  readonly idleDummy: boolean;
  /** Jobs never to train (ids as decimal strings). */
  readonly skipJobs: readonly string[];
}

export const DEFAULT_POLICY: MiningPolicy = {
  minFeePerStageWei: 0n,
  minWeiPerGflop: 0n,
  idleDummy: true,
  skipJobs: [],
};

/** What the miner knows about a job beyond its on-chain terms (from the job document). */
export interface JobFacts {
  /** Estimated training FLOPs of one stage (3x forward per sample x batch x steps), if known. */
  readonly flopsPerStage?: number;
  /** Whether the job's engine id matches this node's (undefined: not checked yet). */
  readonly engineMatches?: boolean;
}

/** Whether the policy accepts training `job` (an employer job; the dummy job is decided by `idleDummy`). */
export function acceptsJob(policy: MiningPolicy, job: JobView, facts: JobFacts = {}): boolean {
  if (policy.skipJobs.includes(job.jobId.toString())) return false;
  if (facts.engineMatches === false) return false;
  if (job.jobId === 0n) return policy.idleDummy;
  const feePerStage = job.numStages > 0 ? job.fee / BigInt(job.numStages) : 0n;
  if (feePerStage < policy.minFeePerStageWei) return false;
  if (policy.minWeiPerGflop > 0n && facts.flopsPerStage !== undefined && facts.flopsPerStage > 0) {
    const gflops = BigInt(Math.max(1, Math.ceil(facts.flopsPerStage / 1e9)));
    if (feePerStage / gflops < policy.minWeiPerGflop) return false;
  }
  return true;
}
