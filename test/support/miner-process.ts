/**
 * A miner as its own OS process (`pot miner start --json`, bin/pot.js: run `npm run build:cli` after
 * changing src), so a test can SIGKILL it mid-stage and start it again on the same data directory. Its
 * JSON log lines are collected.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../src/config/load";
import type { MinerTestNetwork } from "./miner-network";

export interface MinerProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves when the process has exited (killed or not). */
  exited(): Promise<void>;
}

/**
 * Starts `pot miner start` for dev account `index` of `net` (data dir and settings of `net.config`),
 * optionally through another RPC URL (e.g. a proxy that drops connections).
 */
export function spawnMinerProcess(net: MinerTestNetwork, index: number, rpcUrl?: string): MinerProcess {
  const cfg = net.config(index, rpcUrl === undefined ? {} : { rpcUrl });
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, "bin", "pot.js"), "--json", "miner", "start", "--no-dummy"],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        POT_NETWORK: "localhost",
        POT_LOCAL_RPC_URL: cfg.rpcUrl,
        POT_RPC_URL: cfg.rpcUrl,
        POT_CHAIN_ID: "31337",
        POT_DEPLOYMENTS: net.deploymentsFile,
        POT_DATA_DIR: cfg.dataDir,
        POT_PRIVATE_KEY: net.node.accounts[index].privateKey,
        POT_CONFIRMATIONS: "1",
        POT_POLLING_INTERVAL_MS: "200",
        POT_LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines: string[] = [];
  const collect = (chunk: Buffer) =>
    lines.push(
      ...chunk
        .toString()
        .split("\n")
        .filter((l) => l !== ""),
    );
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  return {
    child,
    lines,
    exited: () =>
      new Promise<void>((r) =>
        child.exitCode !== null || child.signalCode !== null ? r() : child.once("exit", () => r()),
      ),
  };
}

/**
 * Whether `pot --json miner start` said it is ready: its result goes to stdout as indented JSON, so the
 * line reads `"ready": true` (a log line on stderr is one compact JSON object).
 */
export function minerProcessReady(run: MinerProcess): boolean {
  return run.lines.some((l) => /"ready": ?true/.test(l));
}
