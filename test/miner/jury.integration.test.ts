/**
 * The miner's jury and slashing duties against the real contracts: a staker declares a wrong result into
 * stage 1 of a tiny Iris job before the honest miners do, so the stage closes disputed. The miners (three
 * agents in one process) request the jury, draw it, commit and reveal as seat holders, build the header
 * with the decided pair, wrap, finish the job, and slash the wrong declaration (and the wrong staker's
 * juror seats if it was drawn and stayed silent).
 */
import { expect } from "chai";
import { keccak256, toHex, type Hex } from "viem";
import { commitmentHash } from "../../src/protocol/messages";
import { useMinerNetwork } from "../support/miner-fixture";
import {
  expectEscrowHoldsWhatItOwes,
  publishIrisJob,
  waitFor,
  waitForJobToFinish,
} from "../support/miner-network";

describe("miner agents resolve a disputed stage through the jury", function () {
  this.timeout(240_000);
  const fx = useMinerNetwork("miner-jury");

  it("requests, draws, votes, builds with the decided pair, and slashes the wrong declaration", async () => {
    const { net, miners } = fx;
    const rogueIndex = 5;
    const rogue = net.suite(rogueIndex);
    const rogueAddr = net.node.accounts[rogueIndex].address;
    await (await rogue.token.faucet()).wait();
    const stake = 2n * 10n ** 18n; // covers two declarations' bonds; a small share of the draw weight
    await (await rogue.token.approve(net.addresses.staking, stake)).wait();
    await (await rogue.staking.stake(stake)).wait();
    await fx.startMiners([1, 2, 3], { builderGraceBlocks: 2n, policy: { idleDummy: false } });
    await net.mineToNextDrawEpoch();

    const job = (fx.job = await publishIrisJob(net, 4, {
      numStages: 2,
      c: 2,
      k: 2,
      feeWei: 2_000_000_000_000_000n,
    }));
    const jobId = job.jobId;
    const { stages, disputes } = net.suite(0);
    // The wrong declaration goes in first (the miners still fetch and train).
    const [opened] = await stages.queryFilter(stages.filters.StageOpened(jobId, 1), net.deployBlock);
    const rho = keccak256(toHex("a made-up rho")) as Hex;
    const rand = keccak256(toHex("rand")) as Hex;
    const domain = (await stages.domainSeparator()) as Hex;
    const commitment = commitmentHash({ domain, rho, rand, declarer: rogueAddr as Hex, jobId, stage: 1 });
    const latest = await net.provider.getBlock("latest");
    await (
      await rogue.stages.declare(
        jobId,
        1,
        opened.args.parentHash,
        opened.args.seed,
        keccak256(toHex("a wrong result")),
        commitment,
        rand,
        BigInt(latest!.timestamp),
      )
    ).wait();

    await waitForJobToFinish(net, jobId, 180_000);
    // Stage 1 went to the jury as disputed, and the jury decided it.
    const toJury = await stages.queryFilter(stages.filters.JuryRequested(jobId, 1), net.deployBlock);
    expect(toJury.map((e) => Number(e.args.reason))).to.deep.equal([1]);
    const decisions = await stages.queryFilter(stages.filters.StageDecided(jobId, 1), net.deployBlock);
    expect(decisions).to.have.length(1);
    const votes = await disputes.queryFilter(disputes.filters.JuryVoted(jobId, 1), net.deployBlock);
    expect(votes.length).to.be.greaterThan(0);
    // The header of stage 1 carries the decided pair. The wrong declaration does not open against the
    // decision: a miner slashes it at once (fault 1, for the bounty), usually before the header, which then
    // lists it without marking it faulty again; slashed after the header, it is listed as faulty.
    const [hdr] = await stages.queryFilter(stages.filters.HeaderSubmitted(jobId, 1), net.deployBlock);
    expect(hdr.args.header.result).to.equal(decisions[0].args.resultHash);
    expect(hdr.args.openers.map((a) => a.toLowerCase())).to.not.include(rogueAddr.toLowerCase());
    expect(hdr.args.faulty.filter((a) => a.toLowerCase() !== rogueAddr.toLowerCase())).to.deep.equal([]);
    const rogueSlashed = (fault: number) => async () =>
      (await disputes.queryFilter(disputes.filters.Slashed(jobId, 1), net.deployBlock)).some(
        (e) => e.args.staker.toLowerCase() === rogueAddr.toLowerCase() && Number(e.args.fault) === fault,
      );
    await waitFor("the wrong declaration to be slashed", rogueSlashed(1), 30_000);
    // A rogue seat that never committed is slashed as absent (fault 3) once its reveal window ended.
    const drawn = await disputes.queryFilter(disputes.filters.JuryDrawn(jobId, 1), net.deployBlock);
    const rogueSeated = drawn.some((e) =>
      e.args.seats.some((s) => s.toLowerCase() === rogueAddr.toLowerCase()),
    );
    if (rogueSeated) await waitFor("the absent juror to be slashed", rogueSlashed(3), 30_000);
    // Honest jurors are never slashed.
    const slashed = await disputes.queryFilter(disputes.filters.Slashed(), net.deployBlock);
    const minerAddrs = new Set(miners.map((m) => m.address.toLowerCase()));
    expect(slashed.filter((e) => minerAddrs.has(e.args.staker.toLowerCase()))).to.deep.equal([]);
    // Money: the escrow still holds exactly what it owes.
    await expectEscrowHoldsWhatItOwes(net);
    console.log(
      `      jury rounds drawn: ${drawn.length}, rogue seated: ${rogueSeated}, votes revealed: ${votes.length}`,
    );
  });
});
