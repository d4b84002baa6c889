import { expect } from "chai";
import { createHash } from "node:crypto";
import * as path from "node:path";
import { FetchTimeoutError, openHeliaStore, openKuboStore, type HeliaContentStore } from "../../src/storage";
import { patternBytes } from "../support/pattern-bytes";
import { spawnStorageChild, type StorageChild } from "../support/storage-child";
import { caught, NEVER_PUBLISHED_CID, tempDir } from "./helpers";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("storage: two processes over loopback", function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let local: HeliaContentStore;
  const children: StorageChild[] = [];

  before(async () => {
    tmp = tempDir("two-proc");
    local = await openHeliaStore({
      kind: "embedded",
      repoPath: path.join(tmp.dir, "parent"),
      fetchTimeoutMs: 10_000,
    });
  });
  after(async () => {
    await Promise.all(children.map((c) => c.close()));
    await local?.close();
    tmp?.cleanup();
  });

  it("embedded: data added in a child process is fetched by this process over bitswap, and back", async () => {
    const child = await spawnStorageChild("embedded", path.join(tmp.dir, "child-embedded"));
    children.push(child);
    for (const a of child.addresses) expect(a).to.match(/^\/ip4\/127\.0\.0\.1\//);

    const put = await child.request({ op: "put", size: 3_000_000, seed: 21 });
    expect(put.ok).to.equal(true);
    expect(await local.has(put.cid!)).to.equal(false);
    await local.dial(child.addresses);
    const bytes = await local.get(put.cid!);
    expect(sha256(bytes)).to.equal(sha256(patternBytes(3_000_000, 21)));

    // the other direction: this process adds, the child fetches
    const mine = patternBytes(1_200_000, 22);
    const cid = await local.put(mine);
    const got = await child.request({ op: "get", cid, timeoutMs: 10_000 });
    expect(got).to.include({ ok: true, length: mine.length, sha256: sha256(mine) });
  });

  it("embedded: a CID nobody has fails in the child after the timeout with FetchTimeoutError", async () => {
    const [child] = children;
    const t0 = Date.now();
    const reply = await child.request({ op: "get", cid: NEVER_PUBLISHED_CID, timeoutMs: 500 });
    expect(reply.ok).to.equal(false);
    expect(reply.error).to.include({ name: "FetchTimeoutError", code: "FETCH_TIMEOUT" });
    expect(reply.error!.message).to.contain(NEVER_PUBLISHED_CID);
    expect(Date.now() - t0).to.be.within(450, 5_000);
  });

  it("Kubo RPC: data added through a daemon in a child process is fetched by the embedded node, and back", async () => {
    const daemon = await spawnStorageChild("kubo", path.join(tmp.dir, "child-kubo"));
    children.push(daemon);
    const kubo = await openKuboStore({ kind: "kubo", url: daemon.url!, fetchTimeoutMs: 10_000 });

    // add through the RPC API (HTTP to the other process), fetch over bitswap with the embedded node
    const bytes = patternBytes(2_000_000, 31);
    const cid = await kubo.put(bytes, { pin: true });
    await local.dial(await kubo.addresses());
    expect(sha256(await local.get(cid))).to.equal(sha256(bytes));

    // add on the embedded node; the daemon connects to us (swarm/connect) and serves it over RPC
    const mine = patternBytes(900_000, 32);
    const mineCid = await local.put(mine);
    await kubo.dial(await local.addresses());
    expect(sha256(await kubo.get(mineCid))).to.equal(sha256(mine));
    expect(await kubo.has(mineCid)).to.equal(true); // the daemon now holds it locally

    const err = await caught(() => kubo.get(NEVER_PUBLISHED_CID, { timeoutMs: 500 }));
    expect(err).to.be.instanceOf(FetchTimeoutError);
    expect(err.message).to.contain(NEVER_PUBLISHED_CID);
    await kubo.close();
  });
});
