/**
 * The token and staking contracts seen from one account, typed by the generated ABIs: the reads of
 * `pot balance`, `pot staking status` and the explorer's staker table, and the transactions of `pot stake`,
 * `pot unstake`, `pot peer`, `pot faucet`. Outside src/chain no code names a contract function; it calls
 * these helpers (and the miner's PotContractsAdapter).
 */
import { getAddress, type Address, type PublicClient } from "viem";
import { txOf, type StakingRef, type TokenRef } from "./contracts";
import type { ContractTx } from "./tx-sender";

/** Stake not yet withdrawn after `requestUnstake`, and when it unlocks (unix seconds). */
export interface Unbonding {
  readonly amount: bigint;
  readonly releaseAt: bigint;
}

/** An account's position in the staking contract. */
export interface StakerPosition {
  readonly stake: bigint;
  /** Coin age in POT-seconds (18 decimals, like the stake). */
  readonly coinAge: bigint;
  /** Unix seconds since which the stake ages (meaningless without stake). */
  readonly stakeSince: bigint;
  readonly unbonding: Unbonding;
  /** The IPFS multiaddr the account announced ("" when none). */
  readonly peer: string;
}

/** The staking contract's parameters an account's status shows. */
export interface StakingTerms {
  /** Seconds from `requestUnstake` until the amount can be withdrawn. */
  readonly unbondingDelay: bigint;
  /** Coin age stops growing after this many seconds of staking. */
  readonly maxCoinAgeSeconds: bigint;
  /** Blocks per draw epoch: a new stake is drawable from the next epoch on. */
  readonly epochBlocks: bigint;
}

/** One staker as the staking contract reports it (the explorer's staker table). */
export interface StakerView {
  readonly address: Address;
  /** Active stake (token wei). */
  readonly stake: bigint;
  /**
   * Weight in committee and jury draws seeded at the block asked for (gwei of stake as of its epoch's
   * start); 0 when the contract cannot give it for that block.
   */
  readonly drawWeight: bigint;
  readonly coinAge: bigint;
  /** IPFS multiaddr it announced ("" when none). */
  readonly peer: string;
}

/** POT held by `who`. */
export function readTokenBalance(client: PublicClient, token: TokenRef, who: Address): Promise<bigint> {
  return client.readContract({ ...token, functionName: "balanceOf", args: [who] });
}

/** POT `spender` may move from `owner`'s balance. */
export function readAllowance(
  client: PublicClient,
  token: TokenRef,
  owner: Address,
  spender: Address,
): Promise<bigint> {
  return client.readContract({ ...token, functionName: "allowance", args: [owner, spender] });
}

/** Whether the token has a faucet, and how much one call mints. */
export async function readFaucet(
  client: PublicClient,
  token: TokenRef,
): Promise<{ enabled: boolean; amount: bigint }> {
  const [enabled, amount] = await Promise.all([
    client.readContract({ ...token, functionName: "faucetEnabled" }),
    client.readContract({ ...token, functionName: "faucetAmount" }),
  ]);
  return { enabled, amount };
}

/** Active stake of `who`. */
export function readStake(client: PublicClient, staking: StakingRef, who: Address): Promise<bigint> {
  return client.readContract({ ...staking, functionName: "stakeOf", args: [who] });
}

/** What `who` has unbonding and when it unlocks. */
export async function readUnbonding(
  client: PublicClient,
  staking: StakingRef,
  who: Address,
): Promise<Unbonding> {
  const [amount, releaseAt] = await client.readContract({
    ...staking,
    functionName: "unbondingOf",
    args: [who],
  });
  return { amount, releaseAt: BigInt(releaseAt) };
}

/** The IPFS multiaddr `who` announced in the peer registry ("" when none). */
export function readPeer(client: PublicClient, staking: StakingRef, who: Address): Promise<string> {
  return client.readContract({ ...staking, functionName: "peerOf", args: [who] });
}

/** Everything the staking contract holds about `who`. */
export async function readStakerPosition(
  client: PublicClient,
  staking: StakingRef,
  who: Address,
): Promise<StakerPosition> {
  const [stake, coinAge, stakeSince, unbonding, peer] = await Promise.all([
    readStake(client, staking, who),
    client.readContract({ ...staking, functionName: "coinAgeOf", args: [who] }),
    client.readContract({ ...staking, functionName: "stakeSinceOf", args: [who] }),
    readUnbonding(client, staking, who),
    readPeer(client, staking, who),
  ]);
  return { stake, coinAge, stakeSince: BigInt(stakeSince), unbonding, peer };
}

/** Blocks per draw epoch of the staking contract. */
export function readEpochBlocks(client: PublicClient, staking: StakingRef): Promise<bigint> {
  return client.readContract({ ...staking, functionName: "epochBlocks" });
}

/** The staking contract's unbonding delay, coin-age cap and draw epoch. */
export async function readStakingTerms(client: PublicClient, staking: StakingRef): Promise<StakingTerms> {
  const [unbondingDelay, maxCoinAgeSeconds, epochBlocks] = await Promise.all([
    client.readContract({ ...staking, functionName: "unbondingDelay" }),
    client.readContract({ ...staking, functionName: "maxCoinAgeSeconds" }),
    readEpochBlocks(client, staking),
  ]);
  return {
    unbondingDelay: BigInt(unbondingDelay),
    maxCoinAgeSeconds: BigInt(maxCoinAgeSeconds),
    epochBlocks,
  };
}

/** The first `limit` stakers with their draw weights as of `block`, coin age and peer, largest stake first. */
export async function readStakers(
  client: PublicClient,
  staking: StakingRef,
  block: bigint,
  limit: number,
): Promise<StakerView[]> {
  const [addresses, stakes] = await client.readContract({
    ...staking,
    functionName: "stakersPage",
    args: [0n, BigInt(limit)],
  });
  const views = await Promise.all(
    addresses.map(async (a, i) => {
      const [drawWeight, coinAge, peer] = await Promise.all([
        client
          .readContract({ ...staking, functionName: "drawWeightOf", args: [a, block] })
          .then(BigInt)
          .catch(() => 0n),
        client.readContract({ ...staking, functionName: "coinAgeOf", args: [a] }).then(BigInt),
        readPeer(client, staking, a),
      ]);
      return { address: getAddress(a), stake: BigInt(stakes[i]), drawWeight, coinAge, peer };
    }),
  );
  return views.sort((x, y) => (x.stake === y.stake ? 0 : x.stake > y.stake ? -1 : 1));
}

/** The account's transactions on the token and staking contracts (send them with a TxSender). */
export const stakingTx = {
  approve: (token: TokenRef, spender: Address, amount: bigint): ContractTx =>
    txOf(token, "approve", [spender, amount]),
  faucet: (token: TokenRef): ContractTx => txOf(token, "faucet", []),
  stake: (staking: StakingRef, amount: bigint): ContractTx => txOf(staking, "stake", [amount]),
  requestUnstake: (staking: StakingRef, amount: bigint): ContractTx =>
    txOf(staking, "requestUnstake", [amount]),
  withdrawUnstaked: (staking: StakingRef): ContractTx => txOf(staking, "withdrawUnstaked", []),
  setPeer: (staking: StakingRef, multiaddr: string): ContractTx => txOf(staking, "setPeer", [multiaddr]),
  clearPeer: (staking: StakingRef): ContractTx => txOf(staking, "clearPeer", []),
} as const;
