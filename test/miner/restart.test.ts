/**
 * Restart safety: a miner running as its own process (src/miner/main.ts) is killed with SIGKILL right
 * after its first declaration lands, restarted on the same data directory, and still completes the job
 * (C = 3: every stage needs its declaration too) without ever declaring a stage twice.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMiner, type MinerHandle } from "../../src/miner/agent";
import { silentLogger } from "../../src/miner/log";
import {
  publishIrisJob,
  startMinerNetwork,
  waitFor,
  type MinerTestNetwork,
  type PublishedJob,
} from "../support/miner-network";
import { spawnMinerProcess, type MinerProcess } from "../support/miner-process";

describe("miner restart (SIGKILL after declaring)", function () {
  this.timeout(240_000);
  let dir: string;
  let net: MinerTestNetwork;
  let job: PublishedJob | undefined;
  const miners: MinerHandle[] = [];
  let proc: MinerProcess | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "pot-miner-restart-"));
    net = await startMinerNetwork(dir, 500);
  });

  after(async () => {
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill("SIGTERM");
      await proc.exited();
    }
    await Promise.all(miners.map((m) => m.stop()));
    await job?.store.close();
    await net?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a killed and restarted miner neither loses its reveal nor declares twice", async () => {
    const { stages, escrow } = net.suite(0);
    const childAddr = net.node.accounts[3].address;
    for (const i of [1, 2])
      miners.push(
        await startMiner({ config: net.config(i), log: silentLogger, policy: { idleDummy: false } }),
      );
    let run = spawnMinerProcess(net, 3);
    proc = run;
    await waitFor(
      "the child miner to start",
      async () => run.lines.some((l) => l.includes('"ready":true')),
      90_000,
      200,
    );

    job = await publishIrisJob(net, 4, { numStages: 3, c: 3, k: 2, feeWei: 3_000_000_000_000_000n });
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
    await waitFor(
      "the job to finish",
      async () => Number((await stages.jobStatus(jobId)).status) === 2,
      150_000,
    );

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
    // Read both at one block: with interval mining a withdrawal may land between two "latest" reads.
    const at = await net.provider.getBlockNumber();
    expect(await net.provider.getBalance(net.addresses.escrow, at)).to.equal(
      await escrow.totalOwed({ blockTag: at }),
    );
    expect(before).to.be.greaterThan(0);
    // The restarted process found the declaration it made before the kill in its data directory.
    const loaded = run.lines
      .map((l) => (l.startsWith("{") ? JSON.parse(l) : {}))
      .find((r) => r.msg === "miner state loaded");
    expect(loaded, "restart log").to.not.equal(undefined);
    expect(loaded.declarations).to.be.greaterThanOrEqual(1);
  });
});
