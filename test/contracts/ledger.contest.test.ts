/**
 * The rho contest. Lazy miners copy the public result hash and commit to a made-up rho; if C of them do,
 * their header opens with that rho and the honest declarations of the same result (committed to the true
 * rho) would not open against it. The honest declarant contests: two secrets claim one result, so the
 * header is voided and the jury, voting on (result, rho), fixes rho. The colluders are slashed and the
 * honest declarant is paid.
 */
import { expect } from "chai";
import { mine } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  juryVotes,
  headerOf,
  createJob,
  declare,
  deployLedger,
  E18,
  mineUntilClosed,
  owedAndBalance,
  rhoOf,
  submitHeader,
  wrapStage,
  type DeclarationRecord,
  type LedgerFixture,
  settlementOf,
  claimStage,
} from "./helpers/ledger-fixtures";

const FAKE = "made-up";

/** Miners 0-2 are lazy colluders (tiny stakes), miners 3-7 honest (large stakes: they hold the jury). */
async function contestFixture(): Promise<LedgerFixture> {
  return deployLedger(8, undefined, [5n * E18, 5n * E18, 5n * E18, ...Array(5).fill(10_000n * E18)]);
}

/** One honest declaration, then C = 3 colluders copying its result hash with a made-up rho. */
async function copiedResultStage(f: LedgerFixture) {
  const jobId = await createJob(f, { c: 3, numStages: 3 });
  const honest = f.miners[3];
  const colluders = f.miners.slice(0, 3);
  const hd = await declare(f, honest, jobId, 1);
  const cds: DeclarationRecord[] = [];
  for (const c of colluders) {
    cds.push(await declare(f, c, jobId, 1, { resultHash: hd.resultHash, rho: rhoOf(jobId, 1, FAKE) }));
  }
  await mineUntilClosed(f, jobId, 1);
  return { jobId, honest, colluders, hd, cds };
}

/** Draws the jury and lets every juror vote (result, rho) until it decides. */
async function juryDecides(f: LedgerFixture, jobId: bigint, stage: number, result: string, rho: string) {
  await mine(1);
  await f.jury.draw(jobId, stage);
  const [drawn] = await f.jury.queryFilter(f.jury.filters.JuryDrawn(jobId, stage));
  const jurors = [...drawn.args.jurors];
  await juryVotes(f, jobId, stage, jurors, () => ({ result, rho }));
  return jurors;
}

async function contest(
  f: LedgerFixture,
  who: HardhatEthersSigner,
  jobId: bigint,
  rho: string,
  d: DeclarationRecord,
) {
  const { headerHash: _h, ...fields } = await headerOf(f, jobId, 1);
  return f.ledger.connect(who).contest(jobId, 1, fields, rho, d);
}

describe("ledger: rho contest", () => {
  it("C lazy colluders with a copied result and a fake rho: the honest declarant contests and wins", async () => {
    const f = await contestFixture();
    const { jobId, honest, colluders, hd, cds } = await copiedResultStage(f);
    // The colluders' header opens their C declarations with the fake rho (the honest one cannot open).
    await submitHeader(f, colluders[0], jobId, 1, cds, { rho: rhoOf(jobId, 1, FAKE) });
    const header = (await f.ledger.getStage(jobId, 1)).headerHash;
    // Stage 2 opened on the (agreed) result.
    expect(await f.ledger.parentOf(jobId, 2)).to.equal(hd.resultHash);

    await expect(contest(f, honest, jobId, rhoOf(jobId, 1), hd))
      .to.emit(f.ledger, "HeaderContested")
      .withArgs(jobId, 1, honest.address, header, rhoOf(jobId, 1))
      .and.to.emit(f.jury, "JuryRequested");
    let st = await f.ledger.getStage(jobId, 1);
    expect(st.phase).to.equal(2n); // jury
    // No committee can wrap the voided header. Stage 2 keeps its parent (the result is not in dispute,
    // only rho): its declarations go on while the jury sits.
    await expect(f.ledger.committeeOf(jobId, 1)).to.be.revertedWithCustomError(f.ledger, "WrongPhase");
    await declare(f, f.miners[4], jobId, 2, { parent: hd.resultHash });

    // The jury trains the stage: the true (result, rho) wins.
    await juryDecides(f, jobId, 1, hd.resultHash, rhoOf(jobId, 1));
    st = await f.ledger.getStage(jobId, 1);
    expect(st.phase).to.equal(3n); // decided
    expect(st.rho).to.equal(rhoOf(jobId, 1));
    expect(st.result).to.equal(hd.resultHash);
    // The colluders can neither reuse their rho nor open their declarations against the jury's.
    await expect(
      submitHeader(f, colluders[1], jobId, 1, cds, { rho: rhoOf(jobId, 1, FAKE) }),
    ).to.be.revertedWithCustomError(f.ledger, "WrongRho");
    await expect(
      submitHeader(f, colluders[1], jobId, 1, [cds[1]], { rho: rhoOf(jobId, 1) }),
    ).to.be.revertedWithCustomError(f.verifier, "DoesNotOpen");
    // The honest declarant builds alone (one opening after a jury) and the stage wraps.
    await submitHeader(f, honest, jobId, 1, [hd]);
    await wrapStage(f, jobId, 1);
    expect((await f.ledger.getStage(jobId, 1)).phase).to.equal(5n);
    await claimStage(f, jobId, 1, [hd]);
    const perDeclaration = (await settlementOf(f, jobId, 1)).perDeclaration;
    expect(perDeclaration).to.be.gt(0n);

    // Every colluder is slashed; their reserved shares return to the employer.
    const employerBefore = await f.ledger.claimable(f.employer.address);
    for (const d of cds) {
      await expect(
        f.ledger
          .connect(f.outsider)
          .slashDeclaration(jobId, 1, await settlementOf(f, jobId, 1), d.resultHash, d),
      )
        .to.emit(f.ledger, "Slashed")
        .withArgs(jobId, 1, d.declarer, 1, 5n * E18, f.outsider.address);
    }
    for (const c of colluders) expect(await f.staking.stakeOf(c.address)).to.equal(0n);
    expect(await f.ledger.claimable(f.employer.address)).to.equal(employerBefore + 3n * perDeclaration);
    // The honest declarant is paid (its declaration and the builder's share) and is not slashable.
    const credited = await f.ledger.queryFilter(f.ledger.filters.RewardCredited(honest.address, jobId, 1));
    const roles = credited.map((e) => Number(e.args.role));
    expect(roles).to.include(1);
    expect(roles).to.include(2);
    expect(await f.ledger.claimable(honest.address)).to.be.gt(0n);
    await expect(
      f.ledger.slashDeclaration(jobId, 1, await settlementOf(f, jobId, 1), hd.resultHash, hd),
    ).to.be.revertedWithCustomError(f.verifier, "NotDeclared");
    expect(await f.staking.stakeOf(honest.address)).to.equal(10_000n * E18);
    const [bal, owed] = await owedAndBalance(f);
    expect(bal).to.equal(owed);
    // The job goes on from the decided state.
    expect(await f.ledger.parentOf(jobId, 2)).to.equal(hd.resultHash);
  });

  it("a lying contester only delays the stage and is slashed", async () => {
    const f = await contestFixture();
    const jobId = await createJob(f, { c: 3 });
    const honest = [];
    for (const m of f.miners.slice(3, 6)) honest.push(await declare(f, m, jobId, 1));
    const liar = f.miners[0];
    const ld = await declare(f, liar, jobId, 1, { rho: rhoOf(jobId, 1, FAKE) });
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, f.miners[3], jobId, 1, honest);
    await expect(contest(f, liar, jobId, rhoOf(jobId, 1, FAKE), ld)).to.emit(f.ledger, "HeaderContested");
    await juryDecides(f, jobId, 1, honest[0].resultHash, rhoOf(jobId, 1));
    await submitHeader(f, f.miners[4], jobId, 1, honest.slice(1, 2));
    await wrapStage(f, jobId, 1);
    await claimStage(f, jobId, 1, [honest[1]]);
    await expect(
      f.ledger.slashDeclaration(jobId, 1, await settlementOf(f, jobId, 1), ld.resultHash, ld),
    ).to.emit(f.ledger, "Slashed");
    // Honest declarations the new header left out still claim.
    await expect(f.ledger.claimDeclaration(jobId, 1, await settlementOf(f, jobId, 1), honest[0])).to.emit(
      f.ledger,
      "RewardCredited",
    );
    await expect(f.ledger.claimDeclaration(jobId, 1, await settlementOf(f, jobId, 1), honest[2])).to.emit(
      f.ledger,
      "RewardCredited",
    );
    const [bal, owed] = await owedAndBalance(f);
    expect(bal).to.equal(owed);
  });

  it("contest revert paths: not a declarant, does not open, same rho, too late, wrong phase, decided", async () => {
    const f = await contestFixture();
    const { jobId, honest, colluders, hd, cds } = await copiedResultStage(f);
    // Wrong phase: nothing to contest before a header.
    await expect(contest(f, honest, jobId, rhoOf(jobId, 1), hd)).to.be.revertedWithCustomError(
      f.ledger,
      "WrongPhase",
    );
    await submitHeader(f, colluders[0], jobId, 1, cds, { rho: rhoOf(jobId, 1, FAKE) });
    // Not a declarant: an outsider's made-up opening is not a stored declaration.
    const stranger = f.miners[6];
    await expect(
      contest(f, stranger, jobId, rhoOf(jobId, 1), { ...hd, declarer: stranger.address }),
    ).to.be.revertedWithCustomError(f.verifier, "NotDeclared");
    // An opening that does not match the stored declaration.
    await expect(
      contest(f, honest, jobId, rhoOf(jobId, 1), { ...hd, timestamp: hd.timestamp + 1n }),
    ).to.be.revertedWithCustomError(f.verifier, "DeclarationMismatch");
    // Does not open: the honest declaration against a rho it did not commit to.
    await expect(contest(f, honest, jobId, rhoOf(jobId, 1, "guess"), hd))
      .to.be.revertedWithCustomError(f.ledger, "DoesNotOpen")
      .withArgs(honest.address);
    // Same rho: a declaration that opens against the header's rho proves nothing.
    await expect(
      contest(f, colluders[1], jobId, rhoOf(jobId, 1, FAKE), cds[1]),
    ).to.be.revertedWithCustomError(f.ledger, "SameRho");
    // Too late: the PoA window of the header is over (it can only be voided now).
    const p = f.params.ledger;
    await mine(p.closeDelayBlocks + p.poaMaxRounds * p.poaWindowBlocks + 1);
    await expect(contest(f, honest, jobId, rhoOf(jobId, 1), hd)).to.be.revertedWithCustomError(
      f.ledger,
      "ContestTooLate",
    );
  });

  it("no contest after the wrap, nor of a stage a jury already decided", async () => {
    const f = await contestFixture();
    // After a wrap the stage is final: wrong phase.
    const jobId = await createJob(f, { c: 3 });
    const ds = [];
    for (const m of f.miners.slice(3, 6)) ds.push(await declare(f, m, jobId, 1));
    const late = await declare(f, f.miners[0], jobId, 1, { rho: rhoOf(jobId, 1, FAKE) });
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, f.miners[3], jobId, 1, ds);
    await wrapStage(f, jobId, 1);
    await expect(contest(f, f.miners[0], jobId, rhoOf(jobId, 1, FAKE), late)).to.be.revertedWithCustomError(
      f.ledger,
      "WrongPhase",
    );
    // A jury-decided stage has its rho fixed: a second contest is refused.
    const c = await copiedResultStage(f);
    await submitHeader(f, c.colluders[0], c.jobId, 1, c.cds, { rho: rhoOf(c.jobId, 1, FAKE) });
    await contest(f, c.honest, c.jobId, rhoOf(c.jobId, 1), c.hd);
    await juryDecides(f, c.jobId, 1, c.hd.resultHash, rhoOf(c.jobId, 1));
    await submitHeader(f, c.honest, c.jobId, 1, [c.hd]);
    await expect(
      contest(f, c.colluders[2], c.jobId, rhoOf(c.jobId, 1, FAKE), c.cds[2]),
    ).to.be.revertedWithCustomError(f.ledger, "StageDisputed");
  });
});
