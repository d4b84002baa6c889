/**
 * Turns a viem revert into a `ContractRevertError` named by the custom error, e.g. `NotEnoughStakers(3, 2)`,
 * with a hint saying what to do.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  formatUnits,
  type Abi,
  type DecodeErrorResultReturnType,
  type Hex,
} from "viem";
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

const JOB_FIELD_HINTS: Record<string, string> = {
  specCid: "The job document CID is empty: upload the job with pot job create",
  initialStateHash: "H(S_0) is zero: build the job with pot job create",
  numStages: "The job has no stage: give more data or epochs, or fewer steps per stage",
  c: "C (agreeing declarations) must be at least 2 and at most the network's maxC",
  k: "K (committee size) must be at least 1 and at most the network's maxK",
  stageSeconds: "--stage-seconds is below the network's minStageSeconds: give a longer stage window",
  minDeclareSeconds:
    "--min-declare-seconds must be at least the network's minDeclareSeconds and at most --stage-seconds",
  deadline:
    "The deadline is closer than the network's minJobSeconds or beyond its maxJobSeconds: give another --deadline (or drop it for 4x the expected time)",
  fee: "The fee must give at least 1 wei per stage and fit in 128 bits",
};

/**
 * What to do about each custom error of the PoT contracts (escrow, stages, committee, disputes, staking,
 * token, their libraries) and OpenZeppelin's ERC20 errors; `fn` is the called function.
 * test/chain/revert-hints.test.ts checks that every error of POT_ERRORS_ABI has one.
 */
export const ERROR_HINTS: Record<string, (args: readonly unknown[], fn: string) => string> = {
  // staking
  ZeroAmount: () => "Pass an amount above zero",
  InvalidMaxCoinAge: () => "Deploy with a maxCoinAgeSeconds above zero",
  InvalidEpochBlocks: () => "Deploy with epochBlocks above zero",
  InsufficientStake: (a) =>
    `You have ${pot(a[1])} active stake; unstake at most that (see pot staking status)`,
  NothingToWithdraw: (_a, fn) =>
    fn === "withdrawUnstaked"
      ? "Nothing is unbonding: request an unstake first (pot unstake <amount>)"
      : "Nothing is claimable for this account: rewards become withdrawable once claimed (pot rewards claim <jobId>), refunds once a job expired (pot job refund)",
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
  NotDrawn: (a) =>
    `${a[1]} is not draw ${a[0]} of this seed: pass exactly the members the staking draw returns`,
  EpochWeightOverflow: () => "A stake or total is too large for the draw weights (2^96 gwei): stake less",
  EpochOverflow: (a) => `Epoch ${a[0]} does not fit the weight history: redeploy with a larger epochBlocks`,
  FenwickLeafOutOfRange: (a) =>
    `Staker leaf ${a[0]} is outside the tree of ${a[1]}: a contract bug, report it`,
  FenwickTicketOutOfRange: () => "A draw ticket exceeded the total weight: a contract bug, report it",
  // token
  GenesisLengthMismatch: (a) => `Give as many genesis amounts as holders (${a[0]} holders, ${a[1]} amounts)`,
  InvalidFaucetAmount: () => "Deploy with a faucet amount above zero (or disable the faucet)",
  FaucetDisabled: () => "This deployment has no faucet: get POT from the deployer or by mining",
  FaucetCooldown: (a) => `You used the faucet recently; it works again at ${at(a[0])}`,
  ERC20InsufficientBalance: (a) =>
    `Your balance is ${pot(a[1])} but ${pot(a[2])} is needed; get POT first (pot faucet on test networks)`,
  ERC20InsufficientAllowance: (a) =>
    `The allowance is ${pot(a[1])} but ${pot(a[2])} is needed; approve the spender first`,
  ERC20InvalidSender: () => "Send from a non-zero address",
  ERC20InvalidReceiver: () => "Send to a non-zero address",
  ERC20InvalidApprover: () => "Approve from a non-zero address",
  ERC20InvalidSpender: () => "Approve a non-zero spender",
  StakeBonded: (a) =>
    `${a[0]} of your declarations are not settled yet (wrapped, slashed or released): your stake stays until they are; ` +
    "wait for their stages to wrap, or release those of expired jobs",
  FaucetExhausted: (a) =>
    `The faucet has handed out its whole cap (${pot(a[1])}); get POT from the deployer or by mining`,
  // access
  NotSlasher: () => "Only the PoT disputes contract may slash",
  NotAdmin: () => "Only the deployer may do this",
  NotLedger: () =>
    "Only the PoT protocol contract bound at deployment (escrow for the token, stages for staking) may do this",
  LedgerAlreadySet: () => "The protocol contract is already bound and cannot change",
  ZeroAddress: () => "Pass a non-zero address",
  SafeCastOverflowedUintDowncast: (a) =>
    `A value does not fit in ${a[0]} bits: use a smaller amount, fee or time (see pot job create --dry-run)`,
  SafeERC20FailedOperation: (a) =>
    `The token ${a[0]} refused the transfer: check your POT balance and allowance`,
  InvalidShortString: () => "A deployment name or version string is malformed: redeploy",
  StringTooLong: () =>
    "A deployment name or version string is longer than 31 bytes: redeploy with a shorter one",
  ReentrancyGuardReentrantCall: () => "A contract called back into the escrow or staking: call it directly",
  // job creation (PoTStages checks the JobTerms) and jobs
  InvalidParams: (a) =>
    `Deployment parameter ${formatArg(a[0])} is out of range: fix it in deploy/ and redeploy`,
  ZeroFee: () => "Send a fee above zero (--fee)",
  InvalidJob: (a) =>
    JOB_FIELD_HINTS[String(a[0])] ??
    `Job parameter ${formatArg(a[0])} is out of range (pot job create --dry-run checks them)`,
  UnknownJob: (a) => `Job ${a[0]} does not exist on this deployment: check the job id and the network`,
  JobNotOpen: (a) => `Job ${a[0]} is finished or expired: see pot job status ${a[0]}`,
  JobNotExpired: (a) =>
    `Job ${a[0]} has not expired: its deadline has not passed, or a stage headered before it is still in its PoA window (the committee may still wrap it); pot job status ${a[0]} shows which, and pot job refund works after that`,
  ParentNotFinished: (a) =>
    `Job ${a[0]} has not finished (status ${a[1]}): only a finished job can be fine-tuned; pot job status ${a[0]} shows where it is`,
  ParentStateMismatch: () =>
    "The job's S_0 is not the parent job's final state: pot job create --from-job fetches and uses the parent's final state",
  // stages
  WrongPhase: (a) =>
    `The stage is in phase ${a[0]} (0 none, 1 open, 2 jury, 3 decided, 4 headered, 5 wrapped), not the one this call needs: see pot job status`,
  WrongParent: (a) =>
    `The stage's parent is ${a[0]}${a.length > 1 ? `, not ${a[1]}` : ""}: train from the last wrapped state`,
  DeclarationsClosedAt: (a) => `Declarations of this stage closed at block ${a[0]}: declare the next stage`,
  NotClosed: () => "Declarations of this stage have not closed yet: wait a few blocks",
  StageDisputed: () => "The declarations disagree: the stage goes to a jury (pot job status shows it)",
  NotDisputed: () => "The stage is not disputed: no jury is needed",
  AlreadyDeclared: () => "This account already declared this stage",
  UnsettledDeclaration: (a) =>
    `Your declaration of stage ${a[0]} was faulty and is not slashed yet: it must be settled (slashDeclaration, anyone may) before you declare two stages later`,
  ZeroHash: () => "Pass a non-zero hash",
  SealTimestampOutOfWindow: (a) =>
    `The seal's timestamp ${a[0]} is outside the window below block time ${a[1]}: seal with a recent block's timestamp`,
  NotEnoughStake: (a) => `You have ${pot(a[0])} active stake but ${pot(a[1])} is needed: pot stake more`,
  KernelAboveTarget: () => "The PoS kernel missed the target: wait for more coin age and retry",
  PreviousStageNotWrapped: () => "The previous stage is not wrapped yet: wait for it (pot job status)",
  EmptyCid: () => "Pass the CID of the stage result",
  TooFewOpenings: (a) =>
    `The header opens ${a[0]} declarations but ${a[1]} are needed: if they cannot open, the stage goes to the jury (requestJury after the header timeout)`,
  WrongRho: () => "The rho does not match the declarations' commitments",
  WrongResult: () =>
    "The result differs from the declarations' (or the jury's decided one): build the stage's agreed result",
  WrongOutcome: (a) =>
    `The stage outcome given (state hash, checkpoint root, held-out metric) does not hash to the header's result ${a[0]}: pass the outcome the declarations committed to (OutcomeRevealed logs it after the header)`,
  WrongCheckpoints: () =>
    "The checkpoint list does not give the outcome's checkpoint root, or its last entry is not the outcome's state hash: pass the stage's checkpoint state hashes in step order (docs/PROTOCOL.md section 16)",
  HeaderMismatch: () =>
    "The header fields differ from the stored header: pass them as HeaderSubmitted logged them",
  VoidedBuilder: () => "This account's header was voided for this stage: another declarant must build it",
  RandomnessNotReady: (a) => `The randomness block ${a[0]} is not mined yet: wait for it`,
  RandomnessExpired: (a) =>
    `The randomness block ${a[0]} is older than 256 blocks: a new committee round (or jury redraw) is needed`,
  PoaExpired: () => "The PoA window of this committee passed: a new committee is drawn",
  PoaNotExpired: () => "The PoA window is still open: wait for it to pass",
  NotCommitteeMember: (a) =>
    `${a[0]} holds no seat of this stage's current committee (PoTCommittee.committeeOf lists the seats)`,
  AlreadyAttested: () => "This member already attested",
  BadSignatureCount: (a) => `${a[0]} signatures given but the committee has K = ${a[1]}`,
  WrongCommitteeSize: (a) =>
    `${a[0]} seats given but K = ${a[1]}: pass the seats as committeeOf returns them`,
  OpenedListMismatch: () => "The opened declarations differ from the header's: pass them in header order",
  NotAFault: () => "That juror voted with the decision and revealed: there is nothing to slash",
  DoesNotOpen: (a) =>
    `The declaration of ${a[0]} does not open against this (result, rho): list it as faulty, or build the agreed result`,
  NotJury: (a) => `${a[0]} is not the jury contract`,
  NotStaking: (a) => `${a[0]} is not the staking contract`,
  SameRho: () => "The contest names the same rho as the header: nothing to contest",
  NotSettled: () => "The stage is not settled yet: wait for its wrap",
  SettlementMismatch: () => "The settlement differs from StageSettled's: pass it as logged",
  ContestTooLate: () => "The header is already wrapped or voided: it can no longer be contested",
  AlreadyClaimed: () => "This share was already claimed",
  TransferFailed: () => "The recipient refused the ETH: withdraw to an account that accepts it",
  OpeningsNotSorted: () => "Sort the openings by declarer address, ascending",
  BuilderNotOpened: () => "The builder's own declaration must be among the openings",
  NotDeclared: (a) => `${a[0]} has no declaration of this stage (its slot holds another stage's or none)`,
  DeclarationMismatch: (a) => `The opening of ${a[0]} differs from its stored declaration`,
  MissingAttestation: (a) =>
    `Seat ${a[0]} has neither attested by transaction nor signed the attestation: wait for every other seat holder`,
  // jury
  NoJury: () => "This stage has no jury: requestJury sends a disputed or stalled stage to one",
  JuryAlreadyOpen: () => "The jury of this stage is already open",
  JuryNotStale: () =>
    "The jury round can still decide (its randomness is fresh or votes are pending): redraw after its reveal window",
  JuryAlreadyDrawn: () => "The jury is already drawn",
  JuryNotDrawn: () => "The jury is not drawn yet: draw it after its randomness block (anyone may)",
  JuryClosed: () => "The jury's window closed",
  JuryDecidedAlready: () => "The jury has decided already",
  NotJuror: (a) => `${a[0]} holds no seat of this jury round (JuryDrawn lists the seats)`,
  AlreadyVoted: () => "This juror already voted",
  AlreadyCommitted: () => "This juror already committed",
  CommitmentsClosed: () => "The round's commit window (until commitEnd) closed: reveal, or wait for a redraw",
  RevealNotOpen: (a) =>
    `Reveals are accepted after block ${a[0]} up to block ${a[1]}: wait, or it is too late`,
  NotCommitted: () => "This juror committed no vote in this round: only committed votes can be revealed",
  CommitmentMismatch: () =>
    "The reveal does not match the commitment: reveal the same (result, rho, salt) that was committed in this round",
  // the split contracts (escrow, stages, committee, disputes)
  InvalidFaucetCap: (a) => `Deploy with a faucet cap (${pot(a[0])}) of at least one drip (${pot(a[1])})`,
  InvalidSlashBountyBps: (a) => `Deploy with a slash bounty of at most 10000 bps (got ${a[0]})`,
  SlasherAlreadySet: (a) => `The slasher is already ${a[0]} and cannot change`,
  InvalidFee: (a) =>
    `The fee ${a[0]} wei must be above zero, at least 1 wei per stage and below 2^128 (--fee)`,
  Unauthorized: (a) => `${a[0]} may not call this: only the PoT stages contract may`,
  NothingOwed: (_a, fn) =>
    fn === "claim"
      ? "The account earned nothing unclaimed in this job: pot rewards lists what is owed per job"
      : fn === "withdraw"
        ? "Nothing is claimable: claim a job's rewards first (pot rewards claim <jobId>)"
        : "Nothing to claim, sweep or withdraw for this account",
  NotSweepable: (a) => `The job has not ended or its claim period runs until ${at(a[0])}; retry after that`,
  DeclarationsClosed: () => "Declarations of this stage are closed: declare the next stage",
  TooManyDeclarations: () => "The stage has its maximum number of declarations already",
  NotEnoughBond: (a) =>
    `Your active stake ${pot(a[0])} cannot cover one more slash with ${a[1]} pending: stake more or let declarations settle`,
  WrongDeclarationCount: (a) =>
    `The header lists ${a[0]} declarations but the stage has ${a[1]}: list them all`,
  ListMismatch: () => "The lists differ from the header's: pass them as HeaderSubmitted logged them",
  BarredBuilder: () =>
    "This account's header was voided or contested: another declarant must build the stage",
  JuryNotDue: () => "The stage may not go to the jury yet: wait for its deadline or a dispute",
  DeclarationsNotSorted: () => "Sort the declarations by declarer address, strictly increasing",
  WrongSeats: () => "The seats given are not the round's: pass the drawn seats",
  RoundNotOver: () => "The round's reveal window is not over: wait for it",
  DeclarationNotFaulty: () =>
    "That declaration opens against the stage's final result: there is nothing to slash",
  DeclarationSettled: () => "The declaration is already slashed or released",
  NoFinalOutcome: () => "The stage has no final (result, rho) yet: wait for its wrap or jury",
  NotReleasable: () => "Release needs an expired job and a stage it did not wrap",
};

/**
 * If `error` (from simulate/write/read of `functionName`) is a contract revert, returns it as a
 * `ContractRevertError`; otherwise returns `undefined`. The ABI used for the call must contain the custom
 * errors (see `errorsAbi`) for them to be decoded by name. A revert without an ABI to decode it (a raw
 * `eth_estimateGas` or `eth_sendRawTransaction`) carries only the node's revert data: with `abi` it is
 * decoded too. Nodes differ there: Hardhat's message names the error itself, anvil's says only
 * "custom error 0xe4c4577d", so without decoding the name would be lost on anvil.
 */
export function decodeRevert(
  error: unknown,
  functionName: string,
  abi?: Abi,
): ContractRevertError | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError)) {
    const raw = abi === undefined ? undefined : decodeRawRevertData(error, abi);
    return raw === undefined ? undefined : namedRevert(functionName, raw.errorName, raw.args ?? [], error);
  }
  const name = reverted.data?.errorName;
  if (name !== undefined && name !== "Error" && name !== "Panic")
    return namedRevert(functionName, name, reverted.data?.args ?? [], error);
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

/** A `ContractRevertError` for the custom error `name(args)` with its hint. */
function namedRevert(
  functionName: string,
  name: string,
  args: readonly unknown[],
  cause: unknown,
): ContractRevertError {
  const hint =
    ERROR_HINTS[name]?.(args, functionName) ??
    "Check the contract's documentation of this error (docs/contracts/)";
  return new ContractRevertError(functionName, name, args, formatErrorSignature(name, args), hint, { cause });
}

/**
 * The custom error (not `Error(string)` / `Panic`) in the JSON-RPC error data somewhere in `error`'s cause
 * chain (`{ data: "0x<selector><args>" }`, or nested once more), decoded with `abi`; undefined otherwise.
 */
function decodeRawRevertData(error: BaseError, abi: Abi): DecodeErrorResultReturnType | undefined {
  for (let e: unknown = error, i = 0; e instanceof Error && i < 16; e = e.cause, i++) {
    const field = (e as { data?: unknown }).data;
    const data = typeof field === "object" && field !== null ? (field as { data?: unknown }).data : field;
    if (typeof data !== "string" || !/^0x[0-9a-fA-F]{8}/.test(data)) continue;
    try {
      const decoded = decodeErrorResult({ abi, data: data as Hex });
      if (decoded.errorName !== "Error" && decoded.errorName !== "Panic") return decoded;
    } catch {
      // not one of this ABI's errors: look further down the chain
    }
  }
  return undefined;
}
