/**
 * Nonce-safe transaction sending: one in-flight transaction per account (a queue), nonces read from the
 * node's pending state right before signing, local signing, a receipt wait that notices reorgs
 * (src/chain/receipts.ts), and reverts surfaced as
 * `ContractRevertError` named by the custom error (simulated first, so nothing is paid for a revert).
 */
import {
  encodeFunctionData,
  keccak256,
  type Abi,
  type Account,
  type Address,
  type Hash,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
} from "viem";
import { InsufficientFundsForGasError, TransactionRevertedError } from "./errors";
import { waitForCanonicalReceipt } from "./receipts";
import { decodeRevert } from "./revert";

/** One contract call to send as a transaction. */
export interface ContractTx {
  readonly address: Address;
  readonly abi: Abi;
  readonly functionName: string;
  readonly args?: readonly unknown[];
  /** Wei to send along. */
  readonly value?: bigint;
}

/** A mined, successful transaction. */
export interface SentTx {
  readonly hash: Hash;
  readonly receipt: TransactionReceipt;
}

/** Options of one `send`. */
export interface SendOptions {
  /** Blocks to wait for on top of the receipt's block, instead of the sender's `confirmations`. */
  readonly confirmations?: number;
}

/** Options of a `TxSender`. */
export interface TxSenderOptions {
  readonly publicClient: PublicClient;
  readonly walletClient: WalletClient;
  readonly account: Account;
  /** Custom errors of every contract a call may reach (see `errorsAbi`), so reverts decode by name. */
  readonly errorsAbi?: Abi;
  /** Blocks to wait for on top of the receipt's block (0 = the receipt is enough). */
  readonly confirmations?: number;
  /** Longest wait for a receipt, in ms (default 120 s). */
  readonly receiptTimeoutMs?: number;
}

/** Queues per account (and chain), shared by every sender of the process so nonces never collide. */
const queues = new Map<string, Promise<unknown>>();

/** Sends transactions from one account, one at a time. */
export class TxSender {
  constructor(private readonly options: TxSenderOptions) {}

  /** The sending address. */
  get address(): Address {
    return this.options.account.address;
  }

  /**
   * Simulates, signs and sends `tx`, and waits for its receipt. Calls from the same account are queued, so
   * the next one starts only after the previous one is mined. Throws `ContractRevertError` (decoded custom
   * error and a hint) when the call would revert, `TransactionRevertedError` when it reverted on-chain,
   * `TransactionDroppedError` when a reorg dropped it before it was `confirmations` deep (nothing of it
   * happened: check the state and send again; the account's next send reuses its nonce).
   */
  send(tx: ContractTx, options: SendOptions = {}): Promise<SentTx> {
    const chainId = this.options.publicClient.chain?.id ?? 0;
    const key = `${chainId}:${this.address.toLowerCase()}`;
    const previous = queues.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.sendNow(tx, options));
    const tail = next.catch(() => undefined);
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return next;
  }

  private async sendNow(tx: ContractTx, options: SendOptions): Promise<SentTx> {
    const { publicClient, walletClient, account } = this.options;
    const abi = [...tx.abi, ...(this.options.errorsAbi ?? [])] as Abi;
    const call = {
      address: tx.address,
      abi,
      functionName: tx.functionName,
      args: tx.args ?? [],
      value: tx.value,
    };
    try {
      await publicClient.simulateContract({ ...call, account } as never);
    } catch (error) {
      throw decodeRevert(error, tx.functionName) ?? error;
    }
    const data = encodeFunctionData({ abi, functionName: tx.functionName, args: tx.args ?? [] } as never);
    const nonce = await publicClient.getTransactionCount({ address: account.address, blockTag: "pending" });
    let hash: Hash;
    try {
      // The estimate is exact for the state it ran on; a transaction mined a block later can cost more
      // (a counter that went back to zero costs a fresh slot to set again), so leave headroom. Unused gas
      // is refunded.
      const estimate = await publicClient.estimateGas({ account, to: tx.address, data, value: tx.value });
      const request = await walletClient.prepareTransactionRequest({
        account,
        chain: walletClient.chain,
        to: tx.address,
        data,
        value: tx.value,
        nonce,
        gas: withGasHeadroom(estimate),
      } as never);
      const serialized = await walletClient.signTransaction(request as never);
      hash = keccak256(serialized);
      try {
        await walletClient.sendRawTransaction({ serializedTransaction: serialized });
      } catch (error) {
        // A retried send whose first attempt did reach the node fails with "already known" or "nonce too
        // low": the transaction is there, so carry on with it.
        const known = await publicClient.getTransaction({ hash }).catch(() => undefined);
        if (known === undefined) throw error;
      }
    } catch (error) {
      if (isInsufficientFunds(error)) throw new InsufficientFundsForGasError(account.address, tx.value ?? 0n);
      // The estimate runs without the ABI: its revert data is decoded here (the state may have changed
      // since the simulation, e.g. the declarations closed in between).
      throw decodeRevert(error, tx.functionName, abi) ?? error;
    }
    // Re-read on every poll (not viem's waitForTransactionReceipt, which misses a reorg): throws
    // TransactionDroppedError when a reorg dropped the transaction, so the caller checks and sends again.
    const receipt = await waitForCanonicalReceipt(publicClient, hash, tx.functionName, {
      depth: Math.max(1, (options.confirmations ?? this.options.confirmations ?? 0) + 1),
      timeoutMs: this.options.receiptTimeoutMs ?? 120_000,
    });
    if (receipt.status !== "success") throw new TransactionRevertedError(tx.functionName, hash);
    return { hash, receipt };
  }
}

/** Gas limit for an estimate: +25% and +20k, so a state change between estimate and inclusion fits. */
export function withGasHeadroom(estimate: bigint): bigint {
  return estimate + estimate / 4n + 20_000n;
}

/** Whether a send failed because the account cannot pay for gas. */
function isInsufficientFunds(error: unknown): boolean {
  for (
    let e = error as { name?: string; message?: string; details?: string; cause?: unknown } | undefined,
      i = 0;
    e && i < 16;
    e = e.cause as typeof e, i++
  ) {
    if (e.name === "InsufficientFundsError") return true;
    if (/insufficient funds|enough funds/i.test(`${e.message ?? ""} ${e.details ?? ""}`)) return true;
  }
  return false;
}
