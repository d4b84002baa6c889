import { expect } from "chai";
import * as path from "node:path";
import type { Hex } from "viem";
import { verifyMerkleProof } from "../../src/protocol/merkle";
import {
  assertBatchInManifest,
  DatasetManifestError,
  encodeManifest,
  fetchManifest,
  fetchStageBatches,
  manifestCommitment,
  openHeliaStore,
  publishDataset,
  verifyManifest,
  type DatasetManifest,
  type DatasetPlan,
  type HeliaContentStore,
} from "../../src/storage";
import { patternBytes } from "../support/pattern-bytes";
import { caught, tempDir } from "./helpers";

const plan: DatasetPlan = {
  name: "mnist-test",
  featureShape: [784],
  labelShape: [10],
  numClasses: 10,
  numStages: 3,
  batchesPerStage: 2,
};
const batches = Array.from({ length: 6 }, (_, i) => ({
  bytes: patternBytes(20_000 + 1000 * i, 500 + i),
  sampleCount: 64,
}));

describe("storage: datasets (publish, manifest root, per-stage fetch)", function () {
  this.timeout(30_000);
  let tmp: ReturnType<typeof tempDir>;
  let employer: HeliaContentStore;
  let miner: HeliaContentStore;
  let published: Awaited<ReturnType<typeof publishDataset>>;

  before(async () => {
    tmp = tempDir("dataset");
    employer = await openHeliaStore({ kind: "embedded", repoPath: path.join(tmp.dir, "employer") });
    miner = await openHeliaStore({
      kind: "embedded",
      repoPath: path.join(tmp.dir, "miner"),
      fetchTimeoutMs: 5_000,
    });
    published = await publishDataset(employer, batches, plan);
    await miner.dial(await employer.addresses());
  });
  after(async () => {
    await miner?.close();
    await employer?.close();
    tmp?.cleanup();
  });

  it("publishes batches (pinned) and a manifest whose root commits to every field", async () => {
    const { manifest, root, manifestCid } = published;
    expect(root).to.match(/^0x[0-9a-f]{64}$/);
    expect(manifest.root).to.equal(root);
    expect(manifest.totalSamples).to.equal(6 * 64);
    expect(manifest.batches.map((b) => b.stage)).to.deep.equal([1, 1, 2, 2, 3, 3]);
    expect(manifest.batches.map((b) => b.byteLength)).to.deep.equal(batches.map((b) => b.bytes.length));
    expect(await employer.has(manifestCid)).to.equal(true);
    expect(verifyManifest(manifest, root).root).to.equal(root);
  });

  it("a miner fetches the manifest by CID and one stage's batches from another node, with proofs", async () => {
    const manifest = await fetchManifest(miner, published.manifestCid, published.root);
    const stage2 = await fetchStageBatches(miner, manifest, published.root, 2);
    expect(stage2.map((b) => b.index)).to.deep.equal([2, 3]);
    const { batchRoot, leaves } = manifestCommitment(manifest);
    for (const b of stage2) {
      expect(Buffer.from(b.bytes).equals(Buffer.from(batches[b.index].bytes))).to.equal(true);
      expect(verifyMerkleProof(batchRoot, leaves[b.index], b.proof)).to.equal(true);
    }
    for (const stage of [0, 4]) {
      const err = await caught(() => fetchStageBatches(miner, manifest, published.root, stage));
      expect((err as DatasetManifestError).code).to.equal("STAGE_OUT_OF_RANGE");
    }
  });

  it("fetches one batch at a time with concurrency 1; a `verified` commitment of another root is not trusted", async () => {
    const manifest = await fetchManifest(miner, published.manifestCid, published.root);
    const one = await fetchStageBatches(miner, manifest, published.root, 3, { concurrency: 1 });
    expect(one.map((b) => b.index)).to.deep.equal([4, 5]);
    const verified = verifyManifest(manifest, published.root);
    const again = await fetchStageBatches(miner, manifest, published.root, 3, { verified });
    expect(again.map((b) => Buffer.from(b.bytes).toString("hex"))).to.deep.equal(
      one.map((b) => Buffer.from(b.bytes).toString("hex")),
    );
    const other = `0x${"11".repeat(32)}` as Hex;
    const err = await caught(() => fetchStageBatches(miner, manifest, other, 3, { verified }));
    expect((err as DatasetManifestError).code).to.equal("MANIFEST_ROOT_MISMATCH");
  });

  it("rejects a manifest whose root does not match the committed one", async () => {
    const tampered: DatasetManifest = {
      ...published.manifest,
      batches: published.manifest.batches.map((b, i) => (i === 4 ? { ...b, sampleCount: 1 } : b)),
      totalSamples: published.manifest.totalSamples - 63,
    };
    for (const [manifest, root] of [
      [tampered, published.root],
      [published.manifest, ("0x" + "11".repeat(32)) as Hex],
      [{ ...published.manifest, name: "other" }, published.root],
    ] as const) {
      const err = await caught(() => fetchStageBatches(miner, manifest, root, 1));
      expect(err).to.be.instanceOf(DatasetManifestError);
      expect(err.code).to.equal("MANIFEST_ROOT_MISMATCH");
      expect(err.message).to.contain(root);
    }
    // a tampered manifest published under its own CID is rejected on fetch too
    const forgedCid = await employer.put(encodeManifest(tampered));
    const err = await caught(() => fetchManifest(miner, forgedCid, published.root));
    expect(err.code).to.equal("MANIFEST_ROOT_MISMATCH");
  });

  it("rejects structurally inconsistent manifests even before the root check", () => {
    const m = published.manifest;
    const wrongStage = { ...m, batches: m.batches.map((b, i) => (i === 1 ? { ...b, stage: 2 } : b)) };
    expect(() => verifyManifest(wrongStage, m.root)).to.throw(DatasetManifestError, /stage/);
    expect(() => verifyManifest({ ...m, totalSamples: 1 }, m.root)).to.throw(
      DatasetManifestError,
      /totalSamples/,
    );
    expect(() => verifyManifest({ ...m, batches: m.batches.slice(1) }, m.root)).to.throw(
      DatasetManifestError,
    );
  });

  it("a miner handed a batch outside the manifest (or of another stage) rejects it", async () => {
    const m = published.manifest;
    const ok = await assertBatchInManifest(m, m.root, 3, batches[5].bytes);
    expect(ok.index).to.equal(5);
    for (const [stage, bytes] of [
      [3, patternBytes(25_000, 999)], // foreign bytes
      [1, batches[5].bytes], // real batch, wrong stage
      [3, batches[5].bytes.subarray(1)], // truncated
    ] as const) {
      const err = await caught(() => assertBatchInManifest(m, m.root, stage, bytes));
      expect(err.code).to.equal("BATCH_NOT_IN_MANIFEST");
    }
  });

  it("publishDataset refuses a batch count that does not fit the plan", async () => {
    const err = await caught(() => publishDataset(employer, batches.slice(0, 5), plan));
    expect(err.code).to.equal("MANIFEST_INVALID");
    expect(err.message).to.contain("3 stages x 2 batches");
  });
});
