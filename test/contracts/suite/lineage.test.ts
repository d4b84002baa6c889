/**
 * Fine-tuning from a finished job (issue 16): `createJobFrom(parent, terms)` opens a job whose S_0 is the
 * parent's final state. The ledger refuses a parent that did not finish (unknown, open, expired, the dummy
 * job, the job itself) and an initial state hash other than the parent's final one, and records the parent.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  balanceAndOwed,
  createJob,
  deploySuiteFixture,
  jobTerms,
  runStage,
  S0,
  stateHashOf,
  type SuiteFixture,
} from "../helpers/suite-fixtures";

const FEE = ethers.parseEther("1");

async function fixture(): Promise<SuiteFixture> {
  return deploySuiteFixture(4);
}

/** A one-stage job run to its end; returns its id. */
async function finishedJob(f: SuiteFixture): Promise<bigint> {
  const jobId = await createJob(f, { numStages: 1, c: 2, k: 1, fee: FEE });
  await runStage(f, jobId, 1, f.miners.slice(0, 2));
  return jobId;
}

async function termsFrom(initialStateHash: string, o: { deadlineIn?: number } = {}) {
  return { ...jobTerms({ numStages: 1, c: 2, k: 1, ...o }, (await time.latest()) + 1), initialStateHash };
}

describe("split contracts: fine-tuning from a finished job (createJobFrom)", () => {
  it("records the final state of a finished job and opens a child from it", async () => {
    const f = await loadFixture(fixture);
    const parent = await finishedJob(f);
    const final = stateHashOf(parent, 1);
    expect(await f.stages.finalStateOf(parent)).to.equal(final);
    const child = await f.escrow.nextJobId();
    const tx = f.escrow.connect(f.employer).createJobFrom(parent, await termsFrom(final), { value: FEE });
    await expect(tx).to.emit(f.stages, "JobDerived").withArgs(child, parent, final);
    await expect(tx).to.emit(f.stages, "StageOpened");
    expect(await f.stages.parentOf(child)).to.equal(parent);
    expect(await f.stages.parentOf(parent)).to.equal(0n);
    // the child trains like any job, and a grandchild can derive from it
    await runStage(f, child, 1, f.miners.slice(1, 3));
    const grandchild = await f.escrow.nextJobId();
    await (
      await f.escrow
        .connect(f.outsider)
        .createJobFrom(child, await termsFrom(stateHashOf(child, 1)), { value: FEE })
    ).wait();
    expect(await f.stages.parentOf(grandchild)).to.equal(child);
    const [bal, owed] = await balanceAndOwed(f);
    expect(bal).to.equal(owed);
  });

  it("refuses a parent that is unknown, still open, expired or the job itself (0 means no parent)", async () => {
    const f = await loadFixture(fixture);
    const employer = f.escrow.connect(f.employer);
    const s = stateHashOf(1n, 1);
    const next = await f.escrow.nextJobId();
    await expect(employer.createJobFrom(99, await termsFrom(s), { value: FEE }))
      .to.be.revertedWithCustomError(f.stages, "ParentNotFinished")
      .withArgs(99, 0);
    // parentJobId 0 means "no parent": the dummy job can never be one
    expect(await f.stages.parentOf(0)).to.equal(0n);
    await expect(employer.createJobFrom(next, await termsFrom(s), { value: FEE }))
      .to.be.revertedWithCustomError(f.stages, "ParentNotFinished")
      .withArgs(next, 1); // the job itself is open when its parent is checked
    const open = await createJob(f, { numStages: 2, c: 2, k: 1, fee: FEE });
    await runStage(f, open, 1, f.miners.slice(0, 2)); // one of two stages wrapped: not finished
    await expect(employer.createJobFrom(open, await termsFrom(stateHashOf(open, 1)), { value: FEE }))
      .to.be.revertedWithCustomError(f.stages, "ParentNotFinished")
      .withArgs(open, 1);
    const expired = await createJob(f, { numStages: 1, c: 2, k: 1, fee: FEE, deadlineIn: 120 });
    await time.increase(200);
    await (await f.stages.expireJob(expired)).wait();
    await expect(employer.createJobFrom(expired, await termsFrom(s), { value: FEE }))
      .to.be.revertedWithCustomError(f.stages, "ParentNotFinished")
      .withArgs(expired, 3);
    // nothing was escrowed by the refused calls
    const [bal, owed] = await balanceAndOwed(f);
    expect(bal).to.equal(owed);
  });

  it("refuses an initial state other than the parent's final state (S_0 from the spec, or the parent's S_0)", async () => {
    const f = await loadFixture(fixture);
    const parent = await finishedJob(f);
    const final = stateHashOf(parent, 1);
    const employer = f.escrow.connect(f.employer);
    for (const wrong of [stateHashOf(parent, 1, "reset-optimizer"), S0]) {
      await expect(employer.createJobFrom(parent, await termsFrom(wrong), { value: FEE }))
        .to.be.revertedWithCustomError(f.stages, "ParentStateMismatch")
        .withArgs(final, wrong);
    }
    // the stage's result of an unfinished job is never recorded as final
    expect(await f.stages.finalStateOf(0)).to.equal(ethers.ZeroHash);
  });

  it("only the escrow opens jobs: openJob with a parent is refused from anyone else", async () => {
    const f = await loadFixture(fixture);
    const parent = await finishedJob(f);
    await expect(
      f.stages
        .connect(f.outsider)
        .openJob(42, f.outsider.address, 1, await termsFrom(stateHashOf(parent, 1)), parent),
    )
      .to.be.revertedWithCustomError(f.stages, "Unauthorized")
      .withArgs(f.outsider.address);
  });

  it("the child's fee goes only to the child's miners; the parent's balances are untouched", async () => {
    const f = await loadFixture(fixture);
    const parent = await finishedJob(f);
    const before = await Promise.all(f.miners.map((m) => f.escrow.owedOf(parent, m.address)));
    const child = await f.escrow.nextJobId();
    await (
      await f.escrow
        .connect(f.outsider)
        .createJobFrom(parent, await termsFrom(stateHashOf(parent, 1)), { value: FEE })
    ).wait();
    await runStage(f, child, 1, f.miners.slice(2, 4));
    const after = await Promise.all(f.miners.map((m) => f.escrow.owedOf(parent, m.address)));
    expect(after.map((o) => o.amount)).to.deep.equal(before.map((o) => o.amount));
    let paid = 0n;
    for (const m of f.miners) paid += (await f.escrow.owedOf(child, m.address)).amount;
    expect(paid + (await f.escrow.claimable(f.outsider.address))).to.equal(FEE);
  });
});
