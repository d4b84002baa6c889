/**
 * End to end through src/devnet, on both node implementations: a node child (`hardhat node`, then anvil),
 * `pot deploy`, three `pot miner start` children (each with its own embedded IPFS node) and an in-process
 * employer run a small Iris job (C=2, K=2) to the end; `verifyJob` re-executes EVERY stage; rewards were
 * credited; the ledger's balance equals totalOwed(). Hardhat runs 4 stages; anvil a shorter 2-stage job
 * (the same code paths, to keep the suite's time down). One implementation only:
 * `npx hardhat test test/e2e/network.e2e.test.ts --grep anvil`.
 * Logs: POT_DEVNET_KEEP=1 keeps the devnet directory (printed) with logs/<process>.log.
 */
import { expect } from "chai";
import { irisJobInput, jobSummary, startDevnet, startEmployer, type Devnet } from "../../src/devnet";
import { readClaimable } from "../../src/employer/ledger";
import type { NodeImpl } from "../../src/devnet/node-impl";
import { verifyJob } from "../../src/verify";

const RUNS: { impl: NodeImpl; stages: number }[] = [
  { impl: "hardhat", stages: 4 },
  { impl: "anvil", stages: 2 },
];

for (const { impl, stages } of RUNS)
  describe(`devnet end to end on ${impl}: chain + 3 miner processes + employer + verifier`, function () {
    this.timeout(420_000);
    let devnet: Devnet | undefined;

    after(async () => {
      if (devnet !== undefined && process.env.POT_DEVNET_KEEP)
        console.log(`      devnet kept in ${devnet.dir}`);
      await devnet?.stop();
    });

    it(`a ${stages}-stage Iris job completes, verifies with every stage re-executed, pays and balances`, async () => {
      const t0 = Date.now();
      devnet = await startDevnet({ impl, keep: process.env.POT_DEVNET_KEEP !== undefined });
      const all = Array.from({ length: stages }, (_, i) => i + 1);
      const miners = await devnet.startMiners(3);
      const employer = await startEmployer(devnet, 10);
      const input = await irisJobInput({ stages, c: 2, k: 2, feeWei: 4_000_000_000_000_000n });
      const job = await employer.createJob(input);
      expect(job.plan.numStages).to.equal(stages);
      const h = employer.handle;

      await devnet.waitFor(
        `job ${job.jobId} to finish`,
        async () => (await jobSummary(h, job.jobId)).status === "finished",
        240_000,
      );
      expect((await jobSummary(h, job.jobId)).wrappedStages).to.deep.equal(all);

      // Every stage re-executed bit for bit from the chain and IPFS alone.
      const report = await verifyJob(h, employer.store, job.jobId, { sample: { kind: "all" } });
      expect(report.failures.map((c) => `${c.id} stage ${c.stage}: ${c.message}`)).to.deep.equal([]);
      expect(report.ok).to.equal(true);
      expect([...report.reexecuted].sort()).to.deep.equal(all);
      expect(report.detection.singleWrongStage).to.equal(1);

      // Rewards: credited to the miners (builder, declarants, attesters), then claimable or withdrawn. Pull
      // payments: each miner claims its shares itself, builder and committee shares in a quiet moment.
      const minerAddrs = new Set(miners.map((m) => m.account.address.toLowerCase()));
      const roles = ["builder", "declarant", "attester"];
      await devnet.waitFor(
        "builder, declarant and attester shares to be claimed",
        async () => {
          const s = await jobSummary(h, job.jobId);
          return roles.every((role) => s.rewards.some((r) => r.role === role));
        },
        60_000,
      );
      const summary = await jobSummary(h, job.jobId);
      expect(summary.rewardTotal > 0n).to.equal(true);
      expect(summary.rewards.every((r) => minerAddrs.has(r.account.toLowerCase()))).to.equal(true);
      for (const role of roles)
        expect(
          summary.rewards.some((r) => r.role === role),
          `a ${role} reward`,
        ).to.equal(true);
      // The miners claim the ended job (one escrow.claim each) and withdraw: wait for it.
      await devnet.waitFor(
        "the miners' claims of the job (claimable or withdrawn)",
        async () => {
          const claimable = await Promise.all(miners.map((m) => readClaimable(h, m.account.address)));
          const withdrawn = miners.flatMap((m) => m.records().filter((r) => r.msg === "rewards withdrawn"));
          return claimable.some((c) => c > 0n) || withdrawn.length > 0;
        },
        60_000,
      );

      // Every wei of the escrow is accounted for.
      expect(summary.escrowBalance).to.equal(summary.totalOwed);
      console.log(
        `      ${stages}-stage Iris job on 3 miner processes (${impl}): finished and verified in ${Math.round((Date.now() - t0) / 1000)} s (setup included)`,
      );
    });
  });
