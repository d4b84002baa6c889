/**
 * Child process for two-process storage tests and benchmarks. Starts its own node on 127.0.0.1 port 0
 * (embedded Helia, or the Kubo-compatible RPC test server over Helia), prints one JSON "ready" line with
 * its addresses, then answers JSON-line commands on stdin: put, get, dial, close.
 *
 *   node -r ts-node/register/transpile-only test/support/storage-node.ts <embedded|kubo> <repoDir>
 */
import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { openHeliaStore } from "../../src/storage/helia-store";
import type { ContentStore } from "../../src/storage/types";
import { startKuboRpcTestServer } from "./kubo-rpc-server";
import { patternBytes } from "./pattern-bytes";

interface Command {
  id: number;
  op: "put" | "get" | "dial" | "close";
  size?: number;
  seed?: number;
  cid?: string;
  timeoutMs?: number;
  addresses?: string[];
}

async function main(): Promise<void> {
  const [mode, repoPath] = process.argv.slice(2);
  if ((mode !== "embedded" && mode !== "kubo") || repoPath == null) {
    throw new Error("usage: storage-node.ts <embedded|kubo> <repoDir>");
  }
  let store: ContentStore;
  let url: string | undefined;
  let shutdown: () => Promise<void>;
  if (mode === "kubo") {
    const server = await startKuboRpcTestServer({ repoPath });
    store = server.node;
    url = server.url;
    shutdown = () => server.close();
  } else {
    const node = await openHeliaStore({ kind: "embedded", repoPath });
    store = node;
    shutdown = () => node.close();
  }
  const send = (msg: unknown) => process.stdout.write(JSON.stringify(msg) + "\n");
  send({ ready: true, addresses: await store.addresses(), url });

  const handle = async (cmd: Command): Promise<Record<string, unknown>> => {
    const t0 = performance.now();
    switch (cmd.op) {
      case "put": {
        const bytes = patternBytes(cmd.size ?? 0, cmd.seed);
        const start = performance.now(); // time the store, not the data generation
        const cid = await store.put(bytes, { pin: true });
        return { cid, ms: performance.now() - start };
      }
      case "get": {
        const bytes = await store.get(cmd.cid ?? "", { timeoutMs: cmd.timeoutMs });
        const ms = performance.now() - t0;
        return { length: bytes.byteLength, sha256: createHash("sha256").update(bytes).digest("hex"), ms };
      }
      case "dial":
        await store.dial(cmd.addresses ?? []);
        return {};
      case "close":
        await shutdown();
        return {};
    }
  };
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const cmd = JSON.parse(line) as Command;
    try {
      send({ id: cmd.id, ok: true, ...(await handle(cmd)) });
    } catch (err) {
      const e = err as Error & { code?: string };
      send({ id: cmd.id, ok: false, error: { name: e.name, code: e.code, message: e.message } });
    }
    if (cmd.op === "close") break;
  }
  await shutdown().catch(() => undefined);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`storage-node failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
