/** Persistence of the miner's state: atomic writes, damaged files refused, foreign files refused. */
import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import type { Address, Hex } from "viem";
import {
  MinerStateError,
  MinerStore,
  encodeMinerState,
  emptyState,
  writeFileAtomic,
  STATE_FILE_VERSION,
} from "../../src/miner/state";

const STAGES = "0x00000000000000000000000000000000000000aa" as Address;
const ME = "0x00000000000000000000000000000000000000a1" as Address;
const expectIds = { chainId: 31337, stages: STAGES, account: ME };

describe("miner state persistence", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "pot-miner-state-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("round-trips, starts empty without a file, and leaves no temp files", async () => {
    const store = new MinerStore(dir);
    const s = store.load(expectIds);
    expect(Object.keys(s.declarations)).to.have.length(0);
    s.declarations["1:2"] = {
      jobId: "1",
      stage: 2,
      parentHash: "0x01",
      seed: "0x06",
      resultHash: "0x02",
      rho: "0x03",
      rand: "0x04",
      commitment: "0x05",
      resultCid: "bafk",
      status: "prepared",
    };
    await store.save(s);
    await store.save(s);
    expect(new MinerStore(dir).load(expectIds)).to.deep.equal(s);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
  });

  it("keeps the deployment's block hash, and archive() moves a forgotten chain's state aside", async () => {
    const store = new MinerStore(dir);
    const s = store.load(expectIds);
    s.deployBlockHash = `0x${"ab".repeat(32)}` as Hex;
    s.done["wrap:0:1"] = "0x01";
    await store.save(s);
    expect(new MinerStore(dir).load(expectIds).deployBlockHash).to.equal(s.deployBlockHash);
    const movedTo = store.archive();
    expect(movedTo).to.match(/miner-state\.forgotten-.*\.json$/);
    expect(JSON.parse(readFileSync(movedTo, "utf8")).body.done).to.deep.equal({ "wrap:0:1": "0x01" });
    const fresh = store.load(expectIds);
    expect(fresh.deployBlockHash).to.equal(undefined);
    expect(fresh.done).to.deep.equal({});
  });

  it("refuses a truncated file with a clear error", async () => {
    const store = new MinerStore(dir);
    await store.save(emptyState(31337, STAGES, ME));
    const text = readFileSync(store.statePath, "utf8");
    writeFileSync(store.statePath, text.slice(0, text.length / 2));
    expect(() => store.load(expectIds)).to.throw(MinerStateError, /truncated or corrupted/);
  });

  it("refuses a file whose content does not match its checksum", async () => {
    const store = new MinerStore(dir);
    await store.save(emptyState(31337, STAGES, ME));
    writeFileSync(
      store.statePath,
      readFileSync(store.statePath, "utf8").replace('"done":{}', '"done":{"x":"y"}'),
    );
    expect(() => store.load(expectIds)).to.throw(MinerStateError, /checksum/);
  });

  it("refuses another version, another deployment and another account", async () => {
    const store = new MinerStore(dir);
    writeFileSync(
      store.statePath,
      encodeMinerState(emptyState(31337, STAGES, ME)).replace(
        `"version":${STATE_FILE_VERSION}`,
        '"version":9',
      ),
    );
    expect(() => store.load(expectIds)).to.throw(MinerStateError, /version 9/);
    await store.save(emptyState(1, STAGES, ME));
    expect(() => store.load(expectIds)).to.throw(
      MinerStateError,
      /another --data-dir|belongs to the deployment/,
    );
    await store.save(emptyState(31337, STAGES, "0x00000000000000000000000000000000000000b2"));
    expect(() => store.load(expectIds)).to.throw(MinerStateError, /account/);
  });

  it("saves in call order and resolves each save once a snapshot at least as new is on disk", async () => {
    const store = new MinerStore(dir);
    const states = Array.from({ length: 20 }, (_, i) => {
      const s = emptyState(31337, STAGES, ME);
      s.done[`k${i}`] = `v${i}`;
      return s;
    });
    const seen: number[] = [];
    // each promise resolves only when a snapshot at least as new as its own is on disk
    await Promise.all(
      states.map((s, i) =>
        store.save(s).then(() => {
          seen.push(i);
          expect(Object.keys(store.load(expectIds).done).length).to.equal(1);
          const onDisk = Number(Object.keys(store.load(expectIds).done)[0].slice(1));
          expect(onDisk).to.be.at.least(i);
        }),
      ),
    );
    expect(seen).to.have.length(20);
    expect(store.load(expectIds)).to.deep.equal(states[19]);
    // a save serializes the state when called: later mutations do not leak into it
    const s = emptyState(31337, STAGES, ME);
    const saved = store.save(s);
    s.done.later = "x";
    await saved;
    expect(store.load(expectIds).done).to.deep.equal({});
    await store.flush();
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
  });

  it("atomic write replaces the whole file or nothing", () => {
    const path = join(dir, "f.json");
    writeFileAtomic(path, "old");
    writeFileAtomic(path, "new content");
    expect(readFileSync(path, "utf8")).to.equal("new content");
    expect(readdirSync(dir)).to.deep.equal(["f.json"]);
  });

  it("stores training states by hash and refuses bytes that do not hash to the name", () => {
    const store = new MinerStore(dir);
    const bytes = new Uint8Array([1, 2, 3]);
    const hash = `0x${createHash("sha256").update(bytes).digest("hex")}` as Hex;
    store.putState(hash, bytes);
    expect(store.getState(hash)).to.deep.equal(bytes);
    expect(() => store.putState(`0x${"00".repeat(32)}`, bytes)).to.throw(/do not hash/);
    writeFileSync(join(store.statesDir, `${hash.slice(2)}.bin`), new Uint8Array([9]));
    expect(store.getState(hash)).to.equal(undefined);
  });
});
