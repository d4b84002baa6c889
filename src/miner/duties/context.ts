/**
 * What the duty executors act through: the chain, the content store, the miner's records, and a few
 * services of the agent. The agent builds one `DutyContext` at start; each duty module's `perform*`
 * functions take it.
 */
import type { Address, Hex } from "viem";
import { ContractRevertError } from "../../chain/errors";
import type { PotContractsAdapter } from "../../chain/pot-contracts";
import type { ContentStore } from "../../storage";
import type { MinerBook } from "../bookkeeping";
import type { Logger } from "../log";
import type { SealCache } from "../seal";
import type { TrainerPool } from "../trainer-pool";
import type { ChainView } from "../view";
import type { DoneKey } from "./keys";
import type { OwedReader } from "./claim";

/** Training the agent runs in the background (speculative work the chain made stale is aborted). */
export interface TrainingRegistry {
  readonly speculative: Map<string, { ctrl: AbortController; jobId: bigint; stage: number; parentHash: Hex }>;
  /** Jobs this node cannot train (another engine, a foreign dummy job): never proposed again. */
  readonly unsupported: Set<string>;
}

export interface DutyContext {
  readonly chain: PotContractsAdapter;
  readonly ipfs: ContentStore;
  readonly pool: TrainerPool;
  /** The persisted state and the view, and how they are saved. */
  readonly book: MinerBook;
  readonly view: ChainView;
  readonly domain: Hex;
  readonly address: Address;
  readonly log: Logger;
  readonly seal: SealCache;
  readonly owed: OwedReader;
  readonly training: TrainingRegistry;
  /** Adds one to a status counter. */
  count(name: string): void;
  /** Dials the IPFS nodes that should hold a stage's data (employer, declarants). */
  dialFor(jobId: bigint, stage: number): Promise<void>;
}

/** A revert's custom error name, or undefined for anything else. */
export const revertName = (error: unknown): string | undefined =>
  error instanceof ContractRevertError ? error.errorName : undefined;

/**
 * Sends a once-only transaction and records it under `key`: its hash when it lands, or
 * `reverted:<error>` when the revert is one `moot` accepts (someone else did it first, or it no longer
 * applies). Any other failure is thrown (the agent retries with backoff). Returns the hash, or the
 * benign revert's name.
 */
export async function sendOnce(
  ctx: DutyContext,
  key: DoneKey,
  send: () => Promise<{ hash: Hex }>,
  moot: (revert: string | undefined) => boolean,
): Promise<{ hash: Hex } | { moot: string | undefined }> {
  let sent;
  try {
    sent = await send();
  } catch (error) {
    const revert = revertName(error);
    if (!moot(revert)) throw error;
    await ctx.book.markDone(key, `reverted:${revert}`);
    return { moot: revert };
  }
  await ctx.book.markDone(key, sent.hash);
  return { hash: sent.hash };
}
