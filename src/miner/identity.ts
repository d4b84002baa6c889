/**
 * The miner's identity on-chain, set up once at start: its stake (topped up to the wanted amount; a local
 * network's faucet pays when the balance is short) and its IPFS address in the peer registry.
 */
import type { Address } from "viem";
import type { PotContractsAdapter } from "../chain/pot-contracts";
import { nextDrawEpochStart } from "../protocol/follow-the-coin";
import { announcePeer } from "./announce";
import { potAmount, type Logger } from "./log";

export interface IdentityOptions {
  readonly chain: PotContractsAdapter;
  readonly address: Address;
  /** Stake to hold (PoT wei). */
  readonly stakeWei: bigint;
  /** A local network: the faucet may fund the stake. */
  readonly isLocal: boolean;
  /** The IPFS node's addresses (the first dialable one is announced). */
  readonly addresses: readonly string[];
  readonly log: Logger;
}

/** Stakes up to `stakeWei` and registers the IPFS address (each only when needed). */
export async function establishIdentity(o: IdentityOptions): Promise<void> {
  const { chain, address, log } = o;
  const active = await chain.stakeOf(address);
  if (active < o.stakeWei) {
    const need = o.stakeWei - active;
    if ((await chain.tokenBalance(address)) < need && o.isLocal) {
      await chain.faucet();
      log.info("faucet used");
    }
    await chain.stake(need);
    // draw weights change only at staking epoch boundaries: committees and juries count the new
    // stake from the next epoch on
    const drawableFromBlock = nextDrawEpochStart(await chain.blockNumber(), await chain.epochBlocks());
    log.info("staked", { amount: potAmount(need), active: potAmount(o.stakeWei), drawableFromBlock });
  }
  const announced = await announcePeer(chain, address, o.addresses);
  if (announced?.sent === true) log.info("ipfs address registered", { multiaddr: announced.multiaddr });
}
