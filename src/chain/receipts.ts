/**
 * Waiting for a transaction to be `depth` blocks deep on the chain as it is now, surviving reorgs.
 *
 * viem's `waitForTransactionReceipt` keeps the first receipt it sees and then only counts blocks: a reorg
 * that drops the transaction after that goes unnoticed (it resolves with a receipt of a block no longer on
 * chain), and a transaction dropped before its receipt was seen is waited for until the timeout. Here every
 * poll reads the receipt again, so the answer is always about the current chain: the receipt once its block
 * has `depth` blocks (itself included) on the current head, or `TransactionDroppedError` as soon as the node
 * knows the transaction neither in a block nor in its pool (a reorg dropped it: the caller decides whether
 * to send again). A reorg deeper than `depth` after this returned is not seen here: choose `depth` for the
 * network (docs/miner.md, "Reorgs and confirmations").
 */
import type { Hash, PublicClient, TransactionReceipt } from "viem";
import { TransactionDroppedError, TransactionWaitTimeoutError } from "./errors";
import { sleep } from "./retry";

/** Options of `waitForCanonicalReceipt`. */
export interface CanonicalWaitOptions {
  /** Blocks the receipt's block must have on the head, itself included (1 = mined). */
  readonly depth: number;
  /** Longest wait in ms. */
  readonly timeoutMs: number;
  /** Delay between polls in ms (default: the client's polling interval). */
  readonly pollingIntervalMs?: number;
  /** Polls in a row that must find the transaction nowhere before it counts as dropped (default 2). */
  readonly missingPolls?: number;
}

/** The receipt of `hash` once `depth` deep on the current chain; see the module comment. */
export async function waitForCanonicalReceipt(
  client: PublicClient,
  hash: Hash,
  functionName: string,
  o: CanonicalWaitOptions,
): Promise<TransactionReceipt> {
  const deadline = Date.now() + o.timeoutMs;
  const every = o.pollingIntervalMs ?? client.pollingInterval;
  let missing = 0;
  for (;;) {
    const receipt = await client.getTransactionReceipt({ hash }).catch(() => undefined);
    if (receipt !== undefined) {
      missing = 0;
      const head = await client.getBlockNumber({ cacheTime: 0 });
      if (head - receipt.blockNumber + 1n >= BigInt(o.depth)) return receipt;
    } else if ((await client.getTransaction({ hash }).catch(() => undefined)) === undefined) {
      if (++missing >= (o.missingPolls ?? 2)) throw new TransactionDroppedError(functionName, hash);
    } else missing = 0; // still pending in the node's pool
    if (Date.now() > deadline) throw new TransactionWaitTimeoutError(functionName, hash, o.timeoutMs);
    await sleep(every);
  }
}
