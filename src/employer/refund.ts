/**
 * Reclaiming the fee of a job that expired unfinished: `stages.expireJob` (the escrow refunds the unspent
 * fee into the employer's claimable balance, `Refunded`) and `escrow.withdraw` (pays out everything
 * claimable by the account).
 */
import type { Hex } from "viem";
import { PotError } from "../errors";
import type { TxSender } from "../chain/tx-sender";
import { readClaimable, readJob, sendExpireJob, sendWithdraw, type LedgerHandle } from "./ledger";

/** The job cannot be refunded (yet); the message says why and when. */
export class RefundNotPossibleError extends PotError {}

/** What `refundJob` did. */
export interface RefundResult {
  readonly jobId: bigint;
  /** Unspent escrow the expiry credited (0 when the job was already expired). */
  readonly unspent: bigint;
  /** Wei withdrawn to the employer (everything claimable by the account, rewards included). */
  readonly withdrawn: bigint;
  readonly expireTx?: Hex;
  readonly withdrawTx?: Hex;
  /** Gas paid for both transactions, in wei. */
  readonly gasCost: bigint;
}

/**
 * Expires `jobId` if it is still open past its deadline, then withdraws what the sender can claim.
 * Throws RefundNotPossibleError before the deadline or for a finished job with nothing to withdraw.
 */
export async function refundJob(h: LedgerHandle, sender: TxSender, jobId: bigint): Promise<RefundResult> {
  const job = await readJob(h, jobId);
  if (job.status === 0) throw new RefundNotPossibleError(`Job ${jobId} does not exist`);
  const head = await h.client.getBlock({ blockTag: "latest" });
  let unspent = 0n;
  let expireTx: Hex | undefined;
  let gasCost = 0n;
  if (job.statusName === "open") {
    if (head.timestamp < job.deadline) {
      throw new RefundNotPossibleError(
        `Job ${jobId} is open until its deadline ${new Date(Number(job.deadline) * 1000).toISOString()} ` +
          `(${job.deadline - head.timestamp} s from the last block); its fee can be reclaimed only after that, if it is unfinished`,
      );
    }
    unspent = job.escrow;
    const sent = await sendExpireJob(sender, h.suite, jobId);
    expireTx = sent.hash;
    gasCost += sent.receipt.gasUsed * sent.receipt.effectiveGasPrice;
  }
  const claimable = await readClaimable(h, sender.address);
  if (claimable === 0n) {
    if (expireTx !== undefined) return { jobId, unspent, withdrawn: 0n, expireTx, gasCost };
    throw new RefundNotPossibleError(
      `Job ${jobId} is ${job.statusName} and ${sender.address} has nothing to withdraw (already withdrawn?)`,
    );
  }
  const sent = await sendWithdraw(sender, h.suite);
  gasCost += sent.receipt.gasUsed * sent.receipt.effectiveGasPrice;
  return { jobId, unspent, withdrawn: claimable, expireTx, withdrawTx: sent.hash, gasCost };
}
