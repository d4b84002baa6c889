/**
 * Deploys the split PoT contracts (issue 12): token, staking, and the four contracts that replace the
 * single ledger, by concern: PoTEscrow (job escrow and payments), PoTStages (the stage state machine),
 * PoTCommittee (PoA committees) and PoTDisputes (juries and slashing). Each knows the others from its
 * constructor: the deployer predicts the four addresses from its nonce (CREATE), so every cross-contract
 * address is an immutable. docs/contracts/suite.md explains every parameter.
 *
 * The agents still run on PoTLedger (deploy/deploy.ts) until they move to these contracts.
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
import type { StagesParamsStruct } from "../typechain-types/contracts/stages/PoTStages";
import type { DisputesParamsStruct } from "../typechain-types/contracts/disputes/PoTDisputes";
import {
  DUMMY_SPEC,
  DUMMY_STATE,
  localParams,
  testnetParams,
  type StakingParams,
  type TokenParams,
} from "./deploy";

const E18 = 10n ** 18n;

export interface EscrowParams {
  /** Share of a stage's fee for its builder, in basis points. */
  builderBps: number;
  /** Share of a stage's fee for its committee, split per seat, in basis points. */
  attesterBps: number;
  /** Seconds an ended job's balances stay claimable before `sweep` returns them to the employer. */
  claimPeriodSeconds: bigint;
}

export interface SuiteParams {
  token: TokenParams;
  staking: StakingParams;
  stages: StagesParamsStruct;
  escrow: EscrowParams;
  disputes: DisputesParamsStruct;
}

export interface SuiteDeployment {
  token: PoTToken;
  staking: PoTStaking;
  escrow: PoTEscrow;
  stages: PoTStages;
  committee: PoTCommittee;
  disputes: PoTDisputes;
  chainId: bigint;
  deployBlock: number;
}

/** Fast parameters for the in-process network and a local node: kernels always pass, faucet on. */
export function localSuiteParams(genesis: TokenParams["genesis"] = []): SuiteParams {
  const base = localParams(genesis);
  return {
    token: base.token,
    staking: base.staking,
    stages: {
      sealWindowSeconds: 60,
      closeDelayBlocks: 2,
      headerTimeoutSeconds: 120,
      poaWindowBlocks: 20,
      poaMaxRounds: 3,
      minStageSeconds: 10,
      minDeclareSeconds: 0,
      minJobSeconds: 60,
      maxJobSeconds: 7 * 24 * 3600,
      maxC: 16,
      maxK: 16,
      maxDeclarations: 32,
      dummyC: 2,
      dummyK: 1,
      dummyStageSeconds: 60,
      dummyMinDeclareSeconds: 0,
      targetPerGwei: ethers.MaxUint256,
      minStake: 1n * E18,
      declarationSlash: 1n * E18,
      coinbasePerCoinAge: 1n,
      coinbaseCap: 10n * E18,
      dummyInitialStateHash: DUMMY_STATE,
      dummySpecCid: DUMMY_SPEC,
    },
    escrow: { builderBps: 2000, attesterBps: 2000, claimPeriodSeconds: 365n * 24n * 3600n },
    disputes: {
      jurySize: 3,
      commitBlocks: 10,
      revealBlocks: 10,
      jurorSlash: 1n * E18,
      jurorAbsentSlash: E18 / 10n,
    },
  };
}

/** Realistic parameters for a public testnet (12 s blocks): PoS difficulty on, longer windows. */
export function testnetSuiteParams(genesis: TokenParams["genesis"] = []): SuiteParams {
  const base = testnetParams(genesis);
  const p = localSuiteParams(genesis);
  return {
    token: base.token,
    staking: base.staking,
    stages: {
      ...p.stages,
      sealWindowSeconds: 120,
      closeDelayBlocks: 5,
      headerTimeoutSeconds: 3600,
      poaWindowBlocks: 50,
      poaMaxRounds: 4,
      minStageSeconds: 300,
      minDeclareSeconds: 60,
      minJobSeconds: 3600,
      maxJobSeconds: 7 * 24 * 3600,
      dummyC: 3,
      dummyK: 3,
      dummyStageSeconds: 600,
      dummyMinDeclareSeconds: 60,
      // A staker with 1000 POT (1e12 gwei) passes a kernel with probability ~1e12 * t / 2^256 per second:
      // t = 2^256 / 1e13 makes that ~10% per second of the seal window.
      targetPerGwei: ethers.MaxUint256 / 10_000_000_000_000n,
      minStake: 100n * E18,
      declarationSlash: 100n * E18,
      coinbaseCap: 50n * E18,
    },
    escrow: { builderBps: 2000, attesterBps: 2000, claimPeriodSeconds: 365n * 24n * 3600n },
    disputes: {
      jurySize: 5,
      commitBlocks: 150,
      revealBlocks: 150,
      jurorSlash: 100n * E18,
      jurorAbsentSlash: 10n * E18,
    },
  };
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
  return { token, staking, escrow, stages, committee, disputes, chainId, deployBlock };
}
