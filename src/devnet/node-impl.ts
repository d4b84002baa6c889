/**
 * The two local node implementations PoT runs on: Hardhat's node (`hardhat node`, the default) and Foundry's
 * anvil (from the `@foundry-rs/anvil` npm package). Both listen on 127.0.0.1, use chain id 31337 and derive
 * the same 30 funded development accounts from the public mnemonic "test test ... junk". Here: how to
 * start each, how to read its start-up banner (URL, accounts, keys), and how to turn on a block every
 * period next to the block of every transaction.
 *
 * Differences that matter to PoT (docs/devnet.md):
 *  - interval mining: Hardhat keeps automine when `evm_setIntervalMining` is called at run time; anvil's
 *    `evm_setIntervalMining` replaces automine, so anvil gets `--block-time <s> --mixed-mining` at start.
 *  - anvil reorganizes on request (`anvil_reorg`, `anvil_rollback`): the reorg test (test/reorg) needs it.
 */
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../config/load";
import { CliUsageError } from "../cli/errors";

/** The node implementations `pot node` and the devnet can start. */
export const NODE_IMPLS = ["hardhat", "anvil"] as const;
export type NodeImpl = (typeof NODE_IMPLS)[number];

/** Dev accounts of both implementations (Hardhat's count comes from hardhat.config.ts `accounts.count`). */
export const DEV_ACCOUNT_COUNT = 30;

/** The chain id of both local implementations. */
export const LOCAL_CHAIN_ID = 31337;

/**
 * The implementation named by `value` (a flag or POT_NODE_IMPL), else `fallback`; a clear usage error for
 * an unknown name, before anything starts.
 */
export function parseNodeImpl(
  value: string | undefined,
  source: string,
  fallback: NodeImpl = "hardhat",
): NodeImpl {
  if (value === undefined || value === "") return fallback;
  if ((NODE_IMPLS as readonly string[]).includes(value)) return value as NodeImpl;
  throw new CliUsageError(
    `Unknown node implementation "${value}" (${source})`,
    `Give one of: ${NODE_IMPLS.join(", ")}`,
  );
}

/** The implementation chosen by POT_NODE_IMPL (default hardhat). */
export function nodeImplFromEnv(env: Record<string, string | undefined> = process.env): NodeImpl {
  return parseNodeImpl(env.POT_NODE_IMPL, "POT_NODE_IMPL");
}

/** The command line of a node listening on `host`:`port` (0 = a free port). */
export interface NodeLaunch {
  readonly command: string;
  readonly args: string[];
  /** The node mines a block every `blockTimeSeconds` from the start (else call `setIntervalMining`). */
  readonly intervalFromStart: boolean;
}

/**
 * How to start `impl` on `host` (default 127.0.0.1) and `port`. Anvil gets its interval (`blockTimeSeconds` > 0) on the command line, with
 * mixed mining so that transactions are still mined at once; Hardhat's interval is set after it starts.
 */
export function nodeLaunch(
  impl: NodeImpl,
  port: number,
  blockTimeSeconds: number,
  host = "127.0.0.1",
): NodeLaunch {
  if (impl === "anvil") {
    const interval = blockTimeSeconds > 0 ? ["--block-time", String(blockTimeSeconds), "--mixed-mining"] : [];
    return {
      command: anvilBinary(),
      args: ["--host", host, "--port", String(port), "--accounts", String(DEV_ACCOUNT_COUNT), ...interval],
      intervalFromStart: true,
    };
  }
  const cli = require.resolve("hardhat/internal/cli/cli.js", { paths: [PROJECT_ROOT] });
  return {
    command: process.execPath,
    args: [cli, "node", "--hostname", host, "--port", String(port)],
    intervalFromStart: false,
  };
}

/**
 * The native anvil executable of this platform's `@foundry-rs/anvil-<os>-<arch>` package (the npm wrapper
 * `@foundry-rs/anvil/bin.mjs` would run it as a grandchild that a SIGKILL of the wrapper leaves behind).
 */
export function anvilBinary(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const dir = dirname(require.resolve(`${pkg}/package.json`, { paths: [PROJECT_ROOT] }));
    return join(dir, "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
  } catch {
    throw new CliUsageError(
      `anvil is not installed for ${process.platform}/${process.arch} (no package ${pkg})`,
      "Run npm install (it installs @foundry-rs/anvil and its platform package), or use --impl hardhat",
    );
  }
}

/** A funded development account as the node printed it. */
export interface BannerAccount {
  readonly address: `0x${string}`;
  readonly privateKey: `0x${string}`;
  /** e.g. "10000 ETH". */
  readonly balance: string;
}

/** What a node's start-up banner says once it is complete (the node then listens). */
export interface NodeBanner {
  readonly url: string;
  readonly accounts: BannerAccount[];
}

/**
 * Reads a node's start-up output; `undefined` until the banner is complete. Hardhat prints the URL, then
 * `Account #i: 0x.. (10000 ETH)` / `Private Key: 0x..` pairs, then repeats a warning; anvil prints
 * `(i) 0x.. (10000.000000000000000000 ETH)` under "Available Accounts", the keys under "Private Keys",
 * and `Listening on 127.0.0.1:<port>` last.
 */
export function parseNodeBanner(impl: NodeImpl, lines: readonly string[]): NodeBanner | undefined {
  return impl === "anvil" ? parseAnvilBanner(lines) : parseHardhatBanner(lines);
}

function parseHardhatBanner(lines: readonly string[]): NodeBanner | undefined {
  const lastKey = lines.findLastIndex((l) => /Private Key:/.test(l));
  if (lastKey < 0 || !lines.slice(lastKey + 1).some((l) => /WARNING|never send/i.test(l))) return undefined;
  let url: string | undefined;
  let pending: { address: `0x${string}`; balance: string } | undefined;
  const accounts: BannerAccount[] = [];
  for (const line of lines) {
    const started = /JSON-RPC server at (http:\/\/[^\s/]+)\/?/.exec(line);
    if (started) url = started[1];
    const account = /Account #\d+: (0x[0-9a-fA-F]{40}) \(([^)]*)\)/.exec(line);
    if (account) pending = { address: account[1] as `0x${string}`, balance: account[2] };
    const key = /Private Key: (0x[0-9a-fA-F]{64})/.exec(line);
    if (key && pending) {
      accounts.push({ ...pending, privateKey: key[1] as `0x${string}` });
      pending = undefined;
    }
  }
  return url === undefined || accounts.length === 0 ? undefined : { url, accounts };
}

function parseAnvilBanner(lines: readonly string[]): NodeBanner | undefined {
  const listening = lines.map((l) => /Listening on ([\d.]+:\d+)/.exec(l)).find((m) => m !== null);
  if (!listening) return undefined;
  const addresses = new Map<number, { address: `0x${string}`; balance: string }>();
  const accounts: BannerAccount[] = [];
  let section: "accounts" | "keys" | undefined;
  for (const line of lines) {
    if (/Available Accounts/.test(line)) section = "accounts";
    else if (/Private Keys/.test(line)) section = "keys";
    else if (/^(Wallet|Chain ID|Base Fee)/.test(line.trim())) section = undefined;
    const account = /^\((\d+)\) (0x[0-9a-fA-F]{40}) \(([\d.]+) ETH\)/.exec(line.trim());
    if (section === "accounts" && account)
      addresses.set(Number(account[1]), {
        address: account[2] as `0x${string}`,
        balance: `${account[3].replace(/\.?0+$/, "")} ETH`,
      });
    const key = /^\((\d+)\) (0x[0-9a-fA-F]{64})$/.exec(line.trim());
    const owner = key ? addresses.get(Number(key[1])) : undefined;
    if (section === "keys" && key && owner) accounts.push({ ...owner, privateKey: key[2] as `0x${string}` });
  }
  return accounts.length === 0 ? undefined : { url: `http://${listening[1]}`, accounts };
}

/** One JSON-RPC call; throws `<method>: <message>` on an error answer. */
export async function nodeRpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/**
 * Turns on a block every `seconds` next to automine on a node started without it (Hardhat; anvil takes its
 * interval at start, see `nodeLaunch`). 0 does nothing.
 */
export async function setIntervalMining(impl: NodeImpl, url: string, seconds: number): Promise<void> {
  if (seconds <= 0 || nodeLaunch(impl, 0, seconds).intervalFromStart) return;
  await nodeRpc(url, "evm_setIntervalMining", [Math.round(seconds * 1000)]);
}
