/**
 * PoTStaking seats (draws with replacement that skip one excluded account) against their TypeScript
 * mirror (src/protocol/follow-the-coin.ts `drawSeats`), and the per-staker draw-weight cap that keeps one
 * stake from filling the uint64 sums of the draw tree.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine } from "@nomicfoundation/hardhat-network-helpers";
import type { Address, Hex } from "viem";
import vectors from "../vectors/protocol.json";
import { drawSeats, MAX_STAKER_DRAW_WEIGHT } from "../../src/protocol/follow-the-coin";
import type { PoTStaking } from "../../typechain-types";
import {
  drawList,
  E18,
  EPOCH_BLOCKS,
  head,
  mineToNextEpoch,
  Rng,
  SLASH_BOUNTY_BPS,
  stakeVector,
  stakingFixture,
  deployToken,
} from "./helpers/staking-fixtures";

/** drawSeats of src/protocol over the contract's draw weights of `randBlock`'s epoch, as addresses. */
async function expectedSeats(
  staking: PoTStaking,
  seed: string,
  k: number,
  randBlock: bigint,
  excluded: string,
): Promise<string[]> {
  const list = await drawList(staking, randBlock);
  const ex = excluded === ethers.ZeroAddress ? undefined : (excluded as Address);
  return drawSeats(seed as Hex, list, k, ex).map((i) => list[i].staker);
}

describe("PoTStaking seats (drawSeats / verifySeats)", () => {
  for (const [n, v] of vectors.drawSeats.entries()) {
    it(`equals the committed seat vector ${n} (k = ${v.k}, ${v.stakes.length} stakers, excluded ${v.excluded})`, async () => {
      const { staking, stakers } = await loadFixture(stakingFixture);
      await stakeVector(staking, stakers, v.stakes);
      const rb = await head();
      const excluded = v.excluded === null ? ethers.ZeroAddress : stakers[v.excluded].address;
      const seats = await staking.drawSeats(v.seed, BigInt(v.k), rb, excluded);
      expect(seats).to.deep.equal(v.seatIndices.map((i) => stakers[i].address));
      await staking.verifySeats(v.seed, [...seats], rb, excluded);
    });
  }

  it("equals drawSeats of src/protocol on 30 random stake sets (nobody, anyone or the majority holder excluded; K = 1 included)", async () => {
    let checked = 0;
    let majorityExcluded = 0;
    for (let c = 0; c < 30; c++) {
      const { staking, stakers, outsider } = await loadFixture(stakingFixture);
      const rng = new Rng(7000 + c);
      const pool = stakers.slice(0, 1 + rng.int(12));
      for (const who of pool) {
        const scale = [10n ** 9n - 1n, 1000n * 10n ** 9n, E18, 1000n * E18][rng.int(4)];
        await staking.connect(who).stake(1n + rng.big(scale));
        if (rng.int(6) === 0) await staking.connect(who).requestUnstake(await staking.stakeOf(who.address));
      }
      // Every other case, one staker holds most of the weight.
      if (c % 2 === 0) await staking.connect(pool[rng.int(pool.length)]).stake(100_000n * E18);
      await mineToNextEpoch(staking);
      // Draw from the previous epoch's weights after a change in this one (the change must not count).
      const rb = await head();
      await staking.connect(pool[0]).stake(5000n * E18);
      await mine(1 + rng.int(Number(EPOCH_BLOCKS)));
      const list = await drawList(staking, rb);
      const total = list.reduce((a, e) => a + e.stake, 0n);
      const heaviest = list.reduce((a, e) => (e.stake > a.stake ? e : a), list[0]);
      const candidates = [
        ethers.ZeroAddress,
        outsider.address,
        list[rng.int(list.length)].staker,
        heaviest.staker,
      ];
      for (const excluded of candidates) {
        const exWeight = list.find((e) => e.staker === excluded)?.stake ?? 0n;
        for (const k of [1, 1 + rng.int(9)]) {
          const seed = rng.bytes32();
          if (total - exWeight === 0n) {
            await expect(staking.drawSeats(seed, BigInt(k), rb, excluded))
              .to.be.revertedWithCustomError(staking, "NotEnoughStakers")
              .withArgs(BigInt(k), 0n);
            continue;
          }
          const expected = await expectedSeats(staking, seed, k, rb, excluded);
          expect(await staking.drawSeats(seed, BigInt(k), rb, excluded), `case ${c} k ${k}`).to.deep.equal(
            expected,
          );
          expect(expected).to.not.include(excluded);
          await staking.verifySeats(seed, expected, rb, excluded);
          // Any other holder in any one seat is refused (unless it owns that ticket too, i.e. is the same).
          const other = list.find((e) => e.stake > 0n && e.staker !== expected[0]);
          if (other !== undefined) {
            await expect(staking.verifySeats(seed, [other.staker, ...expected.slice(1)], rb, excluded))
              .to.be.revertedWithCustomError(staking, "NotDrawn")
              .withArgs(0n, other.staker);
          }
          if (excluded === heaviest.staker && exWeight * 2n > total) majorityExcluded++;
          checked++;
        }
      }
    }
    expect(checked).to.be.greaterThan(150);
    expect(majorityExcluded).to.be.greaterThan(10);
  });

  it("K = 1 with the builder holding almost all weight: the builder is never its own committee", async () => {
    const { staking, stakers } = await loadFixture(stakingFixture);
    const [builder, a, b] = stakers;
    await staking.connect(builder).stake(900_000n * E18);
    await staking.connect(a).stake(E18);
    await staking.connect(b).stake(3n * E18);
    await mineToNextEpoch(staking);
    const rb = await head();
    const rng = new Rng(5);
    const counts = new Map<string, number>();
    for (let s = 0; s < 40; s++) {
      const [seat] = await staking.drawSeats(rng.bytes32(), 1n, rb, builder.address);
      counts.set(seat, (counts.get(seat) ?? 0) + 1);
    }
    expect(counts.has(builder.address)).to.equal(false);
    expect(counts.get(b.address)).to.be.greaterThan(counts.get(a.address) ?? 0);
    // Without the exclusion the builder takes (nearly) every seat.
    const seats = await staking.drawSeats(ethers.ZeroHash, 10n, rb, ethers.ZeroAddress);
    expect(seats.filter((s) => s === builder.address).length).to.be.greaterThan(8);
    // The excluded account fails verifySeats wherever it is put.
    await expect(staking.verifySeats(ethers.ZeroHash, [builder.address], rb, builder.address))
      .to.be.revertedWithCustomError(staking, "NotDrawn")
      .withArgs(0n, builder.address);
  });

  it("reverts ZeroDrawCount, NotEnoughStakers(k, 0), EpochNotStarted, EpochTooOld, and NotDrawn for a non-staker", async () => {
    const { staking, stakers, outsider } = await loadFixture(stakingFixture);
    const [alice] = stakers;
    await expect(staking.drawSeats(ethers.ZeroHash, 2n, await head(), ethers.ZeroAddress))
      .to.be.revertedWithCustomError(staking, "NotEnoughStakers")
      .withArgs(2n, 0n);
    await staking.connect(alice).stake(E18);
    await mineToNextEpoch(staking);
    const rb = await head();
    await expect(
      staking.drawSeats(ethers.ZeroHash, 0n, rb, ethers.ZeroAddress),
    ).to.be.revertedWithCustomError(staking, "ZeroDrawCount");
    await expect(
      staking.verifySeats(ethers.ZeroHash, [], rb, ethers.ZeroAddress),
    ).to.be.revertedWithCustomError(staking, "ZeroDrawCount");
    // only the excluded account holds weight
    await expect(staking.drawSeats(ethers.ZeroHash, 3n, rb, alice.address))
      .to.be.revertedWithCustomError(staking, "NotEnoughStakers")
      .withArgs(3n, 0n);
    await expect(staking.verifySeats(ethers.ZeroHash, [alice.address], rb, alice.address))
      .to.be.revertedWithCustomError(staking, "NotEnoughStakers")
      .withArgs(1n, 0n);
    // repeats are the rule with one holder
    expect(await staking.drawSeats(ethers.ZeroHash, 3n, rb, ethers.ZeroAddress)).to.deep.equal([
      alice.address,
      alice.address,
      alice.address,
    ]);
    await staking.verifySeats(ethers.ZeroHash, [alice.address, alice.address], rb, outsider.address);
    await expect(
      staking.verifySeats(ethers.ZeroHash, [alice.address, outsider.address], rb, ethers.ZeroAddress),
    )
      .to.be.revertedWithCustomError(staking, "NotDrawn")
      .withArgs(1n, outsider.address);
    const t = rb / EPOCH_BLOCKS;
    await expect(staking.drawSeats(ethers.ZeroHash, 1n, rb + EPOCH_BLOCKS, ethers.ZeroAddress))
      .to.be.revertedWithCustomError(staking, "EpochNotStarted")
      .withArgs(t + 1n, t);
    await mine(2n * EPOCH_BLOCKS);
    await expect(staking.verifySeats(ethers.ZeroHash, [alice.address], rb, ethers.ZeroAddress))
      .to.be.revertedWithCustomError(staking, "EpochTooOld")
      .withArgs(t, t + 2n);
  });
});

describe("PoTStaking draw-weight cap (MAX_STAKER_DRAW_WEIGHT)", () => {
  it("a maximal stake does not block others: it is bonded in full but draws with 2^56 gwei; others stake and are drawn", async () => {
    const [admin, ledger, whale, whale2, small] = await ethers.getSigners();
    const max = 2n ** 128n - 1n; // the largest active stake (uint128)
    const token = await deployToken(
      false,
      [whale.address, whale2.address, small.address],
      [max, max, 1000n * E18],
    );
    const staking = await (
      await ethers.getContractFactory("PoTStaking")
    )
      .connect(admin)
      .deploy(await token.getAddress(), 10n, 10n, EPOCH_BLOCKS, SLASH_BOUNTY_BPS);
    await staking.connect(admin).setLedger(ledger.address);
    for (const s of [whale, whale2, small]) await token.connect(s).approve(await staking.getAddress(), max);
    // Before the cap, a stake of 2^64 - 1 gwei filled the uint64 total and every later stake reverted
    // (EpochWeightOverflow). Now a small stake goes through and is drawn, and the whale can even top up
    // to the largest stake there is.
    const oldMax = (2n ** 64n - 1n) * 10n ** 9n;
    await staking.connect(whale).stake(oldMax);
    await staking.connect(small).stake(E18);
    await staking.connect(whale).stake(max - oldMax);
    await mineToNextEpoch(staking);
    let rb = await head();
    expect(await staking.stakeOf(whale.address)).to.equal(max);
    expect(await staking.drawWeightOf(whale.address, rb)).to.equal(MAX_STAKER_DRAW_WEIGHT);
    expect(await staking.drawWeightOf(small.address, rb)).to.equal(10n ** 9n);
    expect([...(await staking.draw(ethers.ZeroHash, 2n, rb))]).to.have.members([
      whale.address,
      small.address,
    ]);
    expect(await staking.drawSeats(ethers.ZeroHash, 3n, rb, whale.address)).to.deep.equal([
      small.address,
      small.address,
      small.address,
    ]);
    // A second maximal stake fits too (255 capped stakes fit in the uint64 total).
    await staking.connect(whale2).stake(max);
    await mineToNextEpoch(staking);
    rb = await head();
    expect(await staking.drawWeightTotal(rb)).to.equal(2n * MAX_STAKER_DRAW_WEIGHT + 10n ** 9n);
    expect(await staking.treeTotal(rb)).to.equal(2n * MAX_STAKER_DRAW_WEIGHT + 10n ** 9n);
    expect(await staking.draw(ethers.ZeroHash, 3n, rb)).to.include(small.address);
    const seats = await staking.drawSeats(ethers.ZeroHash, 4n, rb, whale.address);
    expect(seats).to.deep.equal(
      await (async () => {
        const list = await drawList(staking, rb);
        return drawSeats(ethers.ZeroHash as Hex, list, 4, whale.address as Address).map(
          (i) => list[i].staker,
        );
      })(),
    );
    // Coin age counts the whole stake, not the capped weight.
    expect((await staking.sealWeightOf(whale.address))[0]).to.equal(max);
    // Stake above the cap changes nothing in draws; below it the weight falls again.
    await staking.connect(whale).requestUnstake(max - MAX_STAKER_DRAW_WEIGHT * 10n ** 9n);
    await mineToNextEpoch(staking);
    expect(await staking.drawWeightOf(whale.address, await head())).to.equal(MAX_STAKER_DRAW_WEIGHT);
    await staking.connect(whale).requestUnstake(10n ** 9n);
    await staking.connect(ledger).slash(whale2.address, max - 5n * 10n ** 9n, ledger.address);
    await mineToNextEpoch(staking);
    const now = await head();
    expect(await staking.drawWeightOf(whale.address, now)).to.equal(MAX_STAKER_DRAW_WEIGHT - 1n);
    expect(await staking.drawWeightOf(whale2.address, now)).to.equal(5n);
    expect(await staking.drawWeightTotal(now)).to.equal(MAX_STAKER_DRAW_WEIGHT - 1n + 5n + 10n ** 9n);
  });
});
