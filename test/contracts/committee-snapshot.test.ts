/**
 * The committee-snapshot attack (docs/contracts/suite.md, "Draw weights by epoch"): once a draw's
 * randomness block is mined, anyone can compute its tickets. If the draw read the weights as they are when
 * it is evaluated, a staker could then top up, unstake or trigger a slash to move a seat onto itself or a
 * colluder. Draws read the weights as of the start of the randomness block's epoch instead: these tests
 * grind exactly such a change, check that it would have moved the draw over the live weights, and that the
 * PoA committee (PoTCommittee) and the jury (PoTDisputes) do not move.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Address, Hex } from "viem";
import * as P from "../../src/protocol";
import { deploySuite, localParams } from "../../deploy/suite";
import type { PoTStaking } from "../../typechain-types";
import {
  committee,
  createJob,
  declare,
  deploySuiteFixture,
  E18,
  lastHeader,
  mineUntilClosed,
  rhoOf,
  stateHashOf,
  submitHeader,
  wrapStage,
  type SuiteFixture,
} from "./helpers/suite-fixtures";
import { EPOCH_BLOCKS, mineToNextEpoch, stakingFixture } from "./helpers/staking-fixtures";

type Weights = { staker: Address; stake: bigint }[];

async function head(): Promise<bigint> {
  return BigInt(await ethers.provider.getBlockNumber());
}

/** The draw weights of draws seeded by `randBlock` (the contract's epoch view). */
async function epochWeights(staking: PoTStaking, randBlock: bigint): Promise<Weights> {
  const [stakers, weights] = await staking.drawWeightsPage(0n, 1000n, randBlock);
  return stakers.map((s, i) => ({ staker: s as Address, stake: weights[i] }));
}

/** The live weights: drawWeight(stakeOf) now, i.e. what a draw evaluated now would use without epochs. */
async function liveWeights(staking: PoTStaking): Promise<Weights> {
  const [stakers, stakes] = await staking.stakersPage(0n, 1000n);
  return stakers.map((s, i) => ({ staker: s as Address, stake: P.drawWeight(stakes[i]) }));
}

/** K distinct stakers over `weights` (PoTStaking.draw, follow-the-coin). */
function drawOver(seed: Hex, weights: Weights, k: number): string[] {
  return P.followTheCoin(seed, weights, k).map((i) => weights[i].staker);
}

/** K seats with replacement over `weights`, `excluded` skipped (PoTStaking.drawSeats). */
function seatsOver(seed: Hex, weights: Weights, k: number, excluded?: string): string[] {
  return P.drawSeats(seed, weights, k, excluded as Address | undefined).map((i) => weights[i].staker);
}

/** `weights` with `who`'s weight changed by `delta` gwei. */
function withDelta(weights: Weights, who: string, delta: bigint): Weights {
  return weights.map((w) =>
    w.staker.toLowerCase() === who.toLowerCase() ? { ...w, stake: w.stake + delta } : w,
  );
}

const K = 3;

async function fixture(): Promise<SuiteFixture> {
  return deploySuiteFixture(8);
}

/** A headered stage 1 (builder miners[0]) whose round-0 randomness block is mined; its seats and seed. */
async function headeredStage(f: SuiteFixture) {
  const jobId = await createJob(f, { numStages: 1, c: 3, k: K });
  const ds = [];
  for (const m of f.miners.slice(0, 3)) ds.push(await declare(f, m, jobId, 1));
  await mineUntilClosed(f, jobId, 1);
  await submitHeader(f, f.miners[0], jobId, 1, ds);
  const { seats } = await committee(f, jobId, 1);
  const { headerHash, randBlock } = await lastHeader(f, jobId, 1);
  const randomness = (await ethers.provider.getBlock(Number(randBlock)))!.hash as Hex;
  const seed = P.committeeSeed(f.domain, headerHash as Hex, randomness, 0);
  return { jobId, seats, seed, randBlock, builder: f.miners[0].address };
}

/**
 * A top-up for `attacker` (a multiple of 250 POT) that puts it in the draw over the live weights: the
 * grinding the epoch rule defeats.
 */
function grindTopUp(seed: Hex, live: Weights, attacker: string, k: number, excluded?: string): bigint {
  for (let i = 1n; i <= 400n; i++) {
    const amount = i * 250n * E18;
    const moved = seatsOver(seed, withDelta(live, attacker, P.drawWeight(amount)), k, excluded);
    if (moved.includes(attacker)) return amount;
  }
  throw new Error("no top-up found");
}

describe("committee snapshot: draw weights change only at epoch boundaries", () => {
  describe("PoA committee (PoTCommittee)", () => {
    it("(a) a top-up aimed at a known ticket after the randomness block does not change the committee", async () => {
      const f = await loadFixture(fixture);
      const { jobId, seats, seed, randBlock, builder } = await headeredStage(f);
      expect(seats).to.deep.equal(seatsOver(seed, await epochWeights(f.staking, randBlock), K, builder));
      const attacker = f.miners.find((m) => m.address !== builder && !seats.includes(m.address))!;
      const amount = grindTopUp(seed, await liveWeights(f.staking), attacker.address, K, builder);
      const before = await f.staking.stakeOf(attacker.address);
      await (await f.staking.connect(attacker).stake(amount)).wait();
      // the bond grew at once ...
      expect(await f.staking.stakeOf(attacker.address)).to.equal(before + amount);
      // ... and a draw over the live weights would now pick the attacker ...
      expect(seatsOver(seed, await liveWeights(f.staking), K, builder)).to.include(attacker.address);
      // ... but the committee is drawn over the weights of the randomness block's epoch
      const [, now] = await f.committee.committeeOf(jobId, 1);
      expect([...now]).to.deep.equal(seats);
      await expect(f.committee.connect(attacker).attest(jobId, 1))
        .to.be.revertedWithCustomError(f.committee, "NotCommitteeMember")
        .withArgs(attacker.address);
      const { seats: wrappedBy } = await wrapStage(f, jobId, 1);
      expect(wrappedBy).to.deep.equal(seats);
    });

    it("(b) an unstake by another staker after the randomness block does not change the committee", async () => {
      const f = await loadFixture(fixture);
      const { jobId, seats, seed, builder } = await headeredStage(f);
      const live = await liveWeights(f.staking);
      // grind: a staker (not a declarer: nothing bonded) and an amount whose unstake changes the live draw
      let found: { who: HardhatEthersSigner; amount: bigint } | undefined;
      for (const who of f.miners.slice(3)) {
        for (let i = 1n; i <= 10n && !found; i++) {
          const amount = i * 100n * E18;
          const moved = seatsOver(seed, withDelta(live, who.address, -P.drawWeight(amount)), K, builder);
          if (moved.join() !== seats.join()) found = { who, amount };
        }
        if (found) break;
      }
      expect(found, "an unstake that moves the live draw").to.not.equal(undefined);
      await (await f.staking.connect(found!.who).requestUnstake(found!.amount)).wait();
      expect(seatsOver(seed, await liveWeights(f.staking), K, builder)).to.not.deep.equal(seats);
      const [, now] = await f.committee.committeeOf(jobId, 1);
      expect([...now]).to.deep.equal(seats);
      const { seats: wrappedBy } = await wrapStage(f, jobId, 1);
      expect(wrappedBy).to.deep.equal(seats);
    });

    for (const epochBlocks of [32n, 20n]) {
      it(`(d) with ${epochBlocks}-block epochs (PoA window 20) every round's committee stays drawable to its last block`, async () => {
        const f = await deploySuiteFixture(8, (p) => {
          p.staking.epochBlocks = epochBlocks;
        });
        const { jobId } = await headeredStage(f);
        const { poaWindowBlocks, poaMaxRounds } = f.params.stages;
        expect(await f.staking.epochBlocks()).to.be.gte(BigInt(poaWindowBlocks));
        for (let r = 0; r < Number(poaMaxRounds); r++) {
          const { round, lastBlock } = await committee(f, jobId, 1);
          expect(round).to.equal(BigInt(r));
          // the last block of the round is the farthest from its randomness block (poaWindowBlocks)
          // (calls run at the latest block: mine up to lastBlock itself)
          await mine(Number(lastBlock - (await head())));
          const [atLast, seats] = await f.committee.committeeOf(jobId, 1);
          expect(atLast).to.equal(BigInt(r));
          expect(seats.length).to.equal(K);
          await mine(1);
        }
      });
    }

    it("(d) PoTStages refuses a staking contract whose epoch is shorter than the PoA window", async () => {
      const p = localParams();
      p.staking.epochBlocks = BigInt(Number(p.stages.poaWindowBlocks) - 1);
      const [deployer] = await ethers.getSigners();
      await expect(deploySuite(deployer, p))
        .to.be.revertedWithCustomError(await ethers.getContractFactory("PoTStages"), "InvalidParams")
        .withArgs("epochBlocks");
      const f = await deploySuiteFixture(0, (q) => {
        q.staking.epochBlocks = BigInt(q.stages.poaWindowBlocks);
      });
      expect(await f.staking.epochBlocks()).to.equal(BigInt(f.params.stages.poaWindowBlocks));
    });
  });

  describe("jury (PoTDisputes)", () => {
    async function disputed(f: SuiteFixture) {
      const jobId = await createJob(f, { numStages: 1, c: 3, k: 1 });
      await declare(f, f.miners[3], jobId, 1);
      for (const c of f.miners.slice(0, 3)) {
        await declare(f, c, jobId, 1, { resultHash: stateHashOf(jobId, 1, "x"), rho: rhoOf(jobId, 1, "x") });
      }
      await mineUntilClosed(f, jobId, 1);
      await (await f.stages.requestJury(jobId, 1)).wait();
      const jury = await f.disputes.juryOf(jobId, 1);
      return { jobId, randBlock: jury.randBlock };
    }

    it("(a) a top-up aimed at a juror ticket after the randomness block does not change the jury", async () => {
      const f = await loadFixture(fixture);
      const { jobId, randBlock } = await disputed(f);
      await mine(1);
      const randomness = (await ethers.provider.getBlock(Number(randBlock)))!.hash as Hex;
      const seed = P.jurySeed(f.domain, jobId, 1, randomness);
      const size = Number(f.params.disputes.jurySize);
      const expected = seatsOver(seed, await epochWeights(f.staking, randBlock), size);
      const attacker = f.miners.find((m) => !expected.includes(m.address))!;
      await (
        await f.staking
          .connect(attacker)
          .stake(grindTopUp(seed, await liveWeights(f.staking), attacker.address, size))
      ).wait();
      expect(seatsOver(seed, await liveWeights(f.staking), size)).to.include(attacker.address);
      await (await f.disputes.draw(jobId, 1)).wait();
      const [drawn] = await f.disputes.queryFilter(f.disputes.filters.JuryDrawn(jobId, 1));
      expect([...drawn.args.seats]).to.deep.equal(expected);
    });

    it("(d) the jury's draw window is min(256, epochBlocks): later it is RandomnessExpired and can be redrawn", async () => {
      const f = await loadFixture(fixture);
      const epochBlocks = await f.staking.epochBlocks();
      expect(await f.disputes.drawWindowBlocks()).to.equal(epochBlocks < 256n ? epochBlocks : 256n);
      const { jobId, randBlock } = await disputed(f);
      await mine(Number(randBlock + (await f.disputes.drawWindowBlocks()) - (await head())) + 1);
      await expect(f.disputes.draw(jobId, 1))
        .to.be.revertedWithCustomError(f.disputes, "RandomnessExpired")
        .withArgs(randBlock);
      await expect(f.disputes.redraw(jobId, 1)).to.emit(f.disputes, "JuryRequested");
      await mine(1);
      await expect(f.disputes.draw(jobId, 1)).to.emit(f.disputes, "JuryDrawn");
    });
  });

  describe("staking draws", () => {
    /** Three stakers of 10, 20 and 30 PoT drawable in the current epoch; the randomness block is mined. */
    async function drawable() {
      const f = await stakingFixture();
      for (const [i, s] of f.stakers.slice(0, 3).entries())
        await f.staking.connect(s).stake(BigInt(10 * (i + 1)) * E18);
      await mineToNextEpoch(f.staking);
      // at least 3 blocks left in the epoch for the changes below
      if ((await head()) % EPOCH_BLOCKS > EPOCH_BLOCKS - 5n) await mineToNextEpoch(f.staking);
      const randBlock = await head();
      const seed = (await ethers.provider.getBlock(Number(randBlock)))!.hash as Hex;
      return { ...f, randBlock, seed };
    }

    it("(a, b) a top-up, an unstake and a slash after the randomness block do not change the draw", async () => {
      const { staking, stakers, ledger, outsider, randBlock, seed } = await loadFixture(drawable);
      const drawn = [...(await staking.draw(seed, 2n, randBlock))];
      const before = await epochWeights(staking, randBlock);
      const [a, b, c] = stakers.slice(0, 3);
      await staking.connect(a).stake(500n * E18);
      await staking.connect(b).requestUnstake(15n * E18);
      await staking.connect(ledger).slash(c.address, 25n * E18, outsider.address);
      // the live weights moved ...
      const live = await liveWeights(staking);
      expect(live.map((w) => w.stake)).to.deep.equal([510n, 5n, 5n].map((x) => x * 10n ** 9n));
      // ... the draw of the randomness block did not, in this epoch and in the next one
      for (let e = 0; e < 2; e++) {
        expect(await epochWeights(staking, randBlock)).to.deep.equal(before);
        expect([...(await staking.draw(seed, 2n, randBlock))]).to.deep.equal(drawn);
        await staking.verifyDraw(seed, drawn, randBlock);
        if (e === 0) await mineToNextEpoch(staking);
      }
      // draws seeded in the next epoch use the new weights
      const next = await head();
      expect(await epochWeights(staking, next)).to.deep.equal(live);
      expect([...(await staking.draw(seed, 2n, next))]).to.deep.equal(drawOver(seed, live, 2));
    });

    it("(c) a change in epoch X, even in its last block, counts from epoch X + 1; one in X + 1's first block does not count for X + 1", async () => {
      const { staking, stakers } = await loadFixture(drawable);
      const [, , , newcomer, late] = stakers;
      const E = EPOCH_BLOCKS;
      // the stake lands in the last block of epoch X
      const x = (await head()) / E;
      await mine(Number((x + 1n) * E - 2n - (await head())));
      const tx = await staking.connect(newcomer).stake(7n * E18);
      const block = BigInt((await tx.wait())!.blockNumber);
      expect(block).to.equal((x + 1n) * E - 1n);
      expect(await staking.drawWeightOf(newcomer.address, block)).to.equal(0n);
      // the next block opens epoch X + 1: the stake counts there, and still not for epoch X
      const tx2 = await staking.connect(late).stake(9n * E18);
      const block2 = BigInt((await tx2.wait())!.blockNumber);
      expect(block2).to.equal((x + 1n) * E);
      expect(await staking.drawWeightOf(newcomer.address, block2)).to.equal(7n * 10n ** 9n);
      expect(await staking.drawWeightOf(newcomer.address, block)).to.equal(0n);
      // the stake made in X + 1's first block counts from X + 2
      expect(await staking.drawWeightOf(late.address, block2)).to.equal(0n);
      await mineToNextEpoch(staking);
      expect(await staking.drawWeightOf(late.address, await head())).to.equal(9n * 10n ** 9n);
      expect(await staking.drawWeightOf(late.address, block2)).to.equal(0n);
    });

    it("(d) a draw evaluated two epochs after its randomness reverts EpochTooOld; a future epoch EpochNotStarted", async () => {
      const { staking, stakers, randBlock, seed } = await loadFixture(drawable);
      const x = randBlock / EPOCH_BLOCKS;
      const drawn = [...(await staking.draw(seed, 1n, randBlock))];
      await mineToNextEpoch(staking);
      expect([...(await staking.draw(seed, 1n, randBlock))]).to.deep.equal(drawn); // epoch X + 1: still kept
      await staking.connect(stakers[0]).stake(E18);
      await mineToNextEpoch(staking);
      const t = (await head()) / EPOCH_BLOCKS;
      expect(t).to.equal(x + 2n);
      for (const call of [
        () => staking.draw(seed, 1n, randBlock),
        () => staking.verifyDraw(seed, drawn, randBlock),
        () => staking.drawWeightOf(drawn[0], randBlock),
        () => staking.drawWeightTotal(randBlock),
        () => staking.drawWeightsPage(0n, 10n, randBlock),
      ]) {
        await expect(call()).to.be.revertedWithCustomError(staking, "EpochTooOld").withArgs(x, t);
      }
      await expect(staking.draw(seed, 1n, (t + 1n) * EPOCH_BLOCKS))
        .to.be.revertedWithCustomError(staking, "EpochNotStarted")
        .withArgs(t + 1n, t);
    });
  });
});
