/**
 * Turns a viem revert into a `ContractRevertError` named by the custom error, e.g. `NotEnoughStakers(3, 2)`,
 * with a hint saying what to do.
 */
import { BaseError, ContractFunctionRevertedError, formatUnits } from "viem";
import { ContractRevertError } from "./errors";

/** Formats one decoded error argument for a message. */
function formatArg(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return /^0x[0-9a-fA-F]*$/.test(value) ? value : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(formatArg).join(", ")}]`;
  return String(value);
}

/** `Name(arg1, arg2)`. */
export function formatErrorSignature(name: string, args: readonly unknown[]): string {
  return `${name}(${args.map(formatArg).join(", ")})`;
}

const pot = (wei: unknown) => (typeof wei === "bigint" ? `${formatUnits(wei, 18)} POT` : String(wei));
const at = (ts: unknown) => (typeof ts === "bigint" ? new Date(Number(ts) * 1000).toISOString() : String(ts));

/** What to do about each known custom error of the PoT contracts (and OpenZeppelin's ERC20 errors). */
const HINTS: Record<string, (args: readonly unknown[]) => string> = {
  ZeroAmount: () => "Pass an amount above zero",
  InsufficientStake: (a) =>
    `You have ${pot(a[1])} active stake; unstake at most that (see pot staking status)`,
  NothingToWithdraw: () => "Nothing is unbonding: request an unstake first (pot unstake <amount>)",
  UnbondingNotFinished: (a) => `Unbonding stake is locked until ${at(a[0])}; retry after that`,
  NotEnoughStakers: (a) =>
    `A draw of ${a[0]} needs ${a[0]} stakers but only ${a[1]} held draw weight when its epoch began; ` +
    "a new stake counts for draws from the next staking epoch: wait for it or for more stakers",
  EpochTooOld: (a) =>
    `The draw's epoch ${a[0]} is more than one epoch before the current ${a[1]}: its weights are gone; ` +
    "draw within epochBlocks blocks of the randomness block (or redraw)",
  EpochNotStarted: (a) =>
    `The draw's epoch ${a[0]} has not started (current ${a[1]}); wait for its randomness block`,
  ZeroDrawCount: () => "Ask for at least one staker",
  InvalidMultiaddrLength: () =>
    "Give a multiaddr of 1 to 256 bytes, e.g. /ip4/127.0.0.1/tcp/4001/p2p/<peer id>",
  StakerIndexOutOfRange: (a) => `Use an index below ${a[1]}`,
  FaucetDisabled: () => "This deployment has no faucet: get POT from the deployer or by mining",
  FaucetCooldown: (a) => `You used the faucet recently; it works again at ${at(a[0])}`,
  FaucetExhausted: (a) =>
    `The faucet has handed out its whole cap (${pot(a[1])}); get POT from the deployer or by mining`,
  NotAdmin: () => "Only the deployer may do this",
  NotLedger: () => "Only the PoT ledger contract may do this",
  NotSlasher: () => "Only the PoT ledger or the slashing contract may slash",
  LedgerAlreadySet: () => "The ledger is already set and cannot change",
  ZeroAddress: () => "Pass a non-zero address",
  ERC20InsufficientBalance: (a) =>
    `Your balance is ${pot(a[1])} but ${pot(a[2])} is needed; get POT first (pot faucet on test networks)`,
  ERC20InsufficientAllowance: (a) =>
    `The allowance is ${pot(a[1])} but ${pot(a[2])} is needed; approve the spender first`,
};

/**
 * If `error` (from simulate/write/read of `functionName`) is a contract revert, returns it as a
 * `ContractRevertError`; otherwise returns `undefined`. The ABI used for the call must contain the custom
 * errors (see `errorsAbi`) for them to be decoded by name.
 */
export function decodeRevert(error: unknown, functionName: string): ContractRevertError | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError)) return undefined;
  const name = reverted.data?.errorName;
  if (name !== undefined && name !== "Error" && name !== "Panic") {
    const args = reverted.data?.args ?? [];
    const hint = HINTS[name]?.(args) ?? "Check the contract's documentation of this error (docs/contracts/)";
    return new ContractRevertError(functionName, name, args, formatErrorSignature(name, args), hint, {
      cause: error,
    });
  }
  const reason =
    reverted.reason ??
    (reverted.signature ? `unknown custom error ${reverted.signature}` : "no reason given");
  return new ContractRevertError(
    functionName,
    undefined,
    [],
    reason,
    "Check the arguments and the contract state (are the artifacts up to date? npx hardhat compile)",
    { cause: error },
  );
}
