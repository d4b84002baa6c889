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
import type { Abi, Address, Hex } from "viem";
import { connectPot, type PotSession } from "../../src/chain/contracts";
import {
  PotContractsAdapter,
  decodeLedgerLog,
  headerFieldsOf,
  type LedgerEvent,
  type Opening,
  type Settlement,
} from "../../src/chain/pot-contracts";
import type { PotConfig } from "../../src/config/types";
import type { LedgerHandle } from "../../src/employer/ledger";
import { startMiner, type MinerHandle } from "../../src/miner/agent";
import { createLogger, silentLogger } from "../../src/miner/log";
import { cidFromBytesHex } from "../../src/storage";
import { decodeBatch, runStage, type Batch } from "../../src/ml";
import { parseJobDocument } from "../../src/protocol/job-document";
import { committeeSeed, followTheCoin } from "../../src/protocol/follow-the-coin";
import { commitmentHash } from "../../src/protocol/messages";
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
  const net = await startMinerNetwork(dir, intervalMs, { closeDelayBlocks: 6 });
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
      return { client: s.publicClient, ledger: s.contracts.ledger!, fromBlock: BigInt(net.deployBlock) };
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
  o: { numStages: number; c?: number; k?: number; feeWei?: bigint; stageSeconds?: number },
): Promise<PublishedJob> {
  const job = await publishIrisJob(sc.net, index, {
    numStages: o.numStages,
    c: o.c ?? 2,
    k: o.k ?? 1,
    feeWei: o.feeWei ?? 3_000_000_000_000_003n,
    stageSeconds: o.stageSeconds,
  });
  sc.jobs.push(job);
  return job;
}

/** Every ledger/jury event of the deployment so far, decoded. */
export async function ledgerEvents(sc: ScenarioNet, jobId?: bigint): Promise<LedgerEvent[]> {
  const a = await sc.adapter(0);
  const w = await a.watcher({
    fromBlock: BigInt(sc.net.deployBlock),
    confirmations: 0,
    pollingIntervalMs: 100,
  });
  const out: LedgerEvent[] = [];
  for (;;) {
    const logs = await w.poll();
    if (logs.length === 0) break;
    for (const l of logs) {
      const e = decodeLedgerLog(l);
      if (e !== undefined && (jobId === undefined || !("jobId" in e) || e.jobId === jobId)) out.push(e);
    }
  }
  return out;
}

/** Raw events by name from the ledger (those the adapter does not decode: Slashed, Withdrawn, ...). */
export async function rawEvents(
  sc: ScenarioNet,
  eventName: string,
): Promise<{ args: Record<string, unknown>; blockNumber: bigint }[]> {
  const a = await sc.adapter(0);
  const logs = await a.client.getContractEvents({
    address: a.ledger.address,
    abi: a.ledger.abi,
    eventName,
    fromBlock: BigInt(sc.net.deployBlock),
  } as never);
  return logs as unknown as { args: Record<string, unknown>; blockNumber: bigint }[];
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
  const job = (await sc.net.ledger(0).getJob(jobId)) as { status: bigint };
  return Number(job.status);
}

/** The id the next createJob gets (adversaries watch for it before the job exists). */
export async function nextJobId(sc: ScenarioNet): Promise<bigint> {
  return BigInt((await sc.net.ledger(0).nextJobId()) as bigint);
}

export async function waitJobFinished(sc: ScenarioNet, jobId: bigint, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  await until(`job ${jobId} to finish`, async () => (await jobStatus(sc, jobId)) === 2, timeoutMs, 300);
  return Date.now() - t0;
}

// ---------------------------------------------------------------- reference trainer

/** Honest results of a job's stages, computed with src/ml runStage from the employer's published data. */
export class ReferenceTrainer {
  private readonly states = new Map<number, { state: Uint8Array; hash: Hex; rho: Hex }>();
  private doc: ReturnType<typeof parseJobDocument> | undefined;
  private s0: Uint8Array | undefined;

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

  /** S_stage, H(S_stage) and rho of the honest chain (stage >= 1). */
  async stage(stage: number): Promise<{ state: Uint8Array; hash: Hex; rho: Hex }> {
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
  async train(
    stage: number,
    alter?: (b: Batch, stage: number) => Batch,
  ): Promise<{ state: Uint8Array; hash: Hex; rho: Hex }> {
    this.doc ??= parseJobDocument(await this.store.get(cidFromBytesHex(this.created.specCid)));
    this.s0 ??= await this.store.get(this.doc.initialStateCid);
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
    return { state: out.state, hash: stateHash(out.state), rho: out.rho };
  }
}

// ---------------------------------------------------------------- watchdog (permissionless third party)

/**
 * Slashes every declaration of the job's wrapped stages that is provably wrong: another result than the
 * settled one, or a commitment that does not open against the settled rho, unless an honest miner agent
 * (which slashes too) got there first. Returns every declarer slashed on chain for the job, by anyone.
 */
export async function slashProvablyWrong(
  sc: ScenarioNet,
  jobId: bigint,
  reporter: number,
): Promise<Address[]> {
  const a = await sc.adapter(reporter);
  const domain = await a.domainSeparator();
  const events = await ledgerEvents(sc, jobId);
  const settled = new Map<number, Settlement>();
  for (const e of events) if (e.kind === "StageSettled") settled.set(e.stage, e.settlement);
  const ledgerAbi = a.ledger.abi as Abi;
  const s = await connectPot(
    sc.config(reporter),
    privateKeyToAccount(sc.net.node.accounts[reporter].privateKey as Hex),
  );
  for (const e of events) {
    if (e.kind !== "Declared") continue;
    const st = settled.get(e.stage);
    if (st === undefined) continue;
    const opens =
      commitmentHash({ domain, rho: st.rho, rand: e.rand, declarer: e.declarer, jobId, stage: e.stage }) ===
      e.commitment;
    if (opens && e.resultHash.toLowerCase() === st.result.toLowerCase()) continue;
    const [slotStage, status] = (await a.client.readContract({
      address: a.ledger.address,
      abi: ledgerAbi,
      functionName: "declarationSlot",
      args: [jobId, e.declarer, e.stage],
    } as never)) as readonly [number, number, bigint];
    if (Number(slotStage) !== e.stage || Number(status) !== 1) continue; // settled already
    const o: Opening = {
      declarer: e.declarer,
      commitment: e.commitment,
      rand: e.rand,
      timestamp: e.timestamp,
    };
    try {
      await s.sender!.send({
        address: a.ledger.address,
        abi: ledgerAbi,
        functionName: "slashDeclaration",
        args: [jobId, e.stage, st, e.resultHash, o],
      });
    } catch (error) {
      // Honest miner agents slash provably wrong declarations too: losing that race is fine.
      const [, after] = (await a.client.readContract({
        address: a.ledger.address,
        abi: ledgerAbi,
        functionName: "declarationSlot",
        args: [jobId, e.declarer, e.stage],
      } as never)) as readonly [number, number, bigint];
      if (Number(after) === 1) throw error;
    }
  }
  return slashedDeclarers(sc, jobId);
}

/** Every declarer of `jobId` slashed on chain for a declaration fault (by anyone), in event order, once each. */
export async function slashedDeclarers(sc: ScenarioNet, jobId: bigint): Promise<Address[]> {
  const seen = new Map<string, Address>();
  for (const e of await rawEvents(sc, "Slashed")) {
    const args = e.args as { jobId: bigint; staker: Address; fault: number | bigint };
    if (args.jobId !== jobId || Number(args.fault) !== 1) continue;
    if (!seen.has(args.staker.toLowerCase())) seen.set(args.staker.toLowerCase(), args.staker);
  }
  return [...seen.values()];
}

/**
 * Voids, from account `index`, every header of `jobId` whose PoA rounds all passed without a wrap (the
 * agent does not call voidHeader itself; anyone may). Runs until stopped; returns the voided stages.
 */
export function startVoidWatchdog(
  sc: ScenarioNet,
  jobId: bigint,
  index: number,
): { stop(): Promise<number[]> } {
  let stopped = false;
  const voided: number[] = [];
  const loop = (async () => {
    const a = await sc.adapter(index);
    const p = await a.ledgerParams();
    while (!stopped) {
      try {
        const job = (await sc.net.ledger(0).getJob(jobId)) as { numStages: bigint; status: bigint };
        if (Number(job.status) !== 1) break;
        const head = await a.blockNumber();
        for (let stage = 1; stage <= Number(job.numStages); stage++) {
          const st = (await a.client.readContract({
            address: a.ledger.address,
            abi: a.ledger.abi,
            functionName: "getStage",
            args: [jobId, stage],
          } as never)) as { phase: number; randBlock: bigint };
          if (Number(st.phase) !== 4) continue;
          if (head > BigInt(st.randBlock) + p.poaMaxRounds * p.poaWindowBlocks) {
            // the ledger keeps only the header's hash: pass its fields from HeaderSubmitted
            const logs = await a.client.getContractEvents({
              address: a.ledger.address,
              abi: a.ledger.abi,
              eventName: "HeaderSubmitted",
              args: { jobId, stage },
              fromBlock: a.deployBlock,
            } as never);
            const e = decodeLedgerLog(logs[logs.length - 1] as never);
            if (e?.kind !== "HeaderSubmitted") continue;
            const header = headerFieldsOf(e);
            await a.client.simulateContract({
              address: a.ledger.address,
              abi: a.ledger.abi,
              functionName: "voidHeader",
              args: [jobId, stage, header],
              account: a.me,
            } as never);
            await (
              await connectPot(
                sc.config(index),
                privateKeyToAccount(sc.net.node.accounts[index].privateKey as Hex),
              )
            ).sender!.send({
              address: a.ledger.address,
              abi: a.ledger.abi,
              functionName: "voidHeader",
              args: [jobId, stage, header],
            });
            voided.push(stage);
          }
        }
      } catch {
        // a race with the block head (not yet expired in the next block): try again
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
  const slashedEvents = (await rawEvents(sc, "Slashed")).filter((e) => e.args.jobId === job.jobId);
  const slashedWho = new Set(slashedEvents.map((e) => String(e.args.staker ?? e.args.account).toLowerCase()));
  for (const a of o.slashed ?? []) expect(slashedWho.has(a.toLowerCase()), `${a} slashed`).to.equal(true);
  for (const a of o.honest)
    expect(slashedWho.has(a.toLowerCase()), `honest ${a} not slashed`).to.equal(false);

  // 3. No wei lost: balance == totalOwed at one block.
  const at = await sc.net.provider.getBlockNumber();
  const balance = await sc.net.provider.getBalance(sc.net.addresses.ledger, at);
  const owed = (await sc.net.ledger(0).totalOwed({ blockTag: at })) as bigint;
  expect(balance, "ledger balance == totalOwed()").to.equal(owed);

  // 4. Honest miners paid for this job (a reward credited to them by a claim of this job).
  const credited = (await rawEvents(sc, "RewardCredited")).filter((e) => e.args.jobId === job.jobId);
  const paid = new Set(credited.map((e) => String(e.args.account ?? e.args.to).toLowerCase()));
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

/** One PoA committee round of a header, read at a block inside the round, and recomputed. */
export interface CommitteeRound {
  readonly stage: number;
  readonly headerHash: Hex;
  readonly round: number;
  /** The block whose hash seeds the round (randBlock + round * poaWindowBlocks). */
  readonly roundBlock: bigint;
  /** `committeeOf` at a block inside the round. */
  readonly members: Address[];
  /**
   * followTheCoin(committeeSeed(domain, headerHash, blockhash(roundBlock), round), weights, K) over the
   * staking draw weights of roundBlock's epoch (`drawWeightsPage`, read at that block).
   */
  readonly recomputed: Address[];
}

/**
 * Every committee round every header of `jobId` went through (until its wrap, void or contest), read from
 * the ledger at a block inside the round, and the same committee recomputed by the test from public
 * values only: the header hash, the hash of a block mined after the header, and the round number.
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
      const [round, members] = (await s.publicClient.readContract({
        address: a.ledger.address,
        abi: a.ledger.abi,
        functionName: "committeeOf",
        args: [jobId, h.stage],
        blockNumber: at,
      } as never)) as readonly [number, Address[], bigint];
      const randomness = (await s.publicClient.getBlock({ blockNumber: roundBlock })).hash!;
      const [stakers, weights] = (await s.publicClient.readContract({
        address: s.contracts.staking.address,
        abi: s.contracts.staking.abi,
        functionName: "drawWeightsPage",
        args: [0n, 10_000n, roundBlock],
        blockNumber: at,
      } as never)) as readonly [Address[], bigint[]];
      const list = stakers.map((staker, i) => ({ staker, stake: weights[i] }));
      const recomputed = followTheCoin(committeeSeed(domain, h.headerHash, randomness, r), list, k).map(
        (i) => list[i].staker,
      );
      out.push({
        stage: h.stage,
        headerHash: h.headerHash,
        round: Number(round),
        roundBlock,
        members: [...members],
        recomputed: [...recomputed],
      });
    }
  }
  return out;
}
