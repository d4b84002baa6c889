/** `pot node`: a local Hardhat JSON-RPC chain for development, on 127.0.0.1 unless --host says otherwise. */
import { spawn, type ChildProcess } from "node:child_process";
import { isIP } from "node:net";
import type { Command } from "commander";
import { PROJECT_ROOT } from "../../config/load";
import { LOCAL_RPC_URL } from "../../config/networks";
import type { CliContext } from "../context";
import { CliUsageError } from "../errors";

/** A funded development account of the local node (Hardhat's well-known test keys: never use them for real). */
export interface DevAccount {
  readonly address: string;
  readonly privateKey: string;
  readonly balance: string;
}

/** A running local node. */
export interface LocalNode {
  readonly url: string;
  readonly accounts: DevAccount[];
  readonly child: ChildProcess;
  /** Resolves with the exit code when the node process ends. */
  readonly exited: Promise<number | null>;
}

/**
 * Spawns `hardhat node --hostname <host> --port <port>` (no compilation happens) from the project root
 * and resolves once it listens, with its URL and funded accounts. `onLine` sees every output line.
 */
export function startLocalNode(
  port: number,
  onLine?: (line: string) => void,
  host = "127.0.0.1",
): Promise<LocalNode> {
  const cli = require.resolve("hardhat/internal/cli/cli.js", { paths: [PROJECT_ROOT] });
  const child = spawn(process.execPath, [cli, "node", "--hostname", host, "--port", String(port)], {
    cwd: PROJECT_ROOT,
    env: withoutHardhatNetwork(process.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    const accounts: DevAccount[] = [];
    let pending: { address: string; balance: string } | undefined;
    let tail = "";
    let buffer = "";
    let settled = false;
    const handle = (line: string) => {
      onLine?.(line);
      tail = (tail + line + "\n").slice(-2000);
      const started = /JSON-RPC server at (http:\/\/[^\s/]+)\/?/.exec(line);
      if (started) url = started[1];
      const account = /Account #\d+: (0x[0-9a-fA-F]{40}) \(([^)]*)\)/.exec(line);
      if (account) pending = { address: account[1], balance: account[2] };
      const key = /Private Key: (0x[0-9a-fA-F]{64})/.exec(line);
      if (key && pending) {
        accounts.push({ ...pending, privateKey: key[1] });
        pending = undefined;
      }
      // Hardhat prints a warning after the account list: the node is ready.
      if (!settled && url !== undefined && accounts.length > 0 && /WARNING|never send/i.test(line)) {
        settled = true;
        resolve({ url, accounts, child, exited });
      }
    };
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        handle(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-2000);
      onLine?.(chunk.toString().trimEnd());
    });
    void exited.then((code) => {
      if (settled) return;
      settled = true;
      const inUse = /EADDRINUSE/.test(tail);
      reject(
        new CliUsageError(
          `The local node exited (code ${code}) before it started${inUse ? `: port ${port} is in use` : ""}`,
          inUse
            ? "Stop the other node or pass --port <another port>"
            : `Its output ended with: ${tail.trim().split("\n").slice(-3).join(" | ")}`,
        ),
      );
    });
  });
}

/**
 * Turns on interval mining (a block every `seconds`, like anvil's --block-time) next to automine, so
 * block-counted phases (declaration close, builder ranks, committee randomness, staking epochs) advance
 * without transactions. 0 leaves the node mining only on transactions.
 */
export async function setBlockTime(url: string, seconds: number): Promise<void> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "evm_setIntervalMining",
      params: [seconds * 1000],
    }),
  });
  const body = (await res.json()) as { error?: { message: string } };
  if (body.error) throw new Error(`evm_setIntervalMining: ${body.error.message}`);
}

/**
 * The port of the local node: --port, else the port of POT_LOCAL_RPC_URL (which must name this machine:
 * 127.0.0.1, localhost or the --host the node listens on), else 8545.
 */
export function localNodePort(
  flag: string | undefined,
  env: Record<string, string | undefined>,
  host = "127.0.0.1",
): number {
  if (flag !== undefined) {
    const port = Number(flag);
    if (!/^\d+$/.test(flag) || port > 65535)
      throw new CliUsageError(`Invalid port "${flag}"`, "Give a TCP port from 0 to 65535");
    return port;
  }
  const url = env.POT_LOCAL_RPC_URL;
  if (url === undefined || url === "") return 8545;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliUsageError(
      `POT_LOCAL_RPC_URL "${url}" is not a URL`,
      "Set it to e.g. http://127.0.0.1:8546",
    );
  }
  if (!["127.0.0.1", "localhost", host].includes(parsed.hostname))
    throw new CliUsageError(
      `POT_LOCAL_RPC_URL "${url}" is not on this machine`,
      `pot node listens on ${host}: set POT_LOCAL_RPC_URL=http://${host}:<port>, pass --port, or --host ${parsed.hostname} if that is an address of this machine`,
    );
  return parsed.port === "" ? 80 : Number(parsed.port);
}

/** The environment minus HARDHAT_NETWORK (`hardhat node` runs only on the in-process network). */
function withoutHardhatNetwork(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy.HARDHAT_NETWORK;
  return copy;
}

/** Registers `pot node`. */
export function registerNodeCommand(program: Command, context: () => CliContext): void {
  program
    .command("node")
    .description(
      "start a local development chain (Hardhat JSON-RPC on 127.0.0.1) with funded accounts; Ctrl-C stops it",
    )
    .option(
      "--host <address>",
      "IP address to listen on (e.g. this host's address on a private network; 0.0.0.0 = every interface)",
      "127.0.0.1",
    )
    .option(
      "--port <port>",
      "TCP port (0 = any free port; default: the port of POT_LOCAL_RPC_URL, else 8545)",
    )
    .option(
      "--block-time <seconds>",
      "mine a block every <seconds> besides every transaction (0 = only on transactions)",
      "1",
    )
    .option("--show-rpc", "print the node's log of JSON-RPC calls")
    .action(async (opts: { host: string; port?: string; blockTime: string; showRpc?: boolean }) => {
      const ctx = context();
      if (isIP(opts.host) === 0)
        throw new CliUsageError(`Invalid --host "${opts.host}"`, "Give an IP address, e.g. 10.77.0.1");
      const port = localNodePort(opts.port, ctx.env, opts.host);
      const blockTime = Number(opts.blockTime);
      if (!/^\d+(\.\d+)?$/.test(opts.blockTime) || blockTime > 3600)
        throw new CliUsageError(
          `Invalid --block-time "${opts.blockTime}"`,
          "Give seconds from 0 (mine only on transactions) to 3600, e.g. 1",
        );
      let ready = false;
      const node = await startLocalNode(
        port,
        (line) => {
          if (ready && opts.showRpc) process.stderr.write(`${line}\n`);
        },
        opts.host,
      );
      ready = true;
      if (blockTime > 0) {
        try {
          await setBlockTime(node.url, blockTime);
        } catch (error) {
          node.child.kill("SIGTERM");
          throw error;
        }
      }
      const stop = () => {
        if (node.child.exitCode === null) node.child.kill("SIGTERM");
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      ctx.out.result({ url: node.url, chainId: 31337, blockTime, accounts: node.accounts }, () => [
        `Local PoT development chain listening at ${node.url} (chain 31337), ${
          blockTime > 0
            ? `a block every ${blockTime} s and on every transaction`
            : "blocks only on transactions (--block-time 0: miners need traffic to advance)"
        }`,
        "",
        "Funded development accounts (publicly known keys: for local use only):",
        ...node.accounts
          .slice(0, 10)
          .map((a, i) => `  #${i} ${a.address} (${a.balance})\n      key ${a.privateKey}`),
        node.accounts.length > 10 ? `  ... and ${node.accounts.length - 10} more (--json lists all)` : "",
        "",
        `Next, in another terminal: npx pot deploy${node.url === LOCAL_RPC_URL ? "" : ` (with POT_LOCAL_RPC_URL=${node.url})`}`,
        "Press Ctrl-C to stop.",
      ]);
      const code = await node.exited;
      process.removeListener("SIGINT", stop);
      process.removeListener("SIGTERM", stop);
      if (code !== 0 && code !== null && node.child.signalCode === null && !node.child.killed) {
        throw new CliUsageError(
          `The local node stopped with code ${code}`,
          "Run pot node --show-rpc to see its log",
        );
      }
      ctx.out.note("Local node stopped.");
    });
}
