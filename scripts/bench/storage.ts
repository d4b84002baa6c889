/**
 * Storage benchmark: put and get throughput (MB/s) of the content store, locally and across two
 * processes on loopback, for the embedded node (Helia/bitswap) and the Kubo RPC path.
 *
 *   node -r ts-node/register/transpile-only scripts/bench/storage.ts [--sizes 1,100] [--paths local,p2p,kubo]
 *
 * Every get verifies each block against its CID. Sizes are in MB (10^6 bytes).
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { openHeliaStore, openKuboStore } from "../../src/storage";
import { patternBytes } from "../../test/support/pattern-bytes";
import { spawnStorageChild } from "../../test/support/storage-child";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] != null ? process.argv[i + 1] : fallback;
}
const sizesMb = arg("sizes", "1,100").split(",").map(Number);
const paths = new Set(arg("paths", "local,p2p,kubo").split(","));
const rows: { path: string; op: string; size: string; ms: number; mbps: number }[] = [];
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function record(pathName: string, op: string, bytes: number, ms: number): void {
  rows.push({
    path: pathName,
    op,
    size: `${bytes / 1e6} MB`,
    ms: Math.round(ms),
    mbps: +(bytes / 1e6 / (ms / 1000)).toFixed(1),
  });
  console.error(
    `  ${pathName.padEnd(34)} ${op.padEnd(4)} ${String(bytes / 1e6).padStart(4)} MB  ${Math.round(ms)} ms`,
  );
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "pot-bench-storage-"));
  const local = await openHeliaStore({
    kind: "embedded",
    repoPath: path.join(dir, "parent"),
    fetchTimeoutMs: 60_000,
  });
  try {
    if (paths.has("local")) {
      for (const mb of sizesMb) {
        const bytes = patternBytes(mb * 1e6, mb);
        const [cid, putMs] = await timed(() => local.put(bytes));
        record("embedded, same process", "put", bytes.length, putMs);
        const [got, getMs] = await timed(() => local.get(cid));
        if (sha(got) !== sha(bytes)) throw new Error("local round trip differs");
        record("embedded, same process", "get", bytes.length, getMs);
      }
    }
    if (paths.has("p2p")) {
      const child = await spawnStorageChild("embedded", path.join(dir, "child"));
      try {
        await local.dial(child.addresses);
        for (const mb of sizesMb) {
          const put = await child.request({ op: "put", size: mb * 1e6, seed: 1000 + mb });
          if (!put.ok) throw new Error(put.error?.message);
          record("embedded, put in child process", "put", mb * 1e6, put.ms!);
          const [got, getMs] = await timed(() => local.get(put.cid!));
          if (sha(got) !== sha(patternBytes(mb * 1e6, 1000 + mb))) throw new Error("p2p bytes differ");
          record("embedded, bitswap child -> parent", "get", got.length, getMs);
        }
      } finally {
        await child.close();
      }
    }
    if (paths.has("kubo")) {
      const daemon = await spawnStorageChild("kubo", path.join(dir, "daemon"));
      try {
        const kubo = await openKuboStore({ kind: "kubo", url: daemon.url!, fetchTimeoutMs: 60_000 });
        for (const mb of sizesMb) {
          const bytes = patternBytes(mb * 1e6, 2000 + mb);
          const [cid, putMs] = await timed(() => kubo.put(bytes));
          record("Kubo RPC, daemon in child process", "put", bytes.length, putMs);
          const [got, getMs] = await timed(() => kubo.get(cid));
          if (sha(got) !== sha(bytes)) throw new Error("kubo round trip differs");
          record("Kubo RPC, daemon in child process", "get", got.length, getMs);
        }
      } finally {
        await daemon.close();
      }
    }
  } finally {
    await local.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log("| path | op | size | time (ms) | MB/s |\n|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.path} | ${r.op} | ${r.size} | ${r.ms} | ${r.mbps} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
