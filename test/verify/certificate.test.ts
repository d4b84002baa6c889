/**
 * The model certificate (issue 16) on a real finished job: 3 stages trained with runStage and wrapped by a
 * K=2 committee of staked test miners on a hardhat node. `fetchModel` writes certificate.json beside the
 * model files; it passes offline and against the chain, and a fine-tuned job's certificate names its
 * parent. Tampered copies fail, each with its own code: a flipped byte in the weights, a forged or a
 * missing attestation, a changed stage outcome, a stage removed, stages reordered, another chain, a field
 * the chain contradicts.
 */
import { expect } from "chai";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseTransaction, type Hex, type TransactionSerializable } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { outcomeHash } from "../../src/protocol";
import { createJob } from "../../src/employer/create-job";
import { fetchModel } from "../../src/employer/fetch-model";
import { loadDataset } from "../../src/employer";
import {
  CERTIFICATE_FILE,
  certifyModel,
  checkCertificate,
  checkCertificateOnChain,
  readCertificate,
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

describe("model certificate (pot job fetch, pot verify --certificate)", function () {
  this.timeout(240_000);
  let net: EmployerNet;
  let dir: string;
  let jobId: bigint;
  const scratch = mkdtempSync(join(tmpdir(), "pot-cert-"));

  before(async () => {
    net = await startEmployerNet(3);
    await net.miners[0].adapter.setPeer((await net.store.addresses())[0]);
    const job = await createJob(employerContext(net), await smallJobInput({ name: "certified", k: 2 }));
    jobId = job.jobId;
    const claims = await trainStages(net, job, 3);
    for (let s = 1; s <= 3; s++) await finalizeStage(net, jobId, s, claims[s - 1]);
    dir = join(scratch, "model");
    await certifyModel(net.handle, net.store, await fetchModel(net.handle, net.store, jobId, dir));
  });
  after(async () => {
    await net?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** A copy of the fetched folder with its certificate changed by `edit`. */
  let copies = 0;
  function tampered(edit: (c: Certificate) => void, files?: (d: string) => void, from = dir): string {
    const d = join(scratch, `copy-${++copies}`);
    cpSync(from, d, { recursive: true });
    const c = JSON.parse(readFileSync(join(d, CERTIFICATE_FILE), "utf8")) as Certificate;
    edit(c);
    writeFileSync(join(d, CERTIFICATE_FILE), JSON.stringify(c));
    files?.(d);
    return d;
  }

  async function rejection(d: string): Promise<{ code: string; message: string }> {
    const error = await checkCertificate(d).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(error, "the tampered certificate passed").to.not.equal(undefined);
    return error!;
  }

  it("writes certificate.json beside the model files; it passes offline and against the chain", async () => {
    const c = readCertificate(dir);
    expect(c.job.id).to.equal(String(jobId));
    expect(c.chainId).to.equal("31337");
    expect(c.parent).to.equal(null);
    expect(c.stages.map((s) => s.index)).to.deep.equal([1, 2, 3]);
    expect(c.model.stateHash).to.equal(c.stages[2].outcome.stateHash);
    for (const s of c.stages) expect(s.resultHash).to.equal(outcomeHash(s.outcome));
    expect(c.stages[2].outcome.heldOutAccuracy).to.be.lessThanOrEqual(1_000_000); // the test set's metric
    expect(c.job.target).to.equal(null);
    expect(c.job.finishedAt).to.equal(null);
    expect(c.metric?.samples).to.equal(100);
    for (const s of c.stages) {
      expect(s.seats).to.have.length(2);
      expect(s.attestations.map((a) => a.kind)).to.include("wrap-tx");
    }
    const summary = await checkCertificate(dir);
    expect(summary.stages).to.equal(3);
    expect(summary.attestations).to.be.greaterThanOrEqual(3);
    await checkCertificateOnChain(net.handle, c);

    const run = await runPot(net, "verify", "--certificate", dir);
    expect(run.error).to.equal(undefined);
    expect(run.out).to.match(/OK \(offline and against the chain\)/);
    expect(run.out).to.contain(`job ${jobId} on chain 31337`);
    expect(run.out).to.match(
      /held-out metric of S_3 as its outcome declares it .*: loss .* \(float32 0x[0-9a-f]{8}\), accuracy/,
    );
  });

  it("a changed outcome (the held-out accuracy of stage 2): CERT_OUTCOME_MISMATCH", async () => {
    const e = await rejection(
      tampered((c) => {
        Object.assign(c.stages[1].outcome, { heldOutAccuracy: c.stages[1].outcome.heldOutAccuracy + 1 });
      }),
    );
    expect(e.code).to.equal("CERT_OUTCOME_MISMATCH");
    expect(e.message).to.match(
      /The outcome of stage 2 .* hashes to 0x[0-9a-f]{64}, but the stage's result is/,
    );
  });

  it("a flipped byte in weights.bin: CERT_WEIGHTS_MISMATCH", async () => {
    const d = tampered(
      () => undefined,
      (x) => {
        const bin = readFileSync(join(x, "weights.bin"));
        bin[100] ^= 0x01;
        writeFileSync(join(x, "weights.bin"), bin);
      },
    );
    const e = await rejection(d);
    expect(e.code).to.equal("CERT_WEIGHTS_MISMATCH");
    expect(e.message).to.match(/the weights were changed/);
    const run = await runPot(net, "verify", "--certificate", d, "--offline");
    expect(run.error).to.match(/rebuild a state that hashes to/);
  });

  it("a forged attestation (the same transaction signed by another key): CERT_SIGNATURE_FORGED", async () => {
    const d = tampered(() => undefined);
    const c = readCertificate(d);
    const a = c.stages[1].attestations[0];
    const other = net.node.accounts.find(
      (x) => privateKeyToAccount(x.privateKey as Hex).address.toLowerCase() !== a.signer.toLowerCase(),
    )!;
    const { r: _r, s: _s, v: _v, yParity: _y, ...unsigned } = parseTransaction(a.transaction as never);
    const forged = await privateKeyToAccount(other.privateKey as Hex).signTransaction(
      unsigned as TransactionSerializable,
    );
    Object.assign(a, { transaction: forged });
    writeFileSync(join(d, CERTIFICATE_FILE), JSON.stringify(c));
    const e = await rejection(d);
    expect(e.code).to.equal("CERT_SIGNATURE_FORGED");
    expect(e.message).to.contain(`attestation of ${a.signer} in stage 2`);
  });

  it("a missing attestation: CERT_ATTESTATION_MISSING", async () => {
    const e = await rejection(tampered((c) => void c.stages[2].attestations.shift()));
    expect(e.code).to.equal("CERT_ATTESTATION_MISSING");
    expect(e.message).to.match(/in stage 3 .*quorum/);
  });

  it("a stage removed: CERT_STAGE_MISSING; stages reordered: CERT_STAGES_REORDERED", async () => {
    const removed = await rejection(tampered((c) => void c.stages.splice(1, 1)));
    expect(removed.code).to.equal("CERT_STAGE_MISSING");
    expect(removed.message).to.match(/lacks stage\(s\) 2/);
    const reordered = await rejection(tampered((c) => c.stages.reverse()));
    expect(reordered.code).to.equal("CERT_STAGES_REORDERED");
    expect(reordered.message).to.match(/in the order 3, 2, 1/);
    // renumbered to hide the gap: the header hashes bind each stage's index and parent
    const renumbered = await rejection(
      tampered((c) => {
        c.stages.splice(1, 1);
        c.stages[1] = { ...c.stages[1], index: 2 };
        Object.assign(c.model, { stage: 2 });
      }),
    );
    expect(renumbered.code).to.equal("CERT_HASH_CHAIN");
  });

  it("another chain: CERT_WRONG_CHAIN offline; a field the chain contradicts: CERT_CHAIN_MISMATCH online", async () => {
    const wrong = await rejection(tampered((c) => Object.assign(c, { chainId: "1" })));
    expect(wrong.code).to.equal("CERT_WRONG_CHAIN");
    const d = tampered((c) => Object.assign(c.job, { manifestRoot: `0x${"11".repeat(32)}` }));
    await checkCertificate(d); // not covered by any signature: only the chain can tell
    const online = await checkCertificateOnChain(net.handle, readCertificate(d)).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(online?.code).to.equal("CERT_CHAIN_MISMATCH");
    expect(online?.message).to.contain("job.manifestRoot");
  });

  it("a fine-tuned job's certificate names its parent and chains from the parent's final state", async () => {
    const child = await createJob(
      employerContext(net),
      await smallJobInput({
        name: "certified-child",
        dataset: loadDataset({ kind: "mnist", trainSize: 200, testSize: 50, seed: 11 }),
        maxStages: 1,
        fromJob: jobId,
      }),
    );
    const [claim] = await trainStages(net, child, 1);
    await finalizeStage(net, child.jobId, 1, claim);
    const childDir = join(scratch, "child");
    await certifyModel(net.handle, net.store, await fetchModel(net.handle, net.store, child.jobId, childDir));
    const c = readCertificate(childDir);
    expect(c.parent).to.deep.equal({
      jobId: String(jobId),
      finalStateHash: readCertificate(dir).model.stateHash,
    });
    expect(c.stages[0].parentHash).to.equal(c.parent?.finalStateHash);
    expect((await checkCertificate(childDir)).parentJobId).to.equal(jobId);
    const e = await rejection(
      tampered(
        (x) => Object.assign(x, { parent: { ...x.parent, finalStateHash: `0x${"22".repeat(32)}` } }),
        undefined,
        childDir,
      ),
    );
    expect(e.code).to.equal("CERT_HASH_CHAIN");
  });
});
