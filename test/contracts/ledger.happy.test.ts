/**
 * Happy paths of the ledger: a job from creation to its last wrapped block, rewards and withdrawals,
 * pipelined declarations, transaction attestations, the dummy job, expiry and refund.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  headerOf,
  committee,
  createJob,
  declare,
  ledgerFixture,
  mineUntilClosed,
  openedOf,
  owedAndBalance,
  runStage,
  signAttestation,
  stateHashOf,
  submitHeader,
  wrapStage,
  S0,
  settlementOf,
  claimStage,
} from "./helpers/ledger-fixtures";

describe("ledger: happy path", () => {
  it("creates a job: escrow, events, stage 1 open from S_0", async () => {
    const f = await loadFixture(ledgerFixture);
    const fee = ethers.parseEther("3");
    const jobId = await createJob(f, { fee });
    expect(jobId).to.equal(1n);
    const job = await f.ledger.getJob(jobId);
    expect(job.employer).to.equal(f.employer.address);
    expect(job.escrow).to.equal(fee);
    expect(job.feePerStage).to.equal(fee / 3n);
    expect(await f.ledger.parentOf(jobId, 1)).to.equal(S0);
    expect((await f.ledger.getStage(jobId, 1)).phase).to.equal(1n);
    expect(await f.ledger.totalEscrow()).to.equal(fee);
    const [bal, owed] = await owedAndBalance(f);
    expect(bal).to.equal(owed);
  });

  it("finalizes every stage of a job, pays everyone, and refunds the dust", async () => {
    const f = await loadFixture(ledgerFixture);
    const fee = ethers.parseEther("3") + 2n; // 2 wei of dust over 3 stages
    const jobId = await createJob(f, { fee, numStages: 3 });
    for (let s = 1; s <= 3; s++) {
      await runStage(f, jobId, s, 3);
      const [bal, owed] = await owedAndBalance(f);
      expect(bal).to.equal(owed);
    }
    const job = await f.ledger.getJob(jobId);
    expect(job.status).to.equal(2n); // finished
    expect(job.escrow).to.equal(0n);
    expect(await f.ledger.blockCount()).to.equal(3n);
    expect(await f.ledger.totalEscrow()).to.equal(0n);
    // Everything the employer paid is claimable by someone.
    expect(await f.ledger.totalClaimable()).to.equal(fee);
    // Builder share 20%, committee 20% (3 members), declarants 60% (3): per stage of 1 ETH.
    const credited = await f.ledger.queryFilter(f.ledger.filters.RewardCredited(undefined, jobId, 1));
    const sum = credited.reduce((a, e) => a + e.args.amount, 0n);
    const refunds = await f.ledger.queryFilter(f.ledger.filters.Refunded(jobId));
    const refunded = refunds.reduce((a, e) => a + e.args.amount, 0n);
    expect(sum).to.be.lte(fee / 3n);
    expect(refunded).to.be.gt(0n);
    // Withdraw: the miner's ETH balance grows by its claimable amount minus gas.
    const m = f.miners[0];
    const owedToMiner = await f.ledger.claimable(m.address);
    expect(owedToMiner).to.be.gt(0n);
    await expect(f.ledger.connect(m).withdraw()).to.changeEtherBalance(m, owedToMiner);
    expect(await f.ledger.claimable(m.address)).to.equal(0n);
    const [bal, owed] = await owedAndBalance(f);
    expect(bal).to.equal(owed);
  });

  it("chains wrapped blocks: index, parent hash, stage advance, coin age reset and coinbase", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    await runStage(f, jobId, 1, 3);
    const first = await f.ledger.lastBlockHash();
    await runStage(f, jobId, 2, 3);
    const [, b2] = await f.ledger.queryFilter(f.ledger.filters.BlockWrapped());
    expect(b2.args.index).to.equal(1n);
    expect(b2.args.parentBlockHash).to.equal(first);
    expect(b2.args.stage).to.equal(2n);
    expect((await f.ledger.getJob(jobId)).wrappedStages).to.equal(2n);
    expect(await f.ledger.parentOf(jobId, 3)).to.equal(stateHashOf(jobId, 2));
    const minted = await f.ledger.queryFilter(f.ledger.filters.CoinbaseMinted());
    expect(minted.length).to.be.gte(3);
    // Coin age of a sealer restarts at the wrap.
    expect(await f.staking.coinAgeOf(f.miners[0].address)).to.be.lt(
      await f.staking.coinAgeOf(f.miners[7].address),
    );
  });

  it("pipelines: stage 2 declarations open once stage 1's header fixes the parent", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    await expect(
      declare(f, f.miners[0], jobId, 2, { parent: stateHashOf(jobId, 1) }),
    ).to.be.revertedWithCustomError(f.ledger, "WrongPhase");
    const ds = [];
    for (const m of f.miners.slice(0, 3)) ds.push(await declare(f, m, jobId, 1));
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, f.miners[0], jobId, 1, ds);
    // Stage 2 opens now, before stage 1 is wrapped.
    const d2 = [];
    for (const m of f.miners.slice(0, 3)) d2.push(await declare(f, m, jobId, 2));
    await mineUntilClosed(f, jobId, 2);
    // ...but its header waits for stage 1's wrap.
    await expect(submitHeader(f, f.miners[0], jobId, 2, d2)).to.be.revertedWithCustomError(
      f.ledger,
      "PreviousStageNotWrapped",
    );
    await wrapStage(f, jobId, 1);
    await submitHeader(f, f.miners[0], jobId, 2, d2);
    await wrapStage(f, jobId, 2);
    expect((await f.ledger.getJob(jobId)).wrappedStages).to.equal(2n);
  });

  it("accepts attestations by transaction and by signature in one wrap", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    const ds = [];
    for (const m of f.miners.slice(0, 3)) ds.push(await declare(f, m, jobId, 1));
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, f.miners[0], jobId, 1, ds);
    const { members } = await committee(f, jobId, 1);
    const signer0 = f.byAddress.get(members[0].toLowerCase())!;
    await expect(f.ledger.connect(signer0).attest(jobId, 1))
      .to.emit(f.ledger, "Attested")
      .withArgs(jobId, 1, members[0], 0);
    await expect(f.ledger.connect(signer0).attest(jobId, 1)).to.be.revertedWithCustomError(
      f.ledger,
      "AlreadyAttested",
    );
    const sig1 = await signAttestation(f, f.byAddress.get(members[1].toLowerCase())!, jobId, 1);
    const wrapper = f.byAddress.get(members[2].toLowerCase())!;
    await expect(
      f.ledger
        .connect(wrapper)
        .wrap(jobId, 1, await headerOf(f, jobId, 1), await openedOf(f, jobId, 1), members, [
          "0x",
          sig1,
          "0x",
        ]),
    ).to.emit(f.ledger, "BlockWrapped");
  });

  it("claims a declaration the header did not open (a builder cannot censor)", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    const ds = [];
    for (const m of f.miners.slice(0, 4)) ds.push(await declare(f, m, jobId, 1));
    await mineUntilClosed(f, jobId, 1);
    const builder = f.byAddress.get(ds[0].declarer.toLowerCase())!;
    await submitHeader(f, builder, jobId, 1, ds.slice(0, 3)); // leaves ds[3] out
    await wrapStage(f, jobId, 1);
    await claimStage(f, jobId, 1, ds.slice(0, 3));
    const st = await settlementOf(f, jobId, 1);
    expect(st.opened.length).to.equal(3);
    const heldBefore = await f.ledger.totalEscrow();
    const left = ds[3];
    await expect(
      f.ledger.connect(f.outsider).claimDeclaration(jobId, 1, await settlementOf(f, jobId, 1), left),
    )
      .to.emit(f.ledger, "RewardCredited")
      .withArgs(left.declarer, jobId, 1, 2, st.perDeclaration);
    expect(await f.ledger.totalEscrow()).to.equal(heldBefore - st.perDeclaration);
    await expect(
      f.ledger.claimDeclaration(jobId, 1, await settlementOf(f, jobId, 1), left),
    ).to.be.revertedWithCustomError(f.verifier, "NotDeclared");
    const [bal, owed] = await owedAndBalance(f);
    expect(bal).to.equal(owed);
  });

  it("runs the dummy job (job 0): no fee, coinbase only, stages chain on", async () => {
    const f = await loadFixture(ledgerFixture);
    const dummy = await f.ledger.getJob(0);
    expect(dummy.status).to.equal(1n);
    await runStage(f, 0n, 1, 2);
    await runStage(f, 0n, 2, 2);
    expect(await f.ledger.blockCount()).to.equal(2n);
    expect(await f.ledger.totalClaimable()).to.equal(0n);
    const opened = await f.ledger.queryFilter(f.ledger.filters.StageOpened(0n));
    // The seed (chain head at opening) varies from stage to stage.
    expect(opened[2].args.seed).to.not.equal(opened[1].args.seed);
    expect((await f.ledger.queryFilter(f.ledger.filters.CoinbaseMinted())).length).to.be.gte(2);
    await expect(f.ledger.expireJob(0)).to.be.revertedWithCustomError(f.ledger, "UnknownJob");
  });

  it("expires an unfinished job and refunds the unspent escrow to the employer", async () => {
    const f = await loadFixture(ledgerFixture);
    const fee = ethers.parseEther("3");
    const jobId = await createJob(f, { fee, deadlineIn: 3600 });
    await runStage(f, jobId, 1, 3);
    await expect(f.ledger.expireJob(jobId)).to.be.revertedWithCustomError(f.ledger, "JobNotExpired");
    await time.increase(3600);
    // getJob's escrow is the fee escrowed at creation; the unspent part excludes the wrapped stage's fee
    // but keeps its rounding dust.
    expect((await f.ledger.getJob(jobId)).escrow).to.equal(fee);
    const st = await settlementOf(f, jobId, 1);
    const paid = st.builderPart + 3n * st.perMember + 3n * st.perDeclaration;
    const unspent = fee - paid;
    await expect(f.ledger.connect(f.outsider).expireJob(jobId))
      .to.emit(f.ledger, "JobExpired")
      .withArgs(jobId, unspent)
      .and.to.emit(f.ledger, "Refunded")
      .withArgs(jobId, f.employer.address, unspent);
    await expect(f.ledger.expireJob(jobId)).to.be.revertedWithCustomError(f.ledger, "JobNotOpen");
    const refundable = await f.ledger.claimable(f.employer.address);
    await expect(f.ledger.connect(f.employer).withdraw()).to.changeEtherBalance(f.employer, refundable);
    const [bal, owed] = await owedAndBalance(f);
    expect(bal).to.equal(owed);
    await mine(1);
  });
});
