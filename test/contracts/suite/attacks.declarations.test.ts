/**
 * Issue 12's attacks on declarations and payments, each performed against the split contracts, with the
 * defence asserted. docs/SECURITY.md names each rule and points here.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  balanceAndOwed,
  createJob,
  declare,
  deploySuiteFixture,
  E18,
  juryDecides,
  lastHeader,
  mineUntilClosed,
  rhoOf,
  runStage,
  stageOpened,
  stakeAs,
  resultOf,
  submitHeader,
  wrapStage,
  type Decl,
  type SuiteFixture,
} from "../helpers/suite-fixtures";
import { mineToNextEpoch } from "../helpers/staking-fixtures";

const LAZY_RHO = ethers.keccak256(ethers.toUtf8Bytes("made-up rho")) as `0x${string}`;

async function fixture(): Promise<SuiteFixture> {
  return deploySuiteFixture(8);
}

/** A lazy copy: the stage's public result hash with a commitment to a made-up rho. */
function lazy(f: SuiteFixture, who: HardhatEthersSigner, jobId: bigint, stage: number) {
  return declare(f, who, jobId, stage, { rho: LAZY_RHO });
}

async function slashDecl(
  f: SuiteFixture,
  reporter: HardhatEthersSigner,
  jobId: bigint,
  stage: number,
  d: Decl,
) {
  const { anchor } = await stageOpened(f, jobId, stage);
  return f.disputes
    .connect(reporter)
    .slashDeclaration(jobId, stage, anchor, d, resultOf(jobId, stage), rhoOf(jobId, stage));
}

describe("split contracts: attacks on declarations and payments", () => {
  it("self-slash: an offender that reports itself gets back only the 10% bounty; the rest is burned", async () => {
    const f = await loadFixture(fixture);
    const [a, b, l] = f.miners;
    const jobId = await createJob(f, { numStages: 2, c: 2, k: 1 });
    const ds = [await declare(f, a, jobId, 1), await declare(f, b, jobId, 1), await lazy(f, l, jobId, 1)];
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, a, jobId, 1, ds);
    expect((await lastHeader(f, jobId, 1)).faulty).to.deep.equal([l.address]);
    await wrapStage(f, jobId, 1);
    const slash = f.params.stages.declarationSlash as bigint;
    const [stakeBefore, balBefore, supplyBefore] = [
      await f.staking.stakeOf(l.address),
      await f.token.balanceOf(l.address),
      await f.token.totalSupply(),
    ];
    await (await slashDecl(f, l, jobId, 1, ds[2])).wait();
    expect(await f.staking.stakeOf(l.address)).to.equal(stakeBefore - slash);
    expect(await f.token.balanceOf(l.address)).to.equal(balBefore + slash / 10n);
    expect(await f.token.totalSupply()).to.equal(supplyBefore - slash + slash / 10n);
    // once only, and never for an honest declaration
    await expect(slashDecl(f, a, jobId, 1, ds[2])).to.be.revertedWithCustomError(
      f.disputes,
      "DeclarationSettled",
    );
    await expect(slashDecl(f, l, jobId, 1, ds[0])).to.be.revertedWithCustomError(
      f.disputes,
      "DeclarationNotFaulty",
    );
  });

  it("unstake before the slash: stake behind an unsettled declaration cannot leave; it is slashed at full amount from unbonding", async () => {
    const f = await loadFixture(fixture);
    const [a, b, l] = f.miners;
    const jobId = await createJob(f, { numStages: 1, c: 2, k: 1 });
    const ds = [await declare(f, a, jobId, 1), await declare(f, b, jobId, 1), await lazy(f, l, jobId, 1)];
    // the copier moves its whole stake to unbonding at once
    await (await f.staking.connect(l).requestUnstake(await f.staking.stakeOf(l.address))).wait();
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, a, jobId, 1, ds);
    await wrapStage(f, jobId, 1);
    // it waits out the unbonding delay; nobody has reported it yet: its stake stays
    await time.increase(Number(f.params.staking.unbondingDelay) + 1);
    await expect(f.staking.connect(l).withdrawUnstaked())
      .to.be.revertedWithCustomError(f.staking, "StakeBonded")
      .withArgs(1n);
    const [unbonding] = await f.staking.unbondingOf(l.address);
    await (await slashDecl(f, f.outsider, jobId, 1, ds[2])).wait();
    const [after] = await f.staking.unbondingOf(l.address);
    expect(unbonding - after).to.equal(f.params.stages.declarationSlash);
    // settled: the rest may leave; the honest declarers' bonds were settled by the wrap
    await (await f.staking.connect(l).withdrawUnstaked()).wait();
    expect(await f.stages.bondedOf(a.address)).to.equal(0n);
    // and one stake cannot back more declarations than it can pay slashes for
    const big = f.params.stages.declarationSlash as bigint;
    expect(await f.staking.stakeOf(a.address)).to.be.at.least(big);
  });

  it("lazy copy: a copied result with a made-up rho cannot freeze the stage: the jury decides, the copier is slashed at full amount, the trainer is paid", async () => {
    const f = await loadFixture(fixture);
    const [a, l, late] = f.miners;
    const jobId = await createJob(f, { numStages: 2, c: 2, k: 1 });
    const da = await declare(f, a, jobId, 1);
    const dl = await lazy(f, l, jobId, 1); // the C-th declaration: the stage closes
    await mineUntilClosed(f, jobId, 1);
    await expect(declare(f, late, jobId, 1)).to.be.revertedWithCustomError(f.stages, "DeclarationsClosed");
    // the honest header cannot open C declarations
    await expect(submitHeader(f, a, jobId, 1, [da, dl])).to.be.revertedWithCustomError(
      f.stages,
      "TooFewOpenings",
    );
    // not yet: the jury is due only headerTimeoutSeconds after the stage deadline
    await expect(f.stages.requestJury(jobId, 1)).to.be.revertedWithCustomError(f.stages, "JuryNotDue");
    await time.increase(600 + Number(f.params.stages.headerTimeoutSeconds));
    await (await f.stages.connect(f.outsider).requestJury(jobId, 1)).wait();
    await juryDecides(f, jobId, 1, () => ({ result: resultOf(jobId, 1), rho: rhoOf(jobId, 1) }));
    // any staker may now build; the copy is faulty, the trainer the only opener
    await submitHeader(f, a, jobId, 1, [da, dl]);
    const h = await lastHeader(f, jobId, 1);
    expect(h.openers).to.deep.equal([a.address]);
    expect(h.faulty).to.deep.equal([l.address]);
    const { seats } = await wrapStage(f, jobId, 1);
    const before = await f.staking.stakeOf(l.address);
    await (await slashDecl(f, f.outsider, jobId, 1, dl)).wait();
    expect(before - (await f.staking.stakeOf(l.address))).to.equal(f.params.stages.declarationSlash);
    // the trainer gets the whole declaration pool; the copier no declaration share (a committee seat's
    // pay at most, if the draw seated it)
    const pool = ethers.parseEther("1.5") - (ethers.parseEther("1.5") * 4000n) / 10_000n;
    expect((await f.escrow.owedOf(jobId, a.address)).amount).to.be.at.least(pool);
    const perSeat = (ethers.parseEther("1.5") * 2000n) / 10_000n;
    const held = BigInt(seats.filter((x) => x === l.address).length);
    expect((await f.escrow.owedOf(jobId, l.address)).amount).to.equal(perSeat * held);
    // the job goes on: stage 2 runs
    await runStage(f, jobId, 2, [a, late]);
    expect((await f.stages.jobStatus(jobId)).status).to.equal(2n);
  });

  it("Sybil close: copies declared first cannot shut honest miners out: declarations stay open for the job's minimum window", async () => {
    const f = await loadFixture(fixture);
    const [a, b, s1, s2] = f.miners;
    const jobId = await createJob(f, { numStages: 1, c: 2, k: 1, minDeclareSeconds: 300 });
    const copies = [await lazy(f, s1, jobId, 1), await lazy(f, s2, jobId, 1)];
    await mine(5); // well past the close delay of the C-th declaration
    expect(await f.stages.declarationsClosed(jobId, 1)).to.equal(false);
    await time.increase(200); // the honest miners train for 200 s
    const honest = [await declare(f, a, jobId, 1), await declare(f, b, jobId, 1)];
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, a, jobId, 1, [...copies, ...honest]);
    const h = await lastHeader(f, jobId, 1);
    expect([...h.openers].sort()).to.deep.equal([a.address, b.address].sort());
    expect([...h.faulty].sort()).to.deep.equal([s1.address, s2.address].sort());
    const { seats } = await wrapStage(f, jobId, 1);
    for (const d of copies) await (await slashDecl(f, f.outsider, jobId, 1, d)).wait();
    // the copiers earn no declaration share (at most their committee seats' pay, if drawn)
    const perSeat = (ethers.parseEther("3") * 2000n) / 10_000n / BigInt(seats.length);
    for (const s of [s1, s2]) {
      const held = BigInt(seats.filter((x) => x === s.address).length);
      expect((await f.escrow.owedOf(jobId, s.address)).amount).to.equal(perSeat * held);
    }
  });

  it("the dummy job cannot be frozen by a lazy copy: it goes to the jury and on", async () => {
    const f = await loadFixture(fixture);
    const [a, l, b] = f.miners;
    const da = await declare(f, a, 0n, 1);
    const dl = await lazy(f, l, 0n, 1);
    await mineUntilClosed(f, 0n, 1);
    await expect(submitHeader(f, a, 0n, 1, [da, dl])).to.be.revertedWithCustomError(
      f.stages,
      "TooFewOpenings",
    );
    await time.increase(60 + Number(f.params.stages.headerTimeoutSeconds));
    await (await f.stages.requestJury(0n, 1)).wait();
    await juryDecides(f, 0n, 1, () => ({ result: resultOf(0n, 1), rho: rhoOf(0n, 1) }));
    await submitHeader(f, a, 0n, 1, [da, dl]);
    await wrapStage(f, 0n, 1);
    await runStage(f, 0n, 2, [a, b]);
    expect(await f.stages.blockCount()).to.equal(2n);
  });

  it("faults are provable against a jury's decision, even when nobody declared the decided result", async () => {
    const f = await loadFixture(fixture);
    const [a, b] = f.miners;
    const jobId = await createJob(f, { numStages: 1, c: 2, k: 1 });
    const wrongA = resultOf(jobId, 1, "wrong-a");
    const da = await declare(f, a, jobId, 1, { resultHash: wrongA });
    const db = await declare(f, b, jobId, 1, { resultHash: resultOf(jobId, 1, "wrong-b") });
    await mineUntilClosed(f, jobId, 1);
    await (await f.stages.requestJury(jobId, 1)).wait(); // disputed: at once
    await juryDecides(f, jobId, 1, () => ({ result: resultOf(jobId, 1), rho: rhoOf(jobId, 1) }));
    // no wrap needed: both declarations are slashable against the decision
    for (const d of [da, db]) await (await slashDecl(f, f.outsider, jobId, 1, d)).wait();
    expect(await f.stages.bondedOf(a.address)).to.equal(0n);
    expect(wrongA).to.not.equal(resultOf(jobId, 1));
    // Slashing before the header must not freeze the stage: any other staker builds the decided stage
    // listing the (slashed) declarations, with no opening at all, and a committee wraps it; the slashed
    // declarations are neither paid nor marked faulty again (they stay slashed, never slashable twice).
    const builder = f.miners[2];
    await submitHeader(f, builder, jobId, 1, [da, db], {
      result: resultOf(jobId, 1),
      rho: rhoOf(jobId, 1),
    });
    const h = await lastHeader(f, jobId, 1);
    expect(h.openers).to.deep.equal([]);
    expect(h.faulty).to.deep.equal([]);
    await wrapStage(f, jobId, 1);
    expect((await f.stages.jobStatus(jobId))[0]).to.equal(2n);
    for (const m of [a, b])
      expect(((await f.stages.declarationSlot(jobId, m.address, 1)) >> 216n) & 0xffn).to.equal(3n);
    await expect(slashDecl(f, f.outsider, jobId, 1, da)).to.be.reverted;
  });

  it("employer clawback: lazy Sybils after the C-th honest declaration neither dilute honest shares nor refund the employer", async () => {
    const f = await loadFixture(fixture);
    const honest = f.miners.slice(0, 3);
    const sybils = f.spare.slice(0, 6);
    for (const s of sybils) await stakeAs(f, s, E18);
    await mineToNextEpoch(f.staking);
    const jobId = await createJob(f, {
      numStages: 1,
      c: 3,
      k: 3,
      minDeclareSeconds: 300,
      fee: ethers.parseEther("3"),
    });
    const ds: Decl[] = [];
    for (const m of honest) ds.push(await declare(f, m, jobId, 1));
    for (const s of sybils) ds.push(await lazy(f, s, jobId, 1));
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, honest[0], jobId, 1, ds);
    await wrapStage(f, jobId, 1);
    // the declaration pool (60% of 3 ETH) goes to the three honest declarations only
    let honestDecl = 0n;
    const h = await lastHeader(f, jobId, 1);
    expect(h.openers.length).to.equal(3);
    for (const s of sybils) expect((await f.escrow.owedOf(jobId, s.address)).amount).to.equal(0n);
    for (const m of honest) honestDecl += (await f.escrow.owedOf(jobId, m.address)).amount;
    expect(honestDecl).to.be.at.least(ethers.parseEther("1.8"));
    expect(await f.escrow.claimable(f.employer.address)).to.be.lessThan(10n);
  });

  it("stake splitting earns nothing: 1000 POT over 10 identities takes the same declaration share as 1000 POT in one", async () => {
    async function run(split: boolean) {
      const f = await deploySuiteFixture(2);
      const ids = split ? f.spare.slice(0, 10) : f.spare.slice(0, 1);
      for (const s of ids) await stakeAs(f, s, (1_000n * E18) / BigInt(ids.length));
      await mineToNextEpoch(f.staking);
      const jobId = await createJob(f, { numStages: 1, c: 2, k: 1, minDeclareSeconds: 300 });
      const ds: Decl[] = [await declare(f, f.miners[0], jobId, 1), await declare(f, f.miners[1], jobId, 1)];
      for (const s of ids) ds.push(await declare(f, s, jobId, 1));
      await mineUntilClosed(f, jobId, 1);
      await submitHeader(f, f.miners[0], jobId, 1, ds);
      const { seats } = await wrapStage(f, jobId, 1);
      // declaration shares only: a committee seat is drawn by weight, split or not
      const perSeat = (ethers.parseEther("3") * 2000n) / 10_000n / BigInt(seats.length);
      let got = 0n;
      for (const s of ids) {
        const held = BigInt(seats.filter((x) => x === s.address).length);
        got += (await f.escrow.owedOf(jobId, s.address)).amount - perSeat * held;
      }
      return got;
    }
    const whole = await run(false);
    const split = await run(true);
    expect(whole).to.be.greaterThan(0n);
    expect(split).to.be.at.most(whole); // rounding can only lose wei
    expect(whole - split).to.be.lessThan(20n);
  });

  it("a stage headered before the job deadline can still be wrapped after it; the job expires only after its PoA window", async () => {
    const f = await loadFixture(fixture);
    const [a, b] = f.miners;
    const jobId = await createJob(f, { numStages: 2, c: 2, k: 1, deadlineIn: 120 });
    const ds = [await declare(f, a, jobId, 1), await declare(f, b, jobId, 1)];
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, a, jobId, 1, ds);
    await time.increase(200); // past the job deadline
    await expect(f.stages.expireJob(jobId)).to.be.revertedWithCustomError(f.stages, "JobNotExpired");
    await wrapStage(f, jobId, 1);
    expect((await f.escrow.owedOf(jobId, a.address)).amount).to.be.greaterThan(0n);
    await (await f.stages.expireJob(jobId)).wait();
    // the employer gets back the unwrapped stage's fee, not the wrapped one's
    expect(await f.escrow.claimable(f.employer.address)).to.equal(ethers.parseEther("1.5"));
    const [bal, owed] = await balanceAndOwed(f);
    expect(bal).to.equal(owed);
  });

  it("unclaimed balances are swept to the employer only after the claim period, exact to the wei", async () => {
    const f = await loadFixture(fixture);
    const [a, b] = f.miners;
    const jobId = await createJob(f, { numStages: 1, c: 2, k: 1 });
    await runStage(f, jobId, 1, [a, b]);
    const { amount } = await f.escrow.owedOf(jobId, b.address);
    await expect(f.escrow.sweep(jobId, b.address)).to.be.revertedWithCustomError(f.escrow, "NotSweepable");
    await time.increase(Number(f.params.escrow.claimPeriodSeconds));
    const before = await f.escrow.claimable(f.employer.address);
    await (await f.escrow.connect(f.outsider).sweep(jobId, b.address)).wait();
    expect(await f.escrow.claimable(f.employer.address)).to.equal(before + amount);
    await expect(f.escrow.claim(jobId, b.address)).to.be.revertedWithCustomError(f.escrow, "NothingOwed");
    const [bal, owed] = await balanceAndOwed(f);
    expect(bal).to.equal(owed);
  });
});
