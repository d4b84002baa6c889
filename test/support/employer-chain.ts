/**
 * A real PoT network for the employer and verifier tests: a `hardhat node` child on 127.0.0.1, the split
 * contracts of deploy/suite.ts (`deploySuite`, local parameters: seals always pass), staked miner
 * accounts, an embedded IPFS node in a temp dir, and drivers that finalize stages through the contracts
 * (declare, close, header, committee, wrap; or a disputed stage through the jury) with the shared adapter
 * src/chain/pot-contracts.ts, as miners would.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonRpcProvider, Wallet } from "ethers";
import {
  createTestClient,
  encodeAbiParameters,
  http,
  keccak256,
  toHex,
  type Address,
  type Hex,
  type TestClient,
} from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { loadConfig, PROJECT_ROOT } from "../../src/config/load";
import type { PotConfig } from "../../src/config/types";
import { connectPot, requireSuite, type PotSession } from "../../src/chain/contracts";
import {
  decodeLedgerLog,
  PotContractsAdapter,
  type DeclarationData,
  type HeaderData,
  type LedgerEvent,
} from "../../src/chain/pot-contracts";
import { readJobEvents } from "../../src/chain/job-events";
import { readDomain, type LedgerHandle } from "../../src/chain/ledger-reads";
import { checkpointRoot } from "../../src/protocol/checkpoints";
import { decodeBatch, evaluate, runStage } from "../../src/ml";
import { fetchManifest, fetchStageBatches } from "../../src/storage";
import {
  commitmentHash,
  heldOutMetric,
  juryVoteCommitment,
  outcomeHash,
  type StageOutcome,
} from "../../src/protocol";
import { openContentStore, type ContentStore } from "../../src/storage";
import { cidToBytesHex } from "../../src/storage";
import type { CreatedJob, EmployerContext, JobInput } from "../../src/employer/create-job";
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

/** Starts the node, deploys the suite, stakes `nMiners` miners (accounts 2..) and opens an embedded store. */
export async function startEmployerNet(nMiners = 3): Promise<EmployerNet> {
  const dir = mkdtempSync(join(tmpdir(), "pot-employer-"));
  const node = await startTestNode();
  try {
    // deploy/deploy.ts loads the Hardhat runtime (its in-process network, unused here); our signer is a
    // wallet on the child node.
    process.env.HARDHAT_NETWORK = "hardhat";
    const { deploySuite, localParams, writeDeployment } =
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require("../../deploy/deploy") as typeof import("../../deploy/deploy");
    const provider = new JsonRpcProvider(node.url, 31337, { cacheTimeout: -1, staticNetwork: true });
    const deployer = new Wallet(node.accounts[0].privateKey, provider);
    const minerKeys = node.accounts.slice(2, 2 + nMiners).map((a) => a.privateKey as Hex);
    const genesis = minerKeys.map((k) => ({
      holder: privateKeyToAccount(k).address,
      amount: 1_000_000n * E18,
    }));
    const params = localParams(genesis);
    const d = await deploySuite(deployer, params);
    // the six addresses under `contracts`, as pot deploy writes them
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
      suite: requireSuite(session.contracts),
      staking: session.contracts.staking,
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

/** Terms of a job nobody trains (its stages are finalized with `finalizeStage`; the tests move its money). */
export function untrainedJobTerms(numStages: number, deadline: bigint) {
  return {
    specCid: toHex("pot-test-spec"),
    manifestRoot: keccak256(toHex("manifest")),
    initialStateHash: keccak256(toHex("S0")),
    numStages,
    c: 2,
    k: 1,
    stageSeconds: 60,
    minDeclareSeconds: 0,
    deadline,
  };
}

/** What the declarants of a stage claim. */
export interface StageClaim {
  rho: Hex;
  /** H(S_stage): the outcome's state hash. */
  stateHash: Hex;
  /** CID string the header names for S_stage. */
  resultCid: string;
  /** The held-out metric of S_stage (default NO_METRIC: a job without a test set). */
  heldOut?: Pick<StageOutcome, "heldOutLoss" | "heldOutAccuracy">;
  /** The stage's step-checkpoint state hashes (default none; the last is stateHash). */
  checkpoints?: Hex[];
}

/** The stage outcome a claim declares. */
export function claimOutcome(claim: StageClaim): StageOutcome {
  return {
    stateHash: claim.stateHash,
    checkpointRoot: checkpointRoot(claim.checkpoints ?? []),
    ...(claim.heldOut ?? heldOutMetric(undefined)),
  };
}

/** The declared result R of a claim: the hash of its outcome. */
export function claimResult(claim: StageClaim): Hex {
  return outcomeHash(claimOutcome(claim));
}

type Miner = EmployerNet["miners"][number];

/** The stage's (parent, seed) from its StageOpened event, and its anchor keccak256(abi.encode(parent, seed)). */
export async function stageAnchor(
  net: EmployerNet,
  jobId: bigint,
  stage: number,
): Promise<{ parent: Hex; seed: Hex; anchor: Hex }> {
  const events = await readJobEvents(net.handle, jobId);
  const opened = events.stages[stage - 1]?.opened;
  if (opened === undefined) throw new Error(`stage ${jobId}/${stage} is not open`);
  const anchor = keccak256(
    encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }], [opened.parentHash, opened.seed]),
  );
  return { parent: opened.parentHash, seed: opened.seed, anchor };
}

/** `m` declares `claim` for (jobId, stage); returns the declaration as a header lists it. */
async function declareAs(
  net: EmployerNet,
  m: Miner,
  jobId: bigint,
  stage: number,
  claim: { rho: Hex; resultHash: Hex },
): Promise<DeclarationData> {
  const { parent, seed } = await stageAnchor(net, jobId, stage);
  const domain = await m.adapter.domainSeparator();
  // a second below the latest block: the node's pending block can carry a lower timestamp (see the miner)
  const timestamp = (await m.adapter.latestBlock()).timestamp - 1n;
  const rand = keccak256(toHex(`rand/${m.account.address}/${jobId}/${stage}`));
  const declarer = m.account.address;
  const commitment = commitmentHash({ domain, rho: claim.rho, rand, declarer, jobId, stage });
  await m.adapter.declare({
    jobId,
    stage,
    parentHash: parent,
    seed,
    resultHash: claim.resultHash,
    commitment,
    rand,
    timestamp,
  });
  return { declarer, resultHash: claim.resultHash, commitment, rand, timestamp };
}

/** Mines (letting a few seconds pass per block, for the minimum declaration window) until declarations close. */
async function mineUntilClosed(net: EmployerNet, jobId: bigint, stage: number): Promise<void> {
  const stages = net.handle.suite.stages;
  for (let i = 0; i < 100; i++) {
    const closed = await net.handle.client.readContract({
      ...stages,
      functionName: "declarationsClosed",
      args: [jobId, stage],
    });
    if (closed) return;
    await net.testClient.increaseTime({ seconds: 5 });
    await net.testClient.mine({ blocks: 1 });
  }
  throw new Error(`declarations of ${jobId}/${stage} did not close`);
}

/** The builder submits the header of `claim` listing every declaration; resolves with its HeaderSubmitted. */
async function buildHeader(
  net: EmployerNet,
  builder: Miner,
  jobId: bigint,
  stage: number,
  claim: StageClaim,
  declarations: DeclarationData[],
) {
  const { parent, seed } = await stageAnchor(net, jobId, stage);
  const timestamp = (await builder.adapter.latestBlock()).timestamp - 1n;
  const resultCid = cidToBytesHex(claim.resultCid);
  const header: HeaderData = {
    builder: builder.account.address,
    parent,
    seed,
    result: claimResult(claim),
    rho: claim.rho,
    resultCidHash: keccak256(resultCid),
    timestamp,
  };
  const sent = await builder.adapter.submitHeader({
    jobId,
    stage,
    header,
    resultCid,
    declarations,
    outcome: claimOutcome(claim),
    checkpoints: claim.checkpoints ?? [],
  });
  const event = sent.receipt.logs
    .map((log) => decodeLedgerLog(net.handle.suite, log))
    .find((e) => e?.kind === "HeaderSubmitted");
  if (event?.kind !== "HeaderSubmitted") throw new Error("submitHeader emitted no HeaderSubmitted");
  return event;
}

/** The committee of the stage's header attests (every seat holder but the last by transaction) and wraps. */
async function attestAndWrap(
  net: EmployerNet,
  jobId: bigint,
  stage: number,
  h: Extract<LedgerEvent, { kind: "HeaderSubmitted" }>,
  outcome: StageOutcome,
): Promise<void> {
  const head = await net.handle.client.getBlockNumber({ cacheTime: 0 });
  if (head <= h.randBlock) await net.testClient.mine({ blocks: Number(h.randBlock - head) + 1 });
  const committee = await net.miners[0].adapter.committeeOf(jobId, stage);
  if (committee === undefined) throw new Error(`no committee for job ${jobId} stage ${stage}`);
  const holders = [...new Set(committee.members.map((a) => a.toLowerCase()))].map((a) => {
    const m = net.miners.find((x) => x.account.address.toLowerCase() === a);
    if (m === undefined) throw new Error("a committee seat holder is not one of the test miners");
    return m;
  });
  const wrapper = holders[holders.length - 1];
  for (const m of holders.slice(0, -1)) await m.adapter.attest(jobId, stage);
  await wrapper.adapter.wrap({
    jobId,
    stage,
    header: h.header,
    openers: h.openers,
    weights: h.weights,
    faulty: h.faulty,
    seats: committee.members,
    outcome,
  });
}

/**
 * Finalizes one stage through the contracts: every given miner declares `claim`, declarations close, the
 * first miner submits the header listing all of them, and the committee (K = 1 in these tests, or members
 * who attest by transaction) wraps. Nothing is claimed: the rewards stay owed in the escrow.
 */
export async function finalizeStage(
  net: EmployerNet,
  jobId: bigint,
  stage: number,
  claim: StageClaim,
  declarers: EmployerNet["miners"] = net.miners.slice(0, 2),
): Promise<void> {
  const declarations: DeclarationData[] = [];
  const declared = { rho: claim.rho, resultHash: claimResult(claim) };
  for (const m of declarers) declarations.push(await declareAs(net, m, jobId, stage, declared));
  await mineUntilClosed(net, jobId, stage);
  const header = await buildHeader(net, declarers[0], jobId, stage, claim, declarations);
  await attestAndWrap(net, jobId, stage, header, claimOutcome(claim));
}

/**
 * A disputed stage (issue 14's jury on the explorer): the first declarer declares `claim`, the second a
 * wrong result; the stage closes disputed, goes to the jury, every test miner sits and votes for `claim`,
 * then the first declarer builds the decided pair (the wrong declaration listed as faulty) and the
 * committee wraps.
 */
export async function finalizeStageByJury(
  net: EmployerNet,
  jobId: bigint,
  stage: number,
  claim: StageClaim,
  wrongResult: Hex,
): Promise<void> {
  const [honest, wrong] = net.miners;
  const declarations = [
    await declareAs(net, honest, jobId, stage, { rho: claim.rho, resultHash: claimResult(claim) }),
    await declareAs(net, wrong, jobId, stage, { rho: claim.rho, resultHash: wrongResult }),
  ];
  await mineUntilClosed(net, jobId, stage);
  await honest.adapter.requestJury(jobId, stage);
  const disputes = net.handle.suite.disputes;
  const jury = await net.handle.client.readContract({
    ...disputes,
    functionName: "juryOf",
    args: [jobId, stage],
  });
  const head = await net.handle.client.getBlockNumber({ cacheTime: 0 });
  if (head <= jury.randBlock) await net.testClient.mine({ blocks: Number(jury.randBlock - head) + 1 });
  const drawn = await honest.adapter.drawJury(jobId, stage);
  const event = drawn.receipt.logs
    .map((log) => decodeLedgerLog(net.handle.suite, log))
    .find((e) => e?.kind === "JuryDrawn");
  if (event?.kind !== "JuryDrawn") throw new Error("draw emitted no JuryDrawn");
  const domain = await honest.adapter.domainSeparator();
  const jurors = [...new Set(event.seats.map((a) => a.toLowerCase()))].map((a) =>
    net.miners.find((m) => m.account.address.toLowerCase() === a)!,
  );
  const saltOf = (juror: Address) => keccak256(toHex(`salt/${juror}/${jobId}/${stage}`));
  for (const j of jurors) {
    const commitment = juryVoteCommitment({
      domain,
      jobId,
      stage,
      round: event.round,
      juror: j.account.address,
      resultHash: claimResult(claim),
      rho: claim.rho,
      salt: saltOf(j.account.address),
    });
    await j.adapter.commitVote({ jobId, stage, seats: event.seats, commitment });
  }
  const now = await net.handle.client.getBlockNumber({ cacheTime: 0 });
  // reveals are accepted in (commitEnd, revealEnd]; the simulation runs at the head block, so pass commitEnd
  if (now <= event.commitEnd) await net.testClient.mine({ blocks: Number(event.commitEnd - now) + 1 });
  for (const j of jurors) {
    const state = await net.handle.client.readContract({
      ...disputes,
      functionName: "juryOf",
      args: [jobId, stage],
    });
    if (state.decided) break;
    await j.adapter.vote({
      jobId,
      stage,
      seats: event.seats,
      resultHash: claimResult(claim),
      rho: claim.rho,
      salt: saltOf(j.account.address),
    });
  }
  const header = await buildHeader(net, honest, jobId, stage, claim, declarations);
  await attestAndWrap(net, jobId, stage, header, claimOutcome(claim));
}

/**
 * Trains stages 1..`stages` of a created job for real (runStage from S_0 on each stage's batches, as a miner
 * would), evaluates each S_s on the job's test set (its held-out metric, NO_METRIC without one), puts every
 * S_s in the network's store and returns what honest declarants of each stage claim.
 */
export async function trainStages(net: EmployerNet, job: CreatedJob, stages: number): Promise<StageClaim[]> {
  const manifest = await fetchManifest(net.store, job.manifestCid, job.manifestRoot);
  const domain = await readDomain(net.handle);
  const spec = JSON.parse(new TextDecoder().decode(await net.store.get(job.specCid))).spec;
  let state = await net.store.get(job.initialStateCid);
  const claims: StageClaim[] = [];
  for (let stage = 1; stage <= stages; stage++) {
    const batches = (await fetchStageBatches(net.store, manifest, job.manifestRoot, stage)).map((b) =>
      decodeBatch(b.bytes),
    );
    const r = await runStage(spec, state, batches.length === 1 ? batches[0] : batches, {
      domain,
      jobId: job.jobId,
      stage,
    });
    // as a miner does: the step checkpoints as raw blocks (the last is S_stage itself)
    for (const bytes of r.checkpointStates.slice(0, -1)) await net.store.putRawBlock(bytes, { pin: true });
    claims.push({
      rho: r.rho,
      stateHash: r.stateHash,
      resultCid: await net.store.put(r.state, { pin: true }),
      heldOut: await heldOutOf(net, job, r.state),
      checkpoints: r.checkpoints,
    });
    state = r.state;
  }
  return claims;
}

/**
 * The held-out metric of `state` as a stage outcome encodes it (the job's test set; NO_METRIC without one),
 * as an honest declarant computes it.
 */
export async function heldOutOf(
  net: EmployerNet,
  job: Pick<CreatedJob, "specCid" | "testSetCid">,
  state: Uint8Array,
): Promise<Pick<StageOutcome, "heldOutLoss" | "heldOutAccuracy">> {
  if (job.testSetCid === undefined) return heldOutMetric(undefined);
  const spec = JSON.parse(new TextDecoder().decode(await net.store.get(job.specCid))).spec;
  const test = decodeBatch(await net.store.get(job.testSetCid));
  return heldOutMetric(await evaluate(spec, state, test));
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
    suite: net.handle.suite,
    staking: net.handle.staking,
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
