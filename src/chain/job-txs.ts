/**
 * The employer's transactions on the protocol's contracts, typed by the generated ABIs: create a job
 * (escrow), expire it (stages), claim and withdraw (escrow). src/employer/ledger.ts re-exports them with the
 * shared read side.
 */
import type { Address, Hex } from "viem";
import { txOf, type PotSuite } from "./contracts";
import { decodeLedgerLog } from "./ledger-events";
import { TargetKind, type JobTarget } from "../protocol/outcome";
import type { SentTx, TxSender } from "./tx-sender";

/** What an employer asks for (the escrow's `JobTerms`; the fee is sent as value). */
export interface JobRequest {
  /** Binary CID (hex) of the job document. */
  readonly specCid: Hex;
  readonly manifestRoot: Hex;
  readonly initialStateHash: Hex;
  readonly numStages: number;
  readonly c: number;
  readonly k: number;
  readonly stageSeconds: number;
  /** Declarations of a stage never close sooner than this after it opened (at most `stageSeconds`). */
  readonly minDeclareSeconds: number;
  /** Unix seconds. */
  readonly deadline: bigint;
  /**
   * The finished job this one fine-tunes (`createJobFrom`): `initialStateHash` must be its final state hash.
   * Absent: a job trained from its spec's S_0 (`createJob`).
   */
  readonly parentJobId?: bigint;
  /**
   * Early stopping (protocol/outcome.ts lossTarget / accuracyTarget): the job finishes at the first wrapped
   * stage whose held-out metric meets it. Needs the job document's test set. Absent: no target.
   */
  readonly target?: JobTarget;
}

/**
 * Sends `escrow.createJob(terms)` (or `createJobFrom(parentJobId, terms)` when the request names a parent)
 * with `fee`; the job id is PoTStages' JobCreated in the receipt.
 */
export async function sendCreateJob(
  sender: TxSender,
  suite: PotSuite,
  request: JobRequest,
  fee: bigint,
): Promise<{ jobId: bigint; tx: SentTx }> {
  const terms = {
    specCid: request.specCid,
    manifestRoot: request.manifestRoot,
    initialStateHash: request.initialStateHash,
    numStages: request.numStages,
    c: request.c,
    k: request.k,
    stageSeconds: request.stageSeconds,
    minDeclareSeconds: request.minDeclareSeconds,
    deadline: request.deadline,
    targetKind: request.target?.kind ?? TargetKind.None,
    targetValue: request.target?.value ?? 0,
  };
  const tx = await sender.send(
    request.parentJobId === undefined
      ? txOf(suite.escrow, "createJob", [terms], fee)
      : txOf(suite.escrow, "createJobFrom", [request.parentJobId, terms], fee),
  );
  for (const log of tx.receipt.logs) {
    const e = decodeLedgerLog(suite, log);
    if (e?.kind === "JobCreated") return { jobId: e.jobId, tx };
  }
  throw new Error(`createJob ${tx.hash} emitted no JobCreated event`);
}

/** Sends `stages.expireJob(jobId)`: the escrow refunds the unspent fee into the employer's claimable. */
export function sendExpireJob(sender: TxSender, suite: PotSuite, jobId: bigint): Promise<SentTx> {
  return sender.send(txOf(suite.stages, "expireJob", [jobId]));
}

/** Sends `escrow.claim(jobId, account)`: credits what `account` earned in the job to its claimable. */
export function sendClaim(
  sender: TxSender,
  suite: PotSuite,
  jobId: bigint,
  account: Address,
): Promise<SentTx> {
  return sender.send(txOf(suite.escrow, "claim", [jobId, account]));
}

/** Sends `escrow.withdraw()`: pays the sender's claimable. */
export function sendWithdraw(sender: TxSender, suite: PotSuite): Promise<SentTx> {
  return sender.send(txOf(suite.escrow, "withdraw", []));
}
