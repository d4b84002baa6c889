/**
 * A whole local PoT network made of real processes, for the demo, the end-to-end test and the scenarios:
 *
 *   chain node    (child: `hardhat node --hostname 127.0.0.1 --port 0` or anvil (option `impl`,
 *                 POT_NODE_IMPL), interval mining next to automine; src/devnet/node-impl.ts)
 *   pot deploy    (child, runs to completion: token, staking, escrow, stages, committee, disputes;
 *                 writes <dir>/deployments.json)
 *   N miners      (children: `node bin/pot.js ... miner start`, each with its own data dir and embedded IPFS)
 *   employer      (in this process, src/devnet/employer.ts: embedded IPFS + createJob + serveJob)
 *
 * Every child's stdout+stderr goes to `<dir>/logs/<name>.log`. `stop()` ends every child (SIGTERM, then
 * SIGKILL after a grace period) and removes `dir` unless `keep` was set.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import type { Address } from "viem";
import { connectPot, requireSuite, type PotSession } from "../chain/contracts";
import { PotContractsAdapter } from "../chain/pot-contracts";
import { loadConfig, PROJECT_ROOT } from "../config/load";
import type { PotConfig } from "../config/types";
import type { LedgerHandle } from "../chain/ledger-reads";
import { ManagedProcess, runToCompletion, type LogRecord } from "./process";
import { formatTails, waitFor } from "./wait";
import { nextDrawEpochStart } from "../protocol/follow-the-coin";
import {
  LOCAL_CHAIN_ID,
  nodeImplFromEnv,
  nodeLaunch,
  nodeRpc,
  parseNodeBanner,
  setIntervalMining,
  type NodeImpl,
} from "./node-impl";

/** The addresses `pot deploy` wrote. */
export interface DevnetContracts {
  readonly token: Address;
  readonly staking: Address;
  readonly escrow: Address;
  readonly stages: Address;
  readonly committee: Address;
  readonly disputes: Address;
}

/** A funded development account of the node (the public test keys of both implementations). */
export interface DevAccount {
  readonly address: Address;
  readonly privateKey: `0x${string}`;
}

/** Options of `startDevnet`. */
export interface DevnetOptions {
  /** Working directory (default: a new temp dir `pot-devnet-*`). */
  readonly dir?: string;
  /** Keep `dir` (logs, data dirs) after `stop()` (default false; a given `dir` is always kept). */
  readonly keep?: boolean;
  /** The node implementation (default: POT_NODE_IMPL, else hardhat; src/devnet/node-impl.ts). */
  readonly impl?: NodeImpl;
  /**
   * Interval mining period of the node in ms (default 500); 0 mines only on transactions, like
   * `pot node --block-time 0` (the agents then mine empty blocks when they wait on a standing chain).
   */
  readonly blockIntervalMs?: number;
  /** Called with progress notes ("node listening at ..."). */
  readonly onNote?: (message: string) => void;
  /** Grace period between SIGTERM and SIGKILL in `stop()` (default 5000 ms). */
  readonly stopGraceMs?: number;
  /** Timeout of the node start and the deployment (default 180 s). */
  readonly startTimeoutMs?: number;
}

/** Options of `startMiners` (each miner is `node bin/pot.js ... miner start`). */
export interface MinerOptions {
  /** Dev account indices to mine with (default 1..count). */
  readonly accounts?: readonly number[];
  /** Pin miner i to CPU `cpus[i % cpus.length]` with `taskset -c` when taskset exists. */
  readonly cpus?: readonly number[];
  /** Pipelining (default true). */
  readonly speculate?: boolean;
  /** Stages to train ahead of the chain (the miner's default when unset). */
  readonly speculationDepth?: number;
  /** Train the built-in dummy job when idle (default false: the devnet deployment has no built-in dummy S_0). */
  readonly dummy?: boolean;
  /** Extra environment of the miner processes (e.g. POT_RETRY_ATTEMPTS). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra Node.js flags of the miner processes (e.g. `--cpu-prof`, which NODE_OPTIONS does not allow). */
  readonly nodeArgs?: readonly string[];
  /** Polling interval of the miners in ms (default 200). */
  readonly pollingIntervalMs?: number;
  /** Confirmations the miners wait for (default 1). */
  readonly confirmations?: number;
  /** Log level (default info). */
  readonly logLevel?: "error" | "warn" | "info" | "debug";
  /** Time for every miner to print `ready` (default 180 s). */
  readonly readyTimeoutMs?: number;
}

/** A miner child process. */
export interface DevnetMiner {
  readonly index: number;
  readonly account: DevAccount;
  readonly dataDir: string;
  readonly process: ManagedProcess;
  /** Its JSON log records so far (the in-memory tail). */
  records(): LogRecord[];
}

/** A running devnet. */
export interface Devnet {
  readonly dir: string;
  readonly logsDir: string;
  readonly url: string;
  /** Which node runs the chain. */
  readonly impl: NodeImpl;
  readonly chainId: number;
  readonly accounts: readonly DevAccount[];
  readonly deploymentsFile: string;
  readonly deployBlock: bigint;
  /** The deployed addresses (token, staking, escrow, stages, committee, disputes). */
  readonly contracts: DevnetContracts;
  readonly node: ManagedProcess;
  readonly miners: DevnetMiner[];
  /** Every child process started so far (node, miners, helpers). */
  readonly processes: ManagedProcess[];
  /** The `pot` configuration of dev account `index` (data dir `<dir>/<dataDirName>`). */
  config(index: number, dataDirName?: string): PotConfig;
  /** A signing session of dev account `index` (read-only with `index` undefined). */
  session(index?: number): Promise<PotSession>;
  /** The ledger handle the employer/verify libraries take. */
  ledgerHandle(): Promise<LedgerHandle>;
  /** Starts `count` miners (see MinerOptions) and waits until each printed `ready`. */
  startMiners(count: number, options?: MinerOptions): Promise<DevnetMiner[]>;
  /** Runs `node bin/pot.js <args>` against this devnet to completion; resolves with its parsed `--json` result. */
  pot(
    args: readonly string[],
    o?: { account?: number; dataDir?: string; timeoutMs?: number; name?: string },
  ): Promise<unknown>;
  /** Polls with a timeout; on timeout the error holds the tails of every process's log. */
  waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs: number): Promise<T>;
  /** The tails of every process's log. */
  tails(lines?: number): string;
  /** Registers a cleanup to run first in `stop()` (e.g. closing an employer's IPFS node). */
  onStop(fn: () => Promise<void>): void;
  /** Kills every child (SIGTERM, then SIGKILL), runs the cleanups, removes `dir` unless kept. Idempotent. */
  stop(): Promise<void>;
}

const BIN = join(PROJECT_ROOT, "bin", "pot.js");

/** The environment for children: this process's, minus every POT_* and HARDHAT_NETWORK, plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith("POT_") && k !== "HARDHAT_NETWORK") env[k] = v;
  return { ...env, ...extra };
}

/** Starts a node child (Hardhat's or anvil), deploys PoT with `pot deploy`, and returns the devnet (no miners yet). */
export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "pot-devnet-"));
  const removeDir = options.dir === undefined && options.keep !== true;
  const logsDir = join(dir, "logs");
  mkdirSync(logsDir, { recursive: true });
  const note = options.onNote ?? (() => {});
  const processes: ManagedProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const miners: DevnetMiner[] = [];
  const timeout = options.startTimeoutMs ?? 180_000;
  let stopped: Promise<void> | undefined;

  const stop = () =>
    (stopped ??= (async () => {
      for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
      // Miners and helpers first, the node last (miners stop cleanly while the chain still answers).
      const others = processes.filter((p) => p !== node);
      await Promise.all(others.map((p) => p.stop(options.stopGraceMs ?? 5_000)));
      await node?.stop(options.stopGraceMs ?? 5_000);
      if (removeDir) rmSync(dir, { recursive: true, force: true });
    })());

  // 1. The chain.
  const impl = options.impl ?? nodeImplFromEnv();
  const blockSeconds = (options.blockIntervalMs ?? 500) / 1000;
  const launch = nodeLaunch(impl, 0, blockSeconds);
  const node: ManagedProcess = new ManagedProcess({
    name: `${impl}-node`,
    command: launch.command,
    args: launch.args,
    cwd: PROJECT_ROOT,
    env: childEnv(),
    logFile: join(logsDir, `${impl}-node.log`),
    tailLines: 200,
    // The node logs every JSON-RPC call (tens of thousands of lines per run), with synchronous writes when
    // its stdout is a pipe: it writes straight into its log file so that it never waits on this process.
    direct: true,
  });
  processes.push(node);
  try {
    // The start-up banner in the log file: URL, then accounts and keys (src/devnet/node-impl.ts).
    const banner = await waitFor(
      `the ${impl} node to listen`,
      async () => parseNodeBanner(impl, node.tail(400)),
      {
        timeoutMs: timeout,
        everyMs: 100,
        logs: [node],
        mustStayUp: [node],
      },
    );
    const rpcUrl = banner.url;
    const accounts: DevAccount[] = banner.accounts.map((a) => ({
      address: a.address,
      privateKey: a.privateKey,
    }));
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(rpcUrl))
      throw new Error(`the node is not on loopback: ${rpcUrl}`);
    note(`${impl} node listening at ${rpcUrl} (${accounts.length} dev accounts); log ${node.logFile}`);

    const rpc = (method: string, params: unknown[] = []) => nodeRpc(rpcUrl, method, params);
    // Automine stays on (a transaction is mined at once); interval mining adds a block every period so
    // block-counted phases (declaration close, builder ranks, committee randomness) advance when idle.
    await setIntervalMining(impl, rpcUrl, blockSeconds);

    // 2. The contracts, with `pot deploy` (it loads the Hardhat runtime in its own process).
    const deploymentsFile = join(dir, "deployments.json");
    const potEnv = (extra: Record<string, string> = {}) => childEnv({ POT_LOCAL_RPC_URL: rpcUrl, ...extra });
    const potArgs = (dataDir: string, key?: string) => [
      "--network",
      "localhost",
      "--rpc-url",
      rpcUrl,
      "--deployments",
      deploymentsFile,
      "--data-dir",
      dataDir,
      ...(key ? ["--private-key", key] : []),
    ];
    const runPot = async (
      args: readonly string[],
      o: { account?: number; dataDir?: string; timeoutMs?: number; name?: string } = {},
    ): Promise<unknown> => {
      const name = o.name ?? `pot-${args[0]}-${Date.now()}`;
      const dataDir = o.dataDir ?? join(dir, "cli");
      mkdirSync(dataDir, { recursive: true });
      const out = await runToCompletion(
        {
          name,
          command: process.execPath,
          args: [
            BIN,
            ...potArgs(dataDir, o.account === undefined ? undefined : accounts[o.account].privateKey),
            "--json",
            ...args,
          ],
          cwd: PROJECT_ROOT,
          env: potEnv(),
          logFile: join(logsDir, `${name}.log`),
        },
        o.timeoutMs ?? timeout,
      );
      const text = out.join("\n");
      const start = text.indexOf("{");
      return start < 0 ? undefined : (JSON.parse(text.slice(start)) as unknown);
    };
    note("deploying PoT (pot deploy)...");
    const deployed = (await runPot(["deploy", "--force"], { name: "pot-deploy" })) as {
      deployBlock: number | string;
      contracts: DevnetContracts;
    };
    if (!existsSync(deploymentsFile)) throw new Error(`pot deploy did not write ${deploymentsFile}`);
    const contracts = deployed.contracts;
    const deployBlock = BigInt(
      deployed.deployBlock ??
        (JSON.parse(readFileSync(deploymentsFile, "utf8")) as { deployBlock: number }).deployBlock,
    );
    note(`PoT deployed at block ${deployBlock}: stages ${contracts.stages}, escrow ${contracts.escrow}`);

    const config = (index: number, dataDirName = `account-${index}`): PotConfig =>
      loadConfig({
        flags: {
          network: "localhost",
          rpcUrl,
          deployments: deploymentsFile,
          dataDir: join(dir, dataDirName),
          privateKey: accounts[index]?.privateKey,
        },
        env: { POT_LOCAL_RPC_URL: rpcUrl, POT_CONFIRMATIONS: "0", POT_POLLING_INTERVAL_MS: "250" },
      });
    const sessions = new Map<string, Promise<PotSession>>();
    const session = (index?: number): Promise<PotSession> => {
      const key = String(index ?? "read");
      let s = sessions.get(key);
      if (s === undefined) {
        s =
          index === undefined
            ? connectPot(
                loadConfig({
                  flags: {
                    network: "localhost",
                    rpcUrl,
                    deployments: deploymentsFile,
                    dataDir: join(dir, "cli"),
                  },
                  env: { POT_LOCAL_RPC_URL: rpcUrl },
                }),
              )
            : connectPot(config(index), privateKeyToAccount(accounts[index].privateKey));
        sessions.set(key, s);
      }
      return s;
    };
    const wait = <T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs: number) =>
      waitFor(what, fn, { timeoutMs, logs: processes, mustStayUp: [node] });

    const devnet: Devnet = {
      dir,
      logsDir,
      url: rpcUrl,
      impl,
      chainId: LOCAL_CHAIN_ID,
      accounts,
      deploymentsFile,
      deployBlock,
      contracts,
      node,
      miners,
      processes,
      config,
      session,
      async ledgerHandle() {
        const s = await session();
        return {
          client: s.publicClient,
          suite: requireSuite(s.contracts),
          staking: s.contracts.staking,
          fromBlock: deployBlock,
        };
      },
      async startMiners(count, mo = {}) {
        const indices = mo.accounts ?? Array.from({ length: count }, (_, i) => miners.length + i + 1);
        if (indices.some((i) => i <= 0 || i >= accounts.length))
          throw new Error(`miner accounts must be dev accounts 1..${accounts.length - 1}`);
        await fundMiners(indices);
        const taskset = mo.cpus !== undefined && mo.cpus.length > 0 && existsSync("/usr/bin/taskset");
        const started: DevnetMiner[] = [];
        for (const [n, index] of indices.entries()) {
          const name = `miner-${index}`;
          const dataDir = join(dir, name);
          mkdirSync(dataDir, { recursive: true });
          const args = [
            ...(mo.nodeArgs ?? []),
            BIN,
            ...potArgs(dataDir, accounts[index].privateKey),
            "--json",
            "--log-level",
            mo.logLevel ?? "info",
            "miner",
            "start",
            ...(mo.speculate === false ? ["--no-speculate"] : []),
            ...(mo.speculationDepth === undefined
              ? []
              : ["--speculation-depth", String(mo.speculationDepth)]),
            ...(mo.dummy === true ? [] : ["--no-dummy"]),
          ];
          const cpu = taskset ? mo.cpus![n % mo.cpus!.length] : undefined;
          const p = new ManagedProcess({
            name,
            command: cpu === undefined ? process.execPath : "taskset",
            args: cpu === undefined ? args : ["-c", String(cpu), process.execPath, ...args],
            cwd: PROJECT_ROOT,
            env: potEnv({
              POT_CONFIRMATIONS: String(mo.confirmations ?? 1),
              POT_POLLING_INTERVAL_MS: String(mo.pollingIntervalMs ?? 200),
              ...(mo.env ?? {}),
            }),
            logFile: join(logsDir, `${name}.log`),
            tailLines: 2_000,
          });
          processes.push(p);
          const m: DevnetMiner = {
            index,
            account: accounts[index],
            dataDir,
            process: p,
            records: () => p.records(),
          };
          started.push(m);
          miners.push(m);
        }
        await Promise.all(
          started.map((m) =>
            waitFor(
              `${m.process.name} to start (print "ready")`,
              async () => m.process.tail(2_000).some((l) => /"ready":\s*true/.test(l)),
              {
                timeoutMs: mo.readyTimeoutMs ?? 180_000,
                logs: [m.process],
                mustStayUp: [m.process, node],
              },
            ),
          ),
        );
        note(
          `${started.length} miner(s) ready: ${started.map((m) => `${m.process.name} ${m.account.address}`).join(", ")}`,
        );
        // Draw weights change only at staking epoch boundaries: the new stakes count for committees and
        // juries from the next epoch. A local chain need not wait for it: mine to it.
        await mineToNextDrawEpoch();
        return started;
      },
      pot: runPot,
      waitFor: wait,
      tails: (lines = 15) => formatTails(processes, lines),
      onStop(fn) {
        cleanups.push(fn);
      },
      stop,
    };

    /** Mines (hardhat_mine) to the first block of the next staking draw epoch. */
    async function mineToNextDrawEpoch(): Promise<void> {
      const s = await session(0);
      const e = await new PotContractsAdapter(s, s.sender!).epochBlocks();
      const head = await s.publicClient.getBlockNumber({ cacheTime: 0 });
      const start = nextDrawEpochStart(head, e);
      await rpc("hardhat_mine", [`0x${(start - head).toString(16)}`]);
      note(`mined to staking epoch ${start / e} (block ${start}): the stakes are drawable`);
    }

    /** Each miner account gets test POT from the faucet when it holds less than 1,000 POT. */
    async function fundMiners(indices: readonly number[]): Promise<void> {
      for (const index of indices) {
        const s = await session(index);
        const chain = new PotContractsAdapter(s, s.sender!);
        const me = accounts[index].address;
        if ((await chain.tokenBalance(me)) >= 1_000n * 10n ** 18n) continue;
        await chain.faucet();
        note(`funded ${me} from the faucet`);
      }
    }
    return devnet;
  } catch (error) {
    await stop();
    throw error;
  }
}
