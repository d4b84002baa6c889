/**
 * A real PoT network for the employer and verifier tests: a `hardhat node` child on 127.0.0.1, the full
 * deployment of deploy/deploy.ts (local parameters: kernels always pass), staked miner accounts, an
 * embedded IPFS node in a temp dir, and a driver that finalizes stages through the contracts (declare,
 * close, header, committee, wrap) with the shared adapter src/chain/pot-contracts.ts, as miners would.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonRpcProvider, NonceManager, Wallet } from "ethers";
import {
  createTestClient,
  http,
  parseEventLogs,
  keccak256,
  toHex,
  type Address,
  type Hex,
  type PublicClient,
  type TestClient,
} from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { loadConfig, PROJECT_ROOT } from "../../src/config/load";
import type { PotConfig } from "../../src/config/types";
import { connectPot, type PotSession } from "../../src/chain/contracts";
import { PotContractsAdapter, type Opening, type Settlement } from "../../src/chain/pot-contracts";
import { commitmentHash } from "../../src/protocol";
import { openContentStore, type ContentStore } from "../../src/storage";
import type { LedgerHandle } from "../../src/employer/ledger";
import { cidToBytesHex } from "../../src/storage";
import type { EmployerContext, JobInput } from "../../src/employer/create-job";
import { buildProgram } from "../../src/cli/main";
import { loadDataset, presetModel } from "../../src/employer/dataset";
import { startTestNode, type TestNode } from "./chain-node";
import { nextDrawEpochStart } from "../../src/protocol/follow-the-coin";

const E18 = 10n ** 18n;

/** One running network. */
export interface EmployerNet {
  node: TestNode;
  dir: string;
  config: PotConfig;
  deploymentsFile: string;
  testClient: TestClient;
  employer: { account: PrivateKeyAccount; session: PotSession & Required<Pick<PotSession, "sender">> };
  miners: { account: PrivateKeyAccount; adapter: PotContractsAdapter }[];
  store: ContentStore;
  handle: LedgerHandle;
  stop(): Promise<void>;
}

/** The environment of a `pot` child process on `net` as the employer (dev account 1), data in `dataDir`. */
export function employerPotEnv(net: EmployerNet, dataDir: string = net.dir): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: net.dir,
    POT_NETWORK: "localhost",
    POT_RPC_URL: net.node.url,
    POT_CHAIN_ID: "31337",
    POT_DEPLOYMENTS: net.deploymentsFile,
    POT_DATA_DIR: dataDir,
    POT_PRIVATE_KEY: net.node.accounts[1].privateKey,
  };
}

/** Config for an account on the test network. */
export function netConfig(
  url: string,
  deploymentsFile: string,
  dataDir: string,
  privateKey?: string,
): PotConfig {
  return loadConfig({
    flags: {
      network: "localhost",
      rpcUrl: url,
      chainId: 31337,
      deployments: deploymentsFile,
      dataDir,
      privateKey,
    },
    env: {},
  });
}

/** Starts the node, deploys, stakes `nMiners` miners (accounts 2..) and opens an embedded store. */
export async function startEmployerNet(nMiners = 3): Promise<EmployerNet> {
  const dir = mkdtempSync(join(tmpdir(), "pot-employer-"));
  const node = await startTestNode();
  try {
    // deploy/deploy.ts loads the Hardhat runtime (its in-process network, unused here); our signer is a
    // wallet on the child node.
    process.env.HARDHAT_NETWORK = "hardhat";
    const { deployPoT, localParams, writeDeployment } =
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require("../../deploy/deploy") as typeof import("../../deploy/deploy");
    const provider = new JsonRpcProvider(node.url, 31337, { cacheTimeout: -1, staticNetwork: true });
    const deployer = new NonceManager(new Wallet(node.accounts[0].privateKey, provider));
    const minerKeys = node.accounts.slice(2, 2 + nMiners).map((a) => a.privateKey as Hex);
    const genesis = minerKeys.map((k) => ({
      holder: privateKeyToAccount(k).address,
      amount: 1_000_000n * E18,
    }));
    const params = localParams(genesis);
    const d = await deployPoT(deployer as never, params);
    const written = writeDeployment("localhost", d, params, dir);
    provider.destroy();

    const employerKey = node.accounts[1].privateKey as Hex;
    const config = netConfig(node.url, written, dir, employerKey);
    const employerAccount = privateKeyToAccount(employerKey);
    const session = (await connectPot(config, employerAccount)) as EmployerNet["employer"]["session"];
    const miners: EmployerNet["miners"] = [];
    for (const key of minerKeys) {
      const account = privateKeyToAccount(key);
      const s = await connectPot(netConfig(node.url, written, dir, key), account);
      const adapter = new PotContractsAdapter(s, s.sender!);
      await adapter.stake(1_000n * E18);
      miners.push({ account, adapter });
    }
    const testClient = createTestClient({ mode: "hardhat", transport: http(node.url) });
    await testClient.increaseTime({ seconds: 3600 });
    // to the next staking epoch: the miners' stakes count for committee and jury draws from then on
    const head = await session.publicClient.getBlockNumber({ cacheTime: 0 });
    await testClient.mine({ blocks: Number(nextDrawEpochStart(head, params.staking.epochBlocks) - head) });
    const store = await openContentStore({
      kind: "embedded",
      repoPath: join(dir, "ipfs"),
      fetchTimeoutMs: 5_000,
    });
    const handle: LedgerHandle = {
      client: session.publicClient,
      ledger: session.contracts.ledger!,
      fromBlock: session.contracts.deployment.deployBlock ?? 0n,
    };
    return {
      node,
      dir,
      config,
      deploymentsFile: written,
      testClient,
      employer: { account: employerAccount, session },
      miners,
      store,
      handle,
      async stop() {
        await store.close();
        await node.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await node.stop();
    throw error;
  }
}

/** What the declarants of a stage claim. */
export interface StageClaim {
  rho: Hex;
  resultHash: Hex;
  /** CID string the header names for S_stage. */
  resultCid: string;
}

/**
 * Finalizes one stage through the contracts: every given miner declares `claim`, declarations close, the
 * first miner submits the header opening all of them, and the committee (K = 1 in these tests, or members
 * who attest by transaction) wraps.
 */
export async function finalizeStage(
  net: EmployerNet,
  jobId: bigint,
  stage: number,
  claim: StageClaim,
  declarers: EmployerNet["miners"] = net.miners.slice(0, 2),
): Promise<void> {
  const first = declarers[0].adapter;
  const domain = await first.domainSeparator();
  const client: PublicClient = first.client;
  const parentHash = (await client.readContract({
    ...first.ledger,
    functionName: "parentOf",
    args: [jobId, stage],
  } as never)) as Hex;
  // Coin age resets when a seal lands in a wrapped block: let some of it accrue again (kernels always pass
  // with local parameters, but a zero coin age gives a zero target).
  await net.testClient.increaseTime({ seconds: 30 });
  await net.testClient.mine({ blocks: 1 });
  const openings: Opening[] = [];
  for (const m of declarers) {
    const { timestamp } = await m.adapter.latestBlock();
    const rand = keccak256(toHex(`rand/${m.account.address}/${jobId}/${stage}`));
    const commitment = commitmentHash({
      domain,
      rho: claim.rho,
      rand,
      declarer: m.account.address,
      jobId,
      stage,
    });
    await m.adapter.declare({
      jobId,
      stage,
      parentHash,
      resultHash: claim.resultHash,
      commitment,
      rand,
      timestamp,
    });
    openings.push({ declarer: m.account.address, commitment, rand, timestamp });
  }
  for (let i = 0; i < 50; i++) {
    const closed = (await client.readContract({
      ...first.ledger,
      functionName: "declarationsClosed",
      args: [jobId, stage],
    } as never)) as boolean;
    if (closed) break;
    await net.testClient.mine({ blocks: 1 });
  }
  const { timestamp } = await first.latestBlock();
  await first.submitHeader({
    jobId,
    stage,
    resultHash: claim.resultHash,
    rho: claim.rho,
    resultCid: cidToBytesHex(claim.resultCid),
    timestamp,
    openings,
  });
  const opened = [...openings]
    .map((o) => o.declarer)
    .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)) as Address[];
  for (let i = 0; i < 300; i++) {
    const committee = await first.committeeOf(jobId, stage);
    if (committee !== undefined) {
      const byAddress = new Map(net.miners.map((m) => [m.account.address.toLowerCase(), m]));
      const members = committee.members.map((a) => byAddress.get(a.toLowerCase()));
      if (members.some((m) => m === undefined))
        throw new Error("a committee member is not one of the test miners");
      for (const m of members.slice(0, -1)) await m!.adapter.attest(jobId, stage);
      const header = {
        builder: first.me,
        parent: parentHash,
        result: claim.resultHash,
        rho: claim.rho,
        resultCidHash: keccak256(cidToBytesHex(claim.resultCid)),
        timestamp,
      };
      const wrapped = await members[members.length - 1]!.adapter.wrap(
        jobId,
        stage,
        header,
        opened,
        committee.members,
      );
      // Pull payments: everyone claims its share from the stage's settlement (a declarant must, before
      // its slot of the same parity is reused two stages later).
      const [settled] = parseEventLogs({
        abi: first.ledger.abi,
        logs: wrapped.receipt.logs,
        eventName: "StageSettled",
      }) as unknown as { args: { settlement: Settlement } }[];
      const settlement = settled.args.settlement;
      await first.claimBuilder(jobId, stage, settlement);
      for (let j = 0; j < committee.members.length; j++)
        await first.claimAttester(jobId, stage, settlement, committee.members, j);
      for (const o of openings) await first.claimDeclaration(jobId, stage, settlement, o);
      return;
    }
    await net.testClient.mine({ blocks: 1 });
  }
  throw new Error(`no committee for job ${jobId} stage ${stage}`);
}

/** A small MNIST job: MLP 784-16-10, batch 10, 4 steps per stage, 3 stages, C=2, K=1. */
export async function smallJobInput(overrides: Partial<JobInput> = {}): Promise<JobInput> {
  const dataset = loadDataset({ kind: "mnist", trainSize: 200, testSize: 100, seed: 3 });
  return {
    name: "test-mnist",
    dataset,
    model: await presetModel("mlp", [784], 10, 16),
    optimizer: { name: "sgd", learningRate: 0.1 },
    batchSize: 10,
    epochs: 1,
    stepsPerStage: 4,
    maxStages: 3,
    seed: 7,
    fee: 3_000_000_000_000_000n,
    c: 2,
    k: 1,
    stageSeconds: 600,
    deadlineSeconds: 24 * 3600,
    ...overrides,
  };
}

/** The employer's context for `createJob` on the test network. */
export function employerContext(net: EmployerNet): EmployerContext {
  return {
    client: net.handle.client,
    ledger: net.handle.ledger,
    store: net.store,
    sender: net.employer.session.sender,
  };
}

/** What an in-process `pot` run printed, threw and set as its exit code. */
export interface PotRun {
  out: string;
  /** The message of the error the command threw (what `pot` prints on stderr). */
  error?: string;
  exitCode?: number;
}

/** The environment of a `pot` run as the employer (account #1) against the test network. */
function potEnv(net: EmployerNet): Record<string, string> {
  return {
    POT_RPC_URL: net.node.url,
    POT_CHAIN_ID: "31337",
    POT_NETWORK: "localhost",
    POT_DEPLOYMENTS: net.deploymentsFile,
    POT_DATA_DIR: join(net.dir, "cli"),
    POT_PRIVATE_KEY: net.node.accounts[1].privateKey,
  };
}

/** Runs `bin/pot.js ...args` as a child process, as a user would; resolves with its exit code and output. */
export async function runPotProcess(
  net: EmployerNet,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = join(PROJECT_ROOT, "bin", "pot.js");
  const env = { PATH: process.env.PATH ?? "", HOME: net.dir, ...potEnv(net) };
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { env, cwd: net.dir }, (error, stdout, stderr) =>
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs `pot ...args` in-process as the employer (account #1) against the test network. */
export async function runPot(net: EmployerNet, ...args: string[]): Promise<PotRun> {
  const program = buildProgram(potEnv(net));
  program.exitOverride();
  let out = "";
  let error: string | undefined;
  const write = process.stdout.write.bind(process.stdout);
  process.exitCode = undefined;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(["node", "pot", ...args]);
  } catch (e) {
    error = (e as Error).message;
  } finally {
    process.stdout.write = write;
  }
  const exitCode = process.exitCode as number | undefined;
  process.exitCode = undefined;
  return { out, error, exitCode };
}
