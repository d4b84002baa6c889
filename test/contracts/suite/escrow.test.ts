/**
 * PoTEscrow's money, to the wei: job terms checked before any wei is held, a stage's fee split exactly
 * (builder + seats + declarations by weight + dust == feePerStage), the fee's remainder refunded, and
 * withdrawals that pay once (a reentrant recipient) and lose nothing (a recipient refusing ETH).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { EscrowReentrantWithdrawer } from "../../../typechain-types";
import {
  balanceAndOwed,
  createJob,
  deploySuiteFixture,
  E18,
  jobTerms,
  lastHeader,
  runStage,
  type SuiteFixture,
} from "../helpers/suite-fixtures";

/** Six miners with unequal stakes, so the declaration pool splits with rounding. */
async function fixture(): Promise<SuiteFixture> {
  return deploySuiteFixture(
    6,
    () => {},
    [1000n, 700n, 333n, 250n, 1000n, 999n].map((x) => x * E18 + 7n),
  );
}

async function reentrant(f: SuiteFixture): Promise<EscrowReentrantWithdrawer> {
  const W = await ethers.getContractFactory("EscrowReentrantWithdrawer");
  return (await W.deploy(await f.escrow.getAddress())) as unknown as EscrowReentrantWithdrawer;
}

describe("split contracts: escrow exactness", () => {
  it("createJob checks every term before holding any wei (InvalidJob, InvalidFee)", async () => {
    const f = await loadFixture(fixture);
    const now = await time.latest();
    const ok = jobTerms({}, now);
    const fee = { value: ethers.parseEther("1") };
    const p = f.params.stages;
    const bad: [string, object][] = [
      ["specCid", { specCid: "0x" }],
      ["initialStateHash", { initialStateHash: ethers.ZeroHash }],
      ["c", { c: 1 }],
      ["c", { c: Number(p.maxC) + 1 }],
      ["k", { k: 0 }],
      ["k", { k: Number(p.maxK) + 1 }],
      ["stageSeconds", { stageSeconds: Number(p.minStageSeconds) - 1 }],
      ["minDeclareSeconds", { minDeclareSeconds: ok.stageSeconds + 1 }],
      ["deadline", { deadline: now + 5 }],
      ["deadline", { deadline: now + Number(p.maxJobSeconds) + 100 }],
    ];
    const before = await ethers.provider.getBalance(await f.escrow.getAddress());
    for (const [what, patch] of bad) {
      await expect(f.escrow.connect(f.employer).createJob({ ...ok, ...patch }, fee))
        .to.be.revertedWithCustomError(f.stages, "InvalidJob")
        .withArgs(what);
    }
    for (const [terms, value] of [
      [ok, 0n],
      [ok, 2n], // below one wei per stage (3 stages)
      [{ ...ok, numStages: 0 }, 1n],
    ] as const) {
      await expect(f.escrow.connect(f.employer).createJob(terms, { value }))
        .to.be.revertedWithCustomError(f.escrow, "InvalidFee")
        .withArgs(value);
    }
    expect(await ethers.provider.getBalance(await f.escrow.getAddress())).to.equal(before);
    expect(await f.escrow.totalOwed()).to.equal(0n);
  });

  it("a stage pays builder + seats + declarations by weight + dust == feePerStage, to the wei; the fee's remainder is refunded", async () => {
    const f = await loadFixture(fixture);
    const fee = ethers.parseEther("2") + 3n; // feePerStage 1 ETH + 1 wei, remainder 1 wei
    const jobId = await createJob(f, { numStages: 2, c: 4, k: 3, fee });
    const feePerStage = fee / 2n;
    const owedBefore = new Map<string, bigint>();
    for (let s = 1; s <= 2; s++) {
      for (const m of f.miners) owedBefore.set(m.address, (await f.escrow.owedOf(jobId, m.address)).amount);
      const { seats } = await runStage(f, jobId, s, f.miners.slice(0, 4));
      const [paid] = await f.escrow.queryFilter(f.escrow.filters.StagePaid(jobId, s));
      const { builderPart, perSeat, declarationPool, dust } = paid.args;
      expect(builderPart).to.equal((feePerStage * 2000n) / 10_000n);
      expect(perSeat).to.equal((feePerStage * 2000n) / 10_000n / BigInt(seats.length));
      expect(declarationPool).to.equal(feePerStage - builderPart - perSeat * BigInt(seats.length));
      // every opener gets floor(pool * weight / total weight); the rounding dust goes to the builder
      const { header, openers, weights } = await lastHeader(f, jobId, s);
      const total = weights.reduce((a, w) => a + w, 0n);
      const expected = new Map<string, bigint>();
      const add = (a: string, x: bigint) => expected.set(a, (expected.get(a) ?? 0n) + x);
      let shares = 0n;
      openers.forEach((o, i) => {
        const share = (declarationPool * weights[i]) / total;
        shares += share;
        add(o, share);
      });
      expect(dust).to.equal(declarationPool - shares);
      expect(dust).to.be.greaterThan(0n); // unequal stakes: the split does round
      add(header.builder, builderPart + dust);
      for (const seat of seats) add(seat, perSeat);
      let stageTotal = 0n;
      for (const m of f.miners) {
        const delta = (await f.escrow.owedOf(jobId, m.address)).amount - owedBefore.get(m.address)!;
        expect(delta, `stage ${s} pay of ${m.address}`).to.equal(expected.get(m.address) ?? 0n);
        stageTotal += delta;
      }
      expect(stageTotal).to.equal(feePerStage);
    }
    expect((await f.stages.jobStatus(jobId)).status).to.equal(2n);
    const [refund] = await f.escrow.queryFilter(f.escrow.filters.Refunded(jobId));
    expect(refund.args.amount).to.equal(fee - 2n * feePerStage);
    expect(await f.escrow.claimable(f.employer.address)).to.equal(1n);
    const [bal, owed] = await balanceAndOwed(f);
    expect(bal).to.equal(owed);
  });

  it("a reentrant withdrawal is paid once; a recipient refusing ETH gets TransferFailed and keeps its balance", async () => {
    const f = await loadFixture(fixture);
    const w = await reentrant(f);
    const fee = ethers.parseEther("1");
    await (await w.createJob(jobTerms({ deadlineIn: 120 }, await time.latest()), { value: fee })).wait();
    const jobId = (await f.escrow.nextJobId()) - 1n;
    // a second job, so the escrow holds more than the attacker is owed
    await createJob(f, { fee: ethers.parseEther("5") });
    await expect(w.withdraw()).to.be.revertedWithCustomError(f.escrow, "NothingOwed");
    await time.increase(200);
    await (await f.stages.expireJob(jobId)).wait();
    expect(await f.escrow.claimable(await w.getAddress())).to.equal(fee);
    // refusing the payment reverts the whole withdrawal: nothing is lost
    await (await w.setRejectPayments(true)).wait();
    await expect(w.withdraw()).to.be.revertedWithCustomError(f.escrow, "TransferFailed");
    expect(await f.escrow.claimable(await w.getAddress())).to.equal(fee);
    // the receive hook re-enters withdraw(): the balance was zeroed before the call, so once only
    await (await w.setRejectPayments(false)).wait();
    await (await w.withdraw()).wait();
    expect(await w.received()).to.equal(fee);
    expect(await w.reentryAttempts()).to.equal(1n);
    expect(await w.reentrySucceeded()).to.equal(false);
    expect(await f.escrow.claimable(await w.getAddress())).to.equal(0n);
    const [bal, owed] = await balanceAndOwed(f);
    expect(bal).to.equal(owed);
    expect(bal).to.equal(ethers.parseEther("5"));
  });
});
