/**
 * The miner's TrainerPool against a real embedded Helia node holding a published Iris job: it trains
 * stages from IPFS data and, while a stage trains, fetches the batches of the next stages (prefetch),
 * so that a pipelining miner does not wait for data between stages.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Address, Hex } from "viem";
import { silentLogger } from "../../src/miner/log";
import { MinerStore } from "../../src/miner/state";
import { TrainerPool } from "../../src/miner/trainer-pool";
import type { JobView } from "../../src/miner/view";
import { stateHash } from "../../src/protocol/rho";
import {
  cidOfStateHash,
  cidToBytesHex,
  fetchManifest,
  openHeliaStore,
  type ContentStore,
  type GetOptions,
} from "../../src/storage";
import { parseJobDocument } from "../../src/protocol/job-document";
import { publishIrisJobData, type IrisJobData } from "../support/miner-network";

/** The real store, recording which CIDs were asked for (a decorator, not a mock: every call goes through). */
class RecordingStore implements ContentStore {
  readonly gets: string[] = [];
  constructor(private readonly inner: ContentStore) {}
  get kind() {
    return this.inner.kind;
  }
  get fetchTimeoutMs() {
    return this.inner.fetchTimeoutMs;
  }
  put(...a: Parameters<ContentStore["put"]>) {
    return this.inner.put(...a);
  }
  get(cid: string, options?: GetOptions) {
    this.gets.push(cid);
    return this.inner.get(cid, options);
  }
  putRawBlock(...a: Parameters<ContentStore["putRawBlock"]>) {
    return this.inner.putRawBlock(...a);
  }
  getRawBlock(...a: Parameters<ContentStore["getRawBlock"]>) {
    return this.inner.getRawBlock(...a);
  }
  getStream(...a: Parameters<ContentStore["getStream"]>) {
    return this.inner.getStream(...a);
  }
  has(...a: Parameters<ContentStore["has"]>) {
    return this.inner.has(...a);
  }
  pin(...a: Parameters<ContentStore["pin"]>) {
    return this.inner.pin(...a);
  }
  addresses() {
    return this.inner.addresses();
  }
  dial(...a: Parameters<ContentStore["dial"]>) {
    return this.inner.dial(...a);
  }
  close() {
    return this.inner.close();
  }
}

describe("miner: TrainerPool (real Helia, Iris job)", function () {
  this.timeout(120_000);
  let dir: string;
  let helia: ContentStore;
  let data: IrisJobData;
  let batchCid: Map<number, string>;
  const domain = `0x${"ab".repeat(32)}` as Hex;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "pot-trainer-pool-"));
    helia = await openHeliaStore({ kind: "embedded", repoPath: join(dir, "ipfs") });
    data = await publishIrisJobData(helia, 5);
    const doc = parseJobDocument(await helia.get(data.docCid));
    const manifest = await fetchManifest(helia, doc.manifestCid, data.manifestRoot);
    batchCid = new Map(manifest.batches.map((b) => [b.stage, b.cid]));
  });
  after(async () => {
    await helia?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const job = (): JobView => ({
    jobId: 7n,
    employer: `0x${"11".repeat(20)}` as Address,
    fee: 1n,
    specCid: cidToBytesHex(data.docCid),
    manifestRoot: data.manifestRoot,
    initialStateHash: data.s0Hash,
    numStages: data.numStages,
    c: 2,
    k: 2,
    stageSeconds: 60,
    minDeclareSeconds: 0,
    deadline: 0n,
    status: "open",
  });

  function pool(store: ContentStore, prefetchStages?: number): TrainerPool {
    return new TrainerPool({
      ipfs: store,
      store: new MinerStore(mkdtempSync(join(dir, "miner-"))),
      domain,
      log: silentLogger,
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
      dialFor: async () => {},
      headerCid: () => undefined,
      prefetchStages,
    });
  }

  it("fetches the next two stages' batches while a stage trains, and does not fetch them again", async () => {
    const store = new RecordingStore(helia);
    const p = pool(store);
    try {
      const r1 = await p.train({ job: job(), stage: 1, parentHash: data.s0Hash, speculative: false });
      await new Promise((r) => setTimeout(r, 200));
      for (const s of [1, 2, 3]) expect(store.gets, `stage ${s}`).to.include(batchCid.get(s));
      expect(store.gets).to.not.include(batchCid.get(4));

      const r2 = await p.train({ job: job(), stage: 2, parentHash: r1.outcome.stateHash, speculative: true });
      expect(r2.parentHash).to.equal(r1.outcome.stateHash);
      expect(store.gets.filter((c) => c === batchCid.get(2))).to.have.length(1);
      await new Promise((r) => setTimeout(r, 200));
      expect(store.gets).to.include(batchCid.get(4));
      expect(store.gets).to.not.include(batchCid.get(5));
    } finally {
      p.dispose();
    }
  });

  it("trains the same bytes with and without prefetching; prefetchStages 0 fetches only the stage's own batches", async () => {
    const plain = new RecordingStore(helia);
    const a = pool(plain, 0);
    const b = pool(helia);
    try {
      const ra1 = await a.train({ job: job(), stage: 1, parentHash: data.s0Hash, speculative: false });
      const ra2 = await a.train({
        job: job(),
        stage: 2,
        parentHash: ra1.outcome.stateHash,
        speculative: false,
      });
      const rb1 = await b.train({ job: job(), stage: 1, parentHash: data.s0Hash, speculative: false });
      const rb2 = await b.train({
        job: job(),
        stage: 2,
        parentHash: rb1.outcome.stateHash,
        speculative: false,
      });
      expect([rb1.resultHash, rb2.resultHash, rb2.rho]).to.deep.equal([
        ra1.resultHash,
        ra2.resultHash,
        ra2.rho,
      ]);
      await new Promise((r) => setTimeout(r, 200));
      const batchGets = plain.gets.filter((c) => [...batchCid.values()].includes(c));
      expect(batchGets).to.deep.equal([batchCid.get(1), batchCid.get(2)]);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it("a job with checkpointEvery 1 stores its first checkpoint as a raw block named by its hash, and records the list", async () => {
    const ckpt = await publishIrisJobData(helia, 2, { checkpointEvery: 1 });
    const p = pool(helia);
    try {
      const view = {
        ...job(),
        jobId: 8n,
        specCid: cidToBytesHex(ckpt.docCid),
        manifestRoot: ckpt.manifestRoot,
      };
      const r = await p.train({ job: view, stage: 1, parentHash: ckpt.s0Hash, speculative: false });
      expect(r.checkpoints).to.have.length(2); // 2 steps, a checkpoint after each
      expect(r.checkpoints[1]).to.equal(r.outcome.stateHash);
      const first = await helia.getRawBlock(cidOfStateHash(r.checkpoints![0]), { timeoutMs: 2_000 });
      expect(stateHash(first)).to.equal(r.checkpoints![0]);
      // the job without checkpoints records an empty list
      const plain = await p.train({ job: job(), stage: 1, parentHash: data.s0Hash, speculative: false });
      expect(plain.checkpoints).to.deep.equal([]);
    } finally {
      p.dispose();
    }
  });
});
