/**
 * Attacks on the two settlement calls outside the main path: `release` (PoTDisputes: frees the bond of an
 * expired job's unwrapped declaration) and `attest` (PoTCommittee: a seat's transaction attestation). Each
 * attack is performed against the split contracts with the defence asserted; docs/SECURITY.md lists them.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  committee,
  createJob,
  declare,
  deploySuiteFixture,
  juryDecides,
  lastHeader,
  mineUntilClosed,
  rhoOf,
  runStage,
  stageOpened,
  resultOf,
  submitHeader,
  wrapWithTxAttestations,
  type Decl,
  type SuiteFixture,
} from "../helpers/suite-fixtures";

const DECL_RELEASED = 4n;

async function fixture(): Promise<SuiteFixture> {
  return deploySuiteFixture(8);
}
/** Three stakers: the builder and two others, so a 16-seat committee holds both others (1 - 2^-15). */
async function fixtureThree(): Promise<SuiteFixture> {
  return deploySuiteFixture(3);
}

async function release(
  f: SuiteFixture,
  who: HardhatEthersSigner,
  jobId: bigint,
  stage: number,
  d: Decl,
  pair?: { result: string; rho: string },
) {
  const { anchor } = await stageOpened(f, jobId, stage);
  const p = pair ?? { result: resultOf(jobId, stage), rho: rhoOf(jobId, stage) };
  return f.disputes.connect(who).release(jobId, stage, anchor, d, p.result, p.rho);
}

describe("split contracts: attacks on release and attest", () => {
  it("release: only for an expired job's unwrapped stage, once, by anyone for no gain; PoTStages settles only for PoTDisputes", async () => {
    const f = await loadFixture(fixture);
    const [a, b, c] = f.miners;
    const jobId = await createJob(f, { numStages: 2, c: 2, k: 1, deadlineIn: 900 });
    const wrapped = await runStage(f, jobId, 1, [a, b]);
    const ds = [await declare(f, a, jobId, 2), await declare(f, b, jobId, 2)];
    // the job is live: nothing to release, whatever phase the stage is in
    await expect(release(f, a, jobId, 2, ds[0])).to.be.revertedWithCustomError(f.disputes, "NotReleasable");
    // the declarer cannot settle its own declaration on PoTStages directly
    const slot = await f.stages.declarationSlot(jobId, a.address, 2);
    await expect(
      f.stages.connect(a).settleDeclaration(jobId, 2, a.address, slot, Number(DECL_RELEASED)),
    ).to.be.revertedWithCustomError(f.stages, "Unauthorized");
    await time.increase(1000);
    await (await f.stages.expireJob(jobId)).wait();
    // a wrapped stage's declarations were paid: not releasable
    await expect(release(f, f.outsider, jobId, 1, wrapped.decls[0])).to.be.revertedWithCustomError(
      f.disputes,
      "NotReleasable",
    );
    // a forged declaration (another commitment) and a staker that never declared are refused
    const openings = await ethers.getContractAt("PoTOpenings", await f.stages.openings());
    await expect(
      release(f, f.outsider, jobId, 2, { ...ds[1], commitment: ethers.id("forged") }),
    ).to.be.revertedWithCustomError(openings, "DeclarationMismatch");
    await expect(
      release(f, f.outsider, jobId, 2, { ...ds[1], declarer: c.address }),
    ).to.be.revertedWithCustomError(openings, "NotDeclared");
    // anyone may release (the bond is freed for the declarer; the caller gains nothing)
    const bonded = await f.stages.bondedOf(a.address);
    const callerOwed = await f.escrow.owedOf(jobId, f.outsider.address);
    await expect(release(f, f.outsider, jobId, 2, ds[0]))
      .to.emit(f.stages, "DeclarationSettled")
      .withArgs(jobId, 2, a.address, DECL_RELEASED);
    expect(await f.stages.bondedOf(a.address)).to.equal(bonded - 1n);
    expect(await f.escrow.owedOf(jobId, f.outsider.address)).to.deep.equal(callerOwed);
    expect(await f.escrow.claimable(f.outsider.address)).to.equal(0n);
    // once only, by anyone, and a released declaration is not slashable (no final pair)
    await expect(release(f, a, jobId, 2, ds[0])).to.be.revertedWithCustomError(
      f.disputes,
      "DeclarationSettled",
    );
    const { anchor } = await stageOpened(f, jobId, 2);
    await expect(
      f.disputes.slashDeclaration(jobId, 2, anchor, ds[0], resultOf(jobId, 2), rhoOf(jobId, 2)),
    ).to.be.revertedWithCustomError(f.disputes, "NoFinalOutcome");
  });

  it("release of a juried stage: a declaration that does not open against the decision stays bonded until slashed", async () => {
    const f = await loadFixture(fixture);
    const [honest, liar] = f.miners;
    const jobId = await createJob(f, { numStages: 1, c: 2, k: 1, deadlineIn: 900 });
    const wrong = { result: resultOf(jobId, 1, "wrong"), rho: rhoOf(jobId, 1, "wrong") };
    const decided = { result: resultOf(jobId, 1), rho: rhoOf(jobId, 1) };
    const ds = [
      await declare(f, honest, jobId, 1),
      await declare(f, liar, jobId, 1, { resultHash: wrong.result, rho: wrong.rho as `0x${string}` }),
    ];
    await mineUntilClosed(f, jobId, 1);
    await (await f.stages.requestJury(jobId, 1)).wait();
    expect((await f.stages.getStage(jobId, 1)).phase).to.equal(2n); // jury
    await expect(release(f, liar, jobId, 1, ds[1], wrong)).to.be.revertedWithCustomError(
      f.disputes,
      "NotReleasable",
    );
    await juryDecides(f, jobId, 1, () => decided); // every juror votes the honest pair: decided
    await time.increase(1000);
    await (await f.stages.expireJob(jobId)).wait();
    // the liar's own pair is not the decision; the decision does not open its declaration
    await expect(release(f, liar, jobId, 1, ds[1], wrong)).to.be.revertedWithCustomError(
      f.disputes,
      "NoFinalOutcome",
    );
    await expect(release(f, liar, jobId, 1, ds[1], decided))
      .to.be.revertedWithCustomError(f.disputes, "DoesNotOpen")
      .withArgs(liar.address);
    expect(await f.stages.bondedOf(liar.address)).to.equal(1n);
    // the honest declaration is released against the decision; the liar's is slashed, then settled
    await (await release(f, f.outsider, jobId, 1, ds[0], decided)).wait();
    expect(await f.stages.bondedOf(honest.address)).to.equal(0n);
    const { anchor } = await stageOpened(f, jobId, 1);
    await (
      await f.disputes
        .connect(f.outsider)
        .slashDeclaration(jobId, 1, anchor, ds[1], decided.result, decided.rho)
    ).wait();
    expect(await f.stages.bondedOf(liar.address)).to.equal(0n);
    await expect(release(f, liar, jobId, 1, ds[1], decided)).to.be.revertedWithCustomError(
      f.disputes,
      "DeclarationSettled",
    );
  });

  it("attest: only while the stage is headered and its randomness is mined, only by a seat (never the builder or a stranger), once per round; PoTStages alone checks wraps", async () => {
    const f = await loadFixture(fixture);
    const [builder, other] = f.miners;
    const jobId = await createJob(f, { numStages: 2, c: 2, k: 3 });
    const ds = [await declare(f, builder, jobId, 1), await declare(f, other, jobId, 1)];
    await mineUntilClosed(f, jobId, 1);
    // no header yet: nothing to attest
    await expect(f.committee.connect(other).attest(jobId, 1))
      .to.be.revertedWithCustomError(f.stages, "WrongPhase")
      .withArgs(1);
    await submitHeader(f, builder, jobId, 1, ds);
    // the committee's randomness block is not mined yet: the seats are unknown
    await expect(f.committee.connect(other).attest(jobId, 1)).to.be.revertedWithCustomError(
      f.committee,
      "RandomnessNotReady",
    );
    const { seats } = await committee(f, jobId, 1);
    const members = [...new Set(seats)];
    const stranger = f.miners.find((m) => m !== builder && !seats.includes(m.address))!;
    for (const who of [builder, stranger, f.outsider])
      await expect(f.committee.connect(who).attest(jobId, 1))
        .to.be.revertedWithCustomError(f.committee, "NotCommitteeMember")
        .withArgs(who.address);
    // a seat attests once per round (every seat it holds counts)
    const wrapper = seats[seats.length - 1];
    for (const m of members.filter((x) => x !== wrapper)) {
      const s = f.byAddress.get(m.toLowerCase())!;
      await expect(f.committee.connect(s).attest(jobId, 1)).to.emit(f.committee, "Attested");
      await expect(f.committee.connect(s).attest(jobId, 1)).to.be.revertedWithCustomError(
        f.committee,
        "AlreadyAttested",
      );
    }
    // nobody but PoTStages may ask the committee to pass a wrap
    const lh = await lastHeader(f, jobId, 1);
    await expect(
      f.committee.connect(f.outsider).checkWrap(
        jobId,
        1,
        lh.headerHash,
        ethers.ZeroHash,
        builder.address,
        lh.randBlock,
        seats,
        seats.map(() => "0x"),
        wrapper,
      ),
    ).to.be.revertedWithCustomError(f.committee, "Unauthorized");
    // the transaction attestations wrap the stage; afterwards there is nothing left to attest
    await (await wrapWithTxAttestations(f, wrapper, jobId, 1, seats)).wait();
    expect((await f.stages.getStage(jobId, 1)).phase).to.equal(5n);
    await expect(f.committee.connect(f.byAddress.get(wrapper.toLowerCase())!).attest(jobId, 1))
      .to.be.revertedWithCustomError(f.stages, "WrongPhase")
      .withArgs(5);
  });

  it("attest after the round: a transaction attestation counts only in its own PoA round, and none is taken after the last round", async () => {
    const f = await loadFixture(fixtureThree);
    const [builder, x, y] = f.miners;
    const jobId = await createJob(f, { numStages: 2, c: 2, k: 16 });
    const ds = [await declare(f, builder, jobId, 1), await declare(f, x, jobId, 1)];
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, builder, jobId, 1, ds);
    const r0 = await committee(f, jobId, 1);
    expect(r0.round).to.equal(0n);
    expect(new Set(r0.seats)).to.deep.equal(new Set([x.address, y.address])); // 16 seats over two stakers
    await (await f.committee.connect(x).attest(jobId, 1)).wait();
    // round 1 redraws every seat; x's round-0 attestation does not carry over
    await mine(Number(r0.lastBlock) - (await ethers.provider.getBlockNumber()) + 1);
    const r1 = await committee(f, jobId, 1);
    expect(r1.round).to.equal(1n);
    expect(new Set(r1.seats)).to.deep.equal(new Set([x.address, y.address]));
    await expect(wrapWithTxAttestations(f, y.address, jobId, 1, r1.seats))
      .to.be.revertedWithCustomError(f.committee, "MissingAttestation")
      .withArgs(r1.seats.indexOf(x.address));
    // x attests again in round 1 (a fresh round, not AlreadyAttested): now the wrap passes
    await (await f.committee.connect(x).attest(jobId, 1)).wait();
    await (await wrapWithTxAttestations(f, y.address, jobId, 1, r1.seats)).wait();

    // stage 2: after the last PoA round no attestation is taken (the header can only be voided)
    const ds2 = [await declare(f, builder, jobId, 2), await declare(f, x, jobId, 2)];
    await mineUntilClosed(f, jobId, 2);
    await submitHeader(f, builder, jobId, 2, ds2);
    const { randBlock } = await lastHeader(f, jobId, 2);
    const p = f.params.stages;
    const poaEnd = Number(randBlock) + Number(p.poaMaxRounds) * Number(p.poaWindowBlocks);
    await mine(poaEnd - (await ethers.provider.getBlockNumber()) + 1);
    await expect(f.committee.connect(x).attest(jobId, 2)).to.be.revertedWithCustomError(
      f.committee,
      "PoaExpired",
    );
  });
});
