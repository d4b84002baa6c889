/**
 * The employer's transactions on the PoT ledger: create a job, expire it, withdraw. The read side (job and
 * stage views, the per-job fold of the ledger's events) lives in src/chain/job-events.ts, shared with the
 * verifier and the explorer, and is re-exported here for the employer's callers.
 */
import { parseEventLogs, type Address, type Hex } from "viem";
import type { ContractRef } from "../chain/contracts";
import type { SentTx, TxSender } from "../chain/tx-sender";

export * from "../chain/job-events";

/** What an employer asks for (the ledger's `JobRequest`; the fee is sent as value). */
export interface JobRequest {
  /** Binary CID (hex) of the job document. */
  readonly specCid: Hex;
  readonly manifestRoot: Hex;
  readonly initialStateHash: Hex;
  readonly numStages: number;
  readonly c: number;
  readonly k: number;
  readonly stageSeconds: number;
  /** Unix seconds. */
  readonly deadline: bigint;
}

/** Sends `createJob(request)` with `fee` and returns the new job id (from its JobCreated event). */
export async function sendCreateJob(
  sender: TxSender,
  ledger: ContractRef,
  request: JobRequest,
  fee: bigint,
): Promise<{ jobId: bigint; tx: SentTx }> {
  const tx = await sender.send({
    ...ledger,
    functionName: "createJob",
    args: [
      {
        specCid: request.specCid,
        manifestRoot: request.manifestRoot,
        initialStateHash: request.initialStateHash,
        numStages: request.numStages,
        c: request.c,
        k: request.k,
        stageSeconds: request.stageSeconds,
        deadline: request.deadline,
      },
    ],
    value: fee,
  });
  const logs = parseEventLogs({ abi: ledger.abi, logs: tx.receipt.logs }) as unknown as {
    address: Address;
    eventName: string;
    args: unknown;
  }[];
  const created = logs.find(
    (l) => l.eventName === "JobCreated" && l.address.toLowerCase() === ledger.address.toLowerCase(),
  );
  if (created === undefined) throw new Error(`createJob ${tx.hash} emitted no JobCreated event`);
  return { jobId: BigInt((created.args as { jobId: bigint }).jobId), tx };
}

/** Sends `expireJob(jobId)`. */
export function sendExpireJob(sender: TxSender, ledger: ContractRef, jobId: bigint): Promise<SentTx> {
  return sender.send({ ...ledger, functionName: "expireJob", args: [jobId] });
}

/** Sends `withdraw()`. */
export function sendWithdraw(sender: TxSender, ledger: ContractRef): Promise<SentTx> {
  return sender.send({ ...ledger, functionName: "withdraw" });
}
