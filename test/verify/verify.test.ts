/**
 * The verifier on real lineages: stages trained with runStage and finalized through the contracts by staked
 * test miners. An honest job passes with every stage re-executed (rho, state and held-out metric); a job
 * whose stage 1 header reveals a rho that training does not give, whose stage 2 outcome flatters the
 * held-out accuracy by one ppm, and whose stage 3 header names a CID of other bytes, fails with messages
 * that name the stage and both values. A stage a jury decided (a wrong declaration listed as faulty) passes
 * the lineage checks of the new header shape.
 */
import { expect } from "chai";
import { keccak256, toHex, type Hex } from "viem";
import { decodeBatch, runStage, type StageResult } from "../../src/ml";
import { fetchManifest, fetchStageBatches } from "../../src/storage";
import { createJob, type CreatedJob } from "../../src/employer/create-job";
import { readDomain } from "../../src/employer/ledger";
import { describeMetric } from "../../src/protocol";
import { verifyJob, formatReport } from "../../src/verify";
import {
  employerContext,
  finalizeStage,
  finalizeStageByJury,
  heldOutOf,
  smallJobInput,
  startEmployerNet,
  trainStages,
  type EmployerNet,
} from "../support/employer-chain";

describe("verifier against a hardhat node and embedded IPFS", function () {
  this.timeout(240_000);
  let net: EmployerNet;
  let domain: Hex;

  before(async () => {
    net = await startEmployerNet(3);
    domain = await readDomain(net.handle);
  });
  after(async () => {
    await net?.stop();
  });

  const ctx = () => employerContext(net);

  /** Honest training of one stage of `job` from `state`. */
  async function train(job: CreatedJob, stage: number, state: Uint8Array): Promise<StageResult> {
    const manifest = await fetchManifest(net.store, job.manifestCid, job.manifestRoot);
    const spec = JSON.parse(new TextDecoder().decode(await net.store.get(job.specCid))).spec;
    const batches = (await fetchStageBatches(net.store, manifest, job.manifestRoot, stage)).map((b) =>
      decodeBatch(b.bytes),
    );
    return runStage(spec, state, batches.length === 1 ? batches[0] : batches, {
      domain,
      jobId: job.jobId,
      stage,
    });
  }

  it("passes an honest lineage, re-executing every stage bit for bit (detection probability 1)", async () => {
    const job = await createJob(ctx(), await smallJobInput({ name: "honest" }));
    let state = await net.store.get(job.initialStateCid);
    for (let stage = 1; stage <= 3; stage++) {
      const r = await train(job, stage, state);
      const cid = await net.store.put(r.state, { pin: true });
      const heldOut = await heldOutOf(net, job, r.state);
      await finalizeStage(net, job.jobId, stage, {
        rho: r.rho,
        stateHash: r.stateHash,
        checkpoints: r.checkpoints,
        resultCid: cid,
        heldOut,
      });
      state = r.state;
    }
    const report = await verifyJob(net.handle, net.store, job.jobId, { sample: { kind: "all" } });
    expect(report.failures, formatReport(report).join("\n")).to.deep.equal([]);
    expect(report.ok).to.equal(true);
    expect(report.reexecuted).to.deep.equal([1, 2, 3]);
    expect(report.detection.singleWrongStage).to.equal(1);
    const ids = new Set(report.checks.map((c) => c.id));
    for (const id of [
      "manifest-root",
      "state-hash",
      "stage-parent",
      "header-parent",
      "header-hash",
      "commitment-opens",
      "block-hash",
      "outcome-hash",
      "reexec-rho",
      "reexec-state",
      "reexec-metric",
    ]) {
      expect(ids.has(id), id).to.equal(true);
    }
    // A sample of one stage of three: probability 1/3, reproducible from the seed.
    const sampled = await verifyJob(net.handle, net.store, job.jobId, {
      sample: { kind: "count", count: 1 },
      seed: 42,
    });
    expect(sampled.ok).to.equal(true);
    expect(sampled.reexecuted).to.have.length(1);
    expect(sampled.detection.singleWrongStage).to.be.closeTo(1 / 3, 1e-12);
    const again = await verifyJob(net.handle, net.store, job.jobId, {
      sample: { kind: "count", count: 1 },
      seed: 42,
    });
    expect(again.reexecuted).to.deep.equal(sampled.reexecuted);
    expect(formatReport(sampled).join("\n")).to.match(/caught with probability 33\.3%/);
  });

  it("fails a tampered lineage with precise messages: a rho that does not re-execute, a held-out metric that is not the state's, S bytes that do not hash to the outcome's state", async () => {
    const job = await createJob(ctx(), await smallJobInput({ name: "tampered", maxStages: 3 }));
    const s0 = await net.store.get(job.initialStateCid);
    // Stage 1: the declarants commit to a made-up rho for the true result (a lazy cartel that skipped the
    // work of the secret): every commitment opens against it, so only re-execution can tell.
    const r1 = await train(job, 1, s0);
    const fakeRho = keccak256(toHex("not the training secret"));
    const cid1 = await net.store.put(r1.state, { pin: true });
    const heldOut1 = await heldOutOf(net, job, r1.state);
    await finalizeStage(net, job.jobId, 1, {
      rho: fakeRho,
      stateHash: r1.stateHash,
      checkpoints: r1.checkpoints,
      resultCid: cid1,
      heldOut: heldOut1,
    });
    // Stage 2: honest training, but the outcome claims one more correct sample in a million (a cartel
    // flattering the metric): the outcome hash is consistent, only re-evaluation can tell.
    const r2 = await train(job, 2, r1.state);
    const cid2 = await net.store.put(r2.state, { pin: true });
    const true2 = await heldOutOf(net, job, r2.state);
    const flattered = { ...true2, heldOutAccuracy: true2.heldOutAccuracy + 1 };
    await finalizeStage(net, job.jobId, 2, {
      rho: r2.rho,
      stateHash: r2.stateHash,
      checkpoints: r2.checkpoints,
      resultCid: cid2,
      heldOut: flattered,
    });
    // Stage 3: honest rho, hash and metric, but the header names the CID of other bytes (one flipped byte).
    const r3 = await train(job, 3, r2.state);
    const wrong = new Uint8Array(r3.state);
    wrong[wrong.length - 1] ^= 0xff;
    const wrongCid = await net.store.put(wrong, { pin: true });
    await finalizeStage(net, job.jobId, 3, {
      rho: r3.rho,
      stateHash: r3.stateHash,
      checkpoints: r3.checkpoints,
      resultCid: wrongCid,
      heldOut: await heldOutOf(net, job, r3.state),
    });

    // Lineage alone (no re-execution) catches the bytes, not the rho nor the metric.
    const lineageOnly = await verifyJob(net.handle, net.store, job.jobId, { sample: { kind: "none" } });
    expect(lineageOnly.ok).to.equal(false);
    expect(lineageOnly.failures.map((f) => `${f.stage}:${f.id}`)).to.deep.equal(["3:state-hash"]);
    expect(lineageOnly.failures[0].message).to.contain(`S_3 fetched by the header's CID ${wrongCid}`);
    expect(lineageOnly.failures[0].message).to.contain(r3.stateHash);
    expect(lineageOnly.detection.singleWrongStage).to.equal(0);

    const report = await verifyJob(net.handle, net.store, job.jobId, { sample: { kind: "all" } });
    expect(report.ok).to.equal(false);
    const byId = report.failures.map((f) => `${f.stage}:${f.id}`);
    expect(byId).to.have.members(["1:reexec-rho", "2:reexec-metric", "3:state-hash"]);
    const rho = report.failures.find((f) => f.id === "reexec-rho")!;
    expect(rho.message).to.contain(`gives rho ${r1.rho}`);
    expect(rho.message).to.contain(`the header revealed ${fakeRho}`);
    const metric = report.failures.find((f) => f.id === "reexec-metric")!;
    expect(metric.message).to.contain(`expected ${describeMetric(true2)}`);
    expect(metric.message).to.contain(`got ${describeMetric(flattered)}`);
    expect(formatReport(report).join("\n")).to.match(/FAILED/);
  });

  it("passes a stage a jury decided: the header carries the decision, the wrong declaration is listed as faulty", async () => {
    const job = await createJob(ctx(), await smallJobInput({ name: "juried", maxStages: 1 }));
    const [claim] = await trainStages(net, job, 1);
    await finalizeStageByJury(net, job.jobId, 1, claim, keccak256(toHex("a wrong S_1")));
    const report = await verifyJob(net.handle, net.store, job.jobId, { sample: { kind: "all" } });
    expect(report.failures, formatReport(report).join("\n")).to.deep.equal([]);
    const passed = report.checks.filter((c) => c.ok).map((c) => `${c.stage}:${c.id}`);
    expect(passed).to.include.members(["1:jury-decision", "1:declarations-listed", "1:reexec-state"]);
    const faulty = report.checks.find(
      (c) => c.id === "commitment-opens" && c.message.includes(net.miners[1].account.address),
    );
    expect(faulty?.ok).to.equal(true);
    expect(faulty?.message).to.match(/is faulty \(does not open against rho\), as the header says/);
  });

  it("--segments: re-executes K checkpoint segments per stage (lists from the chain) and catches a list rewritten in one segment", async () => {
    /**
     * Trains and wraps stages 1..2 of a new job (4 steps per stage, a checkpoint every 2: two segments per
     * stage); `forge2` rewrites stage 2's checkpoint list before it is declared, as a cheater would.
     */
    async function run(name: string, forge2?: (honest: StageResult) => Promise<Hex[]>) {
      const job = await createJob(ctx(), await smallJobInput({ name, maxStages: 2, checkpointEvery: 2 }));
      let state = await net.store.get(job.initialStateCid);
      for (let stage = 1; stage <= 2; stage++) {
        const r = await train(job, stage, state);
        expect(r.checkpoints).to.have.length(2);
        for (const bytes of r.checkpointStates.slice(0, -1))
          await net.store.putRawBlock(bytes, { pin: true });
        const checkpoints = stage === 2 && forge2 !== undefined ? await forge2(r) : r.checkpoints;
        await finalizeStage(net, job.jobId, stage, {
          rho: r.rho,
          stateHash: r.stateHash,
          resultCid: await net.store.put(r.state, { pin: true }),
          heldOut: await heldOutOf(net, job, r.state),
          checkpoints,
        });
        state = r.state;
      }
      return job;
    }

    const honestJob = await run("segments");
    const honest = await verifyJob(net.handle, net.store, honestJob.jobId, { segments: 2, seed: 3 });
    expect(honest.failures, formatReport(honest).join("\n")).to.deep.equal([]);
    expect(honest.checks.filter((c) => c.id === "segment-reexec")).to.have.length(4);
    expect(honest.checks.some((c) => c.id === "reexec-state")).to.equal(false);
    expect(honest.detection.segmentsPerStage).to.equal(1);
    const half = await verifyJob(net.handle, net.store, honestJob.jobId, { segments: 1, seed: 3 });
    expect(half.detection.singleWrongStage).to.equal(0.5);
    expect(formatReport(half).join("\n")).to.match(
      /step-checkpoint segments only: .* 50\.0% \(K of its m segments/,
    );

    // stage 2's list as a cheater would declare it: checkpoint 0 replaced by a state trained on other data
    // (stored, so it can be fetched); its root is what the declarations commit to, so the ledger accepts it
    const cheatJob = await run("segments-forged", async (r) => {
      const other = await train(honestJob, 1, await net.store.get(honestJob.initialStateCid));
      await net.store.putRawBlock(other.checkpointStates[0], { pin: true });
      return [other.checkpoints[0], r.checkpoints[1]];
    });
    const caught = await verifyJob(net.handle, net.store, cheatJob.jobId, { segments: 2, seed: 3 });
    expect(caught.ok).to.equal(false);
    expect(caught.failures.map((f) => `${f.stage}:${f.id}`)).to.deep.equal([
      "2:segment-reexec",
      "2:segment-reexec",
    ]);
    expect(caught.failures[0].message).to.match(
      /^stage 2 segment 0 \(steps 1\.\.2\) re-executed from S_1 gives 0x/,
    );
    expect(caught.failures[1].message).to.match(
      /^stage 2 segment 1 \(steps 3\.\.4\) re-executed from checkpoint 0/,
    );
    // re-executing the whole stage catches it too: the checkpoint root differs
    const full = await verifyJob(net.handle, net.store, cheatJob.jobId, { sample: { kind: "all" } });
    expect(full.failures.map((f) => `${f.stage}:${f.id}`)).to.deep.equal(["2:reexec-checkpoints"]);
  });
});
