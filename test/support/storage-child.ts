/** Parent side of test/support/storage-node.ts: spawns a real child `node` process and talks JSON lines. */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { createInterface } from "node:readline";

export interface ChildReply {
  id: number;
  ok: boolean;
  cid?: string;
  length?: number;
  sha256?: string;
  ms?: number;
  error?: { name: string; code?: string; message: string };
}

export interface StorageChild {
  /** libp2p multiaddrs of the child's node (loopback). */
  addresses: string[];
  /** Kubo RPC URL when started in "kubo" mode. */
  url?: string;
  request(cmd: Record<string, unknown>): Promise<ChildReply>;
  close(): Promise<void>;
}

const ROOT = path.resolve(__dirname, "../..");

/** Starts `storage-node.ts` in a child process and waits for its "ready" line. */
export async function spawnStorageChild(mode: "embedded" | "kubo", repoPath: string): Promise<StorageChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "-r",
      "ts-node/register/transpile-only",
      path.join(ROOT, "test/support/storage-node.ts"),
      mode,
      repoPath,
    ],
    { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout! });
  const pending = new Map<number, (reply: ChildReply) => void>();
  let nextId = 1;
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const ready = new Promise<{ addresses: string[]; url?: string }>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`storage child exited early with code ${code}`)));
    lines.on("line", (line) => {
      const msg = JSON.parse(line) as ChildReply & { ready?: boolean; addresses: string[]; url?: string };
      if (msg.ready === true) resolve(msg);
      else pending.get(msg.id)?.(msg);
    });
  });
  const info = await ready;
  return {
    addresses: info.addresses,
    url: info.url,
    request(cmd) {
      const id = nextId++;
      return new Promise<ChildReply>((resolve) => {
        pending.set(id, resolve);
        child.stdin!.write(JSON.stringify({ ...cmd, id }) + "\n");
      });
    },
    async close() {
      if (child.exitCode == null) {
        child.stdin!.write(JSON.stringify({ id: 0, op: "close" }) + "\n");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
