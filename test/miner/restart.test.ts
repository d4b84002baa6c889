/**
 * Restart safety: a miner running as its own process (`pot miner start`) is killed with SIGKILL right
 * after its first declaration lands, restarted on the same data directory, and still completes the job
 * (C = 3: every stage needs its declaration too) without ever declaring a stage twice.
 */
import { expect } from "chai";
import { useMinerNetwork } from "../support/miner-fixture";
import {
  expectEscrowHoldsWhatItOwes,
  publishIrisJob,
  waitFor,
  waitForJobToFinish,
} from "../support/miner-network";
import { minerProcessReady, spawnMinerProcess, type MinerProcess } from "../support/miner-process";

describe("miner restart (SIGKILL after declaring)", function () {
  this.timeout(240_000);
  let proc: MinerProcess | undefined;
  const fx = useMinerNetwork("miner-restart", {
    beforeStop: async () => {
      if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill("SIGTERM");
        await proc.exited();
      }
    },
  });

  it("a killed and restarted miner neither loses its reveal nor declares twice", async () => {
    const { net } = fx;
    const { stages } = net.suite(0);
    const childAddr = net.node.accounts[3].address;
    await fx.startMiners([1, 2], { policy: { idleDummy: false } });
    let run = spawnMinerProcess(net, 3);
    proc = run;
    await waitFor("the child miner to start", async () => minerProcessReady(run), 90_000, 200);

    const job = (fx.job = await publishIrisJob(net, 4, {
      numStages: 3,
      c: 3,
      k: 2,
      feeWei: 3_000_000_000_000_000n,
    }));
    const jobId = job.jobId;
    await waitFor(
      "the child's first declaration",
      async () =>
        (await stages.queryFilter(stages.filters.Declared(jobId, 1, childAddr), net.deployBlock)).length > 0,
      90_000,
      100,
    );
    run.child.kill("SIGKILL");
    await run.exited();
    const before = run.lines.length;

    run = spawnMinerProcess(net, 3);
    proc = run;
    await waitForJobToFinish(net, jobId, 150_000);

    for (let s = 1; s <= job.numStages; s++) {
      const mine = await stages.queryFilter(stages.filters.Declared(jobId, s, childAddr), net.deployBlock);
      expect(mine.length, `child declarations of stage ${s}`).to.equal(1);
      const wrapped = await stages.queryFilter(
        stages.filters.BlockWrapped(undefined, undefined, jobId),
        net.deployBlock,
      );
      expect(
        wrapped.map((e) => Number(e.args.stage)),
        `stage ${s} wrapped`,
      ).to.include(s);
    }
    // Every stage opened C = 3 declarations, the child's included (its commitment opened against rho).
    const headers = await stages.queryFilter(stages.filters.HeaderSubmitted(jobId), net.deployBlock);
    for (const hdr of headers) {
      expect(hdr.args.openers.map((a) => a.toLowerCase())).to.include(childAddr.toLowerCase());
      expect(hdr.args.faulty).to.deep.equal([]);
    }
    await expectEscrowHoldsWhatItOwes(net);
    expect(before).to.be.greaterThan(0);
    // The restarted process found the declaration it made before the kill in its data directory (its log
    // lines are one JSON object each; the `ready` result on stdout spans several lines).
    const loaded = run.lines
      .map((l) => (l.startsWith("{") && l.endsWith("}") ? JSON.parse(l) : {}))
      .find((r) => r.msg === "miner state loaded");
    expect(loaded, "restart log").to.not.equal(undefined);
    expect(loaded.declarations).to.be.greaterThanOrEqual(1);
  });
});
