/**
 * The employer against a real chain (hardhat node child) and an embedded IPFS node: create a job, check
 * the chain against what was uploaded, finalize its stages with real training through the contracts,
 * watch it, fetch the model as tfjs files and load them, and reclaim an expired job's fee.
 */
import { expect } from "chai";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { keccak256, toHex } from "viem";
import { decodeBatch, evaluate } from "../../src/ml";
import { stateHash } from "../../src/protocol";
import { fetchManifest } from "../../src/storage";
import { createJob, estimateJob, type CreatedJob } from "../../src/employer/create-job";
import { readJob, readJobEvents, readOwed, readTotalOwed, sendClaim } from "../../src/employer/ledger";
import { fetchModel, registerFileScheme } from "../../src/employer/fetch-model";
import { refundJob, RefundNotPossibleError } from "../../src/employer/refund";
import { jobStatus, formatStatus } from "../../src/employer/status";
import { GAS } from "../../src/employer/plan";
import {
  claimResult,
  employerContext,
  finalizeStage,
  finalizeStageByJury,
  stageAnchor,
  trainStages,
  runPot,
  smallJobInput,
  startEmployerNet,
  type EmployerNet,
} from "../support/employer-chain";

describe("employer against a hardhat node and embedded IPFS", function () {
  this.timeout(240_000);
  let net: EmployerNet;
  let job: CreatedJob;

  before(async () => {
    net = await startEmployerNet(3);
  });
  after(async () => {
    await net?.stop();
  });

  const ctx = () => employerContext(net);

  it("estimates without uploading or sending anything", async () => {
    const input = await smallJobInput();
    const before = await net.handle.client.getTransactionCount({ address: net.employer.account.address });
    const plan = estimateJob(input);
    expect(plan.numStages).to.equal(3);
    expect(plan.stepsPerStage).to.equal(4);
    expect(plan.fee.perStage).to.equal(input.fee / 3n);
    expect(await net.handle.client.getTransactionCount({ address: net.employer.account.address })).to.equal(
      before,
    );
  });

  /** Runs `pot ...args` in-process against the test network; returns stdout. */
  async function pot(...args: string[]): Promise<string> {
    const run = await runPot(net, ...args);
    if (run.error !== undefined) throw new Error(run.error);
    return run.out;
  }

  it("pot job create --dry-run prints the estimate and sends nothing", async () => {
    const nonce = await net.handle.client.getTransactionCount({ address: net.employer.account.address });
    const next = await readJob(net.handle, 1n).catch(() => undefined);
    const text = await pot(
      "job",
      "create",
      "--dry-run",
      "--train-size",
      "640",
      "--test-size",
      "10",
      "--steps-per-stage",
      "5",
      "--batch-size",
      "64",
      "--fee",
      "0.5",
      "--c",
      "3",
      "--k",
      "3",
    );
    expect(text).to.match(/Plan: 2 stages x 5 steps of 64 samples/);
    expect(text).to.match(/Step checkpoints: every 20 steps, 1 per stage \(--checkpoint-every\)/);
    expect(text).to.match(new RegExp(`Gas: createJob ~${GAS.createJob}`));
    expect(text).to.match(/Dry run: nothing uploaded, nothing sent/);
    const json = JSON.parse(
      await pot(
        "--json",
        "job",
        "create",
        "--dry-run",
        "--train-size",
        "640",
        "--test-size",
        "10",
        "--steps-per-stage",
        "5",
        "--fee",
        "0.5",
      ),
    );
    expect(json.dryRun).to.equal(true);
    expect(json.numStages).to.equal(2);
    expect(json.checkpointEvery).to.equal(20);
    const bad = await runPot(
      net,
      "job",
      "create",
      "--dry-run",
      "--train-size",
      "640",
      "--checkpoint-every",
      "-2",
    );
    expect(bad.error).to.match(/training\.checkpointEvery: must be an integer >= 0 .*got -2/);
    expect(json.feePerStage.perStage).to.equal(((5n * 10n ** 17n) / 2n).toString());
    expect(await net.handle.client.getTransactionCount({ address: net.employer.account.address })).to.equal(
      nonce,
    );
    expect(await readJob(net.handle, 1n).catch(() => undefined)).to.deep.equal(next);
  });

  it("creates a job whose on-chain record matches the uploaded manifest, S_0 and fee", async () => {
    const input = await smallJobInput();
    const owedBefore = await readTotalOwed(net.handle);
    const phases: string[] = [];
    job = await createJob(ctx(), input, (p) => phases.push(p.phase));
    expect(phases).to.include.members(["spec", "upload", "transaction"]);
    const onChain = await readJob(net.handle, job.jobId);
    expect(onChain.escrow).to.equal(input.fee);
    expect(onChain.numStages).to.equal(3);
    expect(onChain.employer).to.equal(net.employer.account.address);
    expect(onChain.initialStateHash).to.equal(job.initialStateHash);
    // the minimum declaration window is the stage's estimated training time (within [0, stageSeconds] here)
    expect(onChain.minDeclareSeconds).to.equal(job.minDeclareSeconds);
    expect(job.minDeclareSeconds).to.equal(Math.min(600, Math.ceil(job.plan.stageTrainingSeconds)));
    expect(stateHash(await net.store.get(job.initialStateCid))).to.equal(onChain.initialStateHash);
    const events = await readJobEvents(net.handle, job.jobId);
    expect(events.created.manifestRoot).to.equal(job.manifestRoot);
    expect(events.created.fee).to.equal(input.fee);
    const manifest = await fetchManifest(net.store, job.manifestCid, events.created.manifestRoot);
    expect(manifest.numStages).to.equal(3);
    expect(manifest.totalSamples).to.equal(3 * 4 * 10);
    expect((await readTotalOwed(net.handle)) - owedBefore).to.equal(input.fee);
  });

  it("finalizes every stage with real training, shows status and the loss curve", async () => {
    const claims = await trainStages(net, job, 3);
    for (const [i, claim] of claims.entries()) await finalizeStage(net, job.jobId, i + 1, claim);
    const status = await jobStatus(net.handle, net.store, job.jobId, { evaluate: true });
    expect(status.status).to.equal("finished");
    expect(status.wrappedStages).to.equal(3);
    expect(status.stages.map((s) => s.phase)).to.deep.equal(["wrapped", "wrapped", "wrapped"]);
    expect(status.stages[0].declarants).to.have.length(2);
    expect(status.stages[0].builder).to.equal(net.miners[0].account.address);
    expect(status.stages[0].rewards.map((r) => r.role)).to.include.members([
      "builder",
      "declarant",
      "attester",
    ]);
    expect(status.lossCurve.map((p) => p.stage)).to.deep.equal([0, 1, 2, 3]);
    expect(status.lossCurve[3].loss).to.be.lessThan(status.lossCurve[0].loss);
    expect(formatStatus(status).join("\n")).to.match(/Loss curve/);
    // the chain's held-out metric of each stage (its outcome) is the evaluation's float32 loss and ppm accuracy
    for (const st of status.stages) {
      expect(st.heldOut?.loss).to.equal(Math.fround(st.loss!.loss));
      expect(st.heldOut?.accuracy).to.equal(Math.floor(st.loss!.accuracy * 1e6 + 1e-9) / 1e6);
    }
    expect(status.target).to.equal(null);
    expect(formatStatus(status).join("\n")).to.match(
      /chain loss\/acc: the held-out metric the wrapped stage's outcome declares/,
    );
    // The CLI opens its own IPFS node and finds the data through the peer registry, as a remote user would.
    const addr = (await net.store.addresses())[0];
    await net.miners[0].adapter.setPeer(addr);
    const cli = JSON.parse(await pot("--json", "job", "status", String(job.jobId)));
    expect(cli.status).to.equal("finished");
    expect(cli.stages).to.have.length(3);
    expect(cli.stages[2].heldOut.loss).to.equal(status.stages[2].heldOut!.loss);
    const verified = await pot("verify", String(job.jobId), "--sample", "1", "--seed", "5");
    expect(verified).to.match(/VERIFIED/);
    expect(verified).to.match(/probability 33\.3%/);
  });

  it("fetches the final model as files that tf.loadLayersModel reads and that evaluate like the state", async () => {
    const dir = join(net.dir, "model");
    const fetched = await fetchModel(net.handle, net.store, job.jobId, dir);
    expect(fetched.stage).to.equal(3);
    expect(fetched.final).to.equal(true);
    expect(fetched.step).to.equal(12);
    registerFileScheme();
    const model = await tf.loadLayersModel(pathToFileURL(fetched.modelJson).href);
    const doc = JSON.parse(new TextDecoder().decode(await net.store.get(job.specCid)));
    // the default checkpointEvery is written into the spec explicitly (4 steps per stage: max(20, 1))
    expect(doc.spec.training.checkpointEvery).to.equal(20);
    const test = decodeBatch(await net.store.get(doc.testSetCid));
    const x = tf.tensor(test.features, [test.count, 784]);
    const predicted = (model.predict(x) as tf.Tensor).argMax(1).dataSync();
    let correct = 0;
    for (let i = 0; i < test.count; i++) if (predicted[i] === test.labels[i]) correct++;
    const ours = await evaluate(doc.spec, await net.store.get(fetched.cid), test);
    expect(correct / test.count).to.be.closeTo(ours.accuracy, 0.02);
    // The loaded weights are the state's weights, bit for bit.
    const kernel = model.getWeights()[0].dataSync();
    const state = await net.store.get(fetched.cid);
    expect(stateHash(state)).to.equal(fetched.stateHash);
    expect(kernel.length).to.equal(784 * 16);
    x.dispose();
    model.dispose();
  });

  it("refunds every wei of an expired job, and not before its deadline", async () => {
    const input = await smallJobInput({ name: "expiring", deadlineSeconds: 120, fee: 1_000_000_007n });
    const created = await createJob(ctx(), input);
    const sender = net.employer.session.sender;
    try {
      await refundJob(net.handle, sender, created.jobId);
      expect.fail("refund before the deadline");
    } catch (error) {
      expect(error).to.be.instanceOf(RefundNotPossibleError);
      expect((error as Error).message).to.match(/open until its deadline/);
    }
    await net.testClient.increaseTime({ seconds: 200 });
    await net.testClient.mine({ blocks: 1 });
    const before = await net.handle.client.getBalance({ address: sender.address });
    const r = await refundJob(net.handle, sender, created.jobId);
    const after = await net.handle.client.getBalance({ address: sender.address });
    expect(r.unspent).to.equal(input.fee);
    expect(r.withdrawn).to.equal(input.fee);
    expect(after - before + r.gasCost).to.equal(input.fee);
    expect((await readJob(net.handle, created.jobId)).statusName).to.equal("expired");
  });

  it("job status shows a stage's jury, the faulty declaration, its slash, rewards per role and a claim", async () => {
    const juried = await createJob(ctx(), await smallJobInput({ name: "juried", maxStages: 1 }));
    const [claim] = await trainStages(net, juried, 1);
    await finalizeStageByJury(net, juried.jobId, 1, claim, keccak256(toHex("a wrong S_1")));
    // anyone slashes the faulty declaration against the stage's final (result, rho)
    const wrong = net.miners[1];
    const events = await readJobEvents(net.handle, juried.jobId);
    const d = events.stages[0].declarations.find((x) => x.declarer === wrong.account.address)!;
    await net.miners[2].adapter.slashDeclaration({
      jobId: juried.jobId,
      stage: 1,
      anchor: (await stageAnchor(net, juried.jobId, 1)).anchor,
      declaration: {
        declarer: d.declarer,
        resultHash: d.resultHash,
        commitment: d.commitment,
        rand: d.rand,
        timestamp: d.timestamp,
      },
      result: claimResult(claim),
      rho: claim.rho,
    });
    // the builder's rewards, claimed by hand for it (anyone may claim for anyone)
    const builder = net.miners[0].account.address;
    const owed = await readOwed(net.handle, juried.jobId, builder);
    await sendClaim(net.employer.session.sender, net.handle.suite, juried.jobId, builder);

    const status = await jobStatus(net.handle, net.store, juried.jobId);
    expect(status.status).to.equal("finished");
    expect(status.minDeclareSeconds).to.equal(juried.minDeclareSeconds);
    expect(status.stages[0].phase).to.equal("wrapped");
    expect(status.stages[0].faulty).to.deep.equal([wrong.account.address]);
    expect(status.stages[0].opened).to.deep.equal([builder]);
    expect(status.juries).to.have.length(1);
    expect(status.juries[0]).to.deep.include({ stage: 1, reason: "disputed", rounds: 1 });
    expect(status.juries[0].decided).to.deep.equal({ resultHash: claimResult(claim), rho: claim.rho });
    expect(status.juries[0].votes).to.be.greaterThan(0);
    expect(status.slashes).to.have.length(1);
    expect(status.slashes[0]).to.deep.include({
      stage: 1,
      staker: wrong.account.address,
      fault: "declaration",
    });
    expect(status.rewards.map((r) => r.role)).to.include.members(["builder", "declarant", "attester"]);
    expect(
      status.rewards.some((r) => r.account === wrong.account.address && r.role === "declarant"),
    ).to.equal(false);
    expect(status.claims).to.deep.equal([{ account: builder, amount: owed.amount, coinbase: owed.coinbase }]);
    const text = formatStatus(status).join("\n");
    expect(text).to.match(
      /Stage 1 went to a jury \(disputed\): 1 round\(s\), \d+ vote\(s\) revealed, decided result 0x/,
    );
    expect(text).to.match(
      new RegExp(`Stage 1: ${wrong.account.address} slashed [\\d.]+ POT \\(declaration\\)`),
    );
    expect(text).to.match(new RegExp(`Claimed by ${builder}`));
  });
});
