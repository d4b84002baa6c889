/**
 * The PoT contracts of a network: addresses from the deployments file, ABIs from the Hardhat artifacts,
 * and a `PotSession` bundling the clients and a transaction sender for one account.
 */
import type { Abi, Account, Address, PublicClient, WalletClient } from "viem";
import type { PotConfig } from "../config/types";
import { errorsAbi, loadArtifact, loadPoTArtifact, type PoTContractName } from "./artifacts";
import { assertChainId, createPotPublicClient, createPotWalletClient } from "./clients";
import { assertDeploymentLive, readDeployment, requireAddress, type Deployment } from "./deployments";
import { TxSender } from "./tx-sender";

/** A deployed contract: its address and ABI (spread it into viem's readContract / TxSender.send). */
export interface ContractRef {
  readonly address: Address;
  readonly abi: Abi;
}

/** The PoT contracts of one deployment. The ledger is absent from token+staking-only deployments. */
export interface PotContracts {
  readonly deployment: Deployment;
  readonly token: ContractRef;
  readonly staking: ContractRef;
  readonly ledger?: ContractRef;
  /** Every custom error of every PoT contract (for decoding reverts across contracts). */
  readonly errorsAbi: Abi;
}

/** Reads the deployments file and the artifacts of the deployed contracts. */
export function loadPotContracts(
  config: Pick<PotConfig, "artifactsDir" | "deploymentsFile" | "chainId">,
): PotContracts {
  const deployment = readDeployment(config.deploymentsFile, config.chainId);
  const ref = (name: PoTContractName): ContractRef => ({
    address: requireAddress(deployment, name),
    abi: loadPoTArtifact(config.artifactsDir, name).abi,
  });
  const token = ref("PoTToken");
  const staking = ref("PoTStaking");
  const ledger = deployment.contracts.PoTLedger !== undefined ? ref("PoTLedger") : undefined;
  // The ledger calls its verifier and jury, whose custom errors bubble up through ledger calls (e.g.
  // slashDeclaration's NotDeclared / DeclarationMismatch, which the agent's slash logic keys on): decode
  // those by name too.
  const helpers = ledger
    ? (["PoTVerifier", "PoTJury"] as const).map(
        (name) => loadArtifact(config.artifactsDir, name, `ledger/${name}.sol`).abi,
      )
    : [];
  return {
    deployment,
    token,
    staking,
    ledger,
    errorsAbi: errorsAbi(token.abi, staking.abi, ...(ledger ? [ledger.abi] : []), ...helpers),
  };
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
