/**
 * The PoT contracts of a network: addresses from the deployments file, ABIs generated `as const` at
 * compile time (src/chain/abi, `npm run abi`), and a `PotSession` bundling the clients and a transaction
 * sender for one account.
 */
import type {
  Abi,
  Account,
  Address,
  ContractFunctionArgs,
  ContractFunctionName,
  PublicClient,
  WalletClient,
} from "viem";
import type { PotConfig } from "../config/types";
import {
  potCommitteeAbi,
  potDisputesAbi,
  potEscrowAbi,
  potOpeningsAbi,
  potStagesAbi,
  potStakingAbi,
  potTokenAbi,
} from "./abi";
import { errorsAbi } from "./artifacts";
import { assertChainId, createPotPublicClient, createPotWalletClient } from "./clients";
import { assertDeploymentLive, readDeployment, requireAddress, type Deployment } from "./deployments";
import { DeploymentNotFoundError } from "./errors";
import { TxSender, type ContractTx } from "./tx-sender";

/** A deployed contract: its address and its ABI (typed when `A` is one of src/chain/abi's). */
export interface ContractRef<A extends Abi = Abi> {
  readonly address: Address;
  readonly abi: A;
}

export type TokenRef = ContractRef<typeof potTokenAbi>;
export type StakingRef = ContractRef<typeof potStakingAbi>;
export type EscrowRef = ContractRef<typeof potEscrowAbi>;
export type StagesRef = ContractRef<typeof potStagesAbi>;
export type CommitteeRef = ContractRef<typeof potCommitteeAbi>;
export type DisputesRef = ContractRef<typeof potDisputesAbi>;

/**
 * The four contracts of the protocol (docs/contracts/suite.md): job fees and balances (escrow), the stage
 * state machine (stages), PoA committees (committee), juries and slashing (disputes).
 */
export interface PotSuite {
  readonly escrow: EscrowRef;
  readonly stages: StagesRef;
  readonly committee: CommitteeRef;
  readonly disputes: DisputesRef;
}

/** The PoT contracts of one deployment. The suite is absent from token+staking-only deployments. */
export interface PotContracts {
  readonly deployment: Deployment;
  readonly token: TokenRef;
  readonly staking: StakingRef;
  readonly suite?: PotSuite;
  /** Every custom error of every PoT contract (for decoding reverts across contracts). */
  readonly errorsAbi: Abi;
}

/** Every custom error a PoT call can revert with (a call into one contract may revert in another). */
export const POT_ERRORS_ABI: Abi = errorsAbi(
  potTokenAbi,
  potStakingAbi,
  potEscrowAbi,
  potStagesAbi,
  potOpeningsAbi,
  potCommitteeAbi,
  potDisputesAbi,
);

/** Reads the deployments file; the ABIs are compiled in. */
export function loadPotContracts(config: Pick<PotConfig, "deploymentsFile" | "chainId">): PotContracts {
  const deployment = readDeployment(config.deploymentsFile, config.chainId);
  const token = { address: requireAddress(deployment, "PoTToken"), abi: potTokenAbi };
  const staking = { address: requireAddress(deployment, "PoTStaking"), abi: potStakingAbi };
  const c = deployment.contracts;
  const any = c.PoTEscrow ?? c.PoTStages ?? c.PoTCommittee ?? c.PoTDisputes;
  const suite =
    any === undefined
      ? undefined
      : {
          escrow: { address: requireAddress(deployment, "PoTEscrow"), abi: potEscrowAbi },
          stages: { address: requireAddress(deployment, "PoTStages"), abi: potStagesAbi },
          committee: { address: requireAddress(deployment, "PoTCommittee"), abi: potCommitteeAbi },
          disputes: { address: requireAddress(deployment, "PoTDisputes"), abi: potDisputesAbi },
        };
  return { deployment, token, staking, suite, errorsAbi: POT_ERRORS_ABI };
}

/** The suite of a deployment, or `DeploymentNotFoundError` saying to deploy it. */
export function requireSuite(contracts: PotContracts): PotSuite {
  if (contracts.suite === undefined)
    throw new DeploymentNotFoundError(
      contracts.deployment.path,
      "it has only the token and staking contracts (run pot deploy to deploy the protocol)",
    );
  return contracts.suite;
}

/** A state-changing function of the contract behind `A`. */
export type WriteName<A extends Abi> = ContractFunctionName<A, "nonpayable" | "payable">;
/** The arguments of write function `F` of `A`. */
export type WriteArgs<A extends Abi, F extends WriteName<A>> = ContractFunctionArgs<
  A,
  "nonpayable" | "payable",
  F
>;

/**
 * A typed transaction for `TxSender.send`: `functionName` and `args` are checked against the contract's
 * ABI at compile time.
 */
export function txOf<const A extends Abi, F extends WriteName<A>>(
  ref: ContractRef<A>,
  functionName: F,
  args: WriteArgs<A, F>,
  value?: bigint,
): ContractTx {
  return { address: ref.address, abi: ref.abi, functionName, args: args as readonly unknown[], value };
}

/** Clients, contracts and (with an account) a transaction sender for one network. */
export interface PotSession {
  readonly config: PotConfig;
  readonly publicClient: PublicClient;
  readonly contracts: PotContracts;
  readonly account?: Account;
  readonly walletClient?: WalletClient;
  readonly sender?: TxSender;
}

/**
 * Connects to the configured network: checks the node's chain id, loads the deployment and, with an
 * account, prepares a `TxSender` using the configured confirmations depth.
 */
export async function connectPot(config: PotConfig, account?: Account): Promise<PotSession> {
  const contracts = loadPotContracts(config);
  const publicClient = createPotPublicClient(config);
  await assertChainId(publicClient, config);
  await assertDeploymentLive(publicClient, contracts.deployment);
  if (account === undefined) return { config, publicClient, contracts };
  const walletClient = createPotWalletClient(config, account);
  const sender = new TxSender({
    publicClient,
    walletClient,
    account,
    errorsAbi: contracts.errorsAbi,
    confirmations: config.confirmations,
  });
  return { config, publicClient, contracts, account, walletClient, sender };
}
