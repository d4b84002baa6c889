/**
 * Revert paths of the split contracts that the attack tests do not reach (ported from the single ledger's
 * ledger.reverts / ledger.adversarial / ledger.jury tests): every malformed declaration, header, wrap and
 * jury call is refused with its named error.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { PoTOpenings } from "../../../typechain-types";
import {
  commitVote,
  committee,
  createJob,
  declare,
  deploySuiteFixture,
  drawJury,
  headerData,
  juryDecides,
  lastHeader,
  mineToReveal,
  mineUntilClosed,
  RESULT_CID,
  revealVote,
  rhoOf,
  runStage,
  signAttestation,
  sorted,
  stageOpened,
  outcomeOf,
  resultOf,
  submitHeader,
  wrapStage,
  type Decl,
  type SuiteFixture,
} from "../helpers/suite-fixtures";

async function fixture(): Promise<SuiteFixture> {
  return deploySuiteFixture(6);
}
async function openingsOf(f: SuiteFixture): Promise<PoTOpenings> {
  return ethers.getContractAt("PoTOpenings", await f.stages.openings());
}

/** declare() with every field given (for malformed declarations). */
async function rawDeclare(
  f: SuiteFixture,
  who: HardhatEthersSigner,
  jobId: bigint,
  stage: number,
  o: { parent?: string; seed?: string; result?: string; commitment?: string } = {},
) {
  const s = await stageOpened(f, jobId, stage).catch(() => ({
    parent: ethers.ZeroHash,
    seed: ethers.ZeroHash,
  }));
  return f.stages
    .connect(who)
    .declare(
      jobId,
      stage,
      o.parent ?? s.parent,
      o.seed ?? s.seed,
      o.result ?? resultOf(jobId, stage),
      o.commitment ?? ethers.id("commitment"),
      ethers.id("rand"),
      await time.latest(),
    );
}

describe("split contracts: revert paths", () => {
  it("declare: UnknownJob, ZeroHash, WrongParent, AlreadyDeclared, NotEnoughStake, WrongPhase past the last stage, JobNotOpen after expiry", async () => {
    const f = await loadFixture(fixture);
    const [a, b] = f.miners;
    await expect(rawDeclare(f, a, 42n, 1)).to.be.revertedWithCustomError(f.stages, "UnknownJob");
    const jobId = await createJob(f, { numStages: 1, c: 3, k: 1, deadlineIn: 600 });
    await expect(rawDeclare(f, a, jobId, 1, { result: ethers.ZeroHash })).to.be.revertedWithCustomError(
      f.stages,
      "ZeroHash",
    );
    await expect(rawDeclare(f, a, jobId, 1, { commitment: ethers.ZeroHash })).to.be.revertedWithCustomError(
      f.stages,
      "ZeroHash",
    );
    await expect(rawDeclare(f, a, jobId, 1, { parent: ethers.id("other parent") }))
      .to.be.revertedWithCustomError(f.stages, "WrongParent")
      .withArgs(ethers.id("other parent"));
    await declare(f, a, jobId, 1);
    await expect(declare(f, a, jobId, 1)).to.be.revertedWithCustomError(f.stages, "AlreadyDeclared");
    // an unstaked identity
    await expect(declare(f, f.spare[0], jobId, 1)).to.be.revertedWithCustomError(f.stages, "NotEnoughStake");
    // a stage past the job's last one never opens
    await expect(rawDeclare(f, b, jobId, 2)).to.be.revertedWithCustomError(f.stages, "WrongPhase");
    await time.increase(700);
    await expect(declare(f, b, jobId, 1)).to.be.revertedWithCustomError(f.stages, "JobNotOpen");
  });

  it("declare: UnsettledDeclaration while a faulty declaration two stages back is unslashed", async () => {
    const f = await loadFixture(fixture);
    const [a, b, lazy] = f.miners;
    const jobId = await createJob(f, { numStages: 3, c: 2, k: 1 });
    const ds = [
      await declare(f, a, jobId, 1),
      await declare(f, b, jobId, 1),
      await declare(f, lazy, jobId, 1, { rho: ethers.id("made-up rho") as `0x${string}` }),
    ];
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, a, jobId, 1, ds);
    await wrapStage(f, jobId, 1);
    await runStage(f, jobId, 2, [a, b]);
    await expect(declare(f, lazy, jobId, 3))
      .to.be.revertedWithCustomError(f.stages, "UnsettledDeclaration")
      .withArgs(1);
    const { anchor } = await stageOpened(f, jobId, 1);
    await (
      await f.disputes.slashDeclaration(jobId, 1, anchor, ds[2], resultOf(jobId, 1), rhoOf(jobId, 1))
    ).wait();
    await declare(f, lazy, jobId, 3); // settled by the slash: the slot is free
  });

  it("submitHeader: NotClosed, BarredBuilder, EmptyCid, WrongDeclarationCount, DeclarationsNotSorted, DeclarationMismatch, BuilderNotOpened, StageDisputed", async () => {
    const f = await loadFixture(fixture);
    const [a, b, c] = f.miners;
    const openings = await openingsOf(f);
    const jobId = await createJob(f, { numStages: 1, c: 2, k: 1 });
    const ds = [await declare(f, a, jobId, 1), await declare(f, b, jobId, 1)];
    const send = async (
      who: HardhatEthersSigner,
      decls: Decl[],
      o: { cid?: string; builder?: string } = {},
    ) => {
      const h = await headerData(f, o.builder ?? who.address, jobId, 1);
      return f.stages
        .connect(who)
        .submitHeader(jobId, 1, h, o.cid ?? RESULT_CID, decls, outcomeOf(jobId, 1), []);
    };
    await expect(send(a, sorted(ds))).to.be.revertedWithCustomError(f.stages, "NotClosed");
    await mineUntilClosed(f, jobId, 1);
    await expect(send(a, sorted(ds), { builder: b.address })).to.be.revertedWithCustomError(
      f.stages,
      "BarredBuilder",
    );
    await expect(send(a, sorted(ds), { cid: "0x" })).to.be.revertedWithCustomError(f.stages, "EmptyCid");
    await expect(send(a, [ds[0]]))
      .to.be.revertedWithCustomError(f.stages, "WrongDeclarationCount")
      .withArgs(1, 2);
    await expect(send(a, sorted(ds).reverse())).to.be.revertedWithCustomError(
      openings,
      "DeclarationsNotSorted",
    );
    await expect(send(a, [ds[0], ds[0]])).to.be.revertedWithCustomError(openings, "DeclarationsNotSorted");
    const altered = sorted(ds).map((d) => (d.declarer === b.address ? { ...d, rand: ethers.id("x") } : d));
    await expect(send(a, altered))
      .to.be.revertedWithCustomError(openings, "DeclarationMismatch")
      .withArgs(b.address);
    // a builder that did not declare (c), or whose declaration does not open, cannot build
    await expect(send(c, sorted(ds))).to.be.revertedWithCustomError(openings, "BuilderNotOpened");
    // a stage whose declarations name two results goes to the jury, not to a header
    const job2 = await createJob(f, { numStages: 1, c: 2, k: 1 });
    const ds2 = [
      await declare(f, a, job2, 1),
      await declare(f, b, job2, 1, { resultHash: resultOf(job2, 1, "other") }),
    ];
    await mineUntilClosed(f, job2, 1);
    const h2 = await headerData(f, a.address, job2, 1);
    await expect(
      f.stages.connect(a).submitHeader(job2, 1, h2, RESULT_CID, sorted(ds2), outcomeOf(job2, 1), []),
    ).to.be.revertedWithCustomError(f.stages, "StageDisputed");
  });

  it("wrap: WrongCommitteeSize, a signature from outside the committee (MissingAttestation), seats not drawn (NotDrawn)", async () => {
    const f = await loadFixture(fixture);
    const [a, b] = f.miners;
    // 16 seats over 5 eligible stakers: more than one member (all alike has probability 5^-15)
    const jobId = await createJob(f, { numStages: 1, c: 2, k: 16 });
    const ds = [await declare(f, a, jobId, 1), await declare(f, b, jobId, 1)];
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, a, jobId, 1, ds);
    const { seats } = await committee(f, jobId, 1);
    expect(new Set(seats).size).to.be.greaterThan(1);
    const lh = await lastHeader(f, jobId, 1);
    const wrapper = f.byAddress.get(seats[seats.length - 1].toLowerCase())!;
    const wrap = (s: string[], sigs: string[]) =>
      f.stages
        .connect(wrapper)
        .wrap(jobId, 1, lh.header, lh.openers, lh.weights, lh.faulty, s, sigs, outcomeOf(jobId, 1));
    const good: string[] = [];
    for (const s of seats)
      good.push(
        s === wrapper.address ? "0x" : await signAttestation(f, f.byAddress.get(s.toLowerCase())!, jobId, 1),
      );
    await expect(wrap(seats, good.slice(1)))
      .to.be.revertedWithCustomError(f.committee, "WrongCommitteeSize")
      .withArgs(seats.length - 1, seats.length);
    // the builder (never a seat) signs in place of the first seat of another member
    const idx = seats.findIndex((s) => s !== wrapper.address);
    const forged = [...good];
    forged[idx] = await signAttestation(f, a, jobId, 1);
    await expect(wrap(seats, forged))
      .to.be.revertedWithCustomError(f.committee, "MissingAttestation")
      .withArgs(idx);
    // a committee the wrapper picked (a non-staker in the first seat) is not the draw
    const picked = [f.outsider.address, ...seats.slice(1)];
    await expect(wrap(picked, good)).to.be.revertedWithCustomError(f.staking, "NotDrawn");
    await (await wrap(seats, good)).wait();
  });

  it("jury: NoJury, JuryNotDrawn, NotJuror, AlreadyCommitted, CommitmentMismatch, AlreadyVoted, JuryDecidedAlready", async () => {
    const f = await loadFixture(fixture);
    const [a, b] = f.miners;
    const jobId = await createJob(f, { numStages: 1, c: 2, k: 1 });
    const vote = { result: resultOf(jobId, 1), rho: rhoOf(jobId, 1) };
    await expect(f.disputes.draw(jobId, 1)).to.be.revertedWithCustomError(f.disputes, "NoJury");
    await declare(f, a, jobId, 1);
    await declare(f, b, jobId, 1, { resultHash: resultOf(jobId, 1, "other") });
    await mineUntilClosed(f, jobId, 1);
    await (await f.stages.requestJury(jobId, 1)).wait();
    await expect(f.disputes.commitVote(jobId, 1, [a.address], ethers.id("c"))).to.be.revertedWithCustomError(
      f.disputes,
      "JuryNotDrawn",
    );
    const jury = await drawJury(f, jobId, 1);
    const juror = jury.seats[0];
    await expect(
      f.disputes.connect(f.outsider).commitVote(jobId, 1, jury.seats, ethers.id("c")),
    ).to.be.revertedWithCustomError(f.disputes, "NotJuror");
    await (await commitVote(f, juror, jobId, 1, jury, vote)).wait();
    await expect(commitVote(f, juror, jobId, 1, jury, vote)).to.be.revertedWithCustomError(
      f.disputes,
      "AlreadyCommitted",
    );
    await mineToReveal(jury);
    // a reveal of another vote than committed
    await expect(
      revealVote(f, juror, jobId, 1, jury, { result: vote.result, rho: rhoOf(jobId, 1, "other") }),
    ).to.be.revertedWithCustomError(f.disputes, "CommitmentMismatch");
    await (await revealVote(f, juror, jobId, 1, jury, vote)).wait();
    await expect(revealVote(f, juror, jobId, 1, jury, vote)).to.be.revertedWithCustomError(
      f.disputes,
      "AlreadyVoted",
    );
    // a decided jury takes no new round and no new commitment
    const job2 = await createJob(f, { numStages: 1, c: 2, k: 1 });
    await declare(f, a, job2, 1);
    await declare(f, b, job2, 1, { resultHash: resultOf(job2, 1, "other") });
    await mineUntilClosed(f, job2, 1);
    await (await f.stages.requestJury(job2, 1)).wait();
    const j2 = await juryDecides(f, job2, 1, () => ({ result: resultOf(job2, 1), rho: rhoOf(job2, 1) }));
    expect((await f.disputes.juryOf(job2, 1)).decided).to.equal(true);
    await expect(f.disputes.redraw(job2, 1)).to.be.revertedWithCustomError(f.disputes, "JuryDecidedAlready");
    await expect(f.disputes.draw(job2, 1)).to.be.revertedWithCustomError(f.disputes, "JuryDecidedAlready");
    await expect(
      f.disputes
        .connect(f.byAddress.get(j2.seats[0].toLowerCase())!)
        .commitVote(job2, 1, j2.seats, ethers.id("c")),
    ).to.be.revertedWithCustomError(f.disputes, "JuryDecidedAlready");
  });
});
