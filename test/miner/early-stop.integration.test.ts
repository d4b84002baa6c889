/**
 * Verified early stopping end to end (issue 16): three miner agents in one process on a real hardhat node
 * train a 4-stage Iris job that names a held-out test set and a loss target. Every declarant evaluates
 * S_{i+1} on the test set and binds the metric into its declared result; the first wrapped stage whose
 * held-out loss meets the target finishes the job there. The test trains the same job locally first, so it
 * knows, bit for bit, the metric and step checkpoints every stage must reveal and the stage the job must
 * stop at.
 */
import { expect } from "chai";
import { evaluate, runStage, stageOutcome } from "../../src/ml";
import { float32FromBits, outcomeHash, TargetKind, type StageOutcome } from "../../src/protocol/outcome";
import { useMinerNetwork } from "../support/miner-fixture";
import {
  expectEscrowHoldsWhatItOwes,
  irisJob,
  publishIrisJob,
  waitFor,
  waitForJobToFinish,
} from "../support/miner-network";

const NUM_STAGES = 4;
/** A step checkpoint after each of the 2 steps of a stage: every header reveals a list of 2. */
const CHECKPOINT_EVERY = 1;
const FEE = 4_000_000_000_000_003n; // not a multiple of the stages: the remainder is refunded too

/** The outcome of every stage of the Iris job, trained here as a miner would (rho aside). */
async function referenceOutcomes(): Promise<StageOutcome[]> {
  const job = await irisJob(NUM_STAGES, { testSet: true, checkpointEvery: CHECKPOINT_EVERY });
  const outcomes: StageOutcome[] = [];
  let state = job.s0;
  for (let s = 1; s <= NUM_STAGES; s++) {
    const r = await runStage(job.spec, state, job.stageBatches[s - 1], {
      domain: `0x${"00".repeat(32)}`,
      jobId: 1n,
      stage: s,
    });
    outcomes.push(stageOutcome(r, await evaluate(job.spec, r.state, job.testSet!)).outcome);
    state = r.state;
  }
  return outcomes;
}

describe("verified early stopping (held-out loss target)", function () {
  this.timeout(240_000);
  const fx = useMinerNetwork("early-stop");

  it("finishes at the first wrapped stage meeting the target, refunds the rest to the wei and frees every bond", async () => {
    const expected = await referenceOutcomes();
    // the target: the loss of the first stage (from 2 on) that beats every stage before it
    const k = expected.findIndex(
      (o, i) =>
        i >= 1 && i < NUM_STAGES - 1 && expected.slice(0, i).every((p) => p.heldOutLoss > o.heldOutLoss),
    );
    expect(k, `held-out losses ${expected.map((o) => float32FromBits(o.heldOutLoss))}`).to.be.greaterThan(0);
    const stopAt = k + 1;
    const target = { kind: TargetKind.LossAtMost, value: expected[k].heldOutLoss };

    await fx.startMiners([1, 2, 3], { builderGraceBlocks: 2n });
    await fx.net.mineToNextDrawEpoch();
    const { stages, escrow, disputes } = fx.net.suite(0);
    const job = (fx.job = await publishIrisJob(fx.net, 4, {
      numStages: NUM_STAGES,
      c: 2,
      k: 2,
      feeWei: FEE,
      testSet: true,
      checkpointEvery: CHECKPOINT_EVERY,
      target,
    }));
    await waitForJobToFinish(fx.net, job.jobId, 150_000);

    const status = await stages.jobStatus(job.jobId);
    expect(Number(status.wrappedStages)).to.equal(stopAt);
    const reached = await stages.queryFilter(stages.filters.TargetReached(job.jobId), fx.net.deployBlock);
    expect(reached.map((e) => Number(e.args.stage))).to.deep.equal([stopAt]);
    expect(Number(reached[0].args.heldOutLoss)).to.equal(expected[k].heldOutLoss);

    // Every wrapped stage revealed the outcome trained here, bit for bit (state, checkpoint root, metric).
    const revealed = await stages.queryFilter(stages.filters.OutcomeRevealed(job.jobId), fx.net.deployBlock);
    for (let s = 1; s <= stopAt; s++) {
      const e = revealed.findLast((x) => Number(x.args.stage) === s);
      expect(e, `OutcomeRevealed of stage ${s}`).to.not.equal(undefined);
      const o = e!.args.outcome;
      expect({
        stateHash: o.stateHash,
        checkpointRoot: o.checkpointRoot,
        heldOutLoss: Number(o.heldOutLoss),
        heldOutAccuracy: Number(o.heldOutAccuracy),
      }).to.deep.equal(expected[s - 1]);
      expect(e!.args.resultHash).to.equal(outcomeHash(expected[s - 1]));
      expect(e!.args.checkpoints, `checkpoints of stage ${s}`).to.have.length(2);
      expect(e!.args.checkpoints[1]).to.equal(expected[s - 1].stateHash);
    }
    expect(await stages.finalStateOf(job.jobId)).to.equal(expected[k].stateHash);

    // The escrow refunded what the unwrapped stages would have cost and the fee's remainder, to the wei.
    const refunds = await escrow.queryFilter(escrow.filters.Refunded(job.jobId), fx.net.deployBlock);
    const perStage = FEE / BigInt(NUM_STAGES);
    expect(refunds.reduce((a, e) => a + e.args.amount, 0n)).to.equal(FEE - BigInt(stopAt) * perStage);

    // The stage after the stop was opened by its predecessor's header; whoever declared it before the wrap
    // gets the bond back (the miners release their own), and nobody can declare it any more.
    const late = await stages.queryFilter(stages.filters.Declared(job.jobId, stopAt + 1), fx.net.deployBlock);
    console.log(
      `      stopped at stage ${stopAt} of ${NUM_STAGES}; ${late.length} declaration(s) of stage ${stopAt + 1} released`,
    );
    for (const d of late) {
      await waitFor(
        `the release of ${d.args.declarer}'s declaration of stage ${stopAt + 1}`,
        async () => {
          const slot = await stages.declarationSlot(job.jobId, d.args.declarer, stopAt + 1);
          return Number((slot >> 216n) & 0xffn) === 4; // DECL_RELEASED
        },
        60_000,
      );
    }
    const settled = await stages.queryFilter(
      stages.filters.DeclarationSettled(job.jobId),
      fx.net.deployBlock,
    );
    expect(
      settled.filter((e) => Number(e.args.status) === 3),
      "nobody slashed",
    ).to.deep.equal([]);
    expect(Number(await disputes.outcomeOf(job.jobId, stopAt + 1))).to.equal(0);
    await expectEscrowHoldsWhatItOwes(fx.net);
  });
});
