/**
 * Fixtures shared by the token and staking tests: a token with a genesis allocation to every test
 * signer, a staking contract with a mock ledger (a plain signer), and every signer pre-approved.
 */
import { ethers } from "hardhat";
import { mine } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Address } from "viem";
import type { PoTStaking, PoTToken } from "../../../typechain-types";

export const E18 = 10n ** 18n;
export const GENESIS_PER_SIGNER = 1_000_000n * E18;
export const FAUCET_AMOUNT = 100n * E18;
export const FAUCET_COOLDOWN = 3600n;
/** The faucet fixture's global cap: five drips. */
export const FAUCET_CAP = 5n * FAUCET_AMOUNT;
/** The reporter's share of a slash in the staking fixture (10%); the rest is burned. */
export const SLASH_BOUNTY_BPS = 1000n;
export const UNBONDING_DELAY = 7n * 24n * 3600n;
export const MAX_COIN_AGE = 30n * 24n * 3600n;
/** Blocks per draw epoch of the staking fixture (small, so tests cross many epochs). */
export const EPOCH_BLOCKS = 10n;

export interface StakingFixture {
  token: PoTToken;
  staking: PoTStaking;
  admin: HardhatEthersSigner;
  ledger: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
  /** Signers with genesis tokens and an unlimited approval to the staking contract. */
  stakers: HardhatEthersSigner[];
}

export async function deployToken(faucet: boolean, holders: string[], amounts: bigint[]): Promise<PoTToken> {
  const factory = await ethers.getContractFactory("PoTToken");
  const token = await factory.deploy(holders, amounts, faucet, FAUCET_AMOUNT, FAUCET_COOLDOWN, FAUCET_CAP);
  await token.waitForDeployment();
  return token;
}

/** Token (faucet on), staking bound to `ledger`, 26 funded and approved stakers. */
export async function stakingFixture(): Promise<StakingFixture> {
  const [admin, ledger, outsider, ...stakers] = await ethers.getSigners();
  const holders = stakers.map((s) => s.address);
  const token = await deployToken(
    true,
    holders,
    holders.map(() => GENESIS_PER_SIGNER),
  );
  const factory = await ethers.getContractFactory("PoTStaking");
  const staking = await factory.deploy(
    await token.getAddress(),
    UNBONDING_DELAY,
    MAX_COIN_AGE,
    EPOCH_BLOCKS,
    SLASH_BOUNTY_BPS,
  );
  await staking.waitForDeployment();
  await (await staking.connect(admin).setLedger(ledger.address)).wait();
  await (await token.connect(admin).setLedger(ledger.address)).wait();
  const stakingAddress = await staking.getAddress();
  for (const s of stakers) await (await token.connect(s).approve(stakingAddress, ethers.MaxUint256)).wait();
  return { token, staking, admin, ledger, outsider, stakers };
}

/** The latest block number. */
export async function head(): Promise<bigint> {
  return BigInt(await ethers.provider.getBlockNumber());
}

/**
 * The draw weights (gwei) in leaf order of draws seeded by block `randBlock` (default: the latest), as
 * src/protocol's followTheCoin and drawSeats take them.
 */
export async function drawList(
  staking: PoTStaking,
  randBlock?: bigint,
): Promise<{ staker: Address; stake: bigint }[]> {
  const [stakers, weights] = await staking.drawWeightsPage(0n, 100_000n, randBlock ?? (await head()));
  return stakers.map((s, i) => ({ staker: s as Address, stake: weights[i] }));
}

/**
 * Stakes a vector's stake list (test/vectors/protocol.json): leaf i is `stakers[i]`; a zero stake is a
 * leaf that staked and unstaked everything. Then mines to the next epoch, where the stakes count.
 */
export async function stakeVector(
  staking: PoTStaking,
  stakers: HardhatEthersSigner[],
  stakes: readonly { stake: string }[],
): Promise<void> {
  for (const [i, e] of stakes.entries()) {
    const stake = BigInt(e.stake);
    await staking.connect(stakers[i]).stake(stake === 0n ? 1n : stake);
    if (stake === 0n) await staking.connect(stakers[i]).requestUnstake(1n);
  }
  await mineToNextEpoch(staking);
}

/**
 * Mines to the first block of the next draw epoch of `staking`: every change made so far then counts for
 * draws (draw weights change only at epoch boundaries). Returns the new epoch.
 */
export async function mineToNextEpoch(staking: { epochBlocks(): Promise<bigint> }): Promise<bigint> {
  const e = await staking.epochBlocks();
  const bn = BigInt(await ethers.provider.getBlockNumber());
  await mine(e - (bn % e));
  return bn / e + 1n;
}

/** A small deterministic PRNG (xorshift128+) so random tests are reproducible from their seed. */
export class Rng {
  private a: bigint;
  private b: bigint;

  constructor(seed: number) {
    this.a = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n;
    this.b = BigInt(seed) ^ 0x2545f4914f6cdd1dn;
    for (let i = 0; i < 8; i++) this.next();
  }

  next(): bigint {
    const mask = (1n << 64n) - 1n;
    let x = this.a;
    const y = this.b;
    this.a = y;
    x ^= (x << 23n) & mask;
    this.b = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return (this.b + y) & mask;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Number(this.next() % BigInt(n));
  }

  /** Uniform bigint in [0, n). */
  big(n: bigint): bigint {
    return ((this.next() << 64n) | this.next()) % n;
  }

  bytes32(): string {
    let hex = "";
    for (let i = 0; i < 4; i++) hex += this.next().toString(16).padStart(16, "0");
    return `0x${hex}`;
  }
}
