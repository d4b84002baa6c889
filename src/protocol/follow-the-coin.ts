/**
 * Follow-the-coin: draws stakeholders with probability proportional to stake, from a seed nobody
 * could choose (seed 002 uses it for the PoA committee; we also draw juries with it). Two kinds:
 * `followTheCoin` draws K distinct stakers (without replacement; PoTStaking `draw`), `drawSeats`
 * draws K seats with replacement, never giving one to an excluded account (PoTStaking `drawSeats`).
 *
 * Definition (reproduced exactly by the ledger's sum tree, docs/PROTOCOL.md "Follow-the-coin"):
 * stakers are ordered by their leaf index (order of first stake); zero stakes take no room.
 * For draw j = 0, 1, ..., K-1:
 *     remaining = total stake - stake of those already drawn
 *     ticket    = uint256(keccak256(abi.encode(FTC_TYPEHASH, seed, j))) mod remaining
 *     winner    = the first not-yet-drawn leaf whose cumulative stake (over not-yet-drawn leaves)
 *                 exceeds ticket.
 * Drawing without replacement keeps the draw count fixed at K (no rejection loop an adversary
 * with a huge stake could stretch), and a sum tree answers it in O(K log n). But it rewards splitting
 * one stake over many identities (each identity that is drawn leaves the rest of the stake in the
 * pool), so committees and juries of the split ledger use seats with replacement:
 *     pool   = total weight W - weight w_ex of the excluded account (nobody when it holds none)
 *     x_i    = uint256(keccak256(abi.encode(SEAT_TYPEHASH, seed, i))) mod pool,   i = 0..K-1
 *     x_i'   = x_i < start_ex ? x_i : x_i + w_ex   (start_ex: cumulative weight before the excluded leaf)
 *     seat i = the leaf whose interval [cumulative before it, + its weight) holds x_i'.
 * A staker with m seats counts m times; splitting a stake changes nothing in distribution.
 *
 * The "stakes" of a draw are draw weights, not wei: a staker's draw weight is its active stake in
 * whole gwei (`drawWeight`, DRAW_WEIGHT_UNIT = 1e9 wei, rounded down, capped at MAX_STAKER_DRAW_WEIGHT
 * = 2^56 gwei so that no single stake fills the contract's uint64 sums), as of the start of the epoch of
 * the draw's randomness block (PoTStaking `drawWeightsPage(offset, limit, randBlock)` lists them).
 * Changes made in that epoch or later count only for later epochs, so nobody can move a ticket after
 * seeing the randomness.
 */
import { encodeAbiParameters, hexToBigInt, keccak256, toBytes, type Address, type Hex } from "viem";
import { assertAddress, assertBytes32, assertCount, assertUint, MAX_UINT32, MAX_UINT64 } from "./bytes";
import { InvalidArgumentError, NotEnoughStakersError } from "./errors";

export const FTC_TYPEHASH = keccak256(toBytes("PoT.FollowTheCoin(bytes32 seed,uint256 draw)"));
export const SEAT_TYPEHASH = keccak256(toBytes("PoT.Seat(bytes32 seed,uint256 seat)"));
export const COMMITTEE_SEED_TYPEHASH = keccak256(
  toBytes("PoT.CommitteeSeed(bytes32 domain,bytes32 headerHash,bytes32 randomness,uint32 round)"),
);
export const JURY_SEED_TYPEHASH = keccak256(
  toBytes("PoT.JurySeed(bytes32 domain,uint64 jobId,uint32 stage,bytes32 randomness)"),
);

/** Wei per unit of draw weight (PoTStaking.DRAW_WEIGHT_UNIT): draw weights are in gwei. */
export const DRAW_WEIGHT_UNIT = 10n ** 9n;
/** The most draw weight one staker holds (PoTStaking.MAX_STAKER_DRAW_WEIGHT, 2^56 gwei). */
export const MAX_STAKER_DRAW_WEIGHT = 2n ** 56n;

/**
 * The draw weight of an active stake of `stake` wei: whole gwei, rounded down, at most
 * MAX_STAKER_DRAW_WEIGHT (PoTStaking's rule; stake above the cap is bonded but buys no tickets).
 */
export function drawWeight(stake: bigint): bigint {
  if (typeof stake !== "bigint" || stake < 0n) {
    throw new InvalidArgumentError("stake", `expected a non-negative bigint, got ${String(stake)}`);
  }
  const w = stake / DRAW_WEIGHT_UNIT;
  return w < MAX_STAKER_DRAW_WEIGHT ? w : MAX_STAKER_DRAW_WEIGHT;
}

/**
 * The first block of the staking epoch after the one holding `blockNumber` (PoTStaking epochs of
 * `epochBlocks` blocks): a stake changed at `blockNumber` counts for committee and jury draws from there.
 */
export function nextDrawEpochStart(blockNumber: bigint, epochBlocks: bigint): bigint {
  if (typeof epochBlocks !== "bigint" || epochBlocks <= 0n) {
    throw new InvalidArgumentError("epochBlocks", `expected a positive bigint, got ${String(epochBlocks)}`);
  }
  return (blockNumber / epochBlocks + 1n) * epochBlocks;
}

export interface StakeEntry {
  staker: Address;
  stake: bigint;
}

/** uint256(keccak256(abi.encode(typehash, seed, index))): a ticket before its reduction. */
function ticketOf(typehash: Hex, seed: Hex, index: number): bigint {
  return hexToBigInt(
    keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }],
        [typehash, assertBytes32("seed", seed), BigInt(index)],
      ),
    ),
  );
}

/** The ticket of draw j, before reduction modulo the remaining stake. */
export function drawTicket(seed: Hex, draw: number): bigint {
  return ticketOf(FTC_TYPEHASH, seed, draw);
}

/** The ticket of seat i, before reduction modulo the pool (PoTStaking `drawSeats`). */
export function seatTicket(seed: Hex, seat: number): bigint {
  return ticketOf(SEAT_TYPEHASH, seed, seat);
}

/**
 * Checks a stake list (non-empty, non-negative bigint stakes, no staker twice) and returns its total
 * and the number of entries holding stake.
 */
function checkStakes(stakes: readonly StakeEntry[]): { total: bigint; holders: number } {
  if (!Array.isArray(stakes) || stakes.length === 0) {
    throw new InvalidArgumentError("stakes", "the stake list is empty: nobody can be drawn");
  }
  const seen = new Set<string>();
  let total = 0n;
  let holders = 0;
  stakes.forEach((s, i) => {
    const who = assertAddress(`stakes[${i}].staker`, s.staker).toLowerCase();
    if (typeof s.stake !== "bigint" || s.stake < 0n) {
      throw new InvalidArgumentError(
        `stakes[${i}].stake`,
        `expected a non-negative bigint, got ${String(s.stake)}`,
      );
    }
    if (seen.has(who)) throw new InvalidArgumentError(`stakes[${i}].staker`, `${s.staker} appears twice`);
    seen.add(who);
    total += s.stake;
    if (s.stake > 0n) holders++;
  });
  return { total, holders };
}

/**
 * Indices (into `stakes`, which must be in leaf order) of K distinct stakeholders. `stakes` are the
 * draw weights of the draw's epoch (see above), e.g. `drawWeight(activeStake)` of every leaf when no
 * stake changed since that epoch began.
 * Throws InvalidArgumentError for negative stakes, duplicate stakers or K < 1, and
 * NotEnoughStakersError when fewer than K entries hold stake.
 */
export function followTheCoin(seed: Hex, stakes: readonly StakeEntry[], k: number): number[] {
  assertBytes32("seed", seed);
  assertCount("k", k, 1, Number(MAX_UINT32));
  const { total, holders } = checkStakes(stakes);
  if (holders < k) throw new NotEnoughStakersError(k, holders);

  const drawn = new Set<number>();
  const result: number[] = [];
  let remaining = total;
  for (let j = 0; j < k; j++) {
    const ticket = drawTicket(seed, j) % remaining;
    let cumulative = 0n;
    for (let i = 0; i < stakes.length; i++) {
      if (drawn.has(i)) continue;
      cumulative += stakes[i].stake;
      if (ticket < cumulative) {
        drawn.add(i);
        result.push(i);
        remaining -= stakes[i].stake;
        break;
      }
    }
  }
  return result;
}

/**
 * Indices (into `stakes`, in leaf order, draw weights of the draw's epoch as for `followTheCoin`) of
 * K seats drawn WITH replacement: an index may repeat, once per seat it holds. `excluded` (e.g. the
 * builder of the header a committee checks) never gets a seat; an address absent from `stakes`, with
 * zero weight, or omitted excludes nobody. Exactly PoTStaking `drawSeats(seed, k, randBlock, excluded)`.
 * Throws InvalidArgumentError for bad stakes or K < 1, and NotEnoughStakersError(k, 0) when nobody
 * but `excluded` holds weight.
 */
export function drawSeats(seed: Hex, stakes: readonly StakeEntry[], k: number, excluded?: Address): number[] {
  assertBytes32("seed", seed);
  assertCount("k", k, 1, Number(MAX_UINT32));
  const { total } = checkStakes(stakes);
  const ex = excluded === undefined ? "" : assertAddress("excluded", excluded).toLowerCase();
  let start = 0n;
  let skip = 0n;
  for (const s of stakes) {
    if (s.staker.toLowerCase() === ex) {
      skip = s.stake;
      break;
    }
    start += s.stake;
  }
  const pool = total - skip;
  if (pool === 0n) throw new NotEnoughStakersError(k, 0);
  const seats: number[] = [];
  for (let i = 0; i < k; i++) {
    let ticket = seatTicket(seed, i) % pool;
    if (ticket >= start) ticket += skip;
    let cumulative = 0n;
    for (let j = 0; j < stakes.length; j++) {
      cumulative += stakes[j].stake;
      if (ticket < cumulative) {
        seats.push(j);
        break;
      }
    }
  }
  return seats;
}

/**
 * Seed of a PoA committee draw: fixed only after the header is mined (`randomness` is the hash of
 * a later block), never by a field the builder chooses. `round` increments on each redraw.
 */
export function committeeSeed(domain: Hex, headerHash: Hex, randomness: Hex, round: number): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "uint32" },
      ],
      [
        COMMITTEE_SEED_TYPEHASH,
        assertBytes32("domain", domain),
        assertBytes32("headerHash", headerHash),
        assertBytes32("randomness", randomness),
        Number(assertUint("round", round, MAX_UINT32)),
      ],
    ),
  );
}

/** Seed of a jury draw for a disputed stage, from randomness fixed after declarations closed. */
export function jurySeed(domain: Hex, jobId: bigint, stage: number, randomness: Hex): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "bytes32" }, { type: "uint64" }, { type: "uint32" }, { type: "bytes32" }],
      [
        JURY_SEED_TYPEHASH,
        assertBytes32("domain", domain),
        assertUint("jobId", jobId, MAX_UINT64),
        Number(assertUint("stage", stage, MAX_UINT32)),
        assertBytes32("randomness", randomness),
      ],
    ),
  );
}
