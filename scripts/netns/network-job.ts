/**
 * A PoT job across hosts that reach each other only by address: `pot node` in namespace `chain`
 * (10.77.0.1), the employer in `employer` (10.77.0.2: `pot deploy`, `pot job create`, `pot job serve
 * --announce`, later `pot job status --wait`, `pot job fetch`, `pot verify --all` from a data directory of
 * their own), and one `pot miner start` per miner namespace (10.77.0.11, .12, ...). Every process is the
 * `pot` CLI (bin/pot.js) run with `ip netns exec`, configured by `POT_*` variables as a user would. Miners
 * listen on 0.0.0.0 and find the employer's node and each other only through the peer registry on chain.
 *
 * What the run records for the checks (test/netns/network.netns.test.ts): the peer registry as read on
 * chain at the end, and every TCP connection and listening socket of every host, sampled every 2 s
 * (`ss` in each namespace): peer traffic must run between 10.77.0.x addresses, never over loopback.
 *
 * The fault (optional): when the last miner has trained stage 1, its link goes down for some seconds
 * (`ip link set eth0 down`, then up); the job must still finish and verify, and the miner must act on
 * chain again after its link is back.
 *
 * Tear-down always runs: processes stopped, namespaces deleted, the work folder removed (unless `keep`).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../src/config/load";
import { childEnv } from "../../src/devnet/devnet";
import { ManagedProcess, runToCompletion, type LogRecord } from "../../src/devnet/process";
import { formatTails, waitFor } from "../../src/devnet/wait";
import {
  createNetwork,
  inNamespace,
  netnsUnavailableReason,
  removeLeftovers,
  routesOf,
  setLink,
  SUBNET_PREFIX,
  tcpSockets,
  type NetnsHost,
} from "./topology";

const BIN = join(PROJECT_ROOT, "bin", "pot.js");
const RPC_PORT = 8545;
const IPFS_PORT = 4001;
/** How often every host's TCP sockets are sampled (ms). */
const SOCKET_SAMPLE_MS = 2_000;
/** Miner log messages that mean a transaction of its own went through (acting on chain). */
const ON_CHAIN_ACTIONS = new Set([
  "declared",
  "header submitted",
  "attested",
  "wrapped",
  "job earnings claimed",
  "rewards withdrawn",
]);

/** Options of `runNetworkJob`. */
export interface NetworkJobOptions {
  /** Miner hosts (default 3; a job with C=2 needs 2, the third makes a cut miner survivable). */
  readonly miners?: number;
  /** Stages of the Iris job (default 2). */
  readonly stages?: number;
  /** Seconds the last miner's link stays down mid-stage; 0 = no fault (default 0). */
  readonly cutSeconds?: number;
  /** Keep the work folder (logs in <dir>/logs). */
  readonly keep?: boolean;
  /** Progress lines. */
  readonly onNote?: (line: string) => void;
  /** Time limit for the job to finish once created, in ms (default 300 s). */
  readonly jobTimeoutMs?: number;
}

/** What `runNetworkJob` saw. */
export interface NetworkJobResult {
  readonly jobId: number;
  /** Host name -> the multiaddr it announced in the peer registry. */
  readonly announced: Record<string, string>;
  /** Host name -> its multiaddr in the peer registry, read on chain (`pot staking status`) after the job. */
  readonly registry: Record<string, string>;
  /** Host name -> its routes (only the private subnet). */
  readonly routes: Record<string, string[]>;
  /** Host name -> every TCP connection it had while sampled ("local -> peer", e.g. "10.77.0.11:4001 -> 10.77.0.2:53142"). */
  readonly connections: Record<string, string[]>;
  /** Host name -> every address:port it listened on while sampled, with the command, e.g. "10.77.0.1:8545 (pot node ...)". */
  readonly listeners: Record<string, string[]>;
  /**
   * The link cut, when one was asked for, and what shows the miner back on the chain after it (log
   * messages): the transactions it sent, or the wraps it read (with C=2 of 3 miners the other two may finish
   * the job before the link is back, leaving it nothing to send).
   */
  readonly linkCut?: {
    readonly host: string;
    readonly downSeconds: number;
    readonly atStage: number;
    readonly actedAfter: string[];
  };
  /** The `pot job status --wait` line saying the job finished. */
  readonly finished: string;
  /** The `pot verify --all` verdict line. */
  readonly verdict: string;
  readonly seconds: number;
  /** Namespaces of an earlier run (`potnet-*`) found and removed before this one started. */
  readonly removedAtStart: string[];
  /** The work folder (gone unless `keep`). */
  readonly dir: string;
}

/** "pot job serve 1 --announce" for a process of this run (from /proc), else "pid N". */
function potCommandOf(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .filter((a) => a !== "");
    const bin = argv.indexOf(BIN);
    return bin < 0 ? argv.join(" ") : ["pot", ...argv.slice(bin + 1)].join(" ");
  } catch {
    return `pid ${pid}`; // exited since ss listed it
  }
}

/** A dev account of `pot node` (as it prints them). */
interface DevAccount {
  readonly address: string;
  readonly privateKey: string;
}

/** Parses `pot node`'s account list ("#1 0x... (10000 ETH)" then "key 0x..."). */
function parseAccounts(lines: readonly string[]): DevAccount[] {
  const text = lines.join("\n");
  return [...text.matchAll(/#\d+ (0x[0-9a-fA-F]{40}) .*\n\s+key (0x[0-9a-fA-F]{64})/g)].map((m) => ({
    address: m[1],
    privateKey: m[2],
  }));
}

/** Runs the job on a fresh namespace network and tears it down; throws on any failure (after tear-down). */
export async function runNetworkJob(o: NetworkJobOptions = {}): Promise<NetworkJobResult> {
  const reason = netnsUnavailableReason();
  if (reason !== undefined) throw new Error(`cannot build the namespace network: ${reason}`);
  const note = o.onNote ?? (() => {});
  const t0 = Date.now();
  const minerCount = o.miners ?? 3;
  const stages = o.stages ?? 2;
  const cutSeconds = o.cutSeconds ?? 0;

  const leftovers = removeLeftovers();
  if (leftovers.length > 0) note(`removed namespaces of an earlier run: ${leftovers.join(", ")}`);
  const dir = mkdtempSync(join(tmpdir(), "pot-netns-"));
  const logs = join(dir, "logs");
  mkdirSync(logs);
  const running: ManagedProcess[] = [];
  const stopWaits = new AbortController();
  let sampler: NodeJS.Timeout | undefined;
  try {
    const [chain, employer, ...miners] = createNetwork([
      { name: "chain", octet: 1 },
      { name: "employer", octet: 2 },
      ...Array.from({ length: minerCount }, (_, i) => ({ name: `miner${i + 1}`, octet: 11 + i })),
    ]);
    const hosts = [chain, employer, ...miners];
    note(
      `namespaces up: ${hosts.map((h) => `${h.netns} ${h.address}`).join(", ")} (bridge in potnet-switch)`,
    );
    const routes = Object.fromEntries(hosts.map((h) => [h.name, routesOf(h)]));
    const outside = Object.entries(routes).filter(([, r]) =>
      r.some((l) => !l.startsWith(`${SUBNET_PREFIX}.0/24 `)),
    );
    if (outside.length > 0)
      throw new Error(`a host has a route out of the subnet: ${JSON.stringify(outside)}`);
    const connections = new Map(hosts.map((h) => [h.name, new Set<string>()]));
    const listeners = new Map(hosts.map((h) => [h.name, new Set<string>()]));
    const sampleSockets = () => {
      for (const h of hosts)
        for (const socket of tcpSockets(h)) {
          if (socket.state === "LISTEN")
            listeners.get(h.name)!.add(`${socket.local} (${socket.pids.map(potCommandOf).join(", ")})`);
          else if (socket.state === "ESTAB")
            connections.get(h.name)!.add(`${socket.local} -> ${socket.peer}`);
        }
    };
    // A sample can fail while the namespaces go (Ctrl-C); the last sample, after the job, must not.
    sampler = setInterval(() => {
      try {
        sampleSockets();
      } catch {
        // skipped sample
      }
    }, SOCKET_SAMPLE_MS);

    const rpcUrl = `http://${chain.address}:${RPC_PORT}`;
    const baseEnv = childEnv({
      HOME: dir,
      POT_NETWORK: "localhost",
      POT_LOCAL_RPC_URL: rpcUrl,
      POT_DEPLOYMENTS: join(dir, "deployments", "localhost-31337.json"),
    });
    const spawnOpts = (
      host: NetnsHost,
      name: string,
      argv: readonly string[],
      env: Record<string, string>,
    ) => {
      const { command, args } = inNamespace(host, [process.execPath, BIN, ...argv]);
      return {
        name,
        command,
        args,
        cwd: dir,
        // A command's embedded IPFS node listens on its host's address (any port) unless `env` says otherwise:
        // never on loopback, where a node's default port would be.
        env: { ...baseEnv, POT_IPFS_LISTEN: `/ip4/${host.address}/tcp/0`, ...env },
        logFile: join(logs, `${name}.log`),
      };
    };
    const start = (
      host: NetnsHost,
      name: string,
      argv: readonly string[],
      env: Record<string, string> = {},
    ) => {
      const p = new ManagedProcess({ ...spawnOpts(host, name, argv, env), tailLines: 4_000 });
      running.push(p);
      return p;
    };
    const run = async (
      host: NetnsHost,
      name: string,
      argv: readonly string[],
      env: Record<string, string> = {},
      timeoutMs = 180_000,
    ) => {
      try {
        return await runToCompletion(spawnOpts(host, name, argv, env), timeoutMs);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${formatTails(running, 20)}`);
      }
    };
    const ready = (p: ManagedProcess, what: RegExp, timeoutMs = 180_000) =>
      waitFor(`${p.name} to be ready`, async () => p.tail(4_000).some((l) => what.test(l)), {
        timeoutMs,
        logs: running,
        mustStayUp: running,
      });

    // The chain, listening on its own address only.
    const node = start(chain, "chain-node", ["node", "--host", chain.address, "--port", String(RPC_PORT)]);
    await ready(node, /listening at http:\/\//);
    const accounts = parseAccounts(node.tail(4_000));
    if (accounts.length < 2 + minerCount) throw new Error(`pot node listed ${accounts.length} accounts`);
    note(`chain at ${rpcUrl}`);

    // Deploy from the employer's host (account #0, as on any local chain without a wallet).
    await run(employer, "employer-deploy", ["deploy"]);
    note("contracts deployed");

    // Miners: own data directory and key, embedded IPFS on every interface; each registers its address in
    // the peer registry: the first miner the one its node picks, the others the one POT_IPFS_ANNOUNCE names
    // (as behind NAT, where the listen address is not the one others dial).
    const minerProcs = miners.map((m, i) =>
      start(m, m.name, ["--json", "miner", "start", "--no-dummy"], {
        POT_DATA_DIR: join(dir, m.name),
        POT_PRIVATE_KEY: accounts[2 + i].privateKey,
        POT_IPFS_LISTEN: `/ip4/0.0.0.0/tcp/${IPFS_PORT}`,
        ...(i === 0 ? {} : { POT_IPFS_ANNOUNCE: `/ip4/${m.address}/tcp/${IPFS_PORT}` }),
      }),
    );
    await Promise.all(minerProcs.map((p) => ready(p, /"ready":\s*true/)));
    const announced: Record<string, string> = {};
    for (const [i, p] of minerProcs.entries()) {
      const reg = p.records().find((r) => r.msg === "ipfs address registered");
      announced[miners[i].name] = String(reg?.multiaddr ?? "");
    }
    note(`miners up, announced: ${JSON.stringify(announced)}`);

    // The employer: its node listens on its address; `job serve --announce` registers it.
    const employerEnv = {
      POT_DATA_DIR: join(dir, "employer"),
      POT_PRIVATE_KEY: accounts[1].privateKey,
      POT_IPFS_LISTEN: `/ip4/${employer.address}/tcp/${IPFS_PORT}`,
    };
    // prettier-ignore
    const jobArgs = [
      "job", "create", "--name", "netns-iris", "--dataset", "iris", "--hidden", "8", "--batch-size", "8",
      "--steps-per-stage", "2", "--max-stages", String(stages), "--c", "2", "--k", "2", "--fee", "0.01",
      "--stage-seconds", "60", "--seed", "7",
    ];
    const created = (await run(employer, "employer-job-create", jobArgs, employerEnv)).join("\n");
    const jobId = Number(/Created job (\d+)/.exec(created)?.[1]);
    if (!Number.isInteger(jobId)) throw new Error(`pot job create printed no job id:\n${created}`);
    const serve = start(
      employer,
      "employer-serve",
      ["job", "serve", String(jobId), "--announce"],
      employerEnv,
    );
    await ready(serve, /Serving job \d+/);
    announced.employer = /Announced (\S+) in the peer registry/.exec(serve.tail(50).join("\n"))?.[1] ?? "";
    note(`job ${jobId} created and served (${announced.employer})`);

    // The fault: the last miner's link down for cutSeconds once it has trained stage 1.
    const victim = miners[miners.length - 1];
    const victimProc = minerProcs[minerProcs.length - 1];
    let cut: { readonly atStage: number; readonly upAt: string } | undefined;
    let cutDone: Promise<void> = Promise.resolve();
    if (cutSeconds > 0) {
      const trained = (r: LogRecord) => r.msg === "stage trained" && Number(r.jobId) === jobId;
      cutDone = waitFor(
        `${victim.name} to train a stage of job ${jobId}`,
        async () => victimProc.records().find(trained),
        {
          timeoutMs: o.jobTimeoutMs ?? 300_000,
          logs: running,
          mustStayUp: [victimProc],
          signal: stopWaits.signal,
        },
      ).then(async (r) => {
        setLink(victim, false);
        note(`link of ${victim.name} DOWN after it trained stage ${String(r.stage)}`);
        await new Promise((resolve) => setTimeout(resolve, cutSeconds * 1000));
        setLink(victim, true);
        const upAt = new Date().toISOString();
        note(`link of ${victim.name} up again after ${cutSeconds} s`);
        cut = { atStage: Number(r.stage), upAt };
      });
      cutDone.catch(() => undefined); // awaited after the job; a failure before that must not go unhandled
    }

    // Wait, fetch and verify from a data directory of their own on the employer's host.
    const finished = (
      await run(
        employer,
        "employer-job-status",
        ["job", "status", String(jobId), "--wait"],
        {},
        o.jobTimeoutMs ?? 300_000,
      )
    ).join("\n");
    if (!/finished/.test(finished)) throw new Error(`job ${jobId} did not finish:\n${finished}`);
    await cutDone;
    note(`job ${jobId} finished`);
    // At once: the peer registry as the chain holds it, the model fetched, the job verified (each command
    // from the employer's host, fetch and verify each from a data directory of its own).
    const owners = {
      employer: accounts[1],
      ...Object.fromEntries(miners.map((m, i) => [m.name, accounts[2 + i]])),
    };
    const registryRead = Promise.all(
      Object.entries(owners).map(async ([name, account]) => {
        const out = await run(employer, `registry-${name}`, ["--json", "staking", "status", account.address]);
        return [name, String((JSON.parse(out.join("\n")) as { peer: unknown }).peer)] as const;
      }),
    );
    const fetched = run(employer, "fetch", ["job", "fetch", String(jobId), "--out", join(dir, "model")], {
      POT_DATA_DIR: join(dir, "fetcher"),
    });
    const verified = run(employer, "verify", ["verify", String(jobId), "--all"], {
      POT_DATA_DIR: join(dir, "verifier"),
    });
    const [registryPairs, , verifyLines] = await Promise.all([registryRead, fetched, verified]);
    const registry = Object.fromEntries(registryPairs);
    const verify = verifyLines.join("\n");
    const verdict = new RegExp(`^Job ${jobId}: \\S+.*$`, "m").exec(verify)?.[0] ?? verify;
    if (!/: VERIFIED/.test(verdict)) throw new Error(`pot verify ${jobId} --all: ${verify}`);
    const stopped = running.filter((p) => !p.running);
    if (stopped.length > 0) throw new Error(`stopped early:\n${formatTails(stopped, 30)}`);
    note(verdict);
    sampleSockets();
    const listOf = (m: Map<string, Set<string>>) =>
      Object.fromEntries([...m].map(([name, set]) => [name, [...set].sort()]));
    return {
      jobId,
      announced,
      registry,
      routes,
      connections: listOf(connections),
      listeners: listOf(listeners),
      linkCut: cut && {
        host: victim.name,
        downSeconds: cutSeconds,
        atStage: cut.atStage,
        actedAfter: victimProc
          .records()
          .filter(
            (r) =>
              String(r.ts) > cut!.upAt &&
              (ON_CHAIN_ACTIONS.has(String(r.msg)) || String(r.msg) === "block wrapped"),
          )
          .map((r) => String(r.msg)),
      },
      finished: finished.split("\n").find((l) => /finished/.test(l)) ?? finished,
      verdict,
      seconds: Math.round((Date.now() - t0) / 1000),
      removedAtStart: leftovers,
      dir,
    };
  } finally {
    clearInterval(sampler);
    stopWaits.abort();
    await Promise.all(running.map((p) => p.stop(5_000).catch(() => undefined)));
    removeLeftovers();
    if (o.keep === true) note(`kept ${dir} (logs in ${logs})`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
