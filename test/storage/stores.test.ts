import { expect } from "chai";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { importBytes } from "ipfs-unixfs-importer";
import { CID } from "multiformats/cid";
import {
  cidOfStateHash,
  computeCid,
  ContentNotFoundError,
  ContentVerificationError,
  FetchTimeoutError,
  InvalidCidError,
  KuboRpcError,
  kuboCompatibleImportOptions,
  ObjectTooLargeError,
  openContentStore,
  openHeliaStore,
  openKuboStore,
  storageConfigFromEnv,
  type ContentStore,
  type HeliaContentStore,
} from "../../src/storage";
import { startKuboRpcTestServer, type KuboRpcTestServer } from "../support/kubo-rpc-server";
import { patternBytes } from "../support/pattern-bytes";
import { caught, NEVER_PUBLISHED_CID, tempDir } from "./helpers";

/** Flips one byte of the stored block file whose size is `size` (blockstore-fs keeps one file per block). */
function corruptBlockFile(dir: string, size: number): string {
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop()!;
    for (const name of readdirSync(current)) {
      const file = path.join(current, name);
      const st = statSync(file);
      if (st.isDirectory()) stack.push(file);
      else if (st.size === size) {
        const bytes = readFileSync(file);
        bytes[size >> 1] ^= 0xff;
        writeFileSync(file, bytes);
        return file;
      }
    }
  }
  throw new Error(`no block file of ${size} bytes under ${dir}`);
}

/**
 * Raw blocks (step-checkpoint states): one block whose CID follows from the sha256 of the bytes alone,
 * read back verified; a non-raw CID is refused. `blocksDir` holds the store's block files, to corrupt one.
 */
async function rawBlockRoundTrip(store: ContentStore, blocksDir: string): Promise<void> {
  for (const size of [0, 5_000, 1_500_000]) {
    const bytes = patternBytes(size, size + 17);
    const hash = `0x${createHash("sha256").update(bytes).digest("hex")}` as const;
    const cid = await store.putRawBlock(bytes, { pin: true });
    expect(cid).to.equal(cidOfStateHash(hash));
    expect(cid).to.match(/^bafkrei/);
    expect(await store.has(cid)).to.equal(true);
    expect(Buffer.from(await store.getRawBlock(cid)).equals(Buffer.from(bytes))).to.equal(true);
  }
  const unixfs = await store.put(patternBytes(300_000, 4));
  expect((await caught(() => store.getRawBlock(unixfs))).message).to.match(/not a raw block CID/);
  const bytes = patternBytes(4_567, 8); // unique size: its block file is the only one of 4567 bytes
  const cid = await store.putRawBlock(bytes);
  corruptBlockFile(blocksDir, 4_567);
  const err = await caught(() => store.getRawBlock(cid));
  expect(err).to.be.instanceOf(ContentVerificationError);
  expect(err.message).to.contain(cid);
}

describe("storage: CIDs match `ipfs add --cid-version 1`", () => {
  it("cidOfStateHash: CIDv1(raw, sha2-256) of a state hash, the CID `ipfs add` gives a small object", async () => {
    const bytes = new TextEncoder().encode("hello world");
    const hash = `0x${createHash("sha256").update(bytes).digest("hex")}` as const;
    expect(cidOfStateHash(hash)).to.equal(await computeCid(bytes));
    expect(() => cidOfStateHash("0x1234")).to.throw(InvalidCidError, /32 bytes/);
  });

  it("single-block objects are raw CIDv1 sha2-256 (known Kubo outputs)", async () => {
    // printf '' | ipfs add --cid-version 1 -Q   and   printf 'hello world' | ipfs add --cid-version 1 -Q
    expect(await computeCid(new Uint8Array(0))).to.equal(
      "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
    );
    expect(await computeCid(new TextEncoder().encode("hello world"))).to.equal(
      "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
    );
  });

  it("larger objects: 256 KiB raw leaves under dag-pb UnixFS nodes with a balanced fan-out of 174", async () => {
    const dagPb = await import("@ipld/dag-pb"); // ESM-only ("import" condition): dynamic import
    const { UnixFS } = await import("ipfs-unixfs");
    const blocks = new Map<string, Uint8Array>();
    const memory = {
      put: async (cid: CID, bytes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>) => {
        blocks.set(cid.toString(), bytes as Uint8Array);
        return cid;
      },
    };
    const bytes = patternBytes(176 * 262_144 - 5, 7); // 176 leaves: needs a second level
    const { cid } = await importBytes(bytes, memory, kuboCompatibleImportOptions());
    expect(cid.version).to.equal(1);
    expect(cid.code).to.equal(dagPb.code);
    expect(await computeCid(bytes)).to.equal(cid.toString());
    const root = dagPb.decode(blocks.get(cid.toString())!);
    expect(root.Links).to.have.length(2);
    const first = dagPb.decode(blocks.get(root.Links[0].Hash.toString())!);
    expect(first.Links).to.have.length(174);
    expect(first.Links.every((l) => l.Hash.code === 0x55 && l.Tsize === 262_144)).to.equal(true);
    const rootFs = UnixFS.unmarshal(root.Data!);
    expect(rootFs.type).to.equal("file");
    expect(rootFs.fileSize()).to.equal(BigInt(bytes.length));
  });
});

describe("storage: embedded Helia store", function () {
  let tmp: ReturnType<typeof tempDir>;
  let store: HeliaContentStore;

  before(async () => {
    tmp = tempDir("helia");
    store = await openHeliaStore({
      kind: "embedded",
      repoPath: path.join(tmp.dir, "a"),
      fetchTimeoutMs: 5_000,
    });
  });
  after(async () => {
    await store?.close();
    tmp?.cleanup();
  });

  it("listens on loopback only by default and reports dialable /p2p addresses", async () => {
    const addrs = await store.addresses();
    expect(addrs).to.not.be.empty;
    for (const a of addrs) expect(a).to.match(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3Koo/);
  });

  it("put/get round-trips objects of 0 B to 1.5 MB with the Kubo-compatible CID", async () => {
    for (const size of [0, 1, 262_144, 262_145, 1_500_000]) {
      const bytes = patternBytes(size, size);
      const cid = await store.put(bytes);
      expect(cid).to.equal(await computeCid(bytes));
      expect(await store.has(cid)).to.equal(true);
      expect(Buffer.from(await store.get(cid)).equals(Buffer.from(bytes))).to.equal(true);
      const parts: Buffer[] = [];
      for await (const chunk of store.getStream(cid)) parts.push(Buffer.from(chunk));
      expect(Buffer.concat(parts).equals(Buffer.from(bytes))).to.equal(true);
    }
    // streamed input gives the same CID as one buffer
    const bytes = patternBytes(700_000, 3);
    const streamed = await store.put(
      (async function* () {
        for (let i = 0; i < bytes.length; i += 100_000) yield bytes.subarray(i, i + 100_000);
      })(),
    );
    expect(streamed).to.equal(await computeCid(bytes));
  });

  it("has() is false for content it does not hold, and bad CIDs throw InvalidCidError", async () => {
    expect(await store.has(NEVER_PUBLISHED_CID)).to.equal(false);
    const err = await caught(() => store.get("not-a-cid"));
    expect(err).to.be.instanceOf(InvalidCidError);
    expect(err.code).to.equal("INVALID_CID");
  });

  it("a CID that never arrives fails after the timeout with FetchTimeoutError naming the CID", async () => {
    const t0 = Date.now();
    const err = await caught(() => store.get(NEVER_PUBLISHED_CID, { timeoutMs: 400 }));
    const elapsed = Date.now() - t0;
    expect(err).to.be.instanceOf(FetchTimeoutError).and.instanceOf(ContentNotFoundError);
    expect(err.code).to.equal("FETCH_TIMEOUT");
    expect(err.cid).to.equal(NEVER_PUBLISHED_CID);
    expect(err.message).to.contain(NEVER_PUBLISHED_CID);
    expect(elapsed).to.be.within(380, 3_000);
  });

  it("rejects corrupted bytes (a block altered on disk) with ContentVerificationError", async () => {
    const bytes = patternBytes(4_321, 99); // unique size: one raw block file of 4321 bytes
    const cid = await store.put(bytes);
    corruptBlockFile(path.join(tmp.dir, "a", "blocks"), 4_321);
    const err = await caught(() => store.get(cid));
    expect(err).to.be.instanceOf(ContentVerificationError);
    expect(err.code).to.equal("CONTENT_MISMATCH");
    expect(err.message).to.contain(cid);
  });

  it("putRawBlock/getRawBlock: one raw block per state, CID from the state hash, verified on read", async () => {
    await rawBlockRoundTrip(store, path.join(tmp.dir, "a", "blocks"));
  });

  it("enforces maxBytes before downloading the content", async () => {
    const cid = await store.put(patternBytes(600_000, 5));
    const err = await caught(() => store.get(cid, { maxBytes: 1_000 }));
    expect(err).to.be.instanceOf(ObjectTooLargeError);
  });

  it("pins, and keeps data and peer id across a restart of the same repo", async () => {
    const repo = path.join(tmp.dir, "restart");
    const first = await openHeliaStore({ kind: "embedded", repoPath: repo });
    const bytes = patternBytes(300_000, 11);
    const cid = await first.put(bytes, { pin: true });
    expect(await first.helia.pins.isPinned(CID.parse(cid))).to.equal(true);
    const peerId = first.peerId;
    await first.close();
    await first.close(); // idempotent
    const second = await openHeliaStore({ kind: "embedded", repoPath: repo, fetchTimeoutMs: 1_000 });
    try {
      expect(second.peerId).to.equal(peerId);
      expect(Buffer.from(await second.get(cid)).equals(Buffer.from(bytes))).to.equal(true);
      expect(await second.helia.pins.isPinned(CID.parse(cid))).to.equal(true);
    } finally {
      await second.close();
    }
  });
});

describe("storage: Kubo RPC store (kubo-rpc-client against a Kubo-compatible server over Helia)", function () {
  let tmp: ReturnType<typeof tempDir>;
  let server: KuboRpcTestServer;
  let kubo: ContentStore;

  before(async () => {
    tmp = tempDir("kubo");
    server = await startKuboRpcTestServer({ repoPath: path.join(tmp.dir, "daemon") });
    kubo = await openContentStore({ kind: "kubo", url: server.url, fetchTimeoutMs: 5_000 });
  });
  after(async () => {
    await kubo?.close();
    await server?.close();
    tmp?.cleanup();
  });

  it("put/get/has/pin through the RPC API, with the same CIDs as the embedded path", async () => {
    expect(kubo.kind).to.equal("kubo");
    for (const size of [1, 262_145, 1_000_000]) {
      const bytes = patternBytes(size, size + 1);
      const cid = await kubo.put(bytes);
      expect(cid).to.equal(await computeCid(bytes));
      expect(await kubo.has(cid)).to.equal(true);
      expect(Buffer.from(await kubo.get(cid)).equals(Buffer.from(bytes))).to.equal(true);
      await kubo.pin(cid);
      await kubo.pin(cid); // idempotent, as in Kubo
      expect(await server.node.helia.pins.isPinned(CID.parse(cid))).to.equal(true);
    }
    expect(await kubo.has(NEVER_PUBLISHED_CID)).to.equal(false);
    const addrs = await kubo.addresses();
    expect(addrs[0]).to.match(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
  });

  it("a CID that never arrives fails after the timeout with FetchTimeoutError naming the CID", async () => {
    const t0 = Date.now();
    const err = await caught(() => kubo.get(NEVER_PUBLISHED_CID, { timeoutMs: 400 }));
    expect(err).to.be.instanceOf(FetchTimeoutError);
    expect(err.message).to.contain(NEVER_PUBLISHED_CID);
    expect(Date.now() - t0).to.be.within(380, 3_000);
  });

  it("verifies bytes the daemon serves: a block corrupted in the daemon's repo is rejected", async () => {
    const bytes = patternBytes(5_555, 42);
    const cid = await kubo.put(bytes);
    corruptBlockFile(path.join(tmp.dir, "daemon", "blocks"), 5_555);
    const err = await caught(() => kubo.get(cid));
    expect(err).to.be.instanceOf(ContentVerificationError);
    expect(err.message).to.contain(cid);
  });

  it("putRawBlock/getRawBlock through block/put and block/get, verified here", async () => {
    await rawBlockRoundTrip(kubo, path.join(tmp.dir, "daemon", "blocks"));
  });

  it("an unreachable API fails fast with KuboRpcError", async () => {
    const err = await caught(() =>
      openKuboStore({ kind: "kubo", url: "http://127.0.0.1:9", fetchTimeoutMs: 2_000 }),
    );
    expect(err).to.be.instanceOf(KuboRpcError);
    expect(err.code).to.equal("KUBO_RPC");
  });
});

describe("storage: configuration", () => {
  it("reads env: Kubo when POT_IPFS_API is set, else the embedded node on loopback", () => {
    expect(
      storageConfigFromEnv({ POT_IPFS_API: "http://127.0.0.1:5001", POT_IPFS_TIMEOUT_MS: "1234" }),
    ).to.deep.equal({
      kind: "kubo",
      url: "http://127.0.0.1:5001",
      fetchTimeoutMs: 1234,
    });
    expect(
      storageConfigFromEnv({
        POT_IPFS_REPO: "/tmp/r",
        POT_IPFS_PEERS: "/ip4/127.0.0.1/tcp/1/p2p/x, /ip4/127.0.0.1/tcp/2/p2p/y",
      }),
    ).to.deep.include({
      kind: "embedded",
      repoPath: "/tmp/r",
      peers: ["/ip4/127.0.0.1/tcp/1/p2p/x", "/ip4/127.0.0.1/tcp/2/p2p/y"],
    });
    expect(() => storageConfigFromEnv({ POT_IPFS_TIMEOUT_MS: "soon" })).to.throw(/POT_IPFS_TIMEOUT_MS/);
  });

  it("rejects an unknown kind", async () => {
    const err = await caught(() => openContentStore({ kind: "s3" } as never));
    expect(err.code).to.equal("STORAGE_CONFIG");
  });
});
