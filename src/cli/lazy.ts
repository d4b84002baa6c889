/**
 * The heavy modules of the `pot` command, loaded on first use inside a command's action: viem alone takes
 * 0.4-1 s to load on a busy 2-core machine, Helia/libp2p and TensorFlow.js more. `pot --help` and the
 * parsing of every command load none of them (test/cli/startup.test.ts checks it).
 *
 * Rule for src/cli: import these modules with `import type` only, and call the loader below where the
 * values are needed. Node caches modules, so calling a loader again costs nothing.
 */
/* eslint-disable @typescript-eslint/no-require-imports */

export const viem = () => require("viem") as typeof import("viem");
export const viemAccounts = () => require("viem/accounts") as typeof import("viem/accounts");
export const chainContracts = () => require("../chain/contracts") as typeof import("../chain/contracts");
/** Reads and transactions of one account on the token and staking contracts. */
export const chainStaking = () =>
  require("../chain/staking-calls") as typeof import("../chain/staking-calls");
export const chainClients = () => require("../chain/clients") as typeof import("../chain/clients");
export const chainWallet = () => require("../chain/wallet") as typeof import("../chain/wallet");
export const followTheCoin = () =>
  require("../protocol/follow-the-coin") as typeof import("../protocol/follow-the-coin");
export const storage = () => require("../storage") as typeof import("../storage");
export const employer = () => require("../employer") as typeof import("../employer");
/** The employer's transactions and the shared read side only (no storage, no ML). */
export const employerLedger = () => require("../employer/ledger") as typeof import("../employer/ledger");
/** `pot job status` without --loss: the status fold and its formatting (no ML, no storage backends). */
export const employerStatus = () => require("../employer/status") as typeof import("../employer/status");
export const storageConfig = () =>
  require("../employer/storage-config") as typeof import("../employer/storage-config");
export const verifier = () => require("../verify") as typeof import("../verify");
export const minerAgent = () => require("../miner/agent") as typeof import("../miner/agent");
export const minerAnnounce = () => require("../miner/announce") as typeof import("../miner/announce");
export const explorer = () => require("../explorer") as typeof import("../explorer");
export const chainDeployments = () =>
  require("../chain/deployments") as typeof import("../chain/deployments");
