/**
 * Typed errors of the chain room. Every message says what went wrong and what to do about it.
 */
import { PotError } from "../errors";

/** Base of every error of src/chain; `hint` is the action for the user (also the message's end). */
export class ChainError extends PotError {
  declare readonly hint: string;
  constructor(message: string, hint: string, options?: { cause?: unknown; code?: string }) {
    super(`${message}. ${hint}`, { hint, cause: options?.cause, code: options?.code });
  }
}

/** A Hardhat artifact is missing or unreadable: the contracts were not compiled. */
export class ContractsNotCompiledError extends ChainError {
  constructor(
    readonly contract: string,
    readonly path: string,
  ) {
    super(
      `No compiled artifact for ${contract} at ${path}`,
      "Compile the contracts first: npx hardhat compile (or npm run build)",
    );
  }
}

/** The deployments file is missing or does not name a needed contract. */
export class DeploymentNotFoundError extends ChainError {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(
      `No usable deployment at ${path}: ${reason}`,
      "Run pot deploy first (or point --deployments at the right file)",
    );
  }
}

/**
 * The deployments file names contracts the chain does not hold (no code at an address, or a deploy block
 * above the head): typically the local node was restarted, which forgets every deployment.
 */
export class StaleDeploymentError extends ChainError {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(
      `The deployment ${path} is not on this chain: ${reason} (was the node restarted?)`,
      "Deploy again: npx pot deploy",
    );
  }
}

/** The node at the RPC URL reports a different chain id than the configuration expects. */
export class ChainIdMismatchError extends ChainError {
  constructor(
    readonly expected: number,
    readonly actual: number,
    readonly rpcUrl: string,
  ) {
    super(
      `The node at ${rpcUrl} is chain ${actual}, not ${expected}`,
      "Check --network/--rpc-url/--chain-id (POT_RPC_URL, POT_CHAIN_ID)",
    );
  }
}

/** The node could not be reached after the retry policy gave up. */
export class RpcUnavailableError extends ChainError {
  constructor(
    readonly rpcUrl: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      `Cannot reach the JSON-RPC node at ${rpcUrl} (${attempts} attempt${attempts === 1 ? "" : "s"}: ${shortMessage(cause)})`,
      "Start a node (pot node) or fix --rpc-url / POT_RPC_URL",
      { cause },
    );
  }
}

/** A contract call reverted; `errorName`/`args` are the decoded custom error when the ABI knows it. */
export class ContractRevertError extends ChainError {
  constructor(
    readonly functionName: string,
    /** e.g. `NotEnoughStakers`; undefined when the revert data is not a known custom error. */
    readonly errorName: string | undefined,
    readonly args: readonly unknown[],
    /** e.g. `NotEnoughStakers(3, 2)` or the plain revert reason. */
    readonly signature: string,
    hint: string,
    options?: { cause?: unknown },
  ) {
    super(`${functionName} reverted: ${signature}`, hint, options);
  }
}

/** A mined transaction has status reverted (it passed simulation but failed on-chain). */
export class TransactionRevertedError extends ChainError {
  constructor(
    readonly functionName: string,
    readonly hash: `0x${string}`,
  ) {
    super(
      `Transaction ${functionName} (${hash}) was mined but reverted`,
      "The chain state changed between simulation and mining; check the state and retry",
    );
  }
}

/**
 * A sent transaction is on the chain no more and not in the node's pool either: a chain reorganization
 * dropped it. Nothing of it happened; the state it was sent for may have changed, so check and send again.
 */
export class TransactionDroppedError extends ChainError {
  constructor(
    readonly functionName: string,
    readonly hash: `0x${string}`,
  ) {
    super(
      `Transaction ${functionName} (${hash}) was dropped by a chain reorganization`,
      "Nothing of it took effect: check the state and send it again",
    );
  }
}

/** A sent transaction was neither dropped nor deep enough when the wait ran out (code TX_WAIT_TIMEOUT). */
export class TransactionWaitTimeoutError extends ChainError {
  constructor(
    readonly functionName: string,
    readonly hash: `0x${string}`,
    readonly timeoutMs: number,
  ) {
    super(
      `Timed out after ${timeoutMs} ms waiting for transaction ${functionName} (${hash})`,
      "It may still be mined: look it up on the node (or an explorer) before sending it again; a slow or stalled chain, or a gas price below the network's, keeps it pending",
      { code: "TX_WAIT_TIMEOUT" },
    );
  }
}

/**
 * The sending account has too little native coin (ETH) for the transaction: its gas, plus the value it
 * sends (a job's fee) when `value` is above zero.
 */
export class InsufficientFundsForGasError extends ChainError {
  constructor(
    readonly address: string,
    readonly value: bigint = 0n,
  ) {
    super(
      value > 0n
        ? `${address} has too little ETH for the ${etherOf(value)} ETH this transaction sends plus its gas`
        : `${address} has too little ETH to pay for gas`,
      value > 0n
        ? "Send less (e.g. a lower --fee) or fund the account"
        : "Send it some ETH (on a local node, pot faucet also tops up gas)",
    );
  }
}

/** The wallet (private key or keystore) cannot be used. */
export class WalletError extends ChainError {}

/** Wei as ETH; viem is loaded only here, on an error path, so `pot --help` never loads it (src/cli/lazy.ts). */
function etherOf(wei: bigint): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("viem") as typeof import("viem")).formatEther(wei);
}

/** The first line of an error's message, without viem's multi-line details. */
export function shortMessage(error: unknown): string {
  if (error && typeof error === "object") {
    const e = error as { shortMessage?: unknown; message?: unknown; code?: unknown };
    if (typeof e.shortMessage === "string") {
      const details = (error as { details?: unknown }).details;
      const first = e.shortMessage.split("\n")[0];
      return typeof details === "string" && details !== "" && !first.includes(details)
        ? `${first} (${details})`
        : first;
    }
    if (typeof e.message === "string") return e.message.split("\n")[0];
    if (typeof e.code === "string") return e.code;
  }
  return String(error);
}
