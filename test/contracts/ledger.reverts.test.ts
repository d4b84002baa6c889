/**
 * Revert paths of the ledger, its verifier and its jury that the scenario tests do not reach: each
 * custom error has a test that expects it (grep `error X` in contracts/PoTLedger.sol and contracts/ledger/).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import type { JuryHost } from "../../typechain-types";
import {
  commitJuryVote,
  revealJuryVote,
  headerOf,
  committee,
  createJob,
  declare,
  deployLedger,
  E18,
  ledgerFixture,
  mineUntilClosed,
  openedOf,
  openings,
  RESULT_CID,
  rhoOf,
  runStage,
  signAttestation,
  stateHashOf,
  submitHeader,
  wrapStage,
  type DeclarationRecord,
  type LedgerFixture,
  settlementOf,
  committeeOfSettlement,
} from "./helpers/ledger-fixtures";

async function closedStage(f: LedgerFixture, n = 3) {
  const jobId = await createJob(f, { c: 3 });
  const ds: DeclarationRecord[] = [];
  for (const m of f.miners.slice(0, n)) ds.push(await declare(f, m, jobId, 1));
  await mineUntilClosed(f, jobId, 1);
  return { jobId, ds, builder: f.byAddress.get(ds[0].declarer.toLowerCase())! };
}

describe("ledger: revert paths", () => {
  it("declare: ZeroHash (result or commitment), WrongParent, WrongPhase past the last stage", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f, { numStages: 2 });
    const m = f.miners[0];
    await expect(declare(f, m, jobId, 1, { resultHash: ethers.ZeroHash })).to.be.revertedWithCustomError(
      f.ledger,
      "ZeroHash",
    );
    await expect(declare(f, m, jobId, 1, { commitment: ethers.ZeroHash })).to.be.revertedWithCustomError(
      f.ledger,
      "ZeroHash",
    );
    const wrong = stateHashOf(jobId, 0, "not-the-parent");
    await expect(declare(f, m, jobId, 1, { parent: wrong }))
      .to.be.revertedWithCustomError(f.ledger, "WrongParent")
      .withArgs(await f.ledger.parentOf(jobId, 1), wrong);
    await expect(declare(f, m, jobId, 3, { parent: ethers.ZeroHash }))
      .to.be.revertedWithCustomError(f.ledger, "WrongPhase")
      .withArgs(0);
  });

  it("declare: UnsettledDeclaration until the same-parity declaration two stages back is settled", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f, { numStages: 3 });
    const ds: DeclarationRecord[] = [];
    for (const m of f.miners.slice(0, 4)) ds.push(await declare(f, m, jobId, 1));
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, f.byAddress.get(ds[0].declarer.toLowerCase())!, jobId, 1, ds.slice(0, 3));
    await wrapStage(f, jobId, 1);
    await runStage(f, jobId, 2, 3);
    const left = f.byAddress.get(ds[3].declarer.toLowerCase())!;
    await expect(declare(f, left, jobId, 3))
      .to.be.revertedWithCustomError(f.ledger, "UnsettledDeclaration")
      .withArgs(1);
    const settlement = await settlementOf(f, jobId, 1);
    // Claims and slashes need the stage's settlement exactly as StageSettled listed it.
    await expect(
      f.ledger.claimDeclaration(
        jobId,
        1,
        { ...settlement, perDeclaration: settlement.perDeclaration + 1n },
        ds[3],
      ),
    ).to.be.revertedWithCustomError(f.ledger, "SettlementMismatch");
    await expect(
      f.ledger.slashDeclaration(jobId, 1, { ...settlement, rho: ethers.ZeroHash }, ds[3].resultHash, ds[3]),
    ).to.be.revertedWithCustomError(f.ledger, "SettlementMismatch");
    await expect(f.ledger.claimDeclaration(jobId, 3, settlement, ds[3])).to.be.revertedWithCustomError(
      f.ledger,
      "NotSettled",
    );
    await f.ledger.claimDeclaration(jobId, 1, settlement, ds[3]);
    await declare(f, left, jobId, 3);
  });

  it("submitHeader: EmptyCid, OpeningsNotSorted (order and duplicates), BuilderNotOpened", async () => {
    const f = await loadFixture(ledgerFixture);
    const { jobId, ds, builder } = await closedStage(f, 4);
    const rho = rhoOf(jobId, 1);
    const ts = BigInt(await time.latest());
    const sorted = openings(ds);
    await expect(
      f.ledger.connect(builder).submitHeader(jobId, 1, ds[0].resultHash, rho, "0x", ts, sorted),
    ).to.be.revertedWithCustomError(f.ledger, "EmptyCid");
    await expect(
      f.ledger
        .connect(builder)
        .submitHeader(jobId, 1, ds[0].resultHash, rho, RESULT_CID, ts, [...sorted].reverse()),
    ).to.be.revertedWithCustomError(f.verifier, "OpeningsNotSorted");
    await expect(
      f.ledger
        .connect(builder)
        .submitHeader(jobId, 1, ds[0].resultHash, rho, RESULT_CID, ts, [sorted[0], sorted[0], sorted[1]]),
    ).to.be.revertedWithCustomError(f.verifier, "OpeningsNotSorted");
    const others = openings(ds.filter((d) => d.declarer !== builder.address));
    await expect(
      f.ledger.connect(builder).submitHeader(jobId, 1, ds[0].resultHash, rho, RESULT_CID, ts, others),
    ).to.be.revertedWithCustomError(f.verifier, "BuilderNotOpened");
  });

  it("an opening that is not the stored declaration: DeclarationMismatch", async () => {
    const f = await loadFixture(ledgerFixture);
    const { jobId, ds, builder } = await closedStage(f);
    const bad = { ...ds[1], rand: rhoOf(jobId, 9, "other-rand") };
    await expect(submitHeader(f, builder, jobId, 1, [ds[0], bad, ds[2]]))
      .to.be.revertedWithCustomError(f.verifier, "DeclarationMismatch")
      .withArgs(ds[1].declarer);
  });

  it("wrap: BadSignatureCount and OpenedListMismatch", async () => {
    const f = await loadFixture(ledgerFixture);
    const { jobId, ds, builder } = await closedStage(f);
    await submitHeader(f, builder, jobId, 1, ds);
    const { members } = await committee(f, jobId, 1);
    const wrapper = f.byAddress.get(members[2].toLowerCase())!;
    const sigs = [
      await signAttestation(f, f.byAddress.get(members[0].toLowerCase())!, jobId, 1),
      await signAttestation(f, f.byAddress.get(members[1].toLowerCase())!, jobId, 1),
      "0x",
    ];
    const opened = await openedOf(f, jobId, 1);
    const h = await headerOf(f, jobId, 1);
    await expect(
      f.ledger.connect(wrapper).wrap(jobId, 1, { ...h, timestamp: h.timestamp + 1n }, opened, members, sigs),
    ).to.be.revertedWithCustomError(f.ledger, "HeaderMismatch");
    await expect(f.ledger.connect(wrapper).wrap(jobId, 1, h, opened, members, sigs.slice(0, 2)))
      .to.be.revertedWithCustomError(f.ledger, "BadSignatureCount")
      .withArgs(2, 3);
    await expect(
      f.ledger.connect(wrapper).wrap(jobId, 1, h, opened.slice(0, 2), members, sigs),
    ).to.be.revertedWithCustomError(f.ledger, "OpenedListMismatch");
    await expect(
      f.ledger.connect(wrapper).wrap(jobId, 1, h, [...opened].reverse(), members, sigs),
    ).to.be.revertedWithCustomError(f.ledger, "OpenedListMismatch");
    await f.ledger.connect(wrapper).wrap(jobId, 1, h, opened, members, sigs);
    // A wrapped stage cannot be wrapped again.
    await expect(
      f.ledger.connect(wrapper).wrap(jobId, 1, h, opened, members, sigs),
    ).to.be.revertedWithCustomError(f.ledger, "WrongPhase");
  });

  it("jury: JuryDecidedAlready (vote, redraw after the decision)", async () => {
    const f = await deployLedger(8, undefined, [5n * E18, ...Array(7).fill(10_000n * E18)]);
    const jobId = await createJob(f, { c: 3 });
    await declare(f, f.miners[0], jobId, 1, { resultHash: stateHashOf(jobId, 1, "wrong") });
    for (const m of f.miners.slice(1, 3)) await declare(f, m, jobId, 1);
    await mineUntilClosed(f, jobId, 1);
    await f.ledger.requestJury(jobId, 1);
    await mine(1);
    await f.jury.draw(jobId, 1);
    const [drawn] = await f.jury.queryFilter(f.jury.filters.JuryDrawn(jobId, 1));
    const jurors = [...drawn.args.jurors];
    const h = stateHashOf(jobId, 1);
    const r = rhoOf(jobId, 1);
    const [s0, s1, s2] = jurors.map((j) => f.byAddress.get(j.toLowerCase())!);
    for (const s of [s0, s1, s2]) await commitJuryVote(f, s, jobId, 1, jurors, h, r);
    await revealJuryVote(f, s0, jobId, 1, jurors, h, r);
    await revealJuryVote(f, s1, jobId, 1, jurors, h, r);
    expect((await f.jury.getJury(jobId, 1)).decided).to.equal(true);
    await expect(revealJuryVote(f, s2, jobId, 1, jurors, h, r)).to.be.revertedWithCustomError(
      f.jury,
      "JuryDecidedAlready",
    );
    await expect(commitJuryVote(f, s2, jobId, 1, jurors, h, r)).to.be.revertedWithCustomError(
      f.jury,
      "JuryDecidedAlready",
    );
    await time.increase(f.params.ledger.juryWindowSeconds + 1);
    await expect(f.jury.redraw(jobId, 1)).to.be.revertedWithCustomError(f.jury, "JuryDecidedAlready");
    await expect(f.jury.draw(jobId, 1)).to.be.revertedWithCustomError(f.jury, "JuryAlreadyDrawn");
  });

  it("jury: JuryAlreadyOpen (a ledger opening the same jury twice)", async () => {
    const f = await loadFixture(ledgerFixture);
    const H = await ethers.getContractFactory("JuryHost");
    const host = (await H.deploy(await f.staking.getAddress())) as unknown as JuryHost;
    const jury = await ethers.getContractAt("PoTJury", await host.jury());
    await host.open(1, 1);
    await expect(host.open(1, 1)).to.be.revertedWithCustomError(jury, "JuryAlreadyOpen");
  });

  it("claims: NotSettled, AlreadyClaimed (builder, attester), SettlementMismatch (members), NotCommitteeMember", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    await runStage(f, jobId, 1, 3); // claims everything once
    const st = await settlementOf(f, jobId, 1);
    const members = await committeeOfSettlement(f, jobId, 1);
    await expect(f.ledger.claimBuilder(jobId, 2, st)).to.be.revertedWithCustomError(f.ledger, "NotSettled");
    await expect(f.ledger.claimBuilder(jobId, 1, st)).to.be.revertedWithCustomError(
      f.ledger,
      "AlreadyClaimed",
    );
    await expect(f.ledger.claimAttester(jobId, 1, st, members, 0)).to.be.revertedWithCustomError(
      f.ledger,
      "AlreadyClaimed",
    );
    await expect(
      f.ledger.claimAttester(jobId, 1, st, [...members].reverse(), 0),
    ).to.be.revertedWithCustomError(f.ledger, "SettlementMismatch");
    await expect(f.ledger.claimAttester(jobId, 1, st, members, members.length)).to.be.revertedWithCustomError(
      f.ledger,
      "NotCommitteeMember",
    );
    await expect(
      f.ledger.claimBuilder(jobId, 1, { ...st, builderPart: st.builderPart + 1n }),
    ).to.be.revertedWithCustomError(f.ledger, "SettlementMismatch");
  });
});
