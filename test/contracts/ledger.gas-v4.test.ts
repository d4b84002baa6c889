/**
 * What the gas work of v4 (docs/contracts/ledger.md, "Gas (v4)") added to the ledger: the settlement word
 * kept in the stage's ring record and archived only when shares are still unclaimed at its reuse, the
 * declared result checked against the stage's fingerprint, the committee passed to `wrap` and verified
 * against the draw, and the ledger's copy of the seal weights that staking keeps in sync.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  headerOf,
  claimStage,
  committee,
  committeeOfSettlement,
  createJob,
  declare,
  E18,
  ledgerFixture,
  mineUntilClosed,
  openedOf,
  settlementOf,
  signAttestation,
  stateHashOf,
  submitHeader,
  wrapStage,
  type DeclarationRecord,
  type LedgerFixture,
} from "./helpers/ledger-fixtures";

/** Declares, headers and wraps one stage with the first three miners; claims nothing. */
async function wrapUnclaimed(f: LedgerFixture, jobId: bigint, stage: number): Promise<DeclarationRecord[]> {
  const ds: DeclarationRecord[] = [];
  for (const m of f.miners.slice(0, 3)) ds.push(await declare(f, m, jobId, stage));
  await mineUntilClosed(f, jobId, stage);
  await submitHeader(f, f.byAddress.get(ds[0].declarer.toLowerCase())!, jobId, stage, ds);
  await wrapStage(f, jobId, stage);
  return ds;
}

describe("ledger: gas v4 (settlement in the ring record, fingerprints, verified draw, seal copy)", () => {
  it("a settlement with unclaimed shares is archived when its record is reused; claims then still work", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f, { numStages: 4 });
    const ds1 = await wrapUnclaimed(f, jobId, 1);
    const word = await f.ledger.settlementOf(jobId, 1);
    expect(word).to.not.equal(ethers.ZeroHash);
    // Stage 2's header opens stage 3 in stage 1's record: stage 1's word moves to the archive.
    const ds2: DeclarationRecord[] = [];
    for (const m of f.miners.slice(3, 6)) ds2.push(await declare(f, m, jobId, 2));
    await mineUntilClosed(f, jobId, 2);
    await submitHeader(f, f.byAddress.get(ds2[0].declarer.toLowerCase())!, jobId, 2, ds2);
    expect((await f.ledger.getStage(jobId, 1)).phase).to.equal(0n); // record reused by stage 3
    expect(await f.ledger.settlementOf(jobId, 1)).to.equal(word);
    await claimStage(f, jobId, 1, ds1);
    const st = await settlementOf(f, jobId, 1);
    await expect(f.ledger.claimBuilder(jobId, 1, st)).to.be.revertedWithCustomError(
      f.ledger,
      "AlreadyClaimed",
    );
    // 3 declarations claimed (bits 40..55) and the builder and 3 members (bits 0..3)
    const after = BigInt(await f.ledger.settlementOf(jobId, 1));
    expect((after >> 40n) & 0xffffn).to.equal(3n);
    expect(after & 0xffn).to.equal(0xfn);
  });

  it("a fully claimed settlement is not archived: its word is gone once the record is reused", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f, { numStages: 4 });
    const ds1 = await wrapUnclaimed(f, jobId, 1);
    const st = await settlementOf(f, jobId, 1);
    await claimStage(f, jobId, 1, ds1);
    const ds2: DeclarationRecord[] = [];
    for (const m of f.miners.slice(3, 6)) ds2.push(await declare(f, m, jobId, 2));
    await mineUntilClosed(f, jobId, 2);
    await submitHeader(f, f.byAddress.get(ds2[0].declarer.toLowerCase())!, jobId, 2, ds2);
    expect(await f.ledger.settlementOf(jobId, 1)).to.equal(ethers.ZeroHash);
    // nothing is left to claim or slash: every further claim is refused
    await expect(f.ledger.claimBuilder(jobId, 1, st)).to.be.revertedWithCustomError(f.ledger, "NotSettled");
    const [owedBalance, owed] = [
      await ethers.provider.getBalance(await f.ledger.getAddress()),
      await f.ledger.totalOwed(),
    ];
    expect(owedBalance).to.equal(owed);
  });

  it("submitHeader: WrongResult for a result other than the declared one (undisputed) or the decided one", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    const ds: DeclarationRecord[] = [];
    for (const m of f.miners.slice(0, 3)) ds.push(await declare(f, m, jobId, 1));
    await mineUntilClosed(f, jobId, 1);
    const builder = f.byAddress.get(ds[0].declarer.toLowerCase())!;
    await expect(
      submitHeader(f, builder, jobId, 1, ds, { resultHash: stateHashOf(jobId, 1, "other") }),
    ).to.be.revertedWithCustomError(f.ledger, "WrongResult");
    // after a voided header the stage is Decided with its result fixed
    await submitHeader(f, builder, jobId, 1, ds, { cid: "0x1234" });
    const { lastBlock } = await committee(f, jobId, 1);
    const rounds = Number(await f.ledger.poaMaxRounds());
    const window = Number(await f.ledger.poaWindowBlocks());
    const now = await ethers.provider.getBlockNumber();
    await ethers.provider.send("hardhat_mine", [
      `0x${(Number(lastBlock) - now + (rounds - 1) * window + 1).toString(16)}`,
    ]);
    await f.ledger.voidHeader(jobId, 1, await headerOf(f, jobId, 1));
    const other = f.byAddress.get(ds[1].declarer.toLowerCase())!;
    await expect(
      submitHeader(f, other, jobId, 1, ds, { resultHash: stateHashOf(jobId, 1, "other") }),
    ).to.be.revertedWithCustomError(f.ledger, "WrongResult");
    await submitHeader(f, other, jobId, 1, ds);
  });

  it("wrap: the committee must be the draw (WrongCommitteeSize, staking's NotDrawn)", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    const ds: DeclarationRecord[] = [];
    for (const m of f.miners.slice(0, 3)) ds.push(await declare(f, m, jobId, 1));
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, f.byAddress.get(ds[0].declarer.toLowerCase())!, jobId, 1, ds);
    const { members } = await committee(f, jobId, 1);
    const wrapper = f.byAddress.get(members[2].toLowerCase())!;
    const sigs = [
      await signAttestation(f, f.byAddress.get(members[0].toLowerCase())!, jobId, 1),
      await signAttestation(f, f.byAddress.get(members[1].toLowerCase())!, jobId, 1),
      "0x",
    ];
    const opened = await openedOf(f, jobId, 1);
    const h = await headerOf(f, jobId, 1);
    await expect(f.ledger.connect(wrapper).wrap(jobId, 1, h, opened, members.slice(0, 2), sigs.slice(0, 2)))
      .to.be.revertedWithCustomError(f.ledger, "WrongCommitteeSize")
      .withArgs(2, 3);
    // A wrapper naming a committee of its choice (here: the draw with an outsider in place of a member)
    const outsider = f.miners.find((m) => !members.includes(m.address))!;
    const chosen = [outsider.address, members[1], members[2]];
    await expect(
      f.ledger.connect(wrapper).wrap(jobId, 1, h, opened, chosen, sigs),
    ).to.be.revertedWithCustomError(f.staking, "NotDrawn");
    const reordered = [members[1], members[0], members[2]];
    await expect(
      f.ledger.connect(wrapper).wrap(jobId, 1, h, opened, reordered, [sigs[1], sigs[0], "0x"]),
    ).to.be.revertedWithCustomError(f.staking, "NotDrawn");
    await f.ledger.connect(wrapper).wrap(jobId, 1, h, opened, members, sigs);
    expect(await committeeOfSettlement(f, jobId, 1)).to.deep.equal(members);
  });

  it("seal copy: staking keeps it in sync (stake, unstake, slash); only staking may write it (NotStaking)", async () => {
    const f = await loadFixture(ledgerFixture);
    const m = f.miners[0];
    const [active0, since0, synced] = await f.ledger.sealOf(m.address);
    expect(synced).to.equal(true);
    let [active, since] = [active0, since0];
    expect(active).to.equal(await f.staking.stakeOf(m.address));
    expect(since).to.equal(await f.staking.stakeSinceOf(m.address));
    await expect(f.staking.connect(m).stake(E18)).to.emit(f.ledger, "SealSynced");
    await f.staking.connect(m).requestUnstake(2n * E18);
    [active, since] = await f.ledger.sealOf(m.address);
    expect(active).to.equal(await f.staking.stakeOf(m.address));
    expect(since).to.equal(await f.staking.stakeSinceOf(m.address));
    expect(await f.staking.coinAgeOf(m.address)).to.be.gt(0n);
    await expect(f.ledger.connect(m).syncSeal(m.address, 10n ** 30n, 1n))
      .to.be.revertedWithCustomError(f.ledger, "NotStaking")
      .withArgs(m.address);
  });

  it("a wrap restarts the opened declarers' coin age in the ledger's copy, and staking reports it", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    await time.increase(100);
    const ds = await wrapUnclaimed(f, jobId, 1);
    const wrappedAt = BigInt(await time.latest());
    for (const d of ds) {
      const [, since] = await f.ledger.sealOf(d.declarer);
      expect(since).to.equal(wrappedAt);
      expect(await f.staking.stakeSinceOf(d.declarer)).to.equal(wrappedAt);
    }
    const untouched = f.miners[7].address;
    expect(await f.staking.stakeSinceOf(untouched)).to.be.lt(wrappedAt);
  });
});
