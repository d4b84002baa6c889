/**
 * The parameters of a PoT deployment (docs/contracts/suite.md explains every one): the shipped local and
 * testnet sets, and `paramsForNetwork`, which refuses any other network. Both shipped sets enable the
 * faucet, which must stay off wherever POT has value: such a deployment passes its own parameters with
 * `token.faucet = false` to `deploySuite` (deploy/suite.ts).
 */
import { MaxUint256, hexlify, toUtf8Bytes } from "ethers";
import type { StagesParamsStruct } from "../typechain-types/contracts/stages/PoTStages";
import type { DisputesParamsStruct } from "../typechain-types/contracts/disputes/PoTDisputes";

const E18 = 10n ** 18n;

export interface TokenParams {
  /** Genesis holders and amounts (wei). */
  genesis: { holder: string; amount: bigint }[];
  /** Whether `faucet()` works: true only on local and test networks, never where POT has value. */
  faucet: boolean;
  faucetAmount: bigint;
  faucetCooldown: bigint;
  /** The most the faucet can ever mint in total (wei); at least faucetAmount when the faucet is on. */
  faucetCap: bigint;
}

export interface StakingParams {
  /** Seconds unbonding stake stays slashable; must exceed the longest a stage can stay open. */
  unbondingDelay: bigint;
  maxCoinAgeSeconds: bigint;
  /**
   * Blocks per draw epoch: committee and jury draws use the stake weights as of the start of their
   * randomness block's epoch. Must be >= the ledger's poaWindowBlocks (the ledger's constructor checks it);
   * the jury must be drawn within min(256, epochBlocks) blocks of its randomness block.
   */
  epochBlocks: bigint;
  /** The reporter's share of a slash in basis points (<= 1000); the rest is burned. */
  slashBountyBps: bigint;
}

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

export interface SuiteParams {
  token: TokenParams;
  staking: StakingParams;
  stages: StagesParamsStruct;
  escrow: EscrowParams;
  disputes: DisputesParamsStruct;
}

/**
 * The built-in dummy job (src/miner/dummy-job.ts, docs/protocol/dummy-job.md): its spec is named by
 * this UTF-8 label, and its S_0 hashes to DUMMY_STATE. test/miner/dummy-job.test.ts checks that the
 * constant equals `(await dummyJob()).s0Hash`, so miners never refuse the dummy job of a deployment.
 */
export const DUMMY_SPEC = hexlify(toUtf8Bytes("pot-dummy-job-v1"));
export const DUMMY_STATE = "0x562b7f3779a4fee048366f72b7ed8856edc7f9f0f6ea24492a520ff3aecd3559";

/** The reporter's share of every slash (10%, the most PoTStaking allows); the other 90% is burned. */
export const SLASH_BOUNTY_BPS = 1000n;

/** Fast parameters for the in-process network and a local node: kernels always pass, faucet on. */
export function localParams(genesis: TokenParams["genesis"] = []): SuiteParams {
  return {
    // faucet: 100 drips of 10,000 POT in total, a tenth of the usual local genesis (10 x 1,000,000 POT)
    token: {
      genesis,
      faucet: true,
      faucetAmount: 10_000n * E18,
      faucetCooldown: 60n,
      faucetCap: 1_000_000n * E18,
    },
    // epochBlocks >= poaWindowBlocks (20); a new stake is drawable from the next 32-block epoch
    staking: {
      unbondingDelay: 7n * 24n * 3600n,
      maxCoinAgeSeconds: 30n * 24n * 3600n,
      epochBlocks: 32n,
      slashBountyBps: SLASH_BOUNTY_BPS,
    },
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
      targetPerGwei: MaxUint256,
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
export function testnetParams(genesis: TokenParams["genesis"] = []): SuiteParams {
  const p = localParams(genesis);
  return {
    // faucet: 5 drips of 1,000 POT in total, ever. Miners are funded from the genesis; ten of them at the
    // default stake (10 x minStake = 1,000 POT) hold 10,000 POT, so all faucet accounts together hold at
    // most a third of the stake however many fresh addresses call it (docs/contracts/staking.md).
    token: { ...p.token, faucetAmount: 1_000n * E18, faucetCooldown: 24n * 3600n, faucetCap: 5_000n * E18 },
    // 256-block epochs (~51 min): >= poaWindowBlocks (50), and the jury keeps BLOCKHASH's full window
    staking: {
      unbondingDelay: 14n * 24n * 3600n,
      maxCoinAgeSeconds: 90n * 24n * 3600n,
      epochBlocks: 256n,
      slashBountyBps: SLASH_BOUNTY_BPS,
    },
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
      targetPerGwei: MaxUint256 / 10_000_000_000_000n,
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

/** Networks the shipped parameter sets are for (both enable the faucet). */
export const FAUCET_NETWORKS: readonly string[] = ["hardhat", "localhost", "testnet"];

/**
 * The shipped parameters of network `name`: `localParams` on hardhat and localhost, `testnetParams` on
 * testnet. Throws for any other network: both enable the faucet, which must stay off wherever POT has
 * value (such a deployment passes its own params with `token.faucet = false` to `deploySuite`).
 */
export function paramsForNetwork(name: string, genesis: TokenParams["genesis"]): SuiteParams {
  if (name === "hardhat" || name === "localhost") return localParams(genesis);
  if (name === "testnet") return testnetParams(genesis);
  throw new Error(
    `No shipped parameters for network "${name}": the local and testnet ones enable the faucet. Deploy to ` +
      `${FAUCET_NETWORKS.join(", ")}, or pass your own parameters with token.faucet = false to deploySuite.`,
  );
}
