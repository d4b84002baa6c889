/**
 * The miner's seal (its PoS weight: `sealOf`) and bond (`bondedOf`, its unsettled declarations), read once
 * and kept until something that can change them happens: a declaration of ours is sent, an event settles
 * or adds one of our declarations (Declared, DeclarationSettled, Slashed, any BlockWrapped: a wrap
 * settles its openers' bonds), or the staking epoch changes (new stake becomes active). While a stage
 * accepts declarations the agent asks for the bond room every tick; this keeps that from being two RPC
 * reads a tick. The cache follows confirmed events, so after a wrap it may count a bond that is already
 * settled for up to `confirmations` blocks: never too many declarations, at worst one a block later.
 */
import type { Address, Hex } from "viem";
import type { LedgerEvent, PotContractsAdapter, SealView } from "../chain/pot-contracts";
import { findSealTimestamp } from "../protocol/pos";
import type { SealKind } from "../protocol/messages";

/** Events after which the seal or the bond may differ. */
export function changesSealOrBond(e: LedgerEvent, me: Address): boolean {
  const mine = (a: string) => a.toLowerCase() === me.toLowerCase();
  switch (e.kind) {
    case "BlockWrapped":
      return true;
    case "Declared":
      return mine(e.declarer);
    case "DeclarationSettled":
      return mine(e.declarer);
    case "Slashed":
      return mine(e.staker);
    default:
      return false;
  }
}

export class SealCache {
  private cached: { epoch: bigint; seal: SealView; bonded: bigint } | undefined;

  constructor(
    private readonly chain: PotContractsAdapter,
    private readonly address: Address,
    private readonly epochBlocks: bigint,
    private readonly declarationSlash: bigint,
  ) {}

  /** Forgets the cached values (the next read asks the chain). */
  invalidate(): void {
    this.cached = undefined;
  }

  /** The seal and bond at head block `head` (cached within its staking epoch until invalidated). */
  async read(head: bigint, fresh = false): Promise<{ seal: SealView; bonded: bigint }> {
    const epoch = this.epochBlocks > 0n ? head / this.epochBlocks : head;
    if (!fresh && this.cached !== undefined && this.cached.epoch === epoch) return this.cached;
    const [seal, bonded] = await Promise.all([
      this.chain.sealOf(this.address),
      this.chain.bondedOf(this.address),
    ]);
    this.cached = { epoch, seal, bonded };
    return this.cached;
  }

  /** How many more declarations this miner's active stake covers (PoTStages NotEnoughBond). */
  async bondRoom(head: bigint): Promise<number> {
    const { seal, bonded } = await this.read(head);
    const covered = this.declarationSlash > 0n ? seal.active / this.declarationSlash : 1n << 32n;
    return covered > bonded ? Number(covered - bonded) : 0;
  }

  /**
   * A PoS seal timestamp for (kind, jobId, stage) with the stage's seed, or undefined (try next second).
   * Reads the seal afresh: the kernel's weight must be the one the contract sees now.
   */
  async sealTimestamp(
    domain: Hex,
    kind: SealKind,
    jobId: bigint,
    stage: number,
    seed: Hex,
  ): Promise<bigint | undefined> {
    const params = await this.chain.ledgerParams();
    const latest = await this.chain.latestBlock();
    const { seal } = await this.read(latest.number, true);
    // Leave a margin for the block the transaction lands in (its timestamp is >= the latest one), and start
    // a second below the latest block's time: a node's pending block (where gas is estimated) can carry a
    // timestamp below the latest block's (hardhat with interval mining after evm_increaseTime), which would
    // refuse a seal of exactly the latest time (SealTimestampOutOfWindow).
    const window = params.sealWindowSeconds > 6n ? params.sealWindowSeconds - 6n : params.sealWindowSeconds;
    const now = latest.timestamp > 0n ? latest.timestamp - 1n : 0n;
    return findSealTimestamp(
      { domain, kind, staker: this.address, jobId, stage, stageSeed: seed },
      seal.active / 10n ** 9n,
      params.targetPerGwei,
      now,
      window,
    );
  }
}
