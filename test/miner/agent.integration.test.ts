/**
 * Three miner agents in one process against a real `hardhat node` (interval mining) running the split
 * contracts, each with its own embedded IPFS repo and account: the idle network wraps dummy blocks, then a
 * tiny Iris job (3 stages, C=2, K=2) created directly through the escrow trains to the end; every miner
 * claims the job once, withdraws, and the escrow invariant holds.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { minerStatusPath } from "../../src/miner/agent";
import { useMinerNetwork } from "../support/miner-fixture";
import {
  expectEscrowHoldsWhatItOwes,
  publishIrisJob,
  waitFor,
  waitForJobToFinish,
} from "../support/miner-network";

describe("miner agents on a hardhat node", function () {
  this.timeout(240_000);
  const fx = useMinerNetwork("miner-it");

  it("idle miners wrap dummy blocks, then finish an employer job and withdraw their rewards", async () => {
    const { net, miners } = fx;
    const t0 = Date.now();
    await fx.startMiners([1, 2, 3], { builderGraceBlocks: 2n });
    // the miners' stakes are drawable from the next staking epoch: start it now
    await net.mineToNextDrawEpoch();
    const { stages, escrow } = net.suite(0);

    // Idle network: the dummy job (C=2, K=1 locally) produces blocks.
    await waitFor("a wrapped dummy block", async () => (await stages.blockCount()) >= 1n, 90_000);
    const dummyMs = Date.now() - t0;

    const t1 = Date.now();
    const job = (fx.job = await publishIrisJob(net, 4, {
      numStages: 3,
      c: 2,
      k: 2,
      feeWei: 3_000_000_000_000_000n,
    }));
    await waitForJobToFinish(net, job.jobId, 150_000);
    const jobMs = Date.now() - t1;

    // Every stage wrapped (from the events: PoTStages keeps only the two latest stages in storage).
    const wrapped = await stages.queryFilter(
      stages.filters.BlockWrapped(undefined, undefined, job.jobId),
      net.deployBlock,
    );
    const wrappedStages = wrapped.map((e) => Number(e.args.stage)).sort();
    expect(wrappedStages).to.deep.equal(Array.from({ length: job.numStages }, (_, i) => i + 1));
    // Every header listed every declaration of its stage; all opened (honest miners), none faulty.
    const headers = await stages.queryFilter(stages.filters.HeaderSubmitted(job.jobId), net.deployBlock);
    for (const hdr of headers) {
      const listed = await stages.queryFilter(
        stages.filters.Declared(job.jobId, hdr.args.stage),
        net.deployBlock,
        hdr.blockNumber,
      );
      expect(hdr.args.openers.length, `openers of stage ${hdr.args.stage}`).to.equal(listed.length);
      expect(hdr.args.faulty).to.deep.equal([]);
    }

    // No miner declared any stage twice (the ledger would refuse; the miner must not even try twice).
    const declared = await stages.queryFilter(stages.filters.Declared(job.jobId), net.deployBlock);
    const seen = new Set<string>();
    for (const e of declared) {
      const key = `${e.args.stage}:${e.args.declarer}`;
      expect(seen.has(key), `declared twice: ${key}`).to.equal(false);
      seen.add(key);
    }

    // Rewards: every miner that earned in the job claims it exactly once (one claim per job and account,
    // every stage and role in it), then withdraws.
    const minerAddrs = miners.map((m) => m.address);
    await waitFor(
      "miners to claim and withdraw",
      async () => {
        const owed = await Promise.all(minerAddrs.map((a) => escrow.owedOf(job.jobId, a)));
        const left = await Promise.all(minerAddrs.map((a) => escrow.claimable(a)));
        return owed.every((o) => o.amount === 0n) && left.every((v) => v === 0n);
      },
      60_000,
    );
    const claimed = await escrow.queryFilter(escrow.filters.Claimed(job.jobId), net.deployBlock);
    const claimers = claimed.map((e) => e.args.account.toLowerCase());
    expect(new Set(claimers).size, "one claim per account").to.equal(claimers.length);
    expect(claimers.length).to.be.greaterThan(0);
    const withdrawn = await escrow.queryFilter(escrow.filters.Withdrawn(), net.deployBlock);
    const who = new Set(withdrawn.map((e) => e.args.account.toLowerCase()));
    expect(minerAddrs.filter((a) => who.has(a.toLowerCase())).length).to.be.greaterThan(0);

    await expectEscrowHoldsWhatItOwes(net);
    const statuses = miners.map((m) => m.status());
    if (process.env.POT_TEST_LOGS) console.log(JSON.stringify({ dummyMs, jobMs, statuses }, null, 1));
    console.log(
      `      first dummy block after ${dummyMs} ms; ${job.numStages}-stage Iris job finished in ${jobMs} ms`,
    );
    expect(statuses.reduce((n, s) => n + (s.counters.declared ?? 0), 0)).to.be.greaterThanOrEqual(
      job.numStages * 2,
    );

    // The status file (`pot miner status`) follows the agent: written when something other than the head
    // block changes, and at least every 5 s.
    await waitFor(
      "the status files to catch up",
      async () =>
        miners.every((m) => {
          const onDisk = JSON.parse(
            readFileSync(minerStatusPath(net.config(miners.indexOf(m) + 1).dataDir), "utf8"),
          );
          const live = m.status();
          return (
            onDisk.address === live.address &&
            onDisk.wrappedBlocks === live.wrappedBlocks &&
            JSON.stringify(onDisk.counters) === JSON.stringify(live.counters) &&
            Date.now() - Date.parse(onDisk.at) < 10_000
          );
        }),
      15_000,
    );
  });
});
