/**
 * The stage outcome (issue 16): a declaration's resultHash is outcomeHash({stateHash, checkpointRoot,
 * heldOutLoss, heldOutAccuracy}); the header reveals the outcome and its checkpoint list (checked on-chain),
 * the wrap takes the outcome back and finishes the job early when it meets the employer's target, refunding
 * the stages not trained. Each rule or attack is performed against the split contracts.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionReceipt, Interface } from "ethers";
import type { Hex } from "viem";
import {
  accuracyTarget,
  float32Bits,
  lossTarget,
  NO_METRIC,
  outcomeHash,
  TargetKind,
  type JobTarget,
  type StageOutcome,
} from "../../../src/protocol";
import {
  balanceAndOwed,
  committee,
  createJob,
  declare,
  deploySuiteFixture,
  headerData,
  jobTerms,
  juryDecides,
  lastHeader,
  mineUntilClosed,
  outcomeOf,
  resultFor,
  revealedOutcome,
  rhoOf,
  RESULT_CID,
  runStage,
  sendHeader,
  sorted,
  signAttestation,
  stageOpened,
  stateHashOf,
  submitHeader,
  wrapStage,
  type Decl,
  type SuiteFixture,
} from "../helpers/suite-fixtures";
import { checkpointRoot } from "../../../src/protocol/checkpoints";

const DECL_RELEASED = 4n;
const JOB_OPEN = 1n;
const JOB_FINISHED = 2n;

async function fixture(): Promise<SuiteFixture> {
  return deploySuiteFixture(6);
}

/** `who` each declare `o` for the stage (the honest rho). */
async function declareAll(
  f: SuiteFixture,
  who: HardhatEthersSigner[],
  jobId: bigint,
  stage: number,
  o: StageOutcome,
): Promise<Decl[]> {
  const ds: Decl[] = [];
  for (const m of who) ds.push(await declare(f, m, jobId, stage, { resultHash: resultFor(o) }));
  return ds;
}

/** A job with an early-stopping target, `numStages` stages, C=2, K=1. */
async function targetJob(f: SuiteFixture, numStages: number, target: JobTarget, fee: bigint) {
  return createJob(f, { numStages, c: 2, k: 1, fee, target });
}

/** The receipt's events of the stages and escrow contracts, decoded. */
function events(f: SuiteFixture, receipt: ContractTransactionReceipt) {
  const byAddress = new Map<string, Interface>([
    [f.addresses.stages.toLowerCase(), f.stages.interface],
    [f.addresses.escrow.toLowerCase(), f.escrow.interface],
  ]);
  return receipt.logs.flatMap((l) => {
    const parsed = byAddress.get(l.address.toLowerCase())?.parseLog(l);
    return parsed ? [parsed] : [];
  });
}
function eventNames(f: SuiteFixture, receipt: ContractTransactionReceipt): string[] {
  return events(f, receipt).map((e) => e.name);
}

async function releaseDecl(f: SuiteFixture, who: HardhatEthersSigner, jobId: bigint, stage: number, d: Decl) {
  const { anchor } = await stageOpened(f, jobId, stage);
  return f.disputes.connect(who).release(jobId, stage, anchor, d, d.resultHash, rhoOf(jobId, stage));
}

describe("split contracts: the stage outcome, checkpoints and early stopping", () => {
  it("submitHeader reveals the outcome: WrongOutcome, WrongCheckpoints (root, last entry); a good list is emitted and the next stage trains from the state hash", async () => {
    const f = await loadFixture(fixture);
    const [a, b] = f.miners;
    const jobId = await createJob(f, { numStages: 2, c: 2, k: 1 });
    const state = stateHashOf(jobId, 1);
    const ckpts = [ethers.id("ckpt 0") as Hex, ethers.id("ckpt 1") as Hex, state];
    const o: StageOutcome = {
      ...outcomeOf(jobId, 1, "honest", { heldOutLoss: float32Bits(0.5), heldOutAccuracy: 700_000 }),
      checkpointRoot: checkpointRoot(ckpts),
    };
    const result = resultFor(o);
    const ds = await declareAll(f, [a, b], jobId, 1, o);
    await mineUntilClosed(f, jobId, 1);
    // an outcome that is not what the result commits to (a better accuracy) is refused
    await expect(
      sendHeader(f, a, jobId, 1, ds, {
        result,
        outcome: { ...o, heldOutAccuracy: 990_000 },
        checkpoints: ckpts,
      }),
    )
      .to.be.revertedWithCustomError(f.stages, "WrongOutcome")
      .withArgs(result);
    // checkpoint lists that do not open the root: reordered, one dropped, none at all
    for (const bad of [[ckpts[1], ckpts[0], state], ckpts.slice(1), []]) {
      await expect(
        sendHeader(f, a, jobId, 1, ds, { result, checkpoints: bad }),
      ).to.be.revertedWithCustomError(f.stages, "WrongCheckpoints");
    }
    // a list whose last entry is not the stage's state: even when the declarations commit to its root
    const job2 = await createJob(f, { numStages: 1, c: 2, k: 1 });
    const short = [ethers.id("ckpt 0") as Hex, ethers.id("ckpt 1") as Hex];
    const o2 = { ...outcomeOf(job2, 1), checkpointRoot: checkpointRoot(short) };
    const ds2 = await declareAll(f, [a, b], job2, 1, o2);
    await mineUntilClosed(f, job2, 1);
    await expect(
      sendHeader(f, a, job2, 1, ds2, { outcome: o2, checkpoints: short }),
    ).to.be.revertedWithCustomError(f.stages, "WrongCheckpoints");
    // and a root without checkpoints (an empty list opens only the zero root)
    const o3 = { ...outcomeOf(job2, 1), checkpointRoot: ethers.id("some root") as Hex };
    await expect(
      sendHeader(f, a, job2, 1, ds2, { outcome: o3, checkpoints: [] }),
    ).to.be.revertedWithCustomError(f.stages, "WrongCheckpoints");
    // the correct list is accepted and revealed as it was given
    const rc = await submitHeader(f, a, jobId, 1, ds, { result, checkpoints: ckpts });
    const ev = rc!.logs
      .map((l) => f.stages.interface.parseLog(l))
      .find((p) => p?.name === "OutcomeRevealed")!;
    expect(ev.args.jobId).to.equal(jobId);
    expect(ev.args.stage).to.equal(1n);
    expect(ev.args.resultHash).to.equal(result);
    expect([...ev.args.checkpoints]).to.deep.equal(ckpts);
    expect(await revealedOutcome(f, jobId, 1)).to.deep.equal(o);
    // the next stage's parent is H(S_1), not the outcome hash
    const next = await stageOpened(f, jobId, 2);
    expect(next.parent).to.equal(state);
    expect(next.parent).to.not.equal(result);
    await wrapStage(f, jobId, 1);
    await runStage(f, jobId, 2, [a, b]);
    expect(await f.stages.finalStateOf(jobId)).to.equal(stateHashOf(jobId, 2));
  });

  it('createJob validates the target (InvalidJob("target") before any wei is held) and emits JobTarget when one is set', async () => {
    const f = await loadFixture(fixture);
    const employer = f.escrow.connect(f.employer);
    const fee = { value: ethers.parseEther("1") };
    const now = await time.latest();
    const bad: [number, number][] = [
      [3, 0], // unknown kind
      [255, 1],
      [TargetKind.None, 1], // no target with a value
      [TargetKind.LossAtMost, 0x7f800000], // +infinity
      [TargetKind.LossAtMost, 0x7fc00000], // NaN
      [TargetKind.LossAtMost, 0x80000000], // -0
      [TargetKind.LossAtMost, float32Bits(-1)], // negative
      [TargetKind.LossAtMost, 0xffffffff], // NO_METRIC
      [TargetKind.AccuracyAtLeast, 0],
      [TargetKind.AccuracyAtLeast, 1_000_001],
    ];
    const before = await balanceAndOwed(f);
    for (const [kind, value] of bad) {
      await expect(
        employer.createJob({ ...jobTerms({}, now + 1), targetKind: kind, targetValue: value }, fee),
      )
        .to.be.revertedWithCustomError(f.stages, "InvalidJob")
        .withArgs("target");
    }
    expect(await balanceAndOwed(f)).to.deep.equal(before);
    // the edges that are valid: loss 0 and the largest finite float, accuracy 1 ppm and 100 %
    for (const t of [
      { kind: TargetKind.LossAtMost, value: 0 },
      { kind: TargetKind.LossAtMost, value: 0x7f7fffff },
      lossTarget(0.25),
      { kind: TargetKind.AccuracyAtLeast, value: 1 },
      accuracyTarget(1),
    ]) {
      const jobId = await f.escrow.nextJobId();
      const tx = employer.createJob(
        { ...jobTerms({}, (await time.latest()) + 1), targetKind: t.kind, targetValue: t.value },
        fee,
      );
      await expect(tx).to.emit(f.stages, "JobTarget").withArgs(jobId, t.kind, t.value);
    }
    // no target: no JobTarget event
    await expect(employer.createJob(jobTerms({}, (await time.latest()) + 1), fee)).to.not.emit(
      f.stages,
      "JobTarget",
    );
  });

  it("early stop at an accuracy target: stage 2 of 4 finishes the job, refunds the 2 untrained stages to the wei, closes stage 3 and releases its declarations", async () => {
    const f = await loadFixture(fixture);
    const [a, b, c] = f.miners;
    const fee = ethers.parseEther("4") + 3n; // 3 wei of rounding dust are refunded too
    const jobId = await targetJob(f, 4, accuracyTarget(0.9), fee);
    const { feePerStage } = await f.escrow.fundsOf(jobId);
    expect(feePerStage).to.equal(fee / 4n);
    // stage 1: a metric just below the target does not finish the job
    const o1 = outcomeOf(jobId, 1, "honest", { heldOutLoss: float32Bits(0.3), heldOutAccuracy: 899_999 });
    const first = await runStage(f, jobId, 1, [a, b], { outcome: o1 });
    expect(eventNames(f, first.receipt!)).to.not.include.members(["TargetReached", "JobFinished"]);
    expect(await f.stages.jobStatus(jobId)).to.deep.equal([JOB_OPEN, 1n]);
    // stage 2 meets it exactly (>= 90 %)
    const o2 = outcomeOf(jobId, 2, "honest", { heldOutLoss: float32Bits(0.2), heldOutAccuracy: 900_000 });
    const ds2 = await declareAll(f, [a, b], jobId, 2, o2);
    await mineUntilClosed(f, jobId, 2);
    await submitHeader(f, a, jobId, 2, ds2, { outcome: o2 });
    // stage 3 opened from that header: c declares to it before the wrap
    const d3 = await declare(f, c, jobId, 3);
    const bonded = await f.stages.bondedOf(c.address);
    const { receipt } = await wrapStage(f, jobId, 2);
    const evs = events(f, receipt!);
    const names = evs.map((e) => e.name);
    expect(names.indexOf("TargetReached")).to.be.greaterThan(-1);
    expect(names.indexOf("TargetReached")).to.be.lessThan(names.indexOf("JobFinished"));
    const reached = evs.find((e) => e.name === "TargetReached")!.args;
    expect([reached.jobId, reached.stage, reached.heldOutLoss, reached.heldOutAccuracy]).to.deep.equal([
      jobId,
      2n,
      BigInt(float32Bits(0.2)),
      900_000n,
    ]);
    const refund = evs.find((e) => e.name === "Refunded")!.args;
    expect(refund.employer).to.equal(f.employer.address);
    expect(refund.amount).to.equal(fee - 2n * feePerStage);
    expect(await f.escrow.claimable(f.employer.address)).to.equal(fee - 2n * feePerStage);
    expect(await f.stages.jobStatus(jobId)).to.deep.equal([JOB_FINISHED, 2n]);
    expect(await f.stages.finalStateOf(jobId)).to.equal(o2.stateHash);
    // every wei: owed to the 2 stages' miners or refunded
    let paid = 0n;
    for (const m of f.miners) paid += (await f.escrow.owedOf(jobId, m.address)).amount;
    expect(paid + (await f.escrow.claimable(f.employer.address))).to.equal(fee);
    const [bal, owed] = await balanceAndOwed(f);
    expect(bal).to.equal(owed);
    // stage 3 takes no more declarations and no header
    await expect(declare(f, b, jobId, 3))
      .to.be.revertedWithCustomError(f.stages, "JobNotOpen")
      .withArgs(jobId);
    await expect(sendHeader(f, c, jobId, 3, [d3]))
      .to.be.revertedWithCustomError(f.stages, "JobNotOpen")
      .withArgs(jobId);
    // c's declaration to stage 3 is released by anyone; its bond is freed, once
    await expect(releaseDecl(f, f.outsider, jobId, 3, d3))
      .to.emit(f.stages, "DeclarationSettled")
      .withArgs(jobId, 3, c.address, DECL_RELEASED);
    expect(await f.stages.bondedOf(c.address)).to.equal(bonded - 1n);
    await expect(releaseDecl(f, c, jobId, 3, d3)).to.be.revertedWithCustomError(
      f.disputes,
      "DeclarationSettled",
    );
    // a wrapped stage stays unreleasable
    await expect(releaseDecl(f, f.outsider, jobId, 2, ds2[0])).to.be.revertedWithCustomError(
      f.disputes,
      "NotReleasable",
    );
  });
  it("a jury already sitting on the next stage still decides after an early finish; that stage's declarations are then released or slashed against the decision", async () => {
    const f = await loadFixture(fixture);
    const [a, b, c, d] = f.miners;
    const jobId = await targetJob(f, 3, accuracyTarget(0.9), ethers.parseEther("3"));
    const o1 = outcomeOf(jobId, 1, "honest", { heldOutLoss: float32Bits(0.1), heldOutAccuracy: 950_000 });
    const ds1 = await declareAll(f, [a, b], jobId, 1, o1);
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, a, jobId, 1, ds1, { outcome: o1 });
    // stage 2 opened from the header; its declarations disagree and go to the jury before stage 1 wraps
    const honest2 = resultFor(outcomeOf(jobId, 2));
    const dc = await declare(f, c, jobId, 2, { resultHash: honest2 });
    const dd = await declare(f, d, jobId, 2, { resultHash: resultFor(outcomeOf(jobId, 2, "other")) });
    await mineUntilClosed(f, jobId, 2);
    await (await f.stages.connect(f.outsider).requestJury(jobId, 2)).wait();
    await wrapStage(f, jobId, 1);
    expect(await f.stages.jobStatus(jobId)).to.deep.equal([JOB_FINISHED, 1n]);
    // the jurors' reveals still count and decide: none is turned into an absence to be slashed
    const decided = { result: honest2, rho: rhoOf(jobId, 2) };
    await juryDecides(f, jobId, 2, () => decided);
    expect((await f.disputes.juryOf(jobId, 2)).decided).to.equal(true);
    // no header for the ended job; the honest declaration is released, the other slashed
    await expect(sendHeader(f, a, jobId, 2, [dc, dd], { result: honest2 }))
      .to.be.revertedWithCustomError(f.stages, "JobNotOpen")
      .withArgs(jobId);
    await expect(releaseDecl(f, f.outsider, jobId, 2, dd)).to.be.revertedWithCustomError(
      f.disputes,
      "NoFinalOutcome",
    );
    await (await releaseDecl(f, f.outsider, jobId, 2, dc)).wait();
    const { anchor } = await stageOpened(f, jobId, 2);
    await (
      await f.disputes.connect(f.outsider).slashDeclaration(jobId, 2, anchor, dd, decided.result, decided.rho)
    ).wait();
    expect(await f.stages.bondedOf(c.address)).to.equal(0n);
    expect(await f.stages.bondedOf(d.address)).to.equal(0n);
  });

  it("a loss target orders float32 bits: 0.2500001, NaN and NO_METRIC do not meet loss <= 0.25, 0.25 does; an accuracy target ignores NO_METRIC", async () => {
    const f = await loadFixture(fixture);
    const [a, b] = f.miners;
    const fee = ethers.parseEther("5");
    const target = lossTarget(0.25);
    expect(target.value).to.equal(0x3e800000);
    const jobId = await targetJob(f, 5, target, fee);
    const losses = [float32Bits(0.2500001), 0x7fc00000 /* NaN */, NO_METRIC, float32Bits(0.25)];
    expect(losses[0]).to.be.greaterThan(target.value); // a few float32 steps above 0.25
    for (const [i, heldOutLoss] of losses.entries()) {
      const stage = i + 1;
      const o = outcomeOf(jobId, stage, "honest", { heldOutLoss, heldOutAccuracy: 500_000 });
      const { receipt } = await runStage(f, jobId, stage, [a, b], { outcome: o });
      const last = stage === losses.length;
      expect(eventNames(f, receipt!).includes("TargetReached"), `loss bits ${heldOutLoss}`).to.equal(last);
      expect((await f.stages.jobStatus(jobId))[0]).to.equal(last ? JOB_FINISHED : JOB_OPEN);
    }
    const { feePerStage } = await f.escrow.fundsOf(jobId);
    const [refund] = await f.escrow.queryFilter(f.escrow.filters.Refunded(jobId));
    expect(refund.args.amount).to.equal(fee - 4n * feePerStage);
    // an accuracy target is not met by a stage without an accuracy (NO_METRIC, however large as a number)
    const acc = await targetJob(f, 2, accuracyTarget(0.5), fee);
    const { receipt } = await runStage(f, acc, 1, [a, b], { outcome: outcomeOf(acc, 1) });
    expect(eventNames(f, receipt!)).to.not.include("TargetReached");
    expect(await f.stages.jobStatus(acc)).to.deep.equal([JOB_OPEN, 1n]);
  });

  it("a lying metric (same state, higher accuracy) is another result: the stage is disputed, the jury decides the honest outcome, the job does not stop, the liar is slashable", async () => {
    const f = await loadFixture(fixture);
    const [honest, liar, builder] = f.miners;
    const jobId = await targetJob(f, 2, accuracyTarget(0.9), ethers.parseEther("2"));
    const truth = outcomeOf(jobId, 1, "honest", { heldOutLoss: float32Bits(0.4), heldOutAccuracy: 800_000 });
    const lie = { ...truth, heldOutAccuracy: 950_000 }; // meets the target, same weights
    expect(resultFor(lie)).to.not.equal(resultFor(truth));
    const dh = await declare(f, honest, jobId, 1, { resultHash: resultFor(truth) });
    const dl = await declare(f, liar, jobId, 1, { resultHash: resultFor(lie) });
    await mineUntilClosed(f, jobId, 1);
    expect((await f.stages.getStage(jobId, 1)).disputed).to.equal(true);
    // neither side can header a disputed stage
    for (const [who, o] of [
      [honest, truth],
      [liar, lie],
    ] as const) {
      await expect(sendHeader(f, who, jobId, 1, [dh, dl], { outcome: o })).to.be.revertedWithCustomError(
        f.stages,
        "StageDisputed",
      );
    }
    await (await f.stages.connect(f.outsider).requestJury(jobId, 1)).wait();
    const decided = { result: resultFor(truth), rho: rhoOf(jobId, 1) };
    await juryDecides(f, jobId, 1, () => decided);
    // a builder may only build the decided result, and must reveal the honest outcome with it
    await expect(
      sendHeader(f, builder, jobId, 1, [dh, dl], { result: decided.result, outcome: lie }),
    ).to.be.revertedWithCustomError(f.stages, "WrongOutcome");
    await submitHeader(f, builder, jobId, 1, [dh, dl], { outcome: truth });
    const h = await lastHeader(f, jobId, 1);
    expect(h.openers).to.deep.equal([honest.address]);
    expect(h.faulty).to.deep.equal([liar.address]);
    const { receipt } = await wrapStage(f, jobId, 1);
    expect(eventNames(f, receipt!)).to.not.include("TargetReached");
    expect(await f.stages.jobStatus(jobId)).to.deep.equal([JOB_OPEN, 1n]);
    // the liar is slashed like a wrong weights hash; the honest declarant is not slashable
    const { anchor } = await stageOpened(f, jobId, 1);
    const stake = await f.staking.stakeOf(liar.address);
    await (
      await f.disputes.connect(f.outsider).slashDeclaration(jobId, 1, anchor, dl, decided.result, decided.rho)
    ).wait();
    expect(await f.staking.stakeOf(liar.address)).to.equal(
      stake - (f.params.stages.declarationSlash as bigint),
    );
    await expect(
      f.disputes.slashDeclaration(jobId, 1, anchor, dh, decided.result, decided.rho),
    ).to.be.revertedWithCustomError(f.disputes, "DeclarationNotFaulty");
  });

  it("wrap takes back only the header's outcome (WrongOutcome): a wrapper cannot fake reaching the target", async () => {
    const f = await loadFixture(fixture);
    const [a, b] = f.miners;
    const jobId = await targetJob(f, 2, accuracyTarget(0.9), ethers.parseEther("2"));
    const truth = outcomeOf(jobId, 1, "honest", { heldOutLoss: float32Bits(0.4), heldOutAccuracy: 800_000 });
    const ds = await declareAll(f, [a, b], jobId, 1, truth);
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, a, jobId, 1, ds, { outcome: truth });
    const result = resultFor(truth);
    for (const fake of [
      { ...truth, heldOutAccuracy: 950_000 },
      { ...truth, heldOutLoss: 0 },
      { ...truth, stateHash: stateHashOf(jobId, 1, "other") },
      { ...truth, checkpointRoot: ethers.id("root") as Hex },
    ]) {
      await expect(wrapStage(f, jobId, 1, { outcome: fake }))
        .to.be.revertedWithCustomError(f.stages, "WrongOutcome")
        .withArgs(result);
    }
    await wrapStage(f, jobId, 1);
    expect(await f.stages.jobStatus(jobId)).to.deep.equal([JOB_OPEN, 1n]);
  });

  it("mempool copies gain nothing: a copied header is refused from another account (BarredBuilder) or as its own builder without a declaration (BuilderNotOpened); a copied wrap from outside the committee is refused (NotCommitteeMember), and the refund goes to the employer whoever wraps", async () => {
    const f = await loadFixture(fixture);
    const [a, b, copier] = f.miners;
    const jobId = await targetJob(f, 3, accuracyTarget(0.9), ethers.parseEther("3"));
    const o = outcomeOf(jobId, 1, "honest", { heldOutLoss: float32Bits(0.1), heldOutAccuracy: 990_000 });
    const ds = sorted(await declareAll(f, [a, b], jobId, 1, o));
    await mineUntilClosed(f, jobId, 1);
    // a's header transaction, pending: the copier replays it with the same outcome and checkpoints
    const h = await headerData(f, a.address, jobId, 1, { result: resultFor(o) });
    const asCopier = f.stages.connect(copier);
    await expect(asCopier.submitHeader(jobId, 1, h, RESULT_CID, ds, o, [])).to.be.revertedWithCustomError(
      f.stages,
      "BarredBuilder",
    );
    // as its own builder it must have declared and opened, like any builder (it could build then anyway)
    const openings = await ethers.getContractAt("PoTOpenings", await f.stages.openings());
    await expect(
      asCopier.submitHeader(jobId, 1, { ...h, builder: copier.address }, RESULT_CID, ds, o, []),
    ).to.be.revertedWithCustomError(openings, "BuilderNotOpened");
    await (await f.stages.connect(a).submitHeader(jobId, 1, h, RESULT_CID, ds, o, [])).wait();
    // the copied wrap of the stage (which meets the target), sent from outside the committee, fails
    const lh = await lastHeader(f, jobId, 1);
    const { seats } = await committee(f, jobId, 1);
    const outsider = f.spare[0];
    expect(seats).to.not.include(outsider.address);
    const sigs: string[] = [];
    for (const s of seats) sigs.push(await signAttestation(f, f.byAddress.get(s.toLowerCase())!, jobId, 1));
    const copy = (who: HardhatEthersSigner) =>
      f.stages.connect(who).wrap(jobId, 1, lh.header, lh.openers, lh.weights, lh.faulty, seats, sigs, o);
    await expect(copy(outsider))
      .to.be.revertedWithCustomError(f.committee, "NotCommitteeMember")
      .withArgs(outsider.address);
    // a seat wraps (which seat wraps changes no payment); the refund is the employer's; a replay finds
    // the job finished
    const owedBefore = await Promise.all(seats.map((s) => f.escrow.owedOf(jobId, s)));
    expect(owedBefore.every((x) => x.amount === 0n)).to.equal(true);
    const { receipt, wrapper } = await wrapStage(f, jobId, 1);
    const refund = events(f, receipt!).find((e) => e.name === "Refunded")!.args;
    expect(refund.employer).to.equal(f.employer.address);
    expect(await f.escrow.claimable(wrapper.address)).to.equal(0n);
    await expect(copy(wrapper)).to.be.revertedWithCustomError(f.stages, "JobNotOpen").withArgs(jobId);
  });

  it("fine-tuning from a job that stopped early: its final state is the stopped stage's state hash", async () => {
    const f = await loadFixture(fixture);
    const [a, b] = f.miners;
    const fee = ethers.parseEther("3");
    const parent = await targetJob(f, 3, accuracyTarget(0.9), fee);
    const o = outcomeOf(parent, 1, "honest", { heldOutLoss: float32Bits(0.1), heldOutAccuracy: 970_000 });
    await runStage(f, parent, 1, [a, b], { outcome: o });
    expect(await f.stages.jobStatus(parent)).to.deep.equal([JOB_FINISHED, 1n]);
    expect(await f.stages.finalStateOf(parent)).to.equal(o.stateHash);
    const terms = async (initialStateHash: string) => ({
      ...jobTerms({ numStages: 1, c: 2, k: 1 }, (await time.latest()) + 1),
      initialStateHash,
    });
    // the outcome hash (the header's result) is not a state: refused
    await expect(
      f.escrow.connect(f.employer).createJobFrom(parent, await terms(outcomeHash(o)), { value: fee }),
    )
      .to.be.revertedWithCustomError(f.stages, "ParentStateMismatch")
      .withArgs(o.stateHash, outcomeHash(o));
    const child = await f.escrow.nextJobId();
    await expect(f.escrow.connect(f.employer).createJobFrom(parent, await terms(o.stateHash), { value: fee }))
      .to.emit(f.stages, "JobDerived")
      .withArgs(child, parent, o.stateHash);
    expect((await stageOpened(f, child, 1)).parent).to.equal(o.stateHash);
    await runStage(f, child, 1, [a, b]);
    expect(await f.stages.jobStatus(child)).to.deep.equal([JOB_FINISHED, 1n]);
  });
});
