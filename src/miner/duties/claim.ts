/**
 * Claim and withdraw: everything this miner earned in a job is claimed once the job ended (one claim per
 * job; a job owing nothing is marked done and never read again), the never-ending dummy job whenever its
 * owed coinbase is worth a claim; then the claimable wei is withdrawn.
 */
import type { Address } from "viem";
import type { PotContractsAdapter } from "../../chain/pot-contracts";
import type { MinerBook } from "../bookkeeping";
import { ethAmount, potAmount } from "../log";
import type { MinerState } from "../state";
import type { ChainView, JobView } from "../view";
import { claimKey, doneKey, isDone } from "./keys";
import type { DutyContext } from "./context";
import type { Duty, DutyInput, DutyOf, Owed } from "./types";

/** What this miner is owed in the dummy job is read at most this often (ms). */
const DUMMY_OWED_REFRESH_MS = 10_000;

/** Whether an ended employer job still waits for this miner's claim (not claimed on-chain, not done). */
function claimPending(view: ChainView, state: MinerState, me: Address, job: JobView): boolean {
  return (
    job.status !== "open" &&
    !view.claims.has(claimKey(job.jobId, me)) &&
    !isDone(state, doneKey.claim(job.jobId))
  );
}

/**
 * The jobs whose owed balance the agent should read this tick (PoTEscrow.owedOf): ended jobs this miner
 * has not claimed (nor found nothing owed in), and the dummy job.
 */
export function claimCandidates(view: ChainView, state: MinerState, me: Address): bigint[] {
  const out: bigint[] = [];
  for (const job of view.jobs.values()) {
    if (job.jobId === 0n) out.push(0n);
    else if (claimPending(view, state, me, job)) out.push(job.jobId);
  }
  return out;
}

/** Claims: once per ended job; the dummy job when its coinbase (or wei) is worth a claim. Then withdraw. */
export function proposeClaims(input: DutyInput, push: (d: Duty) => void): void {
  for (const [id, owed] of input.owed) {
    const job = input.view.jobs.get(id);
    if (job === undefined || (owed.amount === 0n && owed.coinbase === 0n)) continue;
    const worth =
      job.jobId === 0n
        ? owed.coinbase >= input.dummyClaimMinCoinbase ||
          (owed.amount > 0n && owed.amount >= input.withdrawMinWei)
        : claimPending(input.view, input.state, input.me, job);
    if (worth) push({ kind: "claim", jobId: job.jobId });
  }
}

export function proposeWithdraw(input: DutyInput, push: (d: Duty) => void): void {
  if (input.claimableWei > 0n && input.claimableWei >= input.withdrawMinWei)
    push({ kind: "withdraw", amount: input.claimableWei });
}

/**
 * Reads what this miner is owed in the jobs `claimCandidates` names: ended jobs once (an ended job owing
 * nothing is marked done, never read again), the dummy job at most every DUMMY_OWED_REFRESH_MS.
 */
export class OwedReader {
  private dummy: { owed: Owed; at: number } | undefined;

  constructor(
    private readonly chain: PotContractsAdapter,
    private readonly book: MinerBook,
    private readonly me: Address,
  ) {}

  /** Forgets the dummy job's cached balance (after claiming it). */
  forgetDummy(): void {
    this.dummy = undefined;
  }

  async read(): Promise<Map<string, Owed>> {
    const owed = new Map<string, Owed>();
    for (const jobId of claimCandidates(this.book.view, this.book.state, this.me)) {
      if (jobId === 0n) {
        if (this.dummy === undefined || Date.now() - this.dummy.at >= DUMMY_OWED_REFRESH_MS)
          this.dummy = { owed: await this.chain.owedOf(0n, this.me), at: Date.now() };
        owed.set("0", this.dummy.owed);
        continue;
      }
      const o = await this.chain.owedOf(jobId, this.me);
      if (o.amount === 0n && o.coinbase === 0n) {
        this.book.state.done[doneKey.claim(jobId)] = "nothing-owed";
        this.book.saveInBackground();
      } else owed.set(jobId.toString(), o);
    }
    return owed;
  }
}

/** Claims everything this miner earned in a job (every stage and role) with one transaction. */
export async function performClaim(ctx: DutyContext, d: DutyOf<"claim">): Promise<void> {
  const owed = await ctx.chain.owedOf(d.jobId, ctx.address);
  if (owed.amount === 0n && owed.coinbase === 0n) {
    if (d.jobId !== 0n) await ctx.book.markDone(doneKey.claim(d.jobId), "nothing-owed");
    return;
  }
  const sent = await ctx.chain.claim(d.jobId, ctx.address);
  if (d.jobId === 0n) ctx.owed.forgetDummy();
  else await ctx.book.markDone(doneKey.claim(d.jobId), sent.hash);
  ctx.count("claims");
  ctx.log.info("job earnings claimed", {
    jobId: d.jobId,
    amount: ethAmount(owed.amount),
    coinbase: potAmount(owed.coinbase),
    tx: sent.hash,
  });
}

export async function performWithdraw(ctx: DutyContext, d: DutyOf<"withdraw">): Promise<void> {
  const sent = await ctx.chain.withdraw();
  ctx.count("withdrawals");
  ctx.log.info("rewards withdrawn", { amount: ethAmount(d.amount), tx: sent.hash });
}
