/**
 * Fine-tuning from a verified model (issue 16) against a real chain and embedded IPFS, with real training:
 * job A trains 2 stages; job B (`fromJob: A`) starts from A's final state and trains on other batches; the
 * verifier follows B's lineage back to A and re-executes every stage of both. A parent that did not finish,
 * or a model of another topology, is refused by the preflight before any transaction (employer API and
 * `pot job create --from-job`).
 */
import { expect } from "chai";
import { createJob, type CreatedJob } from "../../src/employer/create-job";
import { loadDataset, presetModel, readJob, PreflightError } from "../../src/employer";
import { formatReport, verifyExitCode, verifyJob } from "../../src/verify";
import {
  employerContext,
  finalizeStage,
  runPot,
  smallJobInput,
  startEmployerNet,
  trainStages,
  type EmployerNet,
} from "../support/employer-chain";

describe("fine-tuning from a finished job (--from-job)", function () {
  this.timeout(240_000);
  let net: EmployerNet;
  let parent: CreatedJob;

  before(async () => {
    net = await startEmployerNet(3);
    // the CLI opens its own IPFS node and finds the data through the peer registry, as a remote user would
    await net.miners[0].adapter.setPeer((await net.store.addresses())[0]);
  });
  after(async () => {
    await net?.stop();
  });

  const ctx = () => employerContext(net);
  const nonce = () => net.handle.client.getTransactionCount({ address: net.employer.account.address });

  /** Trains and wraps stages `from..to` of `job` (the claims of all stages up to `to`). */
  async function train(job: CreatedJob, from: number, to: number): Promise<void> {
    const claims = await trainStages(net, job, to);
    for (let s = from; s <= to; s++) await finalizeStage(net, job.jobId, s, claims[s - 1]);
  }

  /** Other batches than the parent's: another sample of MNIST, another shuffle seed. */
  const otherBatches = () => loadDataset({ kind: "mnist", trainSize: 200, testSize: 50, seed: 11 });

  it("refuses a parent that has not finished, before any transaction (employer API and CLI)", async () => {
    parent = await createJob(ctx(), await smallJobInput({ name: "parent", maxStages: 2 }));
    await train(parent, 1, 1); // 1 of 2 stages wrapped
    const before = await nonce();
    const input = await smallJobInput({ name: "child", dataset: otherBatches(), fromJob: parent.jobId });
    const error = await createJob(ctx(), input).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(PreflightError);
    expect((error as PreflightError).issues.map((i) => i.check)).to.include("parent-finished");
    expect((error as Error).message).to.match(
      new RegExp(`Job ${parent.jobId} has not finished \\(open, 1 of 2 stages wrapped\\)`),
    );
    const run = await runPot(
      net,
      "job",
      "create",
      "--from-job",
      String(parent.jobId),
      "--train-size",
      "200",
      "--test-size",
      "0",
      "--batch-size",
      "10",
      "--steps-per-stage",
      "4",
      "--max-stages",
      "1",
      "--c",
      "2",
      "--k",
      "1",
    );
    expect(run.error).to.match(/Job refused before anything was spent: .*has not finished/);
    expect(await nonce()).to.equal(before);
  });

  it("refuses another topology or optimizer than the finished parent's", async () => {
    await train(parent, 2, 2);
    expect((await readJob(net.handle, parent.jobId)).statusName).to.equal("finished");
    const before = await nonce();
    const input = await smallJobInput({
      dataset: otherBatches(),
      fromJob: parent.jobId,
      model: await presetModel("mlp", [784], 10, 8),
      optimizer: { name: "momentum", learningRate: 0.05, momentum: 0.9 },
    });
    const error = (await createJob(ctx(), input).catch((e: unknown) => e)) as PreflightError;
    expect(error).to.be.instanceOf(PreflightError);
    expect(error.issues.map((i) => i.check)).to.deep.equal(["parent-topology", "parent-optimizer"]);
    expect(error.message).to.match(/topology differs from job \d+'s: layer 0 is .*"units":8/);
    expect(await nonce()).to.equal(before);
  });

  it("job B fine-tunes job A's final state on other batches; the verifier passes across both jobs", async () => {
    const child = await createJob(
      ctx(),
      await smallJobInput({
        name: "child",
        dataset: otherBatches(),
        seed: 5,
        maxStages: 1,
        optimizer: { name: "sgd", learningRate: 0.05 },
        fromJob: parent.jobId,
      }),
    );
    const parentFinal = (await readJob(net.handle, parent.jobId)).finalStateHash;
    expect(child.parentJobId).to.equal(parent.jobId);
    expect(child.initialStateHash).to.equal(parentFinal);
    const receipt = await net.handle.client.getTransactionReceipt({ hash: child.txHash });
    console.log(`      createJobFrom gas: ${receipt.gasUsed}`);
    await train(child, 1, 1);
    const job = await readJob(net.handle, child.jobId);
    expect(job.parentJobId).to.equal(parent.jobId);
    expect(job.statusName).to.equal("finished");

    const report = await verifyJob(net.handle, net.store, child.jobId, { sample: { kind: "all" } });
    const text = formatReport(report).join("\n");
    expect(report.ok, text).to.equal(true);
    expect(verifyExitCode(report)).to.equal(0);
    expect(report.ancestors?.map((a) => a.jobId)).to.deep.equal([parent.jobId]);
    expect(report.reexecuted).to.deep.equal([1]);
    expect(report.ancestors?.[0].reexecuted).to.deep.equal([1, 2]);
    const link = report.checks.filter((c) => c.id.startsWith("parent-"));
    expect(link.map((c) => [c.id, c.ok])).to.deep.equal([
      ["parent-finished", true],
      ["parent-final-state", true],
    ]);
    expect(text).to.match(new RegExp(`Lineage: job ${child.jobId} <- ${parent.jobId}`));

    const status = await runPot(net, "job", "status", String(child.jobId));
    expect(status.error).to.equal(undefined);
    expect(status.out).to.match(
      new RegExp(`Fine-tuned from: job ${parent.jobId} \\(finished\\); S_0 = final state ${parentFinal}`),
    );
  });
});
