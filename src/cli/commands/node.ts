/**
 * `pot node`: a local JSON-RPC chain (Hardhat's node or anvil) for development, on 127.0.0.1 unless --host
 * says otherwise.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { isIP } from "node:net";
import type { Command } from "commander";
import { PROJECT_ROOT } from "../../config/load";
import { LOCAL_RPC_URL } from "../../config/networks";
import type { CliContext } from "../context";
import { CliUsageError } from "../errors";
import {
  LOCAL_CHAIN_ID,
  NODE_IMPLS,
  nodeImplFromEnv,
  nodeLaunch,
  parseNodeBanner,
  parseNodeImpl,
  setIntervalMining,
  type NodeBanner,
  type NodeImpl,
} from "../../devnet/node-impl";

/** A funded development account of the local node (the well-known test keys: never use them for real). */
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

/** How `startLocalNode` starts the node. */
export interface LocalNodeOptions {
  /** The implementation (default hardhat). */
  readonly impl?: NodeImpl;
  /** A block every that many seconds besides every transaction's (default 0: only on transactions). */
  readonly blockTimeSeconds?: number;
  /** The IP address to listen on (default 127.0.0.1). */
  readonly host?: string;
}

/**
 * Spawns the node (`hardhat node` or anvil, see src/devnet/node-impl.ts; no compilation happens) on
 * `options.host` (default 127.0.0.1):`port` from the project root and resolves once it listens (and mines on its interval), with its
 * URL and funded accounts. `onLine` sees every output line.
 */
export function startLocalNode(
  port: number,
  onLine?: (line: string) => void,
  options: LocalNodeOptions = {},
): Promise<LocalNode> {
  const impl = options.impl ?? "hardhat";
  const blockTime = options.blockTimeSeconds ?? 0;
  const launch = nodeLaunch(impl, port, blockTime, options.host);
  const child = spawn(launch.command, launch.args, {
    cwd: PROJECT_ROOT,
    env: withoutHardhatNetwork(process.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const banner: string[] = [];
    let tail = "";
    let buffer = "";
    let settled = false;
    const ready = async (found: NodeBanner) => {
      try {
        await setIntervalMining(impl, found.url, blockTime);
        resolve({ url: found.url, accounts: found.accounts, child, exited });
      } catch (error) {
        child.kill("SIGTERM");
        reject(error as Error);
      }
    };
    const handle = (line: string) => {
      onLine?.(line);
      tail = (tail + line + "\n").slice(-2000);
      if (settled) return;
      banner.push(line);
      const found = parseNodeBanner(impl, banner);
      if (found !== undefined) {
        settled = true;
        void ready(found);
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
    child.once("error", (error) => {
      tail += `could not start ${launch.command}: ${error.message}`;
    });
    void exited.then((code) => {
      if (settled) return;
      settled = true;
      const inUse = /EADDRINUSE|Address already in use/i.test(tail);
      reject(
        new CliUsageError(
          `The local node (${impl}) exited (code ${code}) before it started${inUse ? `: port ${port} is in use` : ""}`,
          inUse
            ? "Stop the other node or pass --port <another port>"
            : `Its output ended with: ${tail.trim().split("\n").slice(-3).join(" | ")}`,
        ),
      );
    });
  });
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
      "start a local development chain (Hardhat's node or anvil, JSON-RPC on 127.0.0.1) with funded accounts; Ctrl-C stops it",
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
    .option(
      "--impl <implementation>",
      `node implementation: ${NODE_IMPLS.join(" or ")} (default: POT_NODE_IMPL, else hardhat)`,
    )
    .action(
      async (opts: { host: string; port?: string; blockTime: string; showRpc?: boolean; impl?: string }) => {
        const ctx = context();
        const impl = opts.impl === undefined ? nodeImplFromEnv(ctx.env) : parseNodeImpl(opts.impl, "--impl");
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
          { impl, blockTimeSeconds: blockTime, host: opts.host },
        );
        ready = true;
        const stop = () => {
          if (node.child.exitCode === null) node.child.kill("SIGTERM");
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        ctx.out.result(
          { url: node.url, chainId: LOCAL_CHAIN_ID, impl, blockTime, accounts: node.accounts },
          () => [
            `Local PoT development chain (${impl}) listening at ${node.url} (chain ${LOCAL_CHAIN_ID}), ${
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
          ],
        );
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
      },
    );
}
