/** Figures read from the devnet's chain: gas spent, a job's stages and rewards, the escrow invariant. */
import type { Address, PublicClient } from "viem";
import { readJobEvents } from "../chain/job-events";
import { readJob, readTotalOwed, type LedgerHandle } from "../chain/ledger-reads";
import { rewardTotals, type StageReward } from "../chain/stage-rewards";

/** Gas of every transaction in blocks `[from, to]`. */
export interface GasSpent {
  readonly fromBlock: bigint;
  readonly toBlock: bigint;
  readonly transactions: number;
  /** Sum of the receipts' gasUsed (a block's gasUsed is the sum of its receipts'). */
  readonly gasUsed: bigint;
}

/** Sums the gas used over blocks `[from, to]` (default: genesis to the head). */
export async function gasSpent(client: PublicClient, from = 0n, to?: bigint): Promise<GasSpent> {
  const head = to ?? (await client.getBlockNumber());
  let gasUsed = 0n;
  let transactions = 0;
  const chunk = 50n;
  for (let start = from; start <= head; start += chunk) {
    const blocks = await Promise.all(
      Array.from({ length: Number(start + chunk > head + 1n ? head + 1n - start : chunk) }, (_, i) =>
        client.getBlock({ blockNumber: start + BigInt(i) }),
      ),
    );
    for (const b of blocks) {
      gasUsed += b.gasUsed;
      transactions += b.transactions.length;
    }
  }
  return { fromBlock: from, toBlock: head, transactions, gasUsed };
}

/** What a job's events and the ledger say once it ran. */
export interface JobSummary {
  readonly jobId: bigint;
  readonly status: string;
  readonly numStages: number;
  readonly wrappedStages: number[];
  /** Block index of each wrapped stage in the global chain of wrapped blocks. */
  readonly wrappedBlocks: bigint[];
  readonly builders: Address[];
  /** What the escrow credited per account and role (stageRewards). */
  readonly rewards: StageReward[];
  readonly rewardTotal: bigint;
  readonly refunded: bigint;
  /** The escrow's ETH balance and `totalOwed()`: equal when every wei is accounted for. */
  readonly escrowBalance: bigint;
  readonly totalOwed: bigint;
}

/** Reads a job's summary from the chain. */
export async function jobSummary(h: LedgerHandle, jobId: bigint): Promise<JobSummary> {
  // Balance and totalOwed at one block: a withdrawal landing between two "latest" reads would skew them.
  const at = await h.client.getBlockNumber();
  const [events, job, totalOwed, escrowBalance] = await Promise.all([
    readJobEvents(h, jobId),
    readJob(h, jobId),
    readTotalOwed(h, at),
    h.client.getBalance({ address: h.suite.escrow.address, blockNumber: at }),
  ]);
  const wrapped = events.stages.filter((s) => s.wrapped !== undefined);
  const rewards = rewardTotals([events]);
  return {
    jobId,
    status: job.statusName,
    numStages: events.created.numStages,
    wrappedStages: wrapped.map((s) => s.stage),
    wrappedBlocks: wrapped.map((s) => s.wrapped!.index),
    builders: wrapped.map((s) => {
      const h = s.headers.find((x) => x.headerHash === s.wrapped!.headerHash);
      return (h?.builder ?? "0x") as Address;
    }),
    rewards,
    rewardTotal: rewards.reduce((a, r) => a + r.amount, 0n),
    refunded: events.refunds.reduce((a, r) => a + r.amount, 0n),
    escrowBalance,
    totalOwed,
  };
}
