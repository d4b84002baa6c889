/**
 * A job on a chain that mines only on transactions (`pot node --block-time 0`: no interval mining): two
 * `pot miner start` processes and the devnet's employer must keep it moving themselves, mining an empty
 * block when they wait on a standing head (src/chain/on-demand-mining.ts). A 2-stage Iris job finishes.
 */
import { expect } from "chai";
import { irisJobInput, jobSummary, startDevnet, startEmployer, type Devnet } from "../../src/devnet";

describe("on-demand mining: a job finishes on a chain that mines only on transactions", function () {
  this.timeout(300_000);
  let devnet: Devnet | undefined;

  after(async () => {
    if (devnet !== undefined && process.env.POT_DEVNET_KEEP)
      console.log(`      devnet kept in ${devnet.dir}`);
    await devnet?.stop();
  });

  it("2 miners finish a 2-stage Iris job with no interval mining", async () => {
    const t0 = Date.now();
    devnet = await startDevnet({ keep: process.env.POT_DEVNET_KEEP !== undefined, blockIntervalMs: 0 });
    const miners = await devnet.startMiners(2);
    const employer = await startEmployer(devnet, 10);
    const job = await employer.createJob(await irisJobInput({ stages: 2, c: 2, k: 2 }));
    const h = employer.handle;
    await devnet.waitFor(
      `job ${job.jobId} to finish`,
      async () => (await jobSummary(h, job.jobId)).status === "finished",
      200_000,
    );
    expect((await jobSummary(h, job.jobId)).wrappedStages).to.deep.equal([1, 2]);
    // The miners said, readably and once each, that they keep the chain moving.
    const notes = miners.flatMap((m) =>
      m.records().filter((r) => /mines only on demand/.test(String(r.msg))),
    );
    expect(notes.length).to.be.within(1, miners.length);
    console.log(
      `      2-stage Iris job on an on-demand chain: finished in ${Math.round((Date.now() - t0) / 1000)} s (setup included)`,
    );
  });
});
