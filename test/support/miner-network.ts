/**
 * Test helpers for the miner: a `hardhat node` child process with interval mining, a full deployment of
 * the split contracts made by deploy/suite.ts's `deploySuite(localParams())` (the built-in dummy job's S_0
 * included), a deployments file with the six addresses, miner configurations, and an employer that
 * publishes a tiny Iris job through src/storage and creates it through the escrow.
 */
import { expect } from "chai";
import { mkdirSync } from "node:fs";
import type { Hex } from "viem";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { withGasHeadroom } from "../../src/chain/tx-sender";
import type { PotConfig } from "../../src/config/types";
import { PROJECT_ROOT } from "../../src/config/load";
import {
  buildJobSpec,
  encodeBatch,
  initEngine,
  initialState,
  loadIris,
  takeSamples,
  type Batch,
  type JobSpec,
} from "../../src/ml";
import { encodeJobDocument, JOB_DOCUMENT_FORMAT } from "../../src/protocol/job-document";
import { stateHash } from "../../src/protocol/rho";
import { NO_TARGET, type JobTarget } from "../../src/protocol/outcome";
import { openHeliaStore, publishDataset, type ContentStore } from "../../src/storage";
import { cidToBytesHex } from "../../src/storage";
import { startTestNode, type TestNode } from "./chain-node";
import { nextDrawEpochStart } from "../../src/protocol/follow-the-coin";
import type { SuiteDeployment, SuiteParams } from "../../deploy/suite";
import {
  PoTCommittee__factory,
  PoTDisputes__factory,
  PoTEscrow__factory,
  PoTStages__factory,
  PoTStaking__factory,
  PoTToken__factory,
  type PoTCommittee,
  type PoTDisputes,
  type PoTEscrow,
  type PoTStages,
  type PoTStaking,
  type PoTToken,
} from "../../typechain-types";

/** The six contracts of a deployment, connected to one dev account. */
export interface SuiteContracts {
  readonly token: PoTToken;
  readonly staking: PoTStaking;
  readonly escrow: PoTEscrow;
  readonly stages: PoTStages;
  readonly committee: PoTCommittee;
  readonly disputes: PoTDisputes;
}

export interface MinerTestNetwork {
  readonly node: TestNode;
  readonly dir: string;
  readonly deploymentsFile: string;
  /** The six addresses the deployments file lists. */
  readonly addresses: SuiteDeployment["addresses"];
  readonly params: SuiteParams;
  readonly provider: JsonRpcProvider;
  readonly deployBlock: number;
  config(index: number, overrides?: Partial<PotConfig>): PotConfig;
  /** The contracts, connected to dev account `index` (default 0). */
  suite(index?: number): SuiteContracts;
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  /**
   * Mines (hardhat_mine) to the first block of the next staking draw epoch: draw weights change only at
   * epoch boundaries, so the stakes made so far are drawable in committees and juries from then on.
   */
  mineToNextDrawEpoch(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a node (interval mining `intervalMs`), deploys the split contracts with `localParams()` (changed
 * by `tweak`), writes the deployments file into `dir`.
 */
export async function startMinerNetwork(
  dir: string,
  intervalMs = 500,
  tweak: (params: SuiteParams) => void = () => {},
): Promise<MinerTestNetwork> {
  const node = await startTestNode();
  const provider = new JsonRpcProvider(node.url, 31337, {
    cacheTimeout: -1,
    staticNetwork: true,
    pollingInterval: 100,
  });
  const rpc = (method: string, params: unknown[] = []) => provider.send(method, params);
  await rpc("evm_setIntervalMining", [intervalMs]);
  // deploy/suite.ts uses the Hardhat runtime's ethers factories; a signer on the node's provider sends there.
  const { deploySuite, localParams, writeDeployment } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("../../deploy/deploy") as typeof import("../../deploy/deploy");
  const deployer = new NonceManager(new Wallet(node.accounts[0].privateKey, provider));
  const params = localParams();
  tweak(params);
  const d = await deploySuite(deployer as never, params);
  const addresses = { ...d.addresses };
  const deploymentsFile = writeDeployment("localhost", d, params, dir);
  const signer = (index: number) => new NonceManager(new Wallet(node.accounts[index].privateKey, provider));
  return {
    node,
    dir,
    deploymentsFile,
    addresses,
    params,
    provider,
    deployBlock: d.deployBlock,
    rpc,
    async mineToNextDrawEpoch() {
      const bn = BigInt(await provider.getBlockNumber());
      const blocks = nextDrawEpochStart(bn, params.staking.epochBlocks) - bn;
      await rpc("hardhat_mine", [`0x${blocks.toString(16)}`]);
    },
    config(index, overrides = {}) {
      const dataDir = join(dir, `miner-${index}`);
      mkdirSync(dataDir, { recursive: true });
      return {
        network: "localhost",
        rpcUrl: node.url,
        chainId: 31337,
        isLocal: true,
        deploymentsFile,
        artifactsDir: join(PROJECT_ROOT, "artifacts"),
        dataDir,
        confirmations: 1,
        rpcTimeoutMs: 15_000,
        pollingIntervalMs: 200,
        retry: { attempts: 6, baseDelayMs: 200, maxDelayMs: 3_000 },
        ipfs: { mode: "embedded" },
        logLevel: "warn",
        json: true,
        wallet: { kind: "private-key", privateKey: node.accounts[index].privateKey as `0x${string}` },
        ...overrides,
      };
    },
    suite(index = 0) {
      const s = signer(index);
      return {
        token: PoTToken__factory.connect(addresses.token, s),
        staking: PoTStaking__factory.connect(addresses.staking, s),
        escrow: PoTEscrow__factory.connect(addresses.escrow, s),
        stages: PoTStages__factory.connect(addresses.stages, s),
        committee: PoTCommittee__factory.connect(addresses.committee, s),
        disputes: PoTDisputes__factory.connect(addresses.disputes, s),
      };
    },
    async stop() {
      provider.destroy();
      await node.stop();
    },
  };
}

/** An employer's published job: its IPFS node stays up to serve the data. */
export interface PublishedJob {
  readonly store: ContentStore;
  readonly jobId: bigint;
  readonly numStages: number;
}

/** The IPFS side of a tiny Iris job: job document, dataset manifest and S_0, pinned in `store`. */
export interface IrisJobData {
  readonly docCid: string;
  readonly manifestRoot: Hex;
  readonly s0Hash: Hex;
  readonly numStages: number;
}

/** What varies between tiny Iris jobs. */
export interface IrisJobOptions {
  /** Publish a held-out test set (miners then commit to its metric). */
  readonly testSet?: boolean;
  /** training.checkpointEvery (absent: no checkpoints). */
  readonly checkpointEvery?: number;
}

/** The parts of a tiny Iris job before anything is published. */
export interface IrisJob {
  readonly spec: JobSpec;
  readonly s0: Uint8Array;
  /** One batch per stage (16 samples: 2 steps of 8). */
  readonly stageBatches: Batch[];
  /** The held-out test set (the last 30 of the 150 samples), when asked for. */
  readonly testSet?: Batch;
}

/**
 * A tiny Iris job (MLP 4-8-3, SGD, batch 8, 2 steps per stage, one batch file per stage; at most 7 stages,
 * so the stages never reach the 30 held-out samples). The same every call: tests train it locally to know
 * what miners will declare.
 */
export async function irisJob(numStages: number, options: IrisJobOptions = {}): Promise<IrisJob> {
  if (numStages > 7) throw new Error("an Iris job has at most 7 stages of 16 samples beside its test set");
  await initEngine();
  const m = tf.sequential({
    name: "iris",
    layers: [
      tf.layers.dense({
        name: "h",
        inputShape: [4],
        units: 8,
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
      }),
      tf.layers.dense({
        name: "o",
        units: 3,
        activation: "softmax",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }),
      }),
    ],
  });
  const model = JSON.parse(m.toJSON() as string);
  m.dispose();
  const batchSize = 8;
  const steps = 2;
  const spec = await buildJobSpec({
    model,
    training: {
      optimizer: { name: "sgd", learningRate: 0.1 },
      loss: "sparseCategoricalCrossentropy",
      batchSize,
      stepsPerStage: steps,
      seed: 7,
      checkpointEvery: options.checkpointEvery,
    },
    data: { featureShape: [4], labels: { kind: "classIndex", numClasses: 3 } },
  });
  const iris = loadIris(3);
  const per = batchSize * steps;
  const stageBatches = Array.from({ length: numStages }, (_, s) => takeSamples(iris, s * per, per));
  return {
    spec,
    s0: await initialState(spec),
    stageBatches,
    ...(options.testSet === true ? { testSet: takeSamples(iris, 120, 30) } : {}),
  };
}

/**
 * Publishes the data of a tiny Iris job (`irisJob`) into `store`: what an employer uploads before
 * createJob.
 */
export async function publishIrisJobData(
  store: ContentStore,
  numStages: number,
  options: IrisJobOptions = {},
): Promise<IrisJobData> {
  const { spec, s0, stageBatches, testSet } = await irisJob(numStages, options);
  const batches = stageBatches.map((b) => ({ bytes: encodeBatch(b), sampleCount: b.count }));
  const published = await publishDataset(store, batches, {
    name: "iris-test",
    featureShape: [4],
    labelShape: [],
    numClasses: 3,
    numStages,
    batchesPerStage: 1,
  });
  const s0Cid = await store.put(s0, { pin: true });
  const testSetCid = testSet === undefined ? undefined : await store.put(encodeBatch(testSet), { pin: true });
  const docCid = await store.put(
    encodeJobDocument({
      format: JOB_DOCUMENT_FORMAT,
      name: "iris-test",
      spec,
      manifestCid: published.manifestCid,
      initialStateCid: s0Cid,
      ...(testSetCid === undefined ? {} : { testSetCid }),
    }),
    { pin: true },
  );
  return { docCid, manifestRoot: published.root, s0Hash: stateHash(s0), numStages };
}

/**
 * Publishes a tiny Iris job (`publishIrisJobData`, `numStages` stages) from the employer account `index`,
 * registers the employer's IPFS address, and creates the job (C, K, fee).
 */
export async function publishIrisJob(
  net: MinerTestNetwork,
  index: number,
  opts: {
    numStages: number;
    c: number;
    k: number;
    feeWei: bigint;
    stageSeconds?: number;
    minDeclareSeconds?: number;
    /** Early-stopping target (needs `testSet`); none by default. */
    target?: JobTarget;
  } & IrisJobOptions,
): Promise<PublishedJob> {
  const store = await openHeliaStore({ kind: "embedded", repoPath: join(net.dir, `employer-${index}`) });
  const data = await publishIrisJobData(store, opts.numStages, opts);
  const { staking, escrow, stages } = net.suite(index);
  await (await staking.setPeer((await store.addresses())[0])).wait();
  const block = await net.provider.getBlock("latest");
  const stageSeconds = opts.stageSeconds ?? 60;
  const terms = {
    specCid: cidToBytesHex(data.docCid),
    manifestRoot: data.manifestRoot,
    initialStateHash: data.s0Hash,
    numStages: opts.numStages,
    c: opts.c,
    k: opts.k,
    stageSeconds,
    minDeclareSeconds: opts.minDeclareSeconds ?? 0,
    deadline: BigInt(block!.timestamp) + 3600n,
    targetKind: (opts.target ?? NO_TARGET).kind,
    targetValue: (opts.target ?? NO_TARGET).value,
  };
  // Same headroom as src/chain's sender: the estimate can fall short if another job finishes first.
  const estimate = await escrow.createJob.estimateGas(terms, { value: opts.feeWei });
  const tx = await escrow.createJob(terms, { value: opts.feeWei, gasLimit: withGasHeadroom(estimate) });
  const receipt = await tx.wait();
  // JobCreated is emitted by PoTStages (the escrow opens the job there)
  const created = receipt!.logs
    .map((l) => {
      try {
        return stages.interface.parseLog(l);
      } catch {
        return null;
      }
    })
    .find((p) => p?.name === "JobCreated");
  return { store, jobId: BigInt(created!.args.jobId), numStages: opts.numStages };
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until PoTStages reports job `jobId` finished (status 2). */
export async function waitForJobToFinish(
  net: MinerTestNetwork,
  jobId: bigint,
  timeoutMs: number,
): Promise<void> {
  const { stages } = net.suite();
  await waitFor(
    "the job to finish",
    async () => Number((await stages.jobStatus(jobId)).status) === 2,
    timeoutMs,
  );
}

/**
 * Asserts that the escrow holds exactly what it owes (its balance equals `totalOwed`), both read at one block:
 * with interval mining a withdrawal may land between two "latest" reads.
 */
export async function expectEscrowHoldsWhatItOwes(net: MinerTestNetwork): Promise<void> {
  const at = await net.provider.getBlockNumber();
  expect(await net.provider.getBalance(net.addresses.escrow, at)).to.equal(
    await net.suite().escrow.totalOwed({ blockTag: at }),
  );
}
