import { expect } from "chai";
import { ethers, network } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import type { Address, Hex } from "viem";
import vectors from "../vectors/protocol.json";
import {
  drawSeats,
  drawWeight,
  followTheCoin,
  MAX_STAKER_DRAW_WEIGHT,
} from "../../src/protocol/follow-the-coin";
import { coinAge } from "../../src/protocol/pos";
import type { PoTStaking } from "../../typechain-types";
import {
  drawList,
  E18,
  EPOCH_BLOCKS,
  head,
  MAX_COIN_AGE,
  mineToNextEpoch,
  Rng,
  SLASH_BOUNTY_BPS,
  stakeVector,
  stakingFixture,
  UNBONDING_DELAY,
  type StakingFixture,
} from "./helpers/staking-fixtures";

/** The active stakes (wei) in leaf order. */
async function stakeList(staking: PoTStaking): Promise<{ staker: Address; stake: bigint }[]> {
  const [stakers, stakes] = await staking.stakersPage(0n, 100_000n);
  return stakers.map((s, i) => ({ staker: s as Address, stake: stakes[i] }));
}

/** followTheCoin of src/protocol over the contract's draw weights of `randBlock`'s epoch, as addresses. */
async function expectedDraw(
  staking: PoTStaking,
  seed: string,
  k: number,
  randBlock?: bigint,
): Promise<string[]> {
  const list = await drawList(staking, randBlock);
  return followTheCoin(seed as Hex, list, k).map((i) => list[i].staker);
}

/** Number of stakers holding draw weight in the draws of `randBlock`'s epoch (default: the latest block). */
async function drawHolders(staking: PoTStaking, randBlock?: bigint): Promise<number> {
  return (await drawList(staking, randBlock)).filter((e) => e.stake > 0n).length;
}

/**
 * Asserts totalStake == sum of every staker's stakeOf, and, for the draw weights of the current epoch,
 * drawWeightTotal == tree total == sum of the weights; after mining to the next epoch, every weight is
 * drawWeight(stakeOf) (whole gwei).
 */
async function expectTotalsConsistent(staking: PoTStaking): Promise<void> {
  const list = await stakeList(staking);
  const sum = list.reduce((a, e) => a + e.stake, 0n);
  expect(await staking.totalStake()).to.equal(sum);
  for (const e of list) expect(await staking.stakeOf(e.staker)).to.equal(e.stake);
  const checkWeights = async (): Promise<bigint> => {
    const rb = await head();
    const weights = await drawList(staking, rb);
    const wsum = weights.reduce((a, e) => a + e.stake, 0n);
    expect(await staking.drawWeightTotal(rb)).to.equal(wsum);
    expect(await staking.treeTotal(rb)).to.equal(wsum);
    return wsum;
  };
  await checkWeights();
  await mineToNextEpoch(staking);
  const wsum = await checkWeights();
  const weights = await drawList(staking);
  for (const [i, e] of list.entries()) expect(weights[i].stake).to.equal(drawWeight(e.stake));
  expect(wsum).to.equal(list.reduce((a, e) => a + drawWeight(e.stake), 0n));
}

describe("PoTStaking", () => {
  describe("deployment and setLedger", () => {
    it("stores its parameters", async () => {
      const { staking, token, admin, ledger } = await loadFixture(stakingFixture);
      expect(await staking.token()).to.equal(await token.getAddress());
      expect(await staking.unbondingDelay()).to.equal(UNBONDING_DELAY);
      expect(await staking.maxCoinAgeSeconds()).to.equal(MAX_COIN_AGE);
      expect(await staking.admin()).to.equal(admin.address);
      expect(await staking.ledger()).to.equal(ledger.address);
      expect(await staking.FTC_TYPEHASH()).to.equal(
        ethers.keccak256(ethers.toUtf8Bytes("PoT.FollowTheCoin(bytes32 seed,uint256 draw)")),
      );
      expect(await staking.FTC_TYPEHASH()).to.equal(vectors.typehashes.FTC_TYPEHASH);
      expect(await staking.epochBlocks()).to.equal(EPOCH_BLOCKS);
      expect(await staking.DRAW_WEIGHT_UNIT()).to.equal(10n ** 9n);
      expect(await staking.MAX_STAKER_DRAW_WEIGHT()).to.equal(MAX_STAKER_DRAW_WEIGHT);
      expect(await staking.SEAT_TYPEHASH()).to.equal(vectors.typehashes.SEAT_TYPEHASH);
      expect(await staking.slashBountyBps()).to.equal(SLASH_BOUNTY_BPS);
      expect(await staking.slasher()).to.equal(ethers.ZeroAddress);
      expect(await staking.epochOf(0n)).to.equal(0n);
      expect(await staking.epochOf(EPOCH_BLOCKS - 1n)).to.equal(0n);
      expect(await staking.epochOf(EPOCH_BLOCKS * 7n + 3n)).to.equal(7n);
    });

    it("reverts ZeroAddress for a zero token, InvalidMaxCoinAge for a zero cap, InvalidEpochBlocks for 0", async () => {
      const factory = await ethers.getContractFactory("PoTStaking");
      await expect(factory.deploy(ethers.ZeroAddress, 1n, 1n, 1n, 0n)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      const { token } = await loadFixture(stakingFixture);
      await expect(factory.deploy(await token.getAddress(), 1n, 0n, 1n, 0n)).to.be.revertedWithCustomError(
        factory,
        "InvalidMaxCoinAge",
      );
      await expect(factory.deploy(await token.getAddress(), 1n, 1n, 0n, 0n)).to.be.revertedWithCustomError(
        factory,
        "InvalidEpochBlocks",
      );
      // the reporter's share is at most 10%: an offender reporting itself keeps at most that
      await expect(factory.deploy(await token.getAddress(), 1n, 1n, 1n, 1001n))
        .to.be.revertedWithCustomError(factory, "InvalidSlashBountyBps")
        .withArgs(1001n);
      const max = await factory.deploy(await token.getAddress(), 1n, 1n, 1n, 1000n);
      expect(await max.slashBountyBps()).to.equal(await max.MAX_SLASH_BOUNTY_BPS());
    });

    it("setLedger: once, admin only, non-zero, with LedgerSet", async () => {
      const { token, admin, ledger, outsider } = await loadFixture(stakingFixture);
      const factory = await ethers.getContractFactory("PoTStaking");
      const staking = await factory
        .connect(admin)
        .deploy(await token.getAddress(), 10n, 10n, 10n, SLASH_BOUNTY_BPS);
      await expect(staking.connect(outsider).setLedger(ledger.address))
        .to.be.revertedWithCustomError(staking, "NotAdmin")
        .withArgs(outsider.address);
      await expect(staking.connect(admin).setLedger(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        staking,
        "ZeroAddress",
      );
      await expect(staking.connect(admin).setLedger(ledger.address))
        .to.emit(staking, "LedgerSet")
        .withArgs(ledger.address);
      await expect(staking.connect(admin).setLedger(outsider.address))
        .to.be.revertedWithCustomError(staking, "LedgerAlreadySet")
        .withArgs(ledger.address);
    });
  });

  describe("stake", () => {
    it("pulls the tokens, registers the leaf once and emits StakerRegistered and Staked", async () => {
      const { staking, token, stakers } = await loadFixture(stakingFixture);
      const [alice, bob] = stakers;
      const tx = staking.connect(alice).stake(5n * E18);
      await expect(tx).to.emit(staking, "StakerRegistered").withArgs(alice.address, 0n);
      const since = BigInt(await time.latest());
      await expect(tx)
        .to.emit(staking, "Staked")
        .withArgs(alice.address, 5n * E18, 5n * E18, since);
      await expect(tx).to.changeTokenBalances(token, [alice, staking], [-5n * E18, 5n * E18]);
      await expect(staking.connect(bob).stake(1n))
        .to.emit(staking, "StakerRegistered")
        .withArgs(bob.address, 1n);
      await expect(staking.connect(alice).stake(1n)).to.not.emit(staking, "StakerRegistered");
      expect(await staking.stakerCount()).to.equal(2n);
      expect(await staking.stakerAt(0n)).to.equal(alice.address);
      expect(await staking.stakerAt(1n)).to.equal(bob.address);
      expect(await staking.stakeOf(alice.address)).to.equal(5n * E18 + 1n);
      expect(await staking.totalStake()).to.equal(5n * E18 + 2n);
      // draw weights: whole gwei, from the next epoch
      await mineToNextEpoch(staking);
      expect(await staking.drawWeightOf(alice.address, await head())).to.equal(5n * 10n ** 9n);
      expect(await staking.drawWeightOf(bob.address, await head())).to.equal(0n);
    });

    it("reverts ZeroAmount for 0", async () => {
      const { staking, stakers } = await loadFixture(stakingFixture);
      await expect(staking.connect(stakers[0]).stake(0n)).to.be.revertedWithCustomError(
        staking,
        "ZeroAmount",
      );
    });

    it("reverts (token's ERC20InsufficientAllowance) without an approval", async () => {
      const { staking, token, stakers } = await loadFixture(stakingFixture);
      await token.connect(stakers[0]).approve(await staking.getAddress(), 0n);
      await expect(staking.connect(stakers[0]).stake(1n)).to.be.revertedWithCustomError(
        token,
        "ERC20InsufficientAllowance",
      );
    });

    it("stakersPage pages the draw order with active stakes, clamped to the end", async () => {
      const { staking, stakers } = await loadFixture(stakingFixture);
      for (const [i, s] of stakers.slice(0, 5).entries()) await staking.connect(s).stake(BigInt(i + 1));
      await staking.connect(stakers[2]).requestUnstake(3n);
      const [who, stakes] = await staking.stakersPage(1n, 3n);
      expect(who).to.deep.equal(stakers.slice(1, 4).map((s) => s.address));
      expect(stakes).to.deep.equal([2n, 0n, 4n]);
      const [all] = await staking.stakersPage(0n, ethers.MaxUint256);
      expect(all.length).to.equal(5);
      expect((await staking.stakersPage(3n, ethers.MaxUint256))[0].length).to.equal(2);
      expect((await staking.stakersPage(ethers.MaxUint256, 10n))[0].length).to.equal(0);
    });

    it("stakerAt reverts StakerIndexOutOfRange past the end", async () => {
      const { staking, stakers } = await loadFixture(stakingFixture);
      await expect(staking.stakerAt(0n))
        .to.be.revertedWithCustomError(staking, "StakerIndexOutOfRange")
        .withArgs(0n, 0n);
      await staking.connect(stakers[0]).stake(1n);
      await expect(staking.stakerAt(1n))
        .to.be.revertedWithCustomError(staking, "StakerIndexOutOfRange")
        .withArgs(1n, 1n);
    });
  });

  describe("coin age", () => {
    it("equals coinAge of src/protocol/pos.ts at several times, capped at maxCoinAgeSeconds", async () => {
      const { staking, stakers } = await loadFixture(stakingFixture);
      const [alice] = stakers;
      await staking.connect(alice).stake(3n * E18 + 7n);
      const since = await staking.stakeSinceOf(alice.address);
      expect(since).to.equal(BigInt(await time.latest()));
      // Right after staking (a view runs against the latest block's timestamp): zero age.
      expect(await staking.coinAgeOf(alice.address)).to.equal(
        coinAge(3n * E18 + 7n, since, BigInt(await time.latest()), MAX_COIN_AGE),
      );
      for (const dt of [
        1n,
        59n,
        3600n,
        86_400n,
        MAX_COIN_AGE - 1n,
        MAX_COIN_AGE,
        MAX_COIN_AGE + 1n,
        10n * MAX_COIN_AGE,
      ]) {
        await time.increaseTo(since + dt);
        const now = BigInt(await time.latest());
        const onChain = await staking.coinAgeOf(alice.address);
        expect(onChain).to.equal(coinAge(await staking.stakeOf(alice.address), since, now, MAX_COIN_AGE));
      }
      expect(await staking.coinAgeOf(alice.address)).to.equal((3n * E18 + 7n) * MAX_COIN_AGE);
    });

    it("is zero for a non-staker", async () => {
      const { staking, outsider } = await loadFixture(stakingFixture);
      expect(await staking.coinAgeOf(outsider.address)).to.equal(0n);
    });

    it("adding stake never inflates coin age (weighted-average origin, rounded up)", async () => {
      const { staking, stakers } = await loadFixture(stakingFixture);
      const rng = new Rng(7);
      for (const [i, who] of stakers.slice(0, 6).entries()) {
        await staking.connect(who).stake(1n + rng.big(100n * E18));
        // Sometimes wait past the cap: the capped age must not spill into the new stake.
        await time.increase(i % 2 === 0 ? Number(MAX_COIN_AGE) * 3 : 1 + rng.int(Number(MAX_COIN_AGE)));
        for (let round = 0; round < 3; round++) {
          const add = rng.int(3) === 0 ? 1n : 1n + rng.big(10_000n * E18);
          const oldStake = await staking.stakeOf(who.address);
          const oldSince = await staking.stakeSinceOf(who.address);
          const next = BigInt(await time.latest()) + 1n;
          await time.setNextBlockTimestamp(next);
          const before = coinAge(oldStake, oldSince, next, MAX_COIN_AGE);
          await staking.connect(who).stake(add);
          const after = await staking.coinAgeOf(who.address);
          expect(after).to.be.lte(before);
          // ...and it keeps what it had, up to rounding of one second of the new total.
          expect(before - after).to.be.lt(oldStake + add);
          await time.increase(1 + rng.int(100_000));
        }
      }
    });

    it("unstaked stake stops counting for coin age at once", async () => {
      const { staking, stakers } = await loadFixture(stakingFixture);
      const [alice] = stakers;
      await staking.connect(alice).stake(10n * E18);
      const since = await staking.stakeSinceOf(alice.address);
      await time.increase(100);
      await staking.connect(alice).requestUnstake(4n * E18);
      const now = BigInt(await time.latest());
      expect(await staking.coinAgeOf(alice.address)).to.equal(coinAge(6n * E18, since, now, MAX_COIN_AGE));
    });
  });

  describe("unstake and withdraw", () => {
    it("requestUnstake moves stake to unbonding with UnstakeRequested; withdraw after the delay with Withdrawn", async () => {
      const { staking, token, stakers } = await loadFixture(stakingFixture);
      const [alice] = stakers;
      await staking.connect(alice).stake(10n * E18);
      const releaseAt = BigInt(await time.latest()) + 1n + UNBONDING_DELAY;
      await expect(staking.connect(alice).requestUnstake(4n * E18))
        .to.emit(staking, "UnstakeRequested")
        .withArgs(alice.address, 4n * E18, 4n * E18, releaseAt);
      expect(await staking.stakeOf(alice.address)).to.equal(6n * E18);
      expect(await staking.totalStake()).to.equal(6n * E18);
      expect(await staking.totalUnbonding()).to.equal(4n * E18);
      expect(await staking.unbondingOf(alice.address)).to.deep.equal([4n * E18, releaseAt]);

      await time.setNextBlockTimestamp(releaseAt - 1n);
      await expect(staking.connect(alice).withdrawUnstaked())
        .to.be.revertedWithCustomError(staking, "UnbondingNotFinished")
        .withArgs(releaseAt);
      await time.setNextBlockTimestamp(releaseAt);
      const tx = staking.connect(alice).withdrawUnstaked();
      await expect(tx)
        .to.emit(staking, "Withdrawn")
        .withArgs(alice.address, 4n * E18);
      await expect(tx).to.changeTokenBalances(token, [alice, staking], [4n * E18, -4n * E18]);
      expect(await staking.totalUnbonding()).to.equal(0n);
      await expect(staking.connect(alice).withdrawUnstaked()).to.be.revertedWithCustomError(
        staking,
        "NothingToWithdraw",
      );
    });

    it("a second request adds to unbonding and pushes the release of the whole amount", async () => {
      const { staking, stakers } = await loadFixture(stakingFixture);
      const [alice] = stakers;
      await staking.connect(alice).stake(10n * E18);
      await staking.connect(alice).requestUnstake(E18);
      await time.increase(1000);
      await staking.connect(alice).requestUnstake(2n * E18);
      const releaseAt = BigInt(await time.latest()) + UNBONDING_DELAY;
      expect(await staking.unbondingOf(alice.address)).to.deep.equal([3n * E18, releaseAt]);
    });

    it("reverts ZeroAmount, InsufficientStake and NothingToWithdraw", async () => {
      const { staking, stakers } = await loadFixture(stakingFixture);
      const [alice] = stakers;
      await expect(staking.connect(alice).requestUnstake(0n)).to.be.revertedWithCustomError(
        staking,
        "ZeroAmount",
      );
      await expect(staking.connect(alice).requestUnstake(1n))
        .to.be.revertedWithCustomError(staking, "InsufficientStake")
        .withArgs(1n, 0n);
      await staking.connect(alice).stake(5n);
      await expect(staking.connect(alice).requestUnstake(6n))
        .to.be.revertedWithCustomError(staking, "InsufficientStake")
        .withArgs(6n, 5n);
      await expect(staking.connect(alice).withdrawUnstaked()).to.be.revertedWithCustomError(
        staking,
        "NothingToWithdraw",
      );
    });

    it("unstaking everything leaves the leaf in place with zero stake; restaking restarts coin age", async () => {
      const { staking, stakers } = await loadFixture(stakingFixture);
      const [alice, bob] = stakers;
      await staking.connect(alice).stake(5n * E18);
      await staking.connect(bob).stake(7n * E18);
      await staking.connect(alice).requestUnstake(5n * E18);
      expect(await staking.stakerCount()).to.equal(2n);
      await mineToNextEpoch(staking);
      expect(await drawHolders(staking)).to.equal(1);
      expect(await staking.draw(ethers.ZeroHash, 1n, await head())).to.deep.equal([bob.address]);
      await time.increase(500);
      await expect(staking.connect(alice).stake(3n)).to.not.emit(staking, "StakerRegistered");
      expect(await staking.stakeSinceOf(alice.address)).to.equal(BigInt(await time.latest()));
      expect(await staking.stakerAt(0n)).to.equal(alice.address);
      await expectTotalsConsistent(staking);
    });

    it("a reentrant token cannot withdraw twice (ReentrancyGuardReentrantCall)", async () => {
      const [admin] = await ethers.getSigners();
      const hooked = await (await ethers.getContractFactory("HookedERC20Mock")).deploy();
      const staking = await (
        await ethers.getContractFactory("PoTStaking")
      )
        .connect(admin)
        .deploy(await hooked.getAddress(), 10n, 10n, 10n, SLASH_BOUNTY_BPS);
      const attacker = await (
        await ethers.getContractFactory("ReentrantStakerMock")
      ).deploy(await staking.getAddress(), await hooked.getAddress());
      // A second, honest staker's unbonding stake is what a reentrant withdraw would steal.
      await hooked.setHooked(await attacker.getAddress());
      await hooked.mint(await attacker.getAddress(), 100n);
      await hooked.mint(admin.address, 1000n);
      await hooked.connect(admin).approve(await staking.getAddress(), 1000n);
      await staking.connect(admin).stake(1000n);
      await staking.connect(admin).requestUnstake(1000n);
      await attacker.stakeAndUnstake(100n);
      await time.increase(20);
      await expect(attacker.attack()).to.be.revertedWithCustomError(staking, "ReentrancyGuardReentrantCall");
      expect(await staking.unbondingOf(await attacker.getAddress())).to.deep.equal([
        100n,
        (await staking.unbondingOf(await attacker.getAddress()))[1],
      ]);
      expect(await hooked.balanceOf(await staking.getAddress())).to.equal(1100n);
      expect(await attacker.reentries()).to.equal(0n);
    });
  });

  describe("slash", () => {
    async function slashFixture(): Promise<StakingFixture> {
      const f = await stakingFixture();
      await f.staking.connect(f.stakers[0]).stake(10n * E18);
      await f.staking.connect(f.stakers[1]).stake(20n * E18);
      return f;
    }

    /** The reporter's bounty of a slash of `amount` (rounded down) and the part burned. */
    const split = (amount: bigint) => {
      const bounty = (amount * SLASH_BOUNTY_BPS) / 10_000n;
      return { bounty, burned: amount - bounty };
    };

    it("takes from active stake first, pays the reporter the bounty and burns the rest (supply drops)", async () => {
      const { staking, token, ledger, outsider, stakers } = await loadFixture(slashFixture);
      const [alice] = stakers;
      expect(
        await staking.connect(ledger).slash.staticCall(alice.address, 4n * E18, outsider.address),
      ).to.equal(4n * E18);
      const { bounty, burned } = split(4n * E18);
      expect(bounty).to.equal(4n * 10n ** 17n);
      const supply = await token.totalSupply();
      const tx = staking.connect(ledger).slash(alice.address, 4n * E18, outsider.address);
      await expect(tx)
        .to.emit(staking, "Slashed")
        .withArgs(alice.address, outsider.address, 4n * E18, 0n, bounty, burned);
      await expect(tx).to.changeTokenBalances(token, [outsider, staking], [bounty, -4n * E18]);
      expect(await token.totalSupply()).to.equal(supply - burned);
      expect(await staking.stakeOf(alice.address)).to.equal(6n * E18);
      expect(await staking.totalStake()).to.equal(26n * E18);
      await expectTotalsConsistent(staking);
    });

    it("an offender reporting itself gets back exactly the bounty: the rest of its stake is burned", async () => {
      const { staking, token, ledger, stakers } = await loadFixture(slashFixture);
      const [alice] = stakers;
      const balance = await token.balanceOf(alice.address);
      const supply = await token.totalSupply();
      await staking.connect(ledger).slash(alice.address, 10n * E18, alice.address);
      const { bounty, burned } = split(10n * E18);
      expect(await token.balanceOf(alice.address)).to.equal(balance + bounty);
      expect(await staking.stakeOf(alice.address)).to.equal(0n);
      expect(await token.totalSupply()).to.equal(supply - burned);
      // a bounty that rounds to zero: everything is burned, nothing is transferred
      await staking.connect(stakers[1]).stake(9n);
      await expect(staking.connect(ledger).slash(stakers[1].address, 9n, stakers[1].address))
        .to.emit(staking, "Slashed")
        .withArgs(stakers[1].address, stakers[1].address, 9n, 0n, 0n, 9n);
    });

    it("unstaking does not escape: the slash reaches unbonding stake, and withdraw before the delay reverts", async () => {
      const { staking, token, ledger, outsider, stakers } = await loadFixture(slashFixture);
      const [alice] = stakers;
      await staking.connect(alice).requestUnstake(8n * E18); // active 2, unbonding 8
      const [, releaseAt] = await staking.unbondingOf(alice.address);
      await expect(staking.connect(alice).withdrawUnstaked())
        .to.be.revertedWithCustomError(staking, "UnbondingNotFinished")
        .withArgs(releaseAt);
      expect(
        await staking.connect(ledger).slash.staticCall(alice.address, 5n * E18, outsider.address),
      ).to.equal(5n * E18);
      const { bounty, burned } = split(5n * E18);
      const supply = await token.totalSupply();
      const tx = staking.connect(ledger).slash(alice.address, 5n * E18, outsider.address);
      await expect(tx)
        .to.emit(staking, "Slashed")
        .withArgs(alice.address, outsider.address, 2n * E18, 3n * E18, bounty, burned);
      await expect(tx).to.changeTokenBalance(token, outsider, bounty);
      expect(await token.totalSupply()).to.equal(supply - burned);
      expect(await staking.stakeOf(alice.address)).to.equal(0n);
      expect(await staking.unbondingOf(alice.address)).to.deep.equal([5n * E18, releaseAt]);
      expect(await staking.totalUnbonding()).to.equal(5n * E18);
      await mineToNextEpoch(staking);
      expect(await drawHolders(staking)).to.equal(1);
      await time.increaseTo(releaseAt);
      await expect(staking.connect(alice).withdrawUnstaked()).to.changeTokenBalance(token, alice, 5n * E18);
      await expectTotalsConsistent(staking);
    });

    it("takes at most what there is, and returns 0 without an event when there is nothing", async () => {
      const { staking, ledger, outsider, stakers } = await loadFixture(slashFixture);
      const [alice] = stakers;
      await staking.connect(alice).requestUnstake(E18);
      expect(
        await staking.connect(ledger).slash.staticCall(alice.address, 100n * E18, outsider.address),
      ).to.equal(10n * E18);
      const { bounty, burned } = split(10n * E18);
      await expect(staking.connect(ledger).slash(alice.address, 100n * E18, outsider.address))
        .to.emit(staking, "Slashed")
        .withArgs(alice.address, outsider.address, 9n * E18, E18, bounty, burned);
      expect(await staking.connect(ledger).slash.staticCall(alice.address, 1n, outsider.address)).to.equal(
        0n,
      );
      await expect(staking.connect(ledger).slash(alice.address, 1n, outsider.address)).to.not.emit(
        staking,
        "Slashed",
      );
      await expect(staking.connect(ledger).slash(outsider.address, 1n, outsider.address)).to.not.emit(
        staking,
        "Slashed",
      );
      await expect(staking.connect(ledger).slash(alice.address, 0n, outsider.address)).to.not.emit(
        staking,
        "Slashed",
      );
      await expectTotalsConsistent(staking);
    });

    it("a slash bounty of 0 bps burns everything", async () => {
      const { token, admin, ledger, stakers } = await loadFixture(stakingFixture);
      const factory = await ethers.getContractFactory("PoTStaking");
      const staking = await factory.connect(admin).deploy(await token.getAddress(), 10n, 10n, 10n, 0n);
      await staking.connect(admin).setLedger(ledger.address);
      await token.connect(stakers[0]).approve(await staking.getAddress(), E18);
      await staking.connect(stakers[0]).stake(E18);
      const supply = await token.totalSupply();
      await expect(staking.connect(ledger).slash(stakers[0].address, E18, stakers[0].address))
        .to.emit(staking, "Slashed")
        .withArgs(stakers[0].address, stakers[0].address, E18, 0n, 0n, E18);
      expect(await token.totalSupply()).to.equal(supply - E18);
    });

    it("reverts NotSlasher for others and ZeroAddress for a zero reporter", async () => {
      const { staking, ledger, outsider, stakers } = await loadFixture(slashFixture);
      await expect(staking.connect(outsider).slash(stakers[0].address, 1n, outsider.address))
        .to.be.revertedWithCustomError(staking, "NotSlasher")
        .withArgs(outsider.address);
      await expect(
        staking.connect(ledger).slash(stakers[0].address, 1n, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(staking, "ZeroAddress");
    });

    it("setSlasher: admin only, once, before setLedger, non-zero; then the ledger and the slasher may slash", async () => {
      const { token, admin, ledger, outsider, stakers } = await loadFixture(stakingFixture);
      const factory = await ethers.getContractFactory("PoTStaking");
      const staking = await factory
        .connect(admin)
        .deploy(await token.getAddress(), 10n, 10n, 10n, SLASH_BOUNTY_BPS);
      const slasher = stakers[5];
      await expect(staking.connect(outsider).setSlasher(slasher.address))
        .to.be.revertedWithCustomError(staking, "NotAdmin")
        .withArgs(outsider.address);
      await expect(staking.connect(admin).setSlasher(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        staking,
        "ZeroAddress",
      );
      await expect(staking.connect(admin).setSlasher(slasher.address))
        .to.emit(staking, "SlasherSet")
        .withArgs(slasher.address);
      await expect(staking.connect(admin).setSlasher(outsider.address))
        .to.be.revertedWithCustomError(staking, "SlasherAlreadySet")
        .withArgs(slasher.address);
      await staking.connect(admin).setLedger(ledger.address);
      const [alice] = stakers;
      await token.connect(alice).approve(await staking.getAddress(), 10n * E18);
      await staking.connect(alice).stake(10n * E18);
      await expect(staking.connect(slasher).slash(alice.address, E18, outsider.address)).to.emit(
        staking,
        "Slashed",
      );
      await expect(staking.connect(ledger).slash(alice.address, E18, outsider.address)).to.emit(
        staking,
        "Slashed",
      );
      await expect(staking.connect(outsider).slash(alice.address, E18, outsider.address))
        .to.be.revertedWithCustomError(staking, "NotSlasher")
        .withArgs(outsider.address);
      expect(await staking.stakeOf(alice.address)).to.equal(8n * E18);
      // once the ledger is bound, the admin can never add a slasher (it keeps no power over stakes)
      const late = await factory
        .connect(admin)
        .deploy(await token.getAddress(), 10n, 10n, 10n, SLASH_BOUNTY_BPS);
      await late.connect(admin).setLedger(ledger.address);
      await expect(late.connect(admin).setSlasher(slasher.address))
        .to.be.revertedWithCustomError(late, "LedgerAlreadySet")
        .withArgs(ledger.address);
      // without a slasher, nobody but the ledger slashes
      await expect(late.connect(slasher).slash(alice.address, E18, outsider.address))
        .to.be.revertedWithCustomError(late, "NotSlasher")
        .withArgs(slasher.address);
    });
  });

  describe("peer registry", () => {
    it("setPeer stores and announces a multiaddr; clearPeer removes it", async () => {
      const { staking, stakers, outsider } = await loadFixture(stakingFixture);
      const addr = "/ip4/203.0.113.7/tcp/4001/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf";
      await expect(staking.connect(stakers[0]).setPeer(addr))
        .to.emit(staking, "PeerSet")
        .withArgs(stakers[0].address, addr);
      expect(await staking.peerOf(stakers[0].address)).to.equal(addr);
      expect(await staking.peerOf(outsider.address)).to.equal("");
      const longest = "/" + "a".repeat(255);
      await staking.connect(stakers[0]).setPeer(longest);
      expect(await staking.peerOf(stakers[0].address)).to.equal(longest);
      await expect(staking.connect(stakers[0]).clearPeer())
        .to.emit(staking, "PeerSet")
        .withArgs(stakers[0].address, "");
      expect(await staking.peerOf(stakers[0].address)).to.equal("");
    });

    it("reverts InvalidMultiaddrLength when empty or longer than MAX_MULTIADDR_LENGTH", async () => {
      const { staking, outsider } = await loadFixture(stakingFixture);
      expect(await staking.MAX_MULTIADDR_LENGTH()).to.equal(256n);
      await expect(staking.connect(outsider).setPeer(""))
        .to.be.revertedWithCustomError(staking, "InvalidMultiaddrLength")
        .withArgs(0n);
      await expect(staking.connect(outsider).setPeer("x".repeat(257)))
        .to.be.revertedWithCustomError(staking, "InvalidMultiaddrLength")
        .withArgs(257n);
    });
  });

  describe("draw (follow-the-coin)", () => {
    it("reverts ZeroDrawCount for k = 0 and NotEnoughStakers when fewer than k hold draw weight", async () => {
      const { staking, stakers } = await loadFixture(stakingFixture);
      await expect(staking.draw(ethers.ZeroHash, 0n, await head())).to.be.revertedWithCustomError(
        staking,
        "ZeroDrawCount",
      );
      await expect(staking.draw(ethers.ZeroHash, 1n, await head()))
        .to.be.revertedWithCustomError(staking, "NotEnoughStakers")
        .withArgs(1n, 0n);
      await staking.connect(stakers[0]).stake(E18);
      await staking.connect(stakers[1]).stake(E18);
      await staking.connect(stakers[2]).stake(E18);
      await staking.connect(stakers[3]).stake(10n ** 9n - 1n); // stake, but no whole gwei: no draw weight
      await staking.connect(stakers[2]).requestUnstake(E18);
      await mineToNextEpoch(staking);
      await expect(staking.draw(ethers.ZeroHash, 3n, await head()))
        .to.be.revertedWithCustomError(staking, "NotEnoughStakers")
        .withArgs(3n, 2n);
      expect(new Set(await staking.draw(ethers.ZeroHash, 2n, await head())).size).to.equal(2);
    });

    for (const [n, v] of vectors.followTheCoin.entries()) {
      it(`equals the committed vector ${n} (k = ${v.k}, ${v.stakes.length} stakers)`, async () => {
        const { staking, stakers } = await loadFixture(stakingFixture);
        await stakeVector(staking, stakers, v.stakes);
        const [, weights] = await staking.drawWeightsPage(0n, 100n, await head());
        expect(weights.map((w) => w.toString())).to.deep.equal(v.stakes.map((e) => e.weight));
        const drawn = await staking.draw(v.seed, BigInt(v.k), await head());
        expect(drawn).to.deep.equal(v.drawnIndices.map((i) => stakers[i].address));
        expect(drawn).to.deep.equal(await expectedDraw(staking, v.seed, v.k));
      });
    }

    it("equals followTheCoin of src/protocol over an independent model of epoch weights on 50 random stake histories (stakes, zeros, unstakes, slashes, epochs crossed)", async () => {
      const E = EPOCH_BLOCKS;
      let draws = 0;
      let previousEpochDraws = 0;
      for (let c = 0; c < 50; c++) {
        const { staking, stakers, ledger, outsider } = await loadFixture(stakingFixture);
        const rng = new Rng(1000 + c);
        const pool = stakers.slice(0, 1 + rng.int(stakers.length));
        // The model: leaf order (first stake) and, per staker, (block, draw weight after the change).
        const order: string[] = [];
        const changes = new Map<string, { block: bigint; weight: bigint }[]>();
        const ops = 4 + rng.int(36);
        for (let o = 0; o < ops; o++) {
          const who = pool[rng.int(pool.length)];
          const active = await staking.stakeOf(who.address);
          const op = rng.int(10);
          let tx;
          if (op < 6 || active === 0n) {
            const scale = [1n, 1000n * 10n ** 9n, E18, 1000n * E18][rng.int(4)];
            tx = await staking.connect(who).stake(1n + rng.big(scale));
          } else if (op < 9) {
            tx = await staking.connect(who).requestUnstake(rng.int(2) === 0 ? active : 1n + rng.big(active));
          } else {
            tx = await staking
              .connect(ledger)
              .slash(who.address, 1n + rng.big(active * 2n), outsider.address);
          }
          const block = BigInt((await tx.wait())!.blockNumber);
          if (!changes.has(who.address)) {
            order.push(who.address);
            changes.set(who.address, []);
          }
          changes.get(who.address)!.push({ block, weight: drawWeight(await staking.stakeOf(who.address)) });
          if (rng.int(4) === 0) await mine(1 + rng.int(Number(E)));
        }
        const now = await head();
        const t = now / E;
        /** The model's weights as of the start of epoch x: the last change in a block < x * E. */
        const modelAt = (x: bigint) =>
          order.map((staker) => {
            const before = changes.get(staker)!.filter((ch) => ch.block < x * E);
            return {
              staker: staker as Address,
              stake: before.length ? before[before.length - 1].weight : 0n,
            };
          });
        const randBlocks = [now - BigInt(rng.int(Number(now % E) + 1))]; // in epoch t
        if (t > 0n) randBlocks.push((t - 1n) * E + BigInt(rng.int(Number(E)))); // in epoch t - 1
        for (const rb of randBlocks) {
          const model = modelAt(rb / E);
          expect(await drawList(staking, rb), `case ${c} weights at ${rb}`).to.deep.equal(model);
          const total = model.reduce((a, e) => a + e.stake, 0n);
          expect(await staking.drawWeightTotal(rb)).to.equal(total);
          expect(await staking.treeTotal(rb)).to.equal(total);
          const holders = model.filter((e) => e.stake > 0n).length;
          if (holders === 0) continue;
          for (let s = 0; s < 3; s++) {
            const seed = rng.bytes32();
            const k = 1 + rng.int(holders);
            const expected = followTheCoin(seed as Hex, model, k).map((i) => model[i].staker);
            expect(await staking.draw(seed, BigInt(k), rb), `case ${c} seed ${seed} k ${k}`).to.deep.equal(
              expected,
            );
            // verifyDraw accepts exactly the drawn list, in order
            await staking.verifyDraw(seed, expected, rb);
            if (k >= 2) {
              const swapped = [expected[1], expected[0], ...expected.slice(2)];
              await expect(staking.verifyDraw(seed, swapped, rb)).to.be.revertedWithCustomError(
                staking,
                "NotDrawn",
              );
            }
            draws++;
            if (rb / E < t) previousEpochDraws++;
          }
          await expect(staking.draw(rng.bytes32(), BigInt(holders + 1), rb))
            .to.be.revertedWithCustomError(staking, "NotEnoughStakers")
            .withArgs(BigInt(holders + 1), BigInt(holders));
        }
      }
      expect(draws).to.be.greaterThan(150);
      expect(previousEpochDraws).to.be.greaterThan(50);
    });
  });

  describe("verifyDraw", () => {
    it("reverts ZeroDrawCount, and NotDrawn for a non-staker, a duplicate or another order", async () => {
      const { staking, stakers, outsider } = await loadFixture(stakingFixture);
      const [a, b, c] = stakers;
      for (const [i, who] of [a, b, c].entries()) await staking.connect(who).stake(BigInt(i + 1) * E18);
      await mineToNextEpoch(staking);
      const rb = await head();
      const seed = ethers.keccak256(ethers.toUtf8Bytes("verify"));
      const drawn = [...(await staking.draw(seed, 3n, rb))];
      await staking.verifyDraw(seed, drawn, rb);
      await staking.verifyDraw(seed, drawn.slice(0, 2), rb);
      await expect(staking.verifyDraw(seed, [], rb)).to.be.revertedWithCustomError(staking, "ZeroDrawCount");
      await expect(staking.verifyDraw(seed, [outsider.address], rb))
        .to.be.revertedWithCustomError(staking, "NotDrawn")
        .withArgs(0, outsider.address);
      await expect(staking.verifyDraw(seed, [drawn[0], drawn[0]], rb))
        .to.be.revertedWithCustomError(staking, "NotDrawn")
        .withArgs(1, drawn[0]);
      await expect(
        staking.verifyDraw(seed, [drawn[1], drawn[0], drawn[2]], rb),
      ).to.be.revertedWithCustomError(staking, "NotDrawn");
    });
  });
  describe("totals", () => {
    it("totalStake == tree total == sum of stakes after random operation sequences", async () => {
      const { staking, stakers, ledger, outsider } = await loadFixture(stakingFixture);
      const rng = new Rng(42);
      for (let o = 0; o < 150; o++) {
        const who = stakers[rng.int(stakers.length)];
        const active = await staking.stakeOf(who.address);
        const op = rng.int(12);
        if (op < 6 || active === 0n) await staking.connect(who).stake(1n + rng.big(50n * E18));
        else if (op < 9) await staking.connect(who).requestUnstake(1n + rng.big(active));
        else if (op < 11)
          await staking.connect(ledger).slash(who.address, rng.big(active + E18), outsider.address);
        else {
          await time.increase(Number(UNBONDING_DELAY));
          const [unbonding] = await staking.unbondingOf(who.address);
          if (unbonding > 0n) await staking.connect(who).withdrawUnstaked();
        }
        if (o % 10 === 9) await expectTotalsConsistent(staking);
      }
      await expectTotalsConsistent(staking);
    });
  });

  describe("FenwickTree library (harness)", () => {
    /** The first leaf whose cumulative value exceeds `ticket` (1-based). */
    const findIn = (values: bigint[], ticket: bigint): number => {
      let cum = 0n;
      for (let i = 0; i < values.length; i++) {
        cum += values[i];
        if (ticket < cum) return i + 1;
      }
      return 0;
    };

    it("prefix sums and searches match a plain array; defensive reverts fire", async () => {
      const tree = await (await ethers.getContractFactory("FenwickTreeHarness")).deploy();
      const rng = new Rng(3);
      const values: bigint[] = [];
      // writes in epoch 0; reads as of the start of epoch 1 see all of them
      for (let i = 0; i < 37; i++) {
        const v = rng.int(4) === 0 ? 0n : rng.big(1000n);
        values.push(v);
        await tree.append(v, 0);
        if (i % 3 === 0) {
          const leaf = 1 + rng.int(values.length);
          const d = rng.big(500n);
          await tree.add(leaf, d, 0);
          values[leaf - 1] += d;
        }
      }
      const leaf = 5;
      await tree.sub(leaf, values[leaf - 1], 0);
      values[leaf - 1] = 0n;
      let prefix = 0n;
      for (let i = 0; i < values.length; i++) {
        prefix += values[i];
        expect(await tree.prefixSum(i + 1, 1)).to.equal(prefix);
      }
      expect(await tree.total(1)).to.equal(prefix);
      expect(await tree.total(0)).to.equal(0n); // nothing at the start of epoch 0
      expect(await tree.size()).to.equal(BigInt(values.length));
      for (let t = 0; t < 40; t++) {
        const ticket = rng.big(prefix);
        expect(await tree.find(ticket, [], [], 1)).to.equal(BigInt(findIn(values, ticket)));
      }
      await expect(tree.add(0, 1, 0))
        .to.be.revertedWithCustomError(tree, "FenwickLeafOutOfRange")
        .withArgs(0n, 37n);
      await expect(tree.sub(38, 1, 0))
        .to.be.revertedWithCustomError(tree, "FenwickLeafOutOfRange")
        .withArgs(38n, 37n);
      await expect(tree.prefixSum(38, 1)).to.be.revertedWithCustomError(tree, "FenwickLeafOutOfRange");
      await expect(tree.find(prefix, [], [], 1)).to.be.revertedWithCustomError(
        tree,
        "FenwickTicketOutOfRange",
      );
      const empty = await (await ethers.getContractFactory("FenwickTreeHarness")).deploy();
      await expect(empty.find(0, [], [], 0)).to.be.revertedWithCustomError(empty, "FenwickTicketOutOfRange");
    });

    it("reverts EpochWeightOverflow past uint64 weights and EpochOverflow past uint32 epochs", async () => {
      const tree = await (await ethers.getContractFactory("FenwickTreeHarness")).deploy();
      const max = 2n ** 64n - 1n;
      await expect(tree.append(max + 1n, 0)).to.be.revertedWithCustomError(tree, "EpochWeightOverflow");
      await tree.append(max, 0);
      await expect(tree.add(1, 1, 0)).to.be.revertedWithCustomError(tree, "EpochWeightOverflow");
      await expect(tree.append(0, 2n ** 32n))
        .to.be.revertedWithCustomError(tree, "EpochOverflow")
        .withArgs(2n ** 32n);
      await expect(tree.add(1, 0, 2n ** 32n))
        .to.be.revertedWithCustomError(tree, "EpochOverflow")
        .withArgs(2n ** 32n);
      await tree.sub(1, max, 2n ** 32n - 1n); // the last epoch that fits
      expect(await tree.total(2n ** 32n - 1n)).to.equal(max);
      expect(await tree.total(2n ** 32n)).to.equal(0n);
    });

    it("keeps the sums as of the start of the current and the previous epoch, whatever changes since", async () => {
      const tree = await (await ethers.getContractFactory("FenwickTreeHarness")).deploy();
      const rng = new Rng(5);
      // atStart[x] = leaf values as of the start of epoch x; epochs are written in order, some skipped
      const atStart = new Map<number, bigint[]>();
      const values: bigint[] = [];
      let epoch = 0;
      for (let round = 0; round < 8; round++) {
        atStart.set(epoch, [...values]);
        for (let o = 0; o < 12; o++) {
          if (values.length === 0 || rng.int(4) === 0) {
            const v = rng.big(1000n);
            values.push(v);
            await tree.append(v, epoch);
          } else {
            const leaf = 1 + rng.int(values.length);
            if (rng.int(2) === 0 || values[leaf - 1] === 0n) {
              const d = rng.big(700n);
              await tree.add(leaf, d, epoch);
              values[leaf - 1] += d;
            } else {
              const d = rng.big(values[leaf - 1] + 1n);
              await tree.sub(leaf, d, epoch);
              values[leaf - 1] -= d;
            }
          }
        }
        // reads as of the start of this epoch and the one before: later changes do not show
        for (const x of [epoch, epoch - 1]) {
          if (x < 0 || !atStart.has(x)) continue;
          const old = atStart.get(x)!;
          const padded = [...old, ...Array(values.length - old.length).fill(0n)];
          const sum = padded.reduce((a, v) => a + v, 0n);
          expect(await tree.total(x), `epoch ${epoch} read ${x}`).to.equal(sum);
          let prefix = 0n;
          for (let i = 0; i < padded.length; i++) {
            prefix += padded[i];
            expect(await tree.prefixSum(i + 1, x)).to.equal(prefix);
          }
          if (sum > 0n) {
            const ticket = rng.big(sum);
            expect(await tree.find(ticket, [], [], x)).to.equal(BigInt(findIn(padded, ticket)));
          }
        }
        expect(await tree.total(epoch + 1)).to.equal(values.reduce((a, v) => a + v, 0n));
        const skip = rng.int(3) === 0 ? 2 : 1; // an epoch without writes: its start equals the next one's
        if (skip === 2) atStart.set(epoch + 1, [...values]);
        epoch += skip;
      }
    });
  });

  describe("gas of draw (printed; figures for docs/contracts/staking.md)", () => {
    it("k = 3, 5, 10 over 10, 100 and 1000 stakers", async function () {
      const { staking, token, stakers } = await loadFixture(stakingFixture);
      const funder = stakers[stakers.length - 1];
      const stakingAddress = await staking.getAddress();
      const rng = new Rng(99);
      const rows: string[] = [];
      let count = 0;
      let stakeGasNew = 0n;
      let stakeGasTopUp = 0n;
      let unstakeGas = 0n;
      for (const target of [10, 100, 1000]) {
        while (count < target) {
          const wallet = new ethers.Wallet(ethers.keccak256(ethers.toBeHex(count + 1, 32)), ethers.provider);
          await network.provider.send("hardhat_setBalance", [wallet.address, "0x56BC75E2D63100000"]);
          const amount = 1n + rng.big(1000n * E18);
          await token.connect(funder).transfer(wallet.address, amount * 2n);
          await token.connect(wallet).approve(stakingAddress, ethers.MaxUint256);
          const receipt = await (await staking.connect(wallet).stake(amount)).wait();
          count++;
          if (count === 1000) {
            stakeGasNew = receipt!.gasUsed;
            // 1 gwei: the smallest change of draw weight (the tree is updated)
            stakeGasTopUp = (await (await staking.connect(wallet).stake(10n ** 9n)).wait())!.gasUsed;
            unstakeGas = (await (await staking.connect(wallet).requestUnstake(10n ** 9n)).wait())!.gasUsed;
          }
        }
        await mineToNextEpoch(staking);
        const rb = await head();
        const list = await drawList(staking, rb);
        const excluded = list[0].staker;
        for (const k of [3, 5, 10]) {
          let total = 0n;
          let max = 0n;
          let seatsTotal = 0n;
          let verifyTotal = 0n;
          const seeds = 5;
          for (let s = 0; s < seeds; s++) {
            const seed = rng.bytes32();
            expect(await staking.draw(seed, BigInt(k), rb)).to.deep.equal(
              followTheCoin(seed as Hex, list, k).map((i) => list[i].staker),
            );
            const gas = await staking.draw.estimateGas(seed, BigInt(k), rb);
            total += gas;
            if (gas > max) max = gas;
            const seats = drawSeats(seed as Hex, list, k, excluded).map((i) => list[i].staker);
            expect(await staking.drawSeats(seed, BigInt(k), rb, excluded)).to.deep.equal(seats);
            seatsTotal += await staking.drawSeats.estimateGas(seed, BigInt(k), rb, excluded);
            verifyTotal += await staking.verifySeats.estimateGas(seed, seats, rb, excluded);
          }
          const n = BigInt(seeds);
          rows.push(`| ${target} | ${k} | ${total / n} | ${max} | ${seatsTotal / n} | ${verifyTotal / n} |`);
        }
      }
      console.log(
        "\n      draw gas (eth_estimateGas, includes the 21,000 base; mean and max of 5 seeds; seats exclude one staker)",
      );
      console.log("      | stakers | k | draw mean | draw max | drawSeats mean | verifySeats mean |");
      console.log("      |---|---|---|---|---|---|");
      for (const r of rows) console.log(`      ${r}`);
      console.log(
        `      at 1000 stakers: stake() by a new staker ${stakeGasNew}, top-up ${stakeGasTopUp}, requestUnstake ${unstakeGas}`,
      );
    });
  });
});
