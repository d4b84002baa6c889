/**
 * Deploys the split PoT contracts (issue 12): token, staking, and the four contracts that replace the
 * single ledger, by concern: PoTEscrow (job escrow and payments), PoTStages (the stage state machine),
 * PoTCommittee (PoA committees) and PoTDisputes (juries and slashing). Each knows the others from its
 * constructor: the deployer predicts the four addresses from its nonce (CREATE), so every cross-contract
 * address is an immutable. docs/contracts/suite.md explains every parameter (deploy/params.ts).
 *
 * `npx hardhat run deploy/deploy.ts --network <name>` and `pot deploy` deploy with it and write the
 * deployments file the agents read.
 */
import type { Signer } from "ethers";
import { ethers } from "hardhat";
import type {
  PoTCommittee,
  PoTDisputes,
  PoTEscrow,
  PoTStages,
  PoTStaking,
  PoTToken,
} from "../typechain-types";
import type { SuiteParams } from "./params";

export * from "./params";

export interface SuiteDeployment {
  token: PoTToken;
  staking: PoTStaking;
  escrow: PoTEscrow;
  stages: PoTStages;
  committee: PoTCommittee;
  disputes: PoTDisputes;
  /** The six addresses, as the deployments file records them. */
  addresses: {
    token: string;
    staking: string;
    escrow: string;
    stages: string;
    committee: string;
    disputes: string;
  };
  chainId: bigint;
  deployBlock: number;
}

/** The EIP-712 domain separator of PoTStages at `stages` (the protocol domain), as OpenZeppelin's EIP712. */
export function protocolDomain(chainId: bigint, stages: string): string {
  return ethers.TypedDataEncoder.hashDomain({
    name: "ProofOfTraining",
    version: "2",
    chainId,
    verifyingContract: stages,
  });
}

/**
 * Deploys token and staking, then escrow, stages, committee and disputes at the addresses predicted from
 * the deployer's nonce, and binds them: token's ledger is the escrow (it mints claimed coinbase), staking's
 * ledger is the stages contract (its seal copy) and its slasher the disputes contract.
 */
export async function deploySuite(signer: Signer, params: SuiteParams): Promise<SuiteDeployment> {
  const from = await signer.getAddress();
  const chainId = (await signer.provider!.getNetwork()).chainId;
  const token = (await (
    await ethers.getContractFactory("PoTToken", signer)
  ).deploy(
    params.token.genesis.map((g) => g.holder),
    params.token.genesis.map((g) => g.amount),
    params.token.faucet,
    params.token.faucetAmount,
    params.token.faucetCooldown,
    params.token.faucetCap,
  )) as unknown as PoTToken;
  const deployBlock = (await token.deploymentTransaction()!.wait())!.blockNumber;
  const staking = (await (
    await ethers.getContractFactory("PoTStaking", signer)
  ).deploy(
    await token.getAddress(),
    params.staking.unbondingDelay,
    params.staking.maxCoinAgeSeconds,
    params.staking.epochBlocks,
    params.staking.slashBountyBps,
  )) as unknown as PoTStaking;
  await staking.waitForDeployment();

  const nonce = await signer.provider!.getTransactionCount(from, "pending");
  const suite = {
    escrow: ethers.getCreateAddress({ from, nonce }),
    stages: ethers.getCreateAddress({ from, nonce: nonce + 1 }),
    committee: ethers.getCreateAddress({ from, nonce: nonce + 2 }),
    disputes: ethers.getCreateAddress({ from, nonce: nonce + 3 }),
  };
  const domain = protocolDomain(chainId, suite.stages);
  const escrow = (await (
    await ethers.getContractFactory("PoTEscrow", signer)
  ).deploy(
    await token.getAddress(),
    suite,
    params.escrow.builderBps,
    params.escrow.attesterBps,
    params.escrow.claimPeriodSeconds,
    { nonce },
  )) as unknown as PoTEscrow;
  const stages = (await (
    await ethers.getContractFactory("PoTStages", signer)
  ).deploy(await staking.getAddress(), suite, params.stages, { nonce: nonce + 1 })) as unknown as PoTStages;
  const committee = (await (
    await ethers.getContractFactory("PoTCommittee", signer)
  ).deploy(
    await staking.getAddress(),
    suite,
    domain,
    params.stages.poaWindowBlocks,
    params.stages.poaMaxRounds,
    { nonce: nonce + 2 },
  )) as unknown as PoTCommittee;
  const disputes = (await (
    await ethers.getContractFactory("PoTDisputes", signer)
  ).deploy(await staking.getAddress(), suite, domain, params.disputes, {
    nonce: nonce + 3,
  })) as unknown as PoTDisputes;
  for (const c of [escrow, stages, committee, disputes]) await c.waitForDeployment();
  if ((await stages.domainSeparator()) !== domain)
    throw new Error("PoTStages domain differs from the predicted one");
  await (await token.setLedger(suite.escrow)).wait();
  // the slasher first: once the ledger is bound, staking's admin can add nothing
  await (await staking.setSlasher(suite.disputes)).wait();
  await (await staking.setLedger(suite.stages)).wait();
  const addresses = {
    token: await token.getAddress(),
    staking: await staking.getAddress(),
    ...suite,
  };
  return { token, staking, escrow, stages, committee, disputes, addresses, chainId, deployBlock };
}
