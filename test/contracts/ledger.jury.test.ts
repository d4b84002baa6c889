/**
 * Disputes: C colluders against one honest declarant. The stage goes to a jury, the jury's majority
 * decides, the colluders' declarations and the losing jurors are slashed, and unstaking does not help.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { mine, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  commitJuryVote,
  revealJuryVote,
  juryVotes,
  saltOf,
  createJob,
  declare,
  deployLedger,
  E18,
  mineUntilClosed,
  owedAndBalance,
  rhoOf,
  stateHashOf,
  submitHeader,
  wrapStage,
  type LedgerFixture,
  settlementOf,
  claimStage,
} from "./helpers/ledger-fixtures";

const WRONG = "colluded";

/** Miners 0-2 collude (tiny stakes), miners 3-7 are honest (large stakes). */
async function disputeFixture(): Promise<LedgerFixture> {
  return deployLedger(8, undefined, [5n * E18, 5n * E18, 5n * E18, ...Array(5).fill(10_000n * E18)]);
}

async function disputedStage(f: LedgerFixture) {
  const jobId = await createJob(f, { c: 3 });
  const honest = f.miners[3];
  const colluders = f.miners.slice(0, 3);
  const hd = await declare(f, honest, jobId, 1);
  const cds = [];
  for (const c of colluders) {
    cds.push(
      await declare(f, c, jobId, 1, {
        resultHash: stateHashOf(jobId, 1, WRONG),
        rho: rhoOf(jobId, 1, WRONG),
      }),
    );
  }
  return { jobId, honest, colluders, hd, cds };
}

async function voteAsRole(f: LedgerFixture, jobId: bigint, jurors: string[], colluders: string[]) {
  await juryVotes(f, jobId, 1, jurors, (j) => {
    const bad = colluders.includes(j);
    return {
      result: stateHashOf(jobId, 1, bad ? WRONG : "honest"),
      rho: rhoOf(jobId, 1, bad ? WRONG : "honest"),
    };
  });
}

describe("ledger: jury", () => {
  it("C colluders against one honest declarant: the jury decides, the colluders are slashed", async () => {
    const f = await disputeFixture();
    const { jobId, honest, colluders, hd, cds } = await disputedStage(f);
    // A colluder tries to leave before the slash.
    await f.staking.connect(colluders[0]).requestUnstake(5n * E18);
    await mineUntilClosed(f, jobId, 1);
    await expect(submitHeader(f, colluders[0], jobId, 1, cds)).to.be.revertedWithCustomError(
      f.ledger,
      "StageDisputed",
    );
    await expect(f.ledger.requestJury(jobId, 1))
      .to.emit(f.ledger, "DeclarationsClosed")
      .and.to.emit(f.jury, "JuryRequested");
    await expect(f.ledger.requestJury(jobId, 1)).to.be.revertedWithCustomError(f.ledger, "WrongPhase");
    await mine(1);
    await f.jury.draw(jobId, 1);
    const [drawn] = await f.jury.queryFilter(f.jury.filters.JuryDrawn(jobId, 1));
    const jurors = [...drawn.args.jurors];
    expect(jurors.length).to.equal(3);
    await voteAsRole(
      f,
      jobId,
      jurors,
      colluders.map((c) => c.address),
    );
    const jury = await f.jury.getJury(jobId, 1);
    expect(jury.decided).to.equal(true);
    expect(jury.result).to.equal(stateHashOf(jobId, 1));
    expect(jury.rho).to.equal(rhoOf(jobId, 1));
    const st = await f.ledger.getStage(jobId, 1);
    expect(st.phase).to.equal(3n);
    expect(st.result).to.equal(stateHashOf(jobId, 1));
    expect(st.rho).to.equal(rhoOf(jobId, 1));
    // The header must reveal the jury's rho.
    await expect(
      submitHeader(f, honest, jobId, 1, [hd], { rho: rhoOf(jobId, 1, "other") }),
    ).to.be.revertedWithCustomError(f.ledger, "WrongRho");
    // The honest declarant builds with its single opening (a jury-decided stage needs one).
    await submitHeader(f, honest, jobId, 1, [hd]);
    await wrapStage(f, jobId, 1);
    await claimStage(f, jobId, 1, [hd]);
    const employerBefore = await f.ledger.claimable(f.employer.address);
    const perDeclaration = (await settlementOf(f, jobId, 1)).perDeclaration;
    for (const d of cds) {
      await expect(
        f.ledger
          .connect(f.outsider)
          .slashDeclaration(jobId, 1, await settlementOf(f, jobId, 1), d.resultHash, d),
      ).to.emit(f.ledger, "Slashed");
    }
    // The unbonding colluder was slashed from its unbonding stake.
    const [unbonding] = await f.staking.unbondingOf(colluders[0].address);
    expect(unbonding).to.equal(0n);
    // Their reserved shares went back to the employer.
    expect(await f.ledger.claimable(f.employer.address)).to.equal(employerBefore + 3n * perDeclaration);
    const [bal, owed] = await owedAndBalance(f);
    expect(bal).to.equal(owed);
    // The honest declarant was paid.
    expect(await f.ledger.claimable(honest.address)).to.be.gt(0n);
  });

  it("a juror on the losing side is slashed; a winning juror is not", async () => {
    const f = await disputeFixture();
    const { jobId, colluders } = await disputedStage(f);
    await mineUntilClosed(f, jobId, 1);
    await f.ledger.requestJury(jobId, 1);
    await mine(1);
    await f.jury.draw(jobId, 1);
    const [drawn] = await f.jury.queryFilter(f.jury.filters.JuryDrawn(jobId, 1));
    const jurors = [...drawn.args.jurors];
    // Make the first juror vote with the colluders, whoever it is; the others vote honestly.
    const liar = jurors[0];
    await voteAsRole(f, jobId, jurors, [...colluders.map((c) => c.address), liar]);
    const decided = (await f.jury.getJury(jobId, 1)).decided;
    expect(decided).to.equal(true);
    // the reporter gets the bounty (slashBountyBps of the slash); the rest is burned
    const slash = f.params.ledger.jurorSlash;
    const bounty = (slash * f.params.staking.slashBountyBps) / 10_000n;
    const supply = await f.token.totalSupply();
    const tx = f.jury.connect(f.outsider).slashJuror(jobId, 1, liar);
    await expect(tx)
      .to.emit(f.ledger, "Slashed")
      .withArgs(jobId, 1, liar, 2, anyAmount(), f.outsider.address);
    await expect(tx).to.changeTokenBalance(f.token, f.outsider, bounty);
    expect(await f.token.totalSupply()).to.equal(supply - (slash - bounty));
    await expect(f.jury.slashJuror(jobId, 1, liar)).to.be.revertedWithCustomError(f.jury, "NotAFault");
    await expect(f.jury.slashJuror(jobId, 1, jurors[1])).to.be.revertedWithCustomError(f.jury, "NotAFault");
  });

  it("jury revert paths: not ledger, not drawn, not juror, double vote, closed, stale redraw", async () => {
    const f = await disputeFixture();
    const { jobId } = await disputedStage(f);
    await expect(f.jury.open(jobId, 1)).to.be.revertedWithCustomError(f.jury, "NotLedger");
    await expect(f.jury.draw(jobId, 1)).to.be.revertedWithCustomError(f.jury, "NoJury");
    await expect(f.jury.redraw(jobId, 1)).to.be.revertedWithCustomError(f.jury, "NoJury");
    await mineUntilClosed(f, jobId, 1);
    await f.ledger.requestJury(jobId, 1);
    await expect(f.jury.draw(jobId, 1)).to.be.revertedWithCustomError(f.jury, "RandomnessNotReady");
    await expect(f.jury.redraw(jobId, 1)).to.be.revertedWithCustomError(f.jury, "JuryNotStale");
    await expect(
      f.jury.vote(jobId, 1, [], ethers.ZeroHash, ethers.ZeroHash, ethers.ZeroHash),
    ).to.be.revertedWithCustomError(f.jury, "JuryNotDrawn");
    await expect(f.jury.commitVote(jobId, 1, [], ethers.ZeroHash)).to.be.revertedWithCustomError(
      f.jury,
      "JuryNotDrawn",
    );
    // Randomness expires after 256 blocks: draw fails, a redraw from a newer block works.
    await mine(300);
    await expect(f.jury.draw(jobId, 1)).to.be.revertedWithCustomError(f.jury, "RandomnessExpired");
    await expect(f.jury.redraw(jobId, 1)).to.emit(f.jury, "JuryRequested");
    await mine(1);
    await f.jury.draw(jobId, 1);
    await expect(f.jury.draw(jobId, 1)).to.be.revertedWithCustomError(f.jury, "JuryAlreadyDrawn");
    const [drawn] = await f.jury.queryFilter(f.jury.filters.JuryDrawn(jobId, 1));
    const jurors = [...drawn.args.jurors];
    const j0 = f.byAddress.get(jurors[0].toLowerCase())!;
    const stranger = f.miners.find((m) => !jurors.includes(m.address))!;
    const h = stateHashOf(jobId, 1);
    const salt0 = saltOf(j0.address, 1, 1);
    await expect(f.jury.connect(stranger).commitVote(jobId, 1, jurors, h)).to.be.revertedWithCustomError(
      f.jury,
      "NotJuror",
    );
    await expect(f.jury.connect(stranger).vote(jobId, 1, jurors, h, h, salt0)).to.be.revertedWithCustomError(
      f.jury,
      "NotJuror",
    );
    await expect(
      f.jury.connect(j0).vote(jobId, 1, jurors.slice(1), h, h, salt0),
    ).to.be.revertedWithCustomError(f.jury, "NotJuror");
    await expect(
      f.jury.connect(j0).commitVote(jobId, 1, jurors, ethers.ZeroHash),
    ).to.be.revertedWithCustomError(f.jury, "ZeroHash");
    // A reveal before more than half the jurors committed: RevealNotOpen; without a commitment: NotCommitted.
    await commitJuryVote(f, j0, jobId, 1, jurors, h, h);
    await expect(f.jury.connect(j0).vote(jobId, 1, jurors, h, h, salt0))
      .to.be.revertedWithCustomError(f.jury, "RevealNotOpen")
      .withArgs(1, 2);
    await expect(commitJuryVote(f, j0, jobId, 1, jurors, h, h)).to.be.revertedWithCustomError(
      f.jury,
      "AlreadyCommitted",
    );
    const j1 = f.byAddress.get(jurors[1].toLowerCase())!;
    const j2 = f.byAddress.get(jurors[2].toLowerCase())!;
    await commitJuryVote(f, j1, jobId, 1, jurors, h, h);
    await expect(
      f.jury.connect(j2).vote(jobId, 1, jurors, h, h, saltOf(j2.address, 1, 1)),
    ).to.be.revertedWithCustomError(f.jury, "NotCommitted");
    await expect(
      f.jury.connect(j0).vote(jobId, 1, jurors, ethers.ZeroHash, h, salt0),
    ).to.be.revertedWithCustomError(f.jury, "ZeroHash");
    await expect(
      f.jury.connect(j0).vote(jobId, 1, jurors, h, ethers.ZeroHash, salt0),
    ).to.be.revertedWithCustomError(f.jury, "ZeroHash");
    // Another pair (or salt) than the committed one: CommitmentMismatch.
    await expect(
      f.jury.connect(j0).vote(jobId, 1, jurors, h, rhoOf(jobId, 1), salt0),
    ).to.be.revertedWithCustomError(f.jury, "CommitmentMismatch");
    await f.jury.connect(j0).vote(jobId, 1, jurors, h, h, salt0);
    await expect(f.jury.connect(j0).vote(jobId, 1, jurors, h, h, salt0)).to.be.revertedWithCustomError(
      f.jury,
      "AlreadyVoted",
    );
    // The first reveal closed the commitments: a juror who waited to see it cannot commit any more.
    await expect(commitJuryVote(f, j2, jobId, 1, jurors, h, h)).to.be.revertedWithCustomError(
      f.jury,
      "CommitmentsClosed",
    );
    // A juror who unstaked below the minimum cannot vote.
    await f.staking.connect(j1).requestUnstake(await f.staking.stakeOf(j1.address));
    await expect(revealJuryVote(f, j1, jobId, 1, jurors, h, h)).to.be.revertedWithCustomError(
      f.jury,
      "NotEnoughStake",
    );
    // A late reveal, after the jury's deadline: JuryClosed.
    await time.increase(f.params.ledger.juryWindowSeconds + 1);
    await expect(revealJuryVote(f, j2, jobId, 1, jurors, h, h)).to.be.revertedWithCustomError(
      f.jury,
      "JuryClosed",
    );
    await expect(f.jury.slashJuror(jobId, 1, jurors[0])).to.be.revertedWithCustomError(f.jury, "NotAFault");
    // Undecided and timed out: redraw.
    await expect(f.jury.redraw(jobId, 1)).to.emit(f.jury, "JuryRequested");
    // Only the jury may decide or slash through the ledger.
    await expect(f.ledger.onJuryDecided(jobId, 1, h, h)).to.be.revertedWithCustomError(f.ledger, "NotJury");
    await expect(
      f.ledger.slashJurorStake(jobId, 1, jurors[0], f.outsider.address),
    ).to.be.revertedWithCustomError(f.ledger, "NotJury");
  });

  it("commit-reveal: a lazy juror can neither copy a commitment, nor commit after seeing a vote, nor reveal late", async () => {
    const f = await disputeFixture();
    const { jobId } = await disputedStage(f);
    await mineUntilClosed(f, jobId, 1);
    await f.ledger.requestJury(jobId, 1);
    await mine(1);
    await f.jury.draw(jobId, 1);
    const [drawn] = await f.jury.queryFilter(f.jury.filters.JuryDrawn(jobId, 1));
    const jurors = [...drawn.args.jurors];
    const [honest, lazy, late] = jurors.map((j) => f.byAddress.get(j.toLowerCase())!);
    const h = stateHashOf(jobId, 1);
    const r = rhoOf(jobId, 1);
    // The honest juror commits; its commitment (public) hides the pair.
    await expect(commitJuryVote(f, honest, jobId, 1, jurors, h, r)).to.emit(f.jury, "JuryCommitted");
    const honestCommitment = await f.jury.commitmentOf(jobId, 1, honest.address);
    expect(honestCommitment).to.equal(
      await f.jury.voteCommitment(jobId, 1, 0, honest.address, h, r, saltOf(honest.address, 1, 0)),
    );
    // A copied vote: the lazy juror copies the commitment bytes, and once the honest vote and salt are
    // revealed it tries to reveal the same pair and salt: the commitment binds the juror, it does not open.
    await f.jury.connect(lazy).commitVote(jobId, 1, jurors, honestCommitment);
    await revealJuryVote(f, honest, jobId, 1, jurors, h, r);
    await expect(
      f.jury.connect(lazy).vote(jobId, 1, jurors, h, r, saltOf(honest.address, 1, 0)),
    ).to.be.revertedWithCustomError(f.jury, "CommitmentMismatch");
    // A juror who waited for the first reveal cannot commit now, nor reveal without a commitment.
    await expect(commitJuryVote(f, late, jobId, 1, jurors, h, r)).to.be.revertedWithCustomError(
      f.jury,
      "CommitmentsClosed",
    );
    await expect(revealJuryVote(f, late, jobId, 1, jurors, h, r)).to.be.revertedWithCustomError(
      f.jury,
      "NotCommitted",
    );
    // One honest reveal is no majority: undecided; a reveal after the deadline is refused (JuryClosed).
    expect((await f.jury.getJury(jobId, 1)).decided).to.equal(false);
    await time.increase(f.params.ledger.juryWindowSeconds + 1);
    await expect(
      f.jury.connect(lazy).vote(jobId, 1, jurors, h, r, saltOf(honest.address, 1, 0)),
    ).to.be.revertedWithCustomError(f.jury, "JuryClosed");
    // The lazy juror revealed nothing: it is no provable fault (the honest juror is not one either).
    await expect(f.jury.slashJuror(jobId, 1, lazy.address)).to.be.revertedWithCustomError(
      f.jury,
      "NotAFault",
    );
    await expect(f.jury.redraw(jobId, 1)).to.emit(f.jury, "JuryRequested");
  });

  it("requestJury on an undisputed or still open stage is refused", async () => {
    const f = await disputeFixture();
    const open = await createJob(f);
    await declare(f, f.miners[3], open, 1);
    await declare(f, f.miners[0], open, 1, { resultHash: stateHashOf(open, 1, WRONG) });
    await expect(f.ledger.requestJury(open, 1)).to.be.revertedWithCustomError(f.ledger, "NotClosed");
    const jobId = await createJob(f);
    for (const m of f.miners.slice(3, 6)) await declare(f, m, jobId, 1);
    await mineUntilClosed(f, jobId, 1);
    await expect(f.ledger.requestJury(jobId, 1)).to.be.revertedWithCustomError(f.ledger, "NotDisputed");
  });
});

function anyAmount() {
  return (v: bigint) => v > 0n;
}
