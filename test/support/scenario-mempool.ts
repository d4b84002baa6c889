/**
 * The mempool, for network-level front-running scenarios (issue 7). The scenario chain mines every
 * 500 ms (interval mining, no automine), so a transaction waits in the node's mempool until the next
 * block. Hardhat has no `txpool_content` (checked: "Method txpool_content is not supported"), but
 * `eth_getBlockByNumber("pending", true)` lists the pending transactions with their calldata: that is
 * what a front-runner reads. `sendAhead` signs a call with a fixed gas limit (no simulation: it is mined
 * and reverts on chain) and twice the victim's priority fee, so the node orders it first in the block
 * (Hardhat's mempool orders by fee); `revertReason` reads a mined revert's custom error back with
 * `debug_traceTransaction`.
 */
import {
  decodeErrorResult,
  decodeFunctionData,
  encodeFunctionData,
  keccak256,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import { requireSuite, type PotSession } from "../../src/chain/contracts";

/** A pending call to PoTStages, decoded. */
export interface PendingCall {
  readonly hash: Hex;
  readonly from: Address;
  readonly functionName: string;
  readonly args: readonly unknown[];
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
}

interface RpcTx {
  hash: Hex;
  from: Address;
  to: Address | null;
  input: Hex;
  gasPrice?: Hex;
  maxFeePerGas?: Hex;
  maxPriorityFeePerGas?: Hex;
}

/** PoTStages' ABI with every custom error a call can reach (staking, openings, escrow, committee). */
export function ledgerAbiOf(s: PotSession): Abi {
  return [...requireSuite(s.contracts).stages.abi, ...s.contracts.errorsAbi] as Abi;
}

/**
 * Polls the pending block every `everyMs` and calls `onCall` once per pending PoTStages transaction (in
 * the order the node lists them). Returns a handle to stop it; `polls` counts the reads.
 */
export function watchPendingLedgerCalls(
  s: PotSession,
  onCall: (c: PendingCall) => Promise<void> | void,
  everyMs = 40,
): { stop(): Promise<void>; readonly polls: number; readonly errors: string[] } {
  const ledger = requireSuite(s.contracts).stages.address.toLowerCase();
  const abi = ledgerAbiOf(s);
  const done = new Set<string>();
  const errors: string[] = [];
  let polls = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const block = (await s.publicClient.request({
          method: "eth_getBlockByNumber",
          params: ["pending", true],
        } as never)) as { transactions: RpcTx[] } | null;
        polls++;
        for (const tx of block?.transactions ?? []) {
          if (tx.to?.toLowerCase() !== ledger || done.has(tx.hash)) continue;
          done.add(tx.hash);
          let decoded;
          try {
            decoded = decodeFunctionData({ abi, data: tx.input });
          } catch {
            continue;
          }
          const fee = BigInt(tx.maxFeePerGas ?? tx.gasPrice ?? "0x0");
          await onCall({
            hash: tx.hash,
            from: tx.from,
            functionName: decoded.functionName,
            args: (decoded.args ?? []) as readonly unknown[],
            maxFeePerGas: fee,
            maxPriorityFeePerGas: BigInt(tx.maxPriorityFeePerGas ?? tx.gasPrice ?? "0x0"),
          });
        }
      } catch (error) {
        errors.push(String(error));
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    get polls() {
      return polls;
    },
    errors,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/**
 * Sends `functionName(args)` to PoTStages from `s`'s account with a fixed gas limit (no simulation, so
 * a revert is mined and paid for) and fees above `victim`'s, so it is ordered before it. Returns the hash.
 */
export async function sendAhead(
  s: PotSession,
  functionName: string,
  args: readonly unknown[],
  victim: Pick<PendingCall, "maxFeePerGas" | "maxPriorityFeePerGas">,
): Promise<Hex> {
  const account = s.account!;
  const data = encodeFunctionData({ abi: ledgerAbiOf(s), functionName, args } as never);
  const nonce = await s.publicClient.getTransactionCount({ address: account.address, blockTag: "pending" });
  const tip = victim.maxPriorityFeePerGas * 2n + 1_000_000_000n;
  const request = await s.walletClient!.prepareTransactionRequest({
    account,
    chain: s.walletClient!.chain,
    to: requireSuite(s.contracts).stages.address,
    data,
    nonce,
    gas: 2_000_000n,
    maxPriorityFeePerGas: tip,
    maxFeePerGas: victim.maxFeePerGas * 2n + tip,
  } as never);
  const serialized = await s.walletClient!.signTransaction(request as never);
  await s.walletClient!.sendRawTransaction({ serializedTransaction: serialized });
  return keccak256(serialized);
}

/** Where a transaction was mined and, if it reverted, the custom error's name (from the trace). */
export async function minedOutcome(
  s: PotSession,
  hash: Hex,
): Promise<{ status: "success" | "reverted"; blockNumber: bigint; index: number; error?: string }> {
  const r = await s.publicClient.waitForTransactionReceipt({ hash, timeout: 60_000 });
  const out = { status: r.status, blockNumber: r.blockNumber, index: r.transactionIndex };
  if (r.status === "success") return out;
  const trace = (await s.publicClient.request({
    method: "debug_traceTransaction",
    params: [hash, { disableStack: true, disableMemory: true, disableStorage: true }],
  } as never)) as { returnValue?: string; failed?: boolean };
  const data = trace.returnValue?.startsWith("0x") ? trace.returnValue : `0x${trace.returnValue ?? ""}`;
  try {
    const e = decodeErrorResult({ abi: ledgerAbiOf(s), data: data as Hex });
    return { ...out, error: e.errorName };
  } catch {
    return { ...out, error: `undecoded ${data.slice(0, 10)}` };
  }
}
