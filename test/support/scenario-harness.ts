/**
 * The scenario harness (issue 7): one real `hardhat node` (interval mining) with a PoT deployment
 * (test/support/miner-network.ts), honest miners that are the real agent (`startMiner`, in process), an
 * employer publishing small Iris jobs, adversaries (test/support/scenario-adversaries.ts) acting through
 * src/chain/pot-contracts.ts, a reference trainer (src/ml runStage) that knows every honest result, a
 * "watchdog" third party that performs the permissionless duties (slashing provably wrong declarations,
 * voiding headers whose data never became available) racing the honest agents, which do both too (and
 * alone where no agent runs), and `assertNetworkInvariants`, the assertions every scenario ends with.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import type { Address, Hex } from "viem";
import { connectPot, requireSuite, type PotSession } from "../../src/chain/contracts";
import {
  PotContractsAdapter,
  decodeLedgerLog,
  STAGE_PHASE,
  type DeclarationData,
  type LedgerEvent,
} from "../../src/chain/pot-contracts";
import { readJobEvents } from "../../src/chain/job-events";
import { readNextJobId, readTotalOwed, type LedgerHandle } from "../../src/chain/ledger-reads";
import { stageRewards } from "../../src/chain/stage-rewards";
import type { PotConfig } from "../../src/config/types";
import { startMiner, type MinerHandle } from "../../src/miner/agent";
import { createLogger, silentLogger } from "../../src/miner/log";
import { cidFromBytesHex } from "../../src/storage";
import { decodeBatch, evaluate, runStage, stageOutcome, type Batch, type OutcomeOfStage } from "../../src/ml";
import { outcomeHash } from "../../src/protocol/outcome";
import { parseJobDocument } from "../../src/protocol/job-document";
import { committeeSeed, drawSeats } from "../../src/protocol/follow-the-coin";
import { commitmentHash, stageAnchor } from "../../src/protocol/messages";
import { stateHash } from "../../src/protocol/rho";
import { fetchManifest, fetchStageBatches, type ContentStore } from "../../src/storage";
import { verifyJob } from "../../src/verify";
import { publishIrisJob, startMinerNetwork, type MinerTestNetwork, type PublishedJob } from "./miner-network";

export const E18 = 10n ** 18n;
/** Honest miners hold far more stake than adversaries: juries and committees are stake-weighted. */
export const HONEST_STAKE = 1_000n * E18;

/** A scenario network: chain + deployment, honest agents, adversaries, published jobs. */
export interface ScenarioNet {
  readonly net: MinerTestNetwork;
  readonly dir: string;
  readonly honest: Map<number, MinerHandle>;
  readonly jobs: PublishedJob[];
  /** A signing adapter for dev account `index` (optionally through another RPC URL, e.g. a proxy). */
  adapter(index: number, rpcUrl?: string): Promise<PotContractsAdapter>;
  /** The miner configuration of dev account `index` (optionally through another RPC URL). */
  config(index: number, rpcUrl?: string): PotConfig;
  /** The chain session (clients, contracts, sender) of dev account `index` (cached). */
  session(index: number, rpcUrl?: string): Promise<PotSession>;
  /** The read-only ledger handle (src/employer, src/verify). */
  handle(): Promise<LedgerHandle>;
  stop(): Promise<void>;
}

const sessions = new WeakMap<ScenarioNet, Map<string, Promise<PotSession>>>();

/** Starts the chain and deploys PoT. Interval mining: transactions also wait in the mempool between blocks. */
export async function startScenarioNet(intervalMs = 500): Promise<ScenarioNet> {
  const dir = mkdtempSync(join(tmpdir(), "pot-scenario-"));
  // Declarations close 6 blocks (3 s) after the C-th one instead of 2: an adversary that reacts to an
  // honest declaration (a copycat) gets its transaction in, so the test exercises the attack itself
  // rather than a race it loses by timing. Public networks use 5 (testnetParams).
  // A stage that closed with fewer than C openings goes to the jury headerTimeoutSeconds after its deadline:
  // 20 s here (120 s locally, an hour on the testnet) so the lazy-copy scenarios take seconds, not minutes.
  const net = await startMinerNetwork(dir, intervalMs, (p) => {
    p.stages.closeDelayBlocks = 6;
    p.stages.headerTimeoutSeconds = 20;
  });
  const honest = new Map<number, MinerHandle>();
  const jobs: PublishedJob[] = [];
  const cache = new Map<string, Promise<PotSession>>();
  const config = (index: number, rpcUrl?: string): PotConfig => {
    const c = net.config(index, rpcUrl === undefined ? {} : { rpcUrl });
    return c;
  };
  const session = (index: number, rpcUrl?: string): Promise<PotSession> => {
    const key = `${index}:${rpcUrl ?? ""}`;
    let s = cache.get(key);
    if (s === undefined) {
      s = connectPot(config(index, rpcUrl), privateKeyToAccount(net.node.accounts[index].privateKey as Hex));
      cache.set(key, s);
    }
    return s;
  };
  const sc: ScenarioNet = {
    net,
    dir,
    honest,
    jobs,
    config,
    session,
    async adapter(index, rpcUrl) {
      const s = await session(index, rpcUrl);
      return new PotContractsAdapter(s, s.sender!);
    },
    async handle() {
      const s = await session(0);
      return {
        client: s.publicClient,
        suite: requireSuite(s.contracts),
        staking: s.contracts.staking,
        fromBlock: BigInt(net.deployBlock),
      };
    },
    async stop() {
      await Promise.all([...honest.values()].map((m) => m.stop().catch(() => undefined)));
      honest.clear();
      for (const j of jobs) await j.store.close().catch(() => undefined);
      await net.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  sessions.set(sc, cache);
  return sc;
}

/**
 * Runs `fn` with automine off: `hardhat node` keeps automine ON beside interval mining (every
 * transaction is mined at once, in its own block), so nothing waits in the mempool. With automine off,
 * blocks come only every `intervalMs` and transactions wait in the mempool until then, ordered by fee:
 * what a front-runner needs. Automine is restored afterwards.
 */
export async function withMempool<T>(sc: ScenarioNet, fn: () => Promise<T>): Promise<T> {
  await sc.net.rpc("evm_setAutomine", [false]);
  try {
    return await fn();
  } finally {
    await sc.net.rpc("evm_setAutomine", [true]);
  }
}

/** Starts honest agents (the real miner, in process) on dev accounts `indices`. */
export async function startHonestMiners(
  sc: ScenarioNet,
  indices: readonly number[],
  o: { rpcUrl?: string; stakeWei?: bigint } = {},
): Promise<MinerHandle[]> {
  const log = process.env.POT_TEST_LOGS ? createLogger("info") : silentLogger;
  const started: MinerHandle[] = [];
  for (const i of indices) {
    const m = await startMiner({
      config: sc.config(i, o.rpcUrl),
      log: log.child({ miner: i }),
      stakeWei: o.stakeWei ?? HONEST_STAKE,
      policy: { idleDummy: false },
      builderGraceBlocks: 2n,
      tickMs: 150,
    });
    sc.honest.set(i, m);
    started.push(m);
  }
  // their stakes count for committee and jury draws from the next epoch: start it now
  await sc.net.mineToNextDrawEpoch();
  return started;
}

/** Publishes a small Iris job (2 steps of 8 samples per stage) from employer account `index`. */
export async function publishJob(
  sc: ScenarioNet,
  index: number,
  o: {
    numStages: number;
    c?: number;
    k?: number;
    feeWei?: bigint;
    stageSeconds?: number;
    /** The job's minimum declaration window (default 0: the local minimum). */
    minDeclareSeconds?: number;
    /** Publish a held-out test set: every result then commits to its metric. */
    testSet?: boolean;
  },
): Promise<PublishedJob> {
  const job = await publishIrisJob(sc.net, index, {
    numStages: o.numStages,
    c: o.c ?? 2,
    k: o.k ?? 1,
    feeWei: o.feeWei ?? 3_000_000_000_000_003n,
    stageSeconds: o.stageSeconds,
    minDeclareSeconds: o.minDeclareSeconds,
    testSet: o.testSet,
  });
  sc.jobs.push(job);
  return job;
}

/** Every protocol event of the deployment so far, decoded. */
export async function ledgerEvents(sc: ScenarioNet, jobId?: bigint): Promise<LedgerEvent[]> {
  const a = await sc.adapter(0);
  const w = a.watcher({
    fromBlock: BigInt(sc.net.deployBlock),
    confirmations: 0,
    pollingIntervalMs: 100,
  });
  const out: LedgerEvent[] = [];
  for (;;) {
    const logs = await w.poll();
    if (logs.length === 0) break;
    for (const l of logs) {
      const e = decodeLedgerLog(a.suite, l);
      if (e !== undefined && (jobId === undefined || !("jobId" in e) || e.jobId === jobId)) out.push(e);
    }
  }
  return out;
}

/** Polls until `fn` is truthy. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false | null>,
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

/** The job's on-chain status (1 open, 2 finished, 3 expired). */
export async function jobStatus(sc: ScenarioNet, jobId: bigint): Promise<number> {
  return (await (await sc.adapter(0)).jobStatus(jobId)).status;
}

/** The id the next createJob gets (adversaries watch for it before the job exists). */
export async function nextJobId(sc: ScenarioNet): Promise<bigint> {
  return readNextJobId(await sc.handle());
}

export async function waitJobFinished(sc: ScenarioNet, jobId: bigint, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  await until(`job ${jobId} to finish`, async () => (await jobStatus(sc, jobId)) === 2, timeoutMs, 300);
  return Date.now() - t0;
}

// ---------------------------------------------------------------- reference trainer

/** Honest results of a job's stages, computed with src/ml runStage from the employer's published data. */
/** A stage as the honest reference trains it: S_stage, its hash, the declared result and its outcome. */
export interface ReferenceStage extends OutcomeOfStage {
  readonly state: Uint8Array;
  /** H(S_stage). */
  readonly stateHash: Hex;
  /** The declared result: outcomeHash(outcome). */
  readonly hash: Hex;
  readonly rho: Hex;
}

export class ReferenceTrainer {
  private readonly states = new Map<number, ReferenceStage>();
  private doc: ReturnType<typeof parseJobDocument> | undefined;
  private s0: Uint8Array | undefined;
  private testSet: Batch | undefined;

  constructor(
    private readonly store: ContentStore,
    private readonly created: Extract<LedgerEvent, { kind: "JobCreated" }>,
    private readonly domain: Hex,
  ) {}

  static async of(sc: ScenarioNet, job: PublishedJob): Promise<ReferenceTrainer> {
    const created = (await ledgerEvents(sc, job.jobId)).find((e) => e.kind === "JobCreated") as Extract<
      LedgerEvent,
      { kind: "JobCreated" }
    >;
    const domain = await (await sc.adapter(0)).domainSeparator();
    return new ReferenceTrainer(job.store, created, domain);
  }

  /** S_stage, H(S_stage), the result and rho of the honest chain (stage >= 1). */
  async stage(stage: number): Promise<ReferenceStage> {
    const have = this.states.get(stage);
    if (have !== undefined) return have;
    const r = await this.train(stage);
    this.states.set(stage, r);
    return r;
  }

  /**
   * Trains stage `stage` from the honest S_{stage-1} on the job's batches, each passed through `alter`
   * first (a poisoner's data injection); without `alter`, the honest stage.
   */
  async train(stage: number, alter?: (b: Batch, stage: number) => Batch): Promise<ReferenceStage> {
    this.doc ??= parseJobDocument(await this.store.get(cidFromBytesHex(this.created.specCid)));
    this.s0 ??= await this.store.get(this.doc.initialStateCid);
    if (this.doc.testSetCid !== undefined)
      this.testSet ??= decodeBatch(await this.store.get(this.doc.testSetCid));
    const parent = stage === 1 ? this.s0 : (await this.stage(stage - 1)).state;
    const manifest = await fetchManifest(this.store, this.doc.manifestCid, this.created.manifestRoot);
    const fetched = await fetchStageBatches(this.store, manifest, this.created.manifestRoot, stage);
    const batches = fetched.map((b) => {
      const d = decodeBatch(b.bytes);
      return alter === undefined ? d : alter(d, stage);
    });
    const out = await runStage(this.doc.spec, parent, batches.length === 1 ? batches[0] : batches, {
      domain: this.domain,
      jobId: this.created.jobId,
      stage,
    });
    const evaluation =
      this.testSet === undefined ? undefined : await evaluate(this.doc.spec, out.state, this.testSet);
    const { outcome, checkpoints } = stageOutcome(out, evaluation);
    return {
      state: out.state,
      stateHash: stateHash(out.state),
      hash: outcomeHash(outcome),
      rho: out.rho,
      outcome,
      checkpoints,
    };
  }
}

// ---------------------------------------------------------------- watchdog (permissionless third party)

/**
 * The stages of a job with a final (result, rho) that makes faults provable: a wrapped stage whose header
 * listed faulty declarations (the wrap records its pair), or a stage a jury decided.
 */
function finalPairs(events: readonly LedgerEvent[]): Map<number, { result: Hex; rho: Hex; anchor: Hex }> {
  const out = new Map<number, { result: Hex; rho: Hex; anchor: Hex }>();
  for (const e of events) {
    if (e.kind === "BlockWrapped") {
      const h = events.findLast(
        (x): x is Extract<LedgerEvent, { kind: "HeaderSubmitted" }> =>
          x.kind === "HeaderSubmitted" && x.stage === e.stage && x.headerHash === e.headerHash,
      );
      if (h !== undefined && h.faulty.length > 0)
        out.set(e.stage, {
          result: h.header.result,
          rho: h.header.rho,
          anchor: stageAnchor(h.header.parent, h.header.seed),
        });
    } else if (e.kind === "StageDecided") {
      const o = events.findLast(
        (x): x is Extract<LedgerEvent, { kind: "StageOpened" }> =>
          x.kind === "StageOpened" && x.stage === e.stage,
      );
      if (o !== undefined)
        out.set(e.stage, { result: e.resultHash, rho: e.rho, anchor: stageAnchor(o.parentHash, o.seed) });
    }
  }
  return out;
}

/**
 * Slashes every declaration of the job that is provably wrong against its stage's final pair (a wrap
 * with faulty declarations, or a jury decision): another result, or a commitment that does not open
 * against the final rho, unless someone (an honest miner agent slashes too) got there first. Returns every
 * declarer slashed on chain for the job, by anyone.
 */
export async function slashProvablyWrong(
  sc: ScenarioNet,
  jobId: bigint,
  reporter: number,
): Promise<Address[]> {
  const a = await sc.adapter(reporter);
  const domain = await a.domainSeparator();
  const events = await ledgerEvents(sc, jobId);
  const finals = finalPairs(events);
  for (const e of events) {
    if (e.kind !== "Declared") continue;
    const fin = finals.get(e.stage);
    if (fin === undefined) continue;
    const opens =
      commitmentHash({ domain, rho: fin.rho, rand: e.rand, declarer: e.declarer, jobId, stage: e.stage }) ===
      e.commitment;
    if (opens && e.resultHash.toLowerCase() === fin.result.toLowerCase()) continue;
    if (
      (await declarationStatus(a, jobId, e.stage, e.declarer)) !== 2 &&
      !(await stageDecided(events, e.stage))
    )
      continue; // settled already (slashed or released)
    const declaration: DeclarationData = {
      declarer: e.declarer,
      resultHash: e.resultHash,
      commitment: e.commitment,
      rand: e.rand,
      timestamp: e.timestamp,
    };
    try {
      await a.slashDeclaration({
        jobId,
        stage: e.stage,
        anchor: fin.anchor,
        declaration,
        result: fin.result,
        rho: fin.rho,
      });
    } catch (error) {
      // Honest miner agents slash provably wrong declarations too: losing that race is fine.
      const after = await declarationStatus(a, jobId, e.stage, e.declarer);
      if (after === 1 || after === 2) throw error;
    }
  }
  return slashedDeclarers(sc, jobId);
}

async function stageDecided(events: readonly LedgerEvent[], stage: number): Promise<boolean> {
  return events.some((x) => x.kind === "StageDecided" && x.stage === stage);
}

/** The status byte of a declaration's slot (1 declared, 2 faulty, 3 slashed, 4 released; 0 slot reused). */
export async function declarationStatus(
  a: PotContractsAdapter,
  jobId: bigint,
  stage: number,
  declarer: Address,
): Promise<number> {
  const slot = await a.client.readContract({
    ...a.suite.stages,
    functionName: "declarationSlot",
    args: [jobId, declarer, stage],
  });
  if (Number(slot >> 224n) !== stage) return 0;
  return Number((slot >> 216n) & 0xffn);
}

/** Every declarer of `jobId` slashed on chain for a declaration fault (by anyone), in event order, once each. */
export async function slashedDeclarers(sc: ScenarioNet, jobId: bigint): Promise<Address[]> {
  const seen = new Map<string, Address>();
  for (const e of await ledgerEvents(sc, jobId)) {
    if (e.kind !== "Slashed" || e.fault !== 1) continue;
    if (!seen.has(e.staker.toLowerCase())) seen.set(e.staker.toLowerCase(), e.staker);
  }
  return [...seen.values()];
}

/**
 * Voids, from account `index`, every header of `jobId` whose PoA rounds all passed without a wrap (anyone
 * may; the agents do it too). Runs until stopped; returns the voided stages.
 */
export function startVoidWatchdog(
  sc: ScenarioNet,
  jobId: bigint,
  index: number,
): { stop(): Promise<number[]> } {
  let stopped = false;
  const voided: number[] = [];
  const done = new Set<string>();
  const loop = (async () => {
    const a = await sc.adapter(index);
    const p = await a.ledgerParams();
    while (!stopped) {
      try {
        if ((await a.jobStatus(jobId)).status !== 1) break;
        const head = await a.blockNumber();
        for (const h of (await ledgerEvents(sc, jobId)).filter(
          (e): e is Extract<LedgerEvent, { kind: "HeaderSubmitted" }> => e.kind === "HeaderSubmitted",
        )) {
          if ((await a.stagePhase(jobId, h.stage)) !== STAGE_PHASE.headered) continue;
          if (head <= h.randBlock + p.poaMaxRounds * p.poaWindowBlocks) continue;
          if (done.has(h.headerHash)) continue;
          await a.voidHeader(jobId, h.stage, h.header);
          done.add(h.headerHash);
          voided.push(h.stage);
        }
      } catch {
        // a race with the block head (not yet expired in the next block), or an older header: try again
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return voided;
    },
  };
}

// ---------------------------------------------------------------- the common assertions

export interface InvariantOptions {
  /** Honest miners' accounts: each must have been paid (claimable or withdrawn > 0). */
  readonly honest: readonly Address[];
  /** Declarers that must have been slashed (provably wrong declarations). */
  readonly slashed?: readonly Address[];
  /** The job must have finished (default true). */
  readonly finished?: boolean;
  /** Accounts that must not have been paid for this job (e.g. a copycat). */
  readonly unpaid?: readonly Address[];
}

/**
 * The assertions every scenario ends with: no invalid stage was finalized (every wrapped stage re-executes
 * bit for bit: src/verify with every stage), the job finished, provably wrong declarations were slashed,
 * no wei is lost (ledger balance == totalOwed() read at ONE block), honest miners were paid.
 */
export async function assertNetworkInvariants(
  sc: ScenarioNet,
  job: PublishedJob,
  o: InvariantOptions,
): Promise<void> {
  const h = await sc.handle();
  if (o.finished ?? true) expect(await jobStatus(sc, job.jobId), "job status (2 = finished)").to.equal(2);

  // 1. No invalid stage finalized: every wrapped stage re-executes from the chain and IPFS alone.
  // The employer's IPFS node fetches the wrapped states from the honest miners' nodes.
  const addrs = [...sc.honest.values()].flatMap((m) => m.status().ipfs);
  await job.store.dial(addrs, { timeoutMs: 10_000 }).catch(() => undefined);
  const report = await verifyJob(h, job.store, job.jobId, { sample: { kind: "all" } });
  expect(report.failures.map((c) => `${c.id} stage ${c.stage}: ${c.message}`)).to.deep.equal([]);
  const wrapped = (await ledgerEvents(sc, job.jobId))
    .filter((e) => e.kind === "BlockWrapped")
    .map((e) => e.stage);
  expect([...report.reexecuted].sort()).to.deep.equal([...new Set(wrapped)].sort());
  if (o.finished ?? true)
    expect([...new Set(wrapped)].sort((x, y) => x - y)).to.deep.equal(
      Array.from({ length: job.numStages }, (_, i) => i + 1),
    );

  // 2. Provably wrong declarations slashed.
  const slashedWho = new Set((await slashedDeclarers(sc, job.jobId)).map((x) => x.toLowerCase()));
  for (const a of o.slashed ?? []) expect(slashedWho.has(a.toLowerCase()), `${a} slashed`).to.equal(true);
  for (const a of o.honest)
    expect(slashedWho.has(a.toLowerCase()), `honest ${a} not slashed`).to.equal(false);

  // 3. No wei lost: the escrow's balance == totalOwed at one block.
  const at = await h.client.getBlockNumber();
  const balance = await h.client.getBalance({ address: h.suite.escrow.address, blockNumber: at });
  expect(balance, "escrow balance == totalOwed()").to.equal(await readTotalOwed(h, at));

  // 4. Honest miners paid for this job (credited by the escrow for some stage's role).
  const events = await readJobEvents(h, job.jobId);
  const paid = new Set(events.stages.flatMap((st) => stageRewards(st).map((r) => r.account.toLowerCase())));
  if (o.finished ?? true)
    expect(
      o.honest.filter((a) => paid.has(a.toLowerCase())).length,
      "honest miners credited for this job",
    ).to.be.greaterThan(0);
  for (const a of o.unpaid ?? []) expect(paid.has(a.toLowerCase()), `${a} not paid`).to.equal(false);
}

/** Stakes the minimum (1 POT) from each account now, so its coin age grows before it seals anything. */
export async function stakeAdversaries(
  sc: ScenarioNet,
  indices: readonly number[],
  stakeWei = E18,
): Promise<void> {
  for (const i of indices) {
    const a = await sc.adapter(i);
    if ((await a.tokenBalance(a.me)) < stakeWei) await a.faucet();
    const have = await a.stakeOf(a.me);
    if (have < stakeWei) await a.stake(stakeWei - have);
  }
  // drawable (committees, juries) from the next epoch: start it now
  await sc.net.mineToNextDrawEpoch();
}

/** Dev accounts of the scenario files: 1-3 honest agents, 4 the employer, 0 a third-party watchdog. */
export const HONEST_ACCOUNTS = [1, 2, 3] as const;
export const EMPLOYER = 4;
export const WATCHDOG = 0;

/** A scenario suite's network and its honest agents' addresses, set in the suite's `before` hook. */
export interface ScenarioSuite {
  readonly sc: ScenarioNet;
  readonly honest: Address[];
}

/**
 * The shared set-up of the scenario files: registers the suite's hooks (call it inside a mocha `describe`).
 * Before: a chain with interval mining (`intervalMs`), three honest agents (HONEST_ACCOUNTS), and the
 * adversaries' stakes (`stakes`, each group of accounts with its stake, default the 1 POT minimum), staked
 * before any job so their coin age grows. After: everything stopped.
 */
export function useScenarioNet(
  stakes: readonly { accounts: readonly number[]; wei?: bigint }[],
  intervalMs = 500,
): ScenarioSuite {
  let sc: ScenarioNet | undefined;
  let honest: Address[] = [];
  before(async function () {
    this.timeout(240_000);
    sc = await startScenarioNet(intervalMs);
    honest = (await startHonestMiners(sc, HONEST_ACCOUNTS)).map((m) => m.address);
    for (const group of stakes) await stakeAdversaries(sc, group.accounts, group.wei);
  });
  after(async () => {
    await sc?.stop();
  });
  return {
    get sc() {
      if (sc === undefined) throw new Error("the scenario network starts in the suite's before hook");
      return sc;
    },
    get honest() {
      return honest;
    },
  };
}

/** One PoA committee round of a header, read at a block inside the round, and recomputed. */
export interface CommitteeRound {
  readonly stage: number;
  readonly headerHash: Hex;
  readonly round: number;
  /** The block whose hash seeds the round (randBlock + round * poaWindowBlocks). */
  readonly roundBlock: bigint;
  /** `committeeOf` at a block inside the round (seats, with replacement). */
  readonly members: Address[];
  /**
   * drawSeats(committeeSeed(domain, headerHash, blockhash(roundBlock), round), weights, K, builder) over
   * the staking draw weights of roundBlock's epoch (`drawWeightsPage`, read at that block).
   */
  readonly recomputed: Address[];
}

/**
 * Every committee round every header of `jobId` went through (until its wrap, void or contest), read from
 * PoTCommittee at a block inside the round, and the same seats recomputed by the test from public values
 * only: the header hash, the hash of a block mined after the header, the round number and the builder.
 */
export async function committeeRounds(sc: ScenarioNet, jobId: bigint, k: number): Promise<CommitteeRound[]> {
  const s = await sc.session(0);
  const a = await sc.adapter(0);
  const p = await a.ledgerParams();
  const domain = await a.domainSeparator();
  const events = await ledgerEvents(sc, jobId);
  const head = await a.blockNumber();
  const out: CommitteeRound[] = [];
  for (const h of events) {
    if (h.kind !== "HeaderSubmitted") continue;
    const end =
      events.find(
        (e) =>
          (e.kind === "BlockWrapped" || e.kind === "HeaderVoided" || e.kind === "HeaderContested") &&
          e.stage === h.stage &&
          e.blockNumber > h.blockNumber,
      )?.blockNumber ?? head;
    for (let r = 0; r < Number(p.poaMaxRounds); r++) {
      const roundBlock = h.randBlock + BigInt(r) * p.poaWindowBlocks;
      const at = roundBlock + 1n;
      if (at >= end) break;
      const [round, members] = await s.publicClient.readContract({
        ...a.suite.committee,
        functionName: "committeeOf",
        args: [jobId, h.stage],
        blockNumber: at,
      });
      const randomness = (await s.publicClient.getBlock({ blockNumber: roundBlock })).hash!;
      const [stakers, weights] = await s.publicClient.readContract({
        ...s.contracts.staking,
        functionName: "drawWeightsPage",
        args: [0n, 10_000n, roundBlock],
        blockNumber: at,
      });
      const list = stakers.map((staker, i) => ({ staker, stake: weights[i] }));
      const recomputed = drawSeats(
        committeeSeed(domain, h.headerHash, randomness, r),
        list,
        k,
        h.builder,
      ).map((i) => list[i].staker);
      out.push({
        stage: h.stage,
        headerHash: h.headerHash,
        round,
        roundBlock,
        members: [...members],
        recomputed,
      });
    }
  }
  return out;
}
