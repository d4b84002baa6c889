/**
 * Early stopping as the employer and the verifier see it (issue 16), on a real hardhat node with staked
 * test miners and embedded IPFS: a target is refused before any wei is spent when the job cannot meet it
 * (no test set, float labels, a bad value); `--dry-run` shows it; a job with a loss target whose stages are
 * trained for real and wrapped through the contracts finishes at the first stage that meets it, with the
 * rest of the fee refunded, and `pot job status`, `pot verify` and the certificate say so. Tampered
 * certificates fail with CERT_OUTCOME_MISMATCH and CERT_TARGET_MISMATCH.
 */
import { expect } from "chai";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJob } from "../../src/employer/create-job";
import { readNextJobId, readJobEvents } from "../../src/employer/ledger";
import { PreflightError } from "../../src/employer/preflight";
import { parseAccuracyTarget, parseLossTarget, targetFromOptions } from "../../src/employer/target";
import { formatStatus, jobStatus } from "../../src/employer/status";
import { fetchModel } from "../../src/employer/fetch-model";
import { float32FromBits, lossTarget, TargetKind } from "../../src/protocol";
import type { Batch } from "../../src/ml";
import { serveEventLine } from "../../src/cli/serve-report";
import {
  CERTIFICATE_FILE,
  certifyModel,
  checkCertificate,
  checkCertificateOnChain,
  formatReport,
  readCertificate,
  verifyJob,
  type Certificate,
} from "../../src/verify";
import {
  employerContext,
  finalizeStage,
  runPot,
  smallJobInput,
  startEmployerNet,
  trainStages,
  type EmployerNet,
} from "../support/employer-chain";

describe("early stopping: target options, status, verify and certificate (hardhat node, real training)", function () {
  this.timeout(240_000);
  let net: EmployerNet;
  const scratch = mkdtempSync(join(tmpdir(), "pot-target-"));

  before(async () => {
    net = await startEmployerNet(3);
    await net.miners[0].adapter.setPeer((await net.store.addresses())[0]);
  });
  after(async () => {
    await net?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const balance = () => net.handle.client.getBalance({ address: net.employer.account.address });

  it("parses --target-accuracy as a fraction or a percentage and --target-loss as a number", () => {
    expect(parseAccuracyTarget("0.97")).to.deep.equal({ kind: TargetKind.AccuracyAtLeast, value: 970_000 });
    expect(parseAccuracyTarget("97%")).to.deep.equal({ kind: TargetKind.AccuracyAtLeast, value: 970_000 });
    expect(parseAccuracyTarget("97.5 %")).to.deep.equal({ kind: TargetKind.AccuracyAtLeast, value: 975_000 });
    expect(parseAccuracyTarget("1")).to.deep.equal({ kind: TargetKind.AccuracyAtLeast, value: 1_000_000 });
    expect(() => parseAccuracyTarget("97")).to.throw(/above 1.*write 97%/);
    expect(() => parseAccuracyTarget("0")).to.throw(/outside \(0, 100 %\]/);
    expect(() => parseAccuracyTarget("101%")).to.throw(/outside/);
    expect(() => parseAccuracyTarget("high")).to.throw(/Invalid --target-accuracy "high"/);
    expect(parseLossTarget("0.25")).to.deep.equal(lossTarget(0.25));
    expect(() => parseLossTarget("-1")).to.throw(/Invalid --target-loss/);
    expect(() => targetFromOptions({ targetAccuracy: "0.9", targetLoss: "0.2" })).to.throw(/both given/);
    expect(serveEventLine(5n, { kind: "finished", numStages: 3, targetReachedAt: 2 }, true)).to.equal(
      "job 5 finished at stage 2 of 3: target reached (the rest of the fee is refunded); stopping (--exit-when-finished)",
    );
  });

  it("refuses a target the job cannot meet before any transaction: no test set, float labels, a bad value", async () => {
    const [ethBefore, nextBefore] = [await balance(), await readNextJobId(net.handle)];
    const input = await smallJobInput({ target: parseAccuracyTarget("90%") });
    const refusal = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(PreflightError);
      expect((error as PreflightError).issues.map((i) => i.check)).to.include("target");
      return (error as PreflightError).message;
    };
    const noTest = await refusal(
      createJob(employerContext(net), { ...input, dataset: { ...input.dataset, test: undefined } }),
    );
    expect(noTest).to.match(/needs a held-out test set, and the job has none/);
    const regression = (b: Batch): Batch => ({ ...b, labels: Float32Array.from(b.labels), labelShape: [1] });
    const floats = await refusal(
      createJob(employerContext(net), {
        ...input,
        dataset: {
          ...input.dataset,
          train: regression(input.dataset.train),
          test: regression(input.dataset.test!),
          numClasses: 0,
        },
      }),
    );
    expect(floats).to.match(/An accuracy target needs class-index labels/);
    const badValue = await refusal(
      createJob(employerContext(net), {
        ...input,
        target: { kind: TargetKind.AccuracyAtLeast, value: 0 },
      }),
    );
    expect(badValue).to.match(/is not one the ledger accepts/);
    expect(await balance()).to.equal(ethBefore);
    expect(await readNextJobId(net.handle)).to.equal(nextBefore);

    // the CLI: the same refusal, and bad values, before anything is uploaded or sent
    const args = ["job", "create", "--train-size", "200", "--steps-per-stage", "4", "--batch-size", "10"];
    args.push("--max-stages", "2", "--hidden", "8", "--c", "2", "--k", "1");
    const none = await runPot(net, ...args, "--test-size", "0", "--target-accuracy", "97%");
    expect(none.error).to.match(/needs a held-out test set, and the job has none/);
    const bad = await runPot(net, ...args, "--target-accuracy", "97");
    expect(bad.error).to.match(/--target-accuracy 97 is above 1/);
    const both = await runPot(net, ...args, "--target-accuracy", "0.9", "--target-loss", "0.1");
    expect(both.error).to.match(/both given/);
    const dry = await runPot(net, ...args, "--test-size", "20", "--target-accuracy", "97%", "--dry-run");
    expect(dry.error).to.equal(undefined);
    expect(dry.out).to.contain("Early stopping: stops early when held-out accuracy >= 97.00 %");
    const json = await runPot(
      net,
      "--json",
      ...args,
      "--test-size",
      "20",
      "--target-loss",
      "0.5",
      "--dry-run",
    );
    const plan = JSON.parse(json.out) as { target: { kind: number; value: number; description: string } };
    expect(plan.target).to.deep.include(lossTarget(0.5));
    expect(await balance()).to.equal(ethBefore);
    expect(await readNextJobId(net.handle)).to.equal(nextBefore);
  });

  it("a job reaching its loss target at stage 2 of 3 finishes there: status, verify and certificate say so", async () => {
    // The same job without a target tells the held-out loss of each stage (training does not depend on the
    // job id), so the target can be the loss stage 2 reaches.
    const probe = await createJob(employerContext(net), await smallJobInput({ name: "probe" }));
    const metrics = (await trainStages(net, probe, 3)).map((c) => c.heldOut!);
    const [l1, l2] = metrics.map((m) => float32FromBits(m.heldOutLoss));
    expect(l2, "stage 2's held-out loss is below stage 1's").to.be.lessThan(l1);
    const target = lossTarget(l2);

    const input = await smallJobInput({ name: "early", target });
    const job = await createJob(employerContext(net), input);
    expect(job.target).to.deep.equal(target);
    expect((await readJobEvents(net.handle, job.jobId)).target).to.deep.equal(target);
    const claims = await trainStages(net, job, 2);
    expect(claims.map((c) => c.heldOut)).to.deep.equal(metrics.slice(0, 2));
    for (let s = 1; s <= 2; s++) await finalizeStage(net, job.jobId, s, claims[s - 1]);

    const status = await jobStatus(net.handle, net.store, job.jobId);
    expect(status.status).to.equal("finished");
    expect(status.finishedEarlyAt).to.equal(2);
    expect(status.target).to.deep.include(target);
    expect(status.refunded).to.equal(input.fee / 3n + (input.fee % 3n));
    expect(status.stages[0].heldOut?.loss).to.equal(l1);
    expect(status.stages[1].heldOut?.loss).to.equal(l2);
    expect(status.stages[1].outcome?.heldOutLoss).to.equal(target.value);
    const text = formatStatus(status).join("\n");
    expect(text).to.contain(`Target: stops early when held-out loss <= ${l2}`);
    expect(text).to.match(/Finished at stage 2 of 3: target reached; refunded 0\.001 ETH/);
    const cli = await runPot(net, "--json", "job", "status", String(job.jobId));
    const shown = JSON.parse(cli.out) as {
      finishedEarlyAt: number;
      stages: { heldOut?: { loss: number } }[];
    };
    expect(shown.finishedEarlyAt).to.equal(2);
    expect(shown.stages[1].heldOut?.loss).to.equal(l2);

    const report = await verifyJob(net.handle, net.store, job.jobId, { sample: { kind: "all" } });
    expect(report.failures, formatReport(report).join("\n")).to.deep.equal([]);
    expect(report.finishedEarlyAt).to.equal(2);
    expect(report.checks.find((c) => c.id === "target-reached")?.ok).to.equal(true);
    expect(report.checks.filter((c) => c.id === "reexec-metric" && c.ok)).to.have.length(2);
    expect(formatReport(report)[0]).to.match(/VERIFIED \(.*finished at stage 2: target reached\)/);

    const dir = join(scratch, "model");
    const fetched = await fetchModel(net.handle, net.store, job.jobId, dir);
    expect(fetched.final).to.equal(true);
    await certifyModel(net.handle, net.store, fetched);
    const c = readCertificate(dir);
    expect(c.job.finishedAt).to.equal(2);
    expect(c.job.target).to.deep.include(target);
    expect(c.stages[1].outcome.heldOutLoss).to.equal(target.value);
    const summary = await checkCertificate(dir);
    expect(summary.finishedAt).to.equal(2);
    await checkCertificateOnChain(net.handle, c);

    let copies = 0;
    const tampered = async (edit: (x: Certificate) => void) => {
      const d = join(scratch, `copy-${++copies}`);
      cpSync(dir, d, { recursive: true });
      const x = JSON.parse(readFileSync(join(d, CERTIFICATE_FILE), "utf8")) as Certificate;
      edit(x);
      writeFileSync(join(d, CERTIFICATE_FILE), JSON.stringify(x));
      return checkCertificate(d).then(
        () => ({ code: "passed", message: "" }),
        (e: unknown) => e as { code: string; message: string },
      );
    };
    // a flattering loss in stage 1's outcome: R no longer recomputes
    const flattered = await tampered((x) => {
      Object.assign(x.stages[0].outcome, { heldOutLoss: target.value - 1 });
    });
    expect(flattered.code).to.equal("CERT_OUTCOME_MISMATCH");
    expect(flattered.message).to.match(/outcome of stage 1 .* hashes to .* the outcome was changed/);
    // claims the job ran on past its target
    const later = await tampered((x) => Object.assign(x.job, { finishedAt: null }));
    expect(later.code).to.equal("CERT_TARGET_MISMATCH");
    expect(later.message).to.match(/Stage 2 met the target .* did not finish there/);
  });
});
