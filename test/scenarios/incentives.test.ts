/**
 * Issue 12's attacks played by real agents on one chain (three honest `startMiner` agents, a real
 * `hardhat node` with interval mining, small Iris jobs): a lazy copy that commits to a made-up rho, Sybil
 * identities that copy a pending declaration from the mempool to close a stage early, a juror that
 * commits and never reveals, and an offender that races to report itself. Each job must still finish,
 * every offender is slashed and unpaid, and the network invariants hold (every wrapped stage re-executes,
 * escrow balance == totalOwed). The contract-level versions of the same attacks are in
 * test/contracts/suite/attacks.*.test.ts. Accounts: 1-3 honest, 4 employer, 5-16 adversaries.
 */
import { expect } from "chai";
import {
  CopycatMiner,
  ForwardOnlyMiner,
  JuryStaller,
  LazyMiner,
  SelfSlasher,
  SybilCloser,
} from "../support/scenario-adversaries";
import {
  E18,
  HONEST_STAKE,
  ReferenceTrainer,
  assertNetworkInvariants,
  ledgerEvents,
  nextJobId,
  publishJob,
  slashProvablyWrong,
  waitJobFinished,
  withMempool,
  EMPLOYER,
  WATCHDOG,
  useScenarioNet,
} from "../support/scenario-harness";

const lower = (a: string) => a.toLowerCase();

describe("scenarios: issue 12's attacks against three honest agents (one chain)", function () {
  this.timeout(600_000);
  const fx = useScenarioNet([{ accounts: [5, 6, 7, 8] }]);

  it("lazy copy: the public result with a commitment to a made-up rho never opens; it neither stops nor dilutes the stage and is slashed", async () => {
    const copier = await new ForwardOnlyMiner(
      await fx.sc.adapter(5),
      await nextJobId(fx.sc),
      [1, 2],
      false,
    ).start();
    const job = await publishJob(fx.sc, EMPLOYER, { numStages: 2 });
    const ms = await waitJobFinished(fx.sc, job.jobId, 240_000);
    await copier.stop();
    expect(
      copier.actions.filter((a) => a.startsWith("declared stage")).length,
      copier.errors.join("; "),
    ).to.be.greaterThan(0);
    const events = await ledgerEvents(fx.sc, job.jobId);
    // Every header listed the copy as faulty, or the stage went to the jury (too few openings to build).
    const faultyIn = events.filter(
      (e) => e.kind === "HeaderSubmitted" && e.faulty.some((f) => lower(f) === lower(copier.address)),
    ).length;
    const juries = events.filter((e) => e.kind === "StageToJury").length;
    expect(faultyIn + juries, "the copy was listed faulty or the stage juried").to.be.greaterThan(0);
    const slashed = await slashProvablyWrong(fx.sc, job.jobId, WATCHDOG);
    expect(slashed.map(lower)).to.include(lower(copier.address));
    await assertNetworkInvariants(fx.sc, job, {
      honest: fx.honest,
      slashed: [copier.address],
      unpaid: [copier.address],
    });
    console.log(
      `      lazy copy: job finished in ${ms} ms; the copy listed faulty in ${faultyIn} header(s), ${juries} stage(s) juried`,
    );
  });

  it("Sybil close: copies of a pending declaration from two identities cannot close the stage before its minimum declaration window; every honest miner declares, the copies are slashed", async () => {
    const jobId = await nextJobId(fx.sc);
    const closer = await new SybilCloser(
      await fx.sc.adapter(6),
      [await fx.sc.session(7), await fx.sc.session(8)],
      jobId,
      [1],
    ).start(E18);
    const { job, ms } = await withMempool(fx.sc, async () => {
      const job = await publishJob(fx.sc, EMPLOYER, { numStages: 2, c: 2, minDeclareSeconds: 8 });
      return { job, ms: await waitJobFinished(fx.sc, job.jobId, 240_000) };
    });
    await closer.stop();
    const sybils = [(await fx.sc.session(7)).account!.address, (await fx.sc.session(8)).account!.address];
    expect(closer.sent.length, closer.errors.join("; ")).to.equal(2);
    const events = await ledgerEvents(fx.sc, job.jobId);
    const declared = events.flatMap((e) =>
      e.kind === "Declared" && e.stage === 1 ? [lower(e.declarer)] : [],
    );
    // The copies landed (mined ahead of or beside the honest declaration) ...
    expect(sybils.filter((a) => declared.includes(lower(a))).length).to.equal(2);
    // ... and still every honest miner got its declaration in before the stage closed.
    expect(fx.honest.filter((a) => declared.includes(lower(a))).length).to.equal(3);
    const slashed = await slashProvablyWrong(fx.sc, job.jobId, WATCHDOG);
    expect(slashed.map(lower).sort()).to.deep.equal(sybils.map(lower).sort());
    await assertNetworkInvariants(fx.sc, job, { honest: fx.honest, slashed: sybils, unpaid: sybils });
    console.log(
      `      Sybil close: 2 copies from the mempool; 3 honest declarations; job finished in ${ms} ms`,
    );
  });

  it("jury staller: a juror that commits and never reveals cannot stall the jury and loses its absent-seat slash", async () => {
    // A lazy miner disputes stage 1 of each job; the staller stakes like an honest miner so the draw often
    // seats it. Up to four jobs until it sits on a jury.
    const staller = await fx.sc.adapter(5);
    let seatedIn = 0;
    let jobs = 0;
    for (; jobs < 4 && seatedIn === 0; jobs++) {
      const jobId = await nextJobId(fx.sc);
      const lazy = await new LazyMiner(await fx.sc.adapter(6), jobId, [1]).start();
      const job = await publishJob(fx.sc, EMPLOYER, { numStages: 1 });
      const ref = await ReferenceTrainer.of(fx.sc, job);
      const s = await new JuryStaller(staller, job.jobId, ref).start(HONEST_STAKE);
      const ms = await waitJobFinished(fx.sc, job.jobId, 300_000);
      await s.stop();
      await lazy.stop();
      const events = await ledgerEvents(fx.sc, job.jobId);
      const drawn = events.filter(
        (e) => e.kind === "JuryDrawn" && e.seats.some((x) => lower(x) === lower(staller.me)),
      );
      seatedIn += drawn.length;
      const decided = events.find((e) => e.kind === "JuryDecided");
      expect(decided, "the jury decided").to.not.equal(undefined);
      expect(decided!.kind === "JuryDecided" && decided!.resultHash).to.equal((await ref.stage(1)).hash);
      expect(events.some((e) => e.kind === "JuryVoted" && lower(e.juror) === lower(staller.me))).to.equal(
        false,
      );
      if (drawn.length > 0) {
        // Slashed for every round it sat in without revealing (by an honest agent, or by itself).
        const absent = events.filter(
          (e) => e.kind === "Slashed" && e.fault === 3 && lower(e.staker) === lower(staller.me),
        );
        expect(absent.length, "absent-seat slashes of the staller").to.be.greaterThan(0);
      }
      await slashProvablyWrong(fx.sc, job.jobId, WATCHDOG);
      await assertNetworkInvariants(fx.sc, job, {
        honest: fx.honest,
        slashed: [lazy.address],
        unpaid: [staller.me],
      });
      console.log(
        `      jury staller: job ${job.jobId} finished in ${ms} ms; staller seated in ${drawn.length} round(s); rounds ${events.filter((e) => e.kind === "JuryRequested").length}`,
      );
    }
    expect(seatedIn, `the staller seated on some jury over ${jobs} job(s)`).to.be.greaterThan(0);
  });

  it("self-slash: an offender that reports itself first keeps only the 10% bounty of its own slash", async () => {
    const a = await fx.sc.adapter(8);
    const stakeBefore = await a.stakeOf(a.me);
    const tokensBefore = await a.tokenBalance(a.me);
    const self = await new SelfSlasher(a, await nextJobId(fx.sc), [1, 2]).start();
    const job = await publishJob(fx.sc, EMPLOYER, { numStages: 2 });
    const ms = await waitJobFinished(fx.sc, job.jobId, 240_000);
    // let it report itself (it waits for the wrap)
    for (let i = 0; i < 40 && self.selfReports.length === 0; i++)
      await new Promise((r) => setTimeout(r, 250));
    await self.stop();
    await slashProvablyWrong(fx.sc, job.jobId, WATCHDOG);
    const slashes = (await ledgerEvents(fx.sc, job.jobId)).filter(
      (e): e is Extract<typeof e, { kind: "Slashed" }> =>
        e.kind === "Slashed" && lower(e.staker) === lower(a.me),
    );
    expect(slashes.length, `${self.selfReports.join("; ")} ${self.errors.join("; ")}`).to.be.greaterThan(0);
    const slashedTotal = slashes.reduce((x, e) => x + e.amount, 0n);
    const byItself = slashes.filter((e) => lower(e.reporter) === lower(a.me)).length;
    const wealthBefore = stakeBefore + tokensBefore;
    const wealthAfter = (await a.stakeOf(a.me)) + (await a.tokenBalance(a.me));
    // It lost the whole slash but the bounty on the slashes it reported itself (at most 10%).
    expect(wealthBefore - wealthAfter).to.be.at.least(slashedTotal - slashedTotal / 10n);
    await assertNetworkInvariants(fx.sc, job, { honest: fx.honest, slashed: [a.me], unpaid: [a.me] });
    console.log(
      `      self-slash: ${slashes.length} slash(es) of ${slashedTotal} wei POT, ${byItself} reported by the offender itself; it lost ${wealthBefore - wealthAfter} wei POT; job finished in ${ms} ms`,
    );
  });

  it("copycat owes nothing: its copies earn no share of any stage (no dilution of the openers)", async () => {
    const copycat = await new CopycatMiner(await fx.sc.adapter(7), await nextJobId(fx.sc), [1]).start();
    const job = await publishJob(fx.sc, EMPLOYER, { numStages: 1 });
    await waitJobFinished(fx.sc, job.jobId, 240_000);
    await copycat.stop();
    expect(await copycat.owed()).to.equal(0n);
    const events = await ledgerEvents(fx.sc, job.jobId);
    const header = events.find((e) => e.kind === "HeaderSubmitted");
    expect(header?.kind === "HeaderSubmitted" && header.openers.map(lower)).to.not.include(
      lower(copycat.address),
    );
    await slashProvablyWrong(fx.sc, job.jobId, WATCHDOG);
    await assertNetworkInvariants(fx.sc, job, {
      honest: fx.honest,
      slashed: [copycat.address],
      unpaid: [copycat.address],
    });
  });
});
