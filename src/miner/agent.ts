/**
 * The miner agent: a scheduler over its duties, like a validator client. Each tick it reads the confirmed
 * ledger events (EventWatcher, `confirmations` deep), folds them into its view, prunes what is finished,
 * reads the head and the committees of headered stages, asks the duty modules (duties/) what to do, and
 * schedules it: training in the background (one stage at a time, speculative work cancelled when the chain
 * moves elsewhere), transactions one after another by priority, failed duties backed off, claims and
 * withdrawals deferred to quiet moments. Every secret is persisted before the transaction that depends on
 * it (the duty modules do that).
 */
import { join } from "node:path";
import type { Address, Hex } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import type { PotConfig } from "../config/types";
import { connectPot } from "../chain/contracts";
import { EventWatcher } from "../chain/events";
import { PotContractsAdapter, decodeLedgerLog, type Committee } from "../chain/pot-contracts";
import { ChainNudger } from "../chain/on-demand-mining";
import { sleep } from "../chain/retry";
import { loadAccount } from "../chain/wallet";
import { openContentStore, type ContentStore, type StorageConfig } from "../storage";
import { MinerBook } from "./bookkeeping";
import {
  acceptsDeclarations,
  computeDuties,
  dutyId,
  performDuty,
  revertNameOf,
  OwedReader,
  STAGE_PHASE,
  type Duty,
  type DutyContext,
  type TrainingRegistry,
} from "./duties";
import { MinerStateError } from "./errors";
import { establishIdentity } from "./identity";
import { acquireMinerLock, type MinerLock } from "./liveness";
import { createLogger, type Logger } from "./log";
import {
  BOOKKEEPING_PRIORITY,
  BookkeepingGate,
  Cooldowns,
  DEFAULT_BOOKKEEPING_QUIET_MS,
  TRAIN_ORDER,
  priorityOf,
} from "./schedule";
import { PeerDialer } from "./peers";
import { DEFAULT_POLICY, acceptsJob, type MiningPolicy } from "./policy";
import { changesSealOrBond, SealCache } from "./seal";
import { DEFAULT_SPECULATION_DEPTH, minerStatusPath } from "./settings";
import { MinerStore, type MinerState } from "./state";
import { StatusFile } from "./status-file";
import { TrainerPool } from "./trainer-pool";
import { emptyView, skey, type JobView } from "./view";

export { DEFAULT_SPECULATION_DEPTH, minerStatusPath };

export interface MinerOptions {
  readonly config: PotConfig;
  /** The signing account (default: the configured wallet). */
  readonly account?: PrivateKeyAccount;
  readonly policy?: Partial<MiningPolicy>;
  /** Stake to hold (PoT wei); staked at start when the active stake is lower. Default: 10x the ledger's minStake. */
  readonly stakeWei?: bigint;
  /**
   * Pipelining: stages past the newest open one this miner trains ahead from its own results
   * (default DEFAULT_SPECULATION_DEPTH; 0 turns pipelining off).
   */
  readonly speculationDepth?: number;
  /** Stages past the one training whose batches are fetched meanwhile (default 2; 0: fetch on demand). */
  readonly prefetchStages?: number;
  /** Blocks each header-builder rank waits after the previous one (default 3). */
  readonly builderGraceBlocks?: bigint;
  /**
   * Claims and withdrawals wait until no protocol transaction was due for this long (ms; default
   * DEFAULT_BOOKKEEPING_QUIET_MS; 0 runs them whenever the queue is free).
   */
  readonly bookkeepingQuietMs?: number;
  /** Withdraw when at least this much is claimable (default 1 wei). */
  readonly withdrawMinWei?: bigint;
  /** Claim the dummy job once its owed coinbase reaches this (POT wei; default 10 POT). */
  readonly dummyClaimMinCoinbase?: bigint;
  /** Content store (default: embedded IPFS in <dataDir>/ipfs, or the configured Kubo). */
  readonly storage?: StorageConfig;
  /** Tick interval, ms (default: the configured polling interval). */
  readonly tickMs?: number;
  readonly log?: Logger;
}

/** What `status()` reports. */
export interface MinerStatus {
  readonly address: Address;
  readonly running: boolean;
  readonly block: string;
  readonly ipfs: string[];
  readonly jobs: number;
  readonly wrappedBlocks: number;
  readonly declarations: number;
  readonly pendingDeclarations: number;
  readonly counters: Record<string, number>;
  readonly lastError?: string;
}

/** A running miner. */
export interface MinerHandle {
  readonly address: Address;
  status(): MinerStatus;
  stop(): Promise<void>;
}

/** Default coinbase (POT wei) at which the never-ending dummy job is claimed (MinerOptions). */
export const DEFAULT_DUMMY_CLAIM_COINBASE = 10n ** 19n;
export { DEFAULT_BOOKKEEPING_QUIET_MS };

/** Starts a miner; resolves once it is staked, registered and watching. */
export async function startMiner(options: MinerOptions): Promise<MinerHandle> {
  const agent = new MinerAgent(options);
  try {
    await agent.start();
  } catch (error) {
    await agent.closeAfterFailedStart();
    throw error;
  }
  return agent;
}

/** Chain parameters the duties need, read once at start. */
interface LedgerFacts {
  readonly domain: Hex;
  /** poaMaxRounds * poaWindowBlocks: a header may be voided after its randBlock + this. */
  readonly poaExpiryBlocks: bigint;
  readonly headerTimeoutSeconds: bigint;
  readonly drawWindowBlocks: bigint;
}

class MinerAgent implements MinerHandle {
  private readonly cfg: PotConfig;
  private log: Logger;
  private chain!: PotContractsAdapter;
  private ipfs!: ContentStore;
  private store!: MinerStore;
  private book!: MinerBook;
  private pool!: TrainerPool;
  private watcher!: EventWatcher;
  private seal!: SealCache;
  private owed!: OwedReader;
  private ctx!: DutyContext;
  private facts!: LedgerFacts;
  private statusFile: StatusFile;
  /** When each voided, not rebuilt stage was voided (read once from PoTStages), by `skey`. */
  private readonly voidedAt = new Map<string, bigint>();
  private readonly view = emptyView();
  private readonly policy: MiningPolicy;
  private readonly inFlight = new Set<string>();
  private readonly cooldowns: Cooldowns;
  private readonly bookkeeping: BookkeepingGate;
  private readonly training: TrainingRegistry = { speculative: new Map(), unsupported: new Set() };
  private readonly counters: Record<string, number> = {};
  private head = { number: 0n, timestamp: 0n };
  private nudger?: ChainNudger;
  private txBusy = false;
  private trainBusy = false;
  /** Ended jobs for which the last tick proposed nothing (pruned after their retention window). */
  private quietEndedJobs: string[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private lastError: string | undefined;
  private addresses: string[] = [];
  private lock: MinerLock | undefined;
  address!: Address;

  constructor(private readonly o: MinerOptions) {
    this.cfg = o.config;
    this.log = o.log ?? createLogger(o.config.logLevel, { agent: "miner" });
    this.policy = { ...DEFAULT_POLICY, ...o.policy };
    this.statusFile = new StatusFile(o.config.dataDir);
    this.cooldowns = new Cooldowns(o.config.retry);
    this.bookkeeping = new BookkeepingGate(o.bookkeepingQuietMs ?? DEFAULT_BOOKKEEPING_QUIET_MS);
  }

  private count(name: string): void {
    this.counters[name] = (this.counters[name] ?? 0) + 1;
  }

  async start(): Promise<void> {
    // One miner per data directory: two would send the same declarations from diverging state files.
    this.lock = acquireMinerLock(this.cfg.dataDir);
    if (this.lock.tookOverFrom !== undefined)
      this.log.warn("took over a stale miner lock", {
        dataDir: this.cfg.dataDir,
        deadPid: this.lock.tookOverFrom < 0 ? "unreadable" : this.lock.tookOverFrom,
      });
    const account = this.o.account ?? (await loadAccount(this.cfg.wallet));
    this.address = account.address;
    this.log = this.log.child({ miner: account.address });
    const session = await connectPot(this.cfg, account);
    // Stage transactions need only their receipt: the duties follow confirmed events and re-send a
    // declaration or header a reorg removed (see PotContractsOptions.stageTxConfirmations).
    this.chain = new PotContractsAdapter(session, session.sender!, { stageTxConfirmations: 0 });
    this.nudger = new ChainNudger({
      client: session.publicClient,
      isLocal: this.cfg.isLocal,
      notice: (m) => this.log.info(m),
    });
    const params = await this.chain.ledgerParams();
    this.facts = {
      domain: await this.chain.domainSeparator(),
      poaExpiryBlocks: params.poaMaxRounds * params.poaWindowBlocks,
      headerTimeoutSeconds: params.headerTimeoutSeconds,
      drawWindowBlocks: params.drawWindowBlocks,
    };
    this.store = new MinerStore(this.cfg.dataDir);
    const deployBlockHash = (await session.publicClient.getBlock({ blockNumber: this.chain.deployBlock }))
      .hash;
    const state = this.loadState(deployBlockHash);
    this.book = new MinerBook(state, this.store, this.view, account.address, this.log);

    const storage: StorageConfig =
      this.o.storage ??
      (this.cfg.ipfs.mode === "kubo"
        ? { kind: "kubo", url: this.cfg.ipfs.url }
        : {
            kind: "embedded",
            repoPath: join(this.cfg.dataDir, "ipfs"),
            listen: this.cfg.ipfs.listen && [...this.cfg.ipfs.listen],
            announce: this.cfg.ipfs.announce && [...this.cfg.ipfs.announce],
          });
    this.ipfs = await openContentStore(storage);
    this.addresses = await this.ipfs.addresses();
    await establishIdentity({
      chain: this.chain,
      address: account.address,
      stakeWei: this.o.stakeWei ?? params.minStake * 10n,
      isLocal: this.cfg.isLocal,
      addresses: this.addresses,
      log: this.log,
    });

    const peers = new PeerDialer(this.chain, this.ipfs, this.view, account.address, this.log);
    this.pool = new TrainerPool({
      ipfs: this.ipfs,
      store: this.store,
      domain: this.facts.domain,
      log: this.log,
      retry: this.cfg.retry,
      dialFor: (jobId, stage) => peers.dialFor(jobId, stage),
      headerCid: (jobId, stage) => this.view.stages.get(skey(jobId, stage))?.header?.resultCid,
      prefetchStages: this.o.prefetchStages,
    });
    this.seal = new SealCache(
      this.chain,
      account.address,
      await this.chain.epochBlocks(),
      params.declarationSlash,
    );
    this.owed = new OwedReader(this.chain, this.book, account.address);
    this.ctx = {
      chain: this.chain,
      ipfs: this.ipfs,
      pool: this.pool,
      book: this.book,
      view: this.view,
      domain: this.facts.domain,
      address: account.address,
      log: this.log,
      seal: this.seal,
      owed: this.owed,
      training: this.training,
      count: (name) => this.count(name),
      dialFor: (jobId, stage) => peers.dialFor(jobId, stage),
    };
    this.watcher = await this.chain.watcher({
      fromBlock: this.chain.deployBlock,
      confirmations: this.cfg.confirmations,
      pollingIntervalMs: this.cfg.pollingIntervalMs,
    });
    this.log.info("miner started", {
      stages: this.chain.suite.stages.address,
      confirmations: this.cfg.confirmations,
      ipfs: this.addresses,
    });
    this.loop = this.run();
  }

  /**
   * Loads the state file of this deployment. A state of the same chain id and addresses but another
   * deployment block (a restarted local node redeployed) is moved aside on a local network, refused
   * elsewhere.
   */
  private loadState(deployBlockHash: Hex): MinerState {
    const expect = {
      chainId: this.cfg.chainId,
      stages: this.chain.suite.stages.address,
      account: this.address,
    };
    let state = this.store.load(expect);
    if (state.deployBlockHash !== undefined && state.deployBlockHash !== deployBlockHash) {
      if (!this.cfg.isLocal)
        throw new MinerStateError(
          this.store.statePath,
          `it belongs to a deployment whose block hash was ${state.deployBlockHash}, not ${deployBlockHash}; use another --data-dir`,
        );
      const movedTo = this.store.archive();
      this.log.warn("miner state of a forgotten chain moved aside (the local node was restarted)", {
        movedTo,
      });
      state = this.store.load(expect);
    }
    state.deployBlockHash = deployBlockHash;
    const pending = Object.values(state.declarations).filter((d) => d.status !== "confirmed").length;
    this.log.info("miner state loaded", {
      dataDir: this.cfg.dataDir,
      results: Object.keys(state.results).length,
      declarations: Object.keys(state.declarations).length,
      pending,
    });
    return state;
  }

  status(): MinerStatus {
    const decls = Object.values(this.book?.state.declarations ?? {});
    return {
      address: this.address,
      running: !this.stopped,
      block: this.head.number.toString(),
      ipfs: this.addresses,
      jobs: this.view.jobs.size,
      wrappedBlocks: this.view.wrappedCount,
      declarations: decls.length,
      pendingDeclarations: decls.filter((d) => d.status !== "confirmed").length,
      counters: { ...this.counters },
      lastError: this.lastError,
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.training.speculative.values()) s.ctrl.abort();
    await this.loop;
    // Let in-flight work settle (bounded), then release the node.
    for (let i = 0; i < 100 && (this.txBusy || this.trainBusy); i++) await sleep(100);
    this.pool?.dispose();
    await this.store.flush();
    await this.ipfs?.close();
    this.statusFile.write(this.status(), true);
    this.releaseLock();
    this.log.info("miner stopped");
  }

  /** Releases what a failed `start()` opened (IPFS node, trainer pool, lock), so the process can exit. */
  async closeAfterFailedStart(): Promise<void> {
    this.stopped = true;
    this.pool?.dispose();
    await this.ipfs?.close().catch(() => undefined);
    this.releaseLock();
  }

  /** Removes this miner's lock of the data directory (idempotent). */
  releaseLock(): void {
    this.lock?.release();
  }

  private async run(): Promise<void> {
    const tickMs = this.o.tickMs ?? this.cfg.pollingIntervalMs;
    while (!this.stopped) {
      try {
        await this.tick();
      } catch (error) {
        this.lastError = (error as Error).message?.split("\n")[0];
        this.log.warn("tick failed", { error });
      }
      await sleep(tickMs);
    }
  }

  private async tick(): Promise<void> {
    await this.watcher.poll((logs) => {
      for (const log of logs) {
        const e = decodeLedgerLog(this.chain.suite, log);
        if (e === undefined) continue;
        this.book.onEvent(e);
        if (changesSealOrBond(e, this.address)) this.seal.invalidate();
        if (e.kind === "BlockWrapped")
          this.log.info("block wrapped", {
            index: e.index,
            jobId: e.jobId,
            stage: e.stage,
            wrapper: e.wrapper,
          });
        else this.log.debug("event", { kind: e.kind, block: e.blockNumber });
      }
    });
    this.head = await this.chain.latestBlock();
    // An open job waits on block-counted phases: keep an on-demand development chain moving.
    if ([...this.view.jobs.values()].some((j) => j.status === "open"))
      await this.nudger?.waiting(this.head.number);
    this.cancelStaleSpeculation();
    const committees = await this.readCommittees();
    await this.readVoidTimes();
    this.book.prune(this.head.number, this.quietEndedJobs);
    for (const key of this.voidedAt.keys()) if (!this.view.stages.has(key)) this.voidedAt.delete(key);

    const proposed = computeDuties({
      view: this.view,
      state: this.book.state,
      me: this.address,
      blockNumber: this.head.number,
      now: this.head.timestamp,
      committees,
      accepts: (job) => this.accepts(job),
      speculationDepth: this.o.speculationDepth ?? DEFAULT_SPECULATION_DEPTH,
      builderGraceBlocks: this.o.builderGraceBlocks ?? 3n,
      claimableWei: await this.chain.claimable(this.address),
      withdrawMinWei: this.o.withdrawMinWei ?? 1n,
      owed: await this.owed.read(),
      dummyClaimMinCoinbase: this.o.dummyClaimMinCoinbase ?? DEFAULT_DUMMY_CLAIM_COINBASE,
      bondRoom: await this.bondRoomIfDeclaring(),
      inFlight: this.inFlight,
      domain: this.facts.domain,
      poaExpiryBlocks: this.facts.poaExpiryBlocks,
      headerTimeoutSeconds: this.facts.headerTimeoutSeconds,
      voidedAt: this.voidedAt,
      drawWindowBlocks: this.facts.drawWindowBlocks,
    });
    this.noteQuietJobs(proposed);
    await this.schedule(proposed);
    this.statusFile.write(this.status());
  }

  /** The current committees of headered, unwrapped stages of open jobs. */
  private async readCommittees(): Promise<Map<string, Committee>> {
    const committees = new Map<string, Committee>();
    for (const st of this.view.stages.values()) {
      if (st.header === undefined || st.wrappedBlock !== undefined) continue;
      const job = this.view.jobs.get(st.jobId.toString());
      if (job === undefined || job.status !== "open") continue;
      const c = await this.chain.committeeOf(st.jobId, st.stage);
      if (c !== undefined) committees.set(skey(st.jobId, st.stage), c);
    }
    return committees;
  }

  /** Reads, once per stage, when each voided stage that nobody rebuilt was voided (for stalled requests). */
  private async readVoidTimes(): Promise<void> {
    for (const st of this.view.stages.values()) {
      const key = skey(st.jobId, st.stage);
      if (st.voided === undefined || st.header !== undefined || st.decided !== undefined) continue;
      if (st.juryReason !== undefined || this.voidedAt.has(key)) continue;
      const snap = await this.chain.stageSnapshot(st.jobId, st.stage);
      if (snap.phase === STAGE_PHASE.decided) this.voidedAt.set(key, snap.deadline);
    }
  }

  /** Remembers the ended jobs nothing was proposed for (and nothing runs): candidates for pruning. */
  private noteQuietJobs(proposed: readonly Duty[]): void {
    const busy = new Set(proposed.map((d) => ("jobId" in d ? d.jobId.toString() : "")));
    const idle = this.inFlight.size === 0;
    this.quietEndedJobs = idle
      ? [...this.view.jobs.values()]
          .filter((j) => j.status !== "open" && !busy.has(j.jobId.toString()))
          .map((j) => j.jobId.toString())
      : [];
    this.cooldowns.prune(proposed);
  }

  /** Runs drops at once, one batch of transactions if none runs, and one training if none runs. */
  private async schedule(proposed: readonly Duty[]): Promise<void> {
    const duties = proposed.filter((d) => this.cooldowns.ready(d));
    duties.sort((a, b) => priorityOf(a) - priorityOf(b));
    const trains = duties.filter((d) => d.kind === "train");
    const txs = duties.filter((d) => d.kind !== "train");
    for (const d of txs.filter((x) => x.kind === "drop")) await this.execute(d);
    const bookkeepingDue = this.bookkeeping.filter(txs);
    if (!this.txBusy) {
      const list = txs.filter((x) => x.kind !== "drop" && bookkeepingDue(x));
      if (list.length > 0) {
        this.txBusy = true;
        void (async () => {
          try {
            // Protocol duties (wrap .. jury, declaration shares) run back to back; a bookkeeping duty
            // (rewards claim, slash, withdraw) ends the batch, so that a declaration or header that falls
            // due meanwhile goes first on the next tick instead of queueing behind it.
            for (const [i, d] of list.entries()) {
              if (this.stopped) break;
              if (i > 0 && priorityOf(d) >= BOOKKEEPING_PRIORITY) break;
              await this.execute(d);
            }
          } finally {
            this.txBusy = false;
          }
        })();
      }
    }
    if (!this.trainBusy && trains.length > 0) {
      const next = [...trains].sort((a, b) =>
        a.kind === "train" && b.kind === "train" ? TRAIN_ORDER[a.reason] - TRAIN_ORDER[b.reason] : 0,
      )[0];
      this.trainBusy = true;
      void this.execute(next).finally(() => (this.trainBusy = false));
    }
  }

  private accepts(job: JobView): boolean {
    if (this.training.unsupported.has(job.jobId.toString())) return false;
    return acceptsJob(this.policy, job);
  }

  /** Aborts speculative training whose stage the chain opened from another parent. */
  private cancelStaleSpeculation(): void {
    for (const [id, s] of this.training.speculative) {
      const st = this.view.stages.get(skey(s.jobId, s.stage));
      if (st?.parentHash !== undefined && st.parentHash.toLowerCase() !== s.parentHash.toLowerCase()) {
        s.ctrl.abort(new Error("stale speculative work"));
        this.training.speculative.delete(id);
        this.log.info("speculative training cancelled", { jobId: s.jobId, stage: s.stage });
        this.count("speculationCancelled");
      }
    }
  }

  /** Performs a duty once at a time; a failure backs it off exponentially, a pause request holds it. */
  private async execute(d: Duty): Promise<void> {
    const id = dutyId(d);
    if (this.inFlight.has(id)) return;
    this.inFlight.add(id);
    try {
      const pause = await performDuty(this.ctx, d);
      // A duty may ask not to be proposed again for a while (e.g. a header lost to another builder, until
      // our view shows that header); otherwise any failure backoff ends.
      this.cooldowns.succeeded(id, pause);
    } catch (error) {
      const { delay, failures } = this.cooldowns.failed(id);
      this.lastError = `${d.kind}: ${(error as Error).message?.split("\n")[0]}`;
      this.log.warn("duty failed", {
        duty: d.kind,
        jobId: "jobId" in d ? d.jobId : undefined,
        stage: "stage" in d ? d.stage : undefined,
        revert: revertNameOf(error),
        failures,
        retryInMs: delay,
        error,
      });
    } finally {
      this.inFlight.delete(id);
    }
  }

  /**
   * How many more declarations this miner's active stake covers (its bond; PoTStages NotEnoughBond), read
   * only while some stage accepts declarations (no declaration duty can come up otherwise), and cached
   * (seal.ts) until an event or a declaration of ours changes it.
   */
  private async bondRoomIfDeclaring(): Promise<number | undefined> {
    const { number, timestamp } = this.head;
    for (const st of this.view.stages.values())
      if (acceptsDeclarations(st, number, timestamp)) return this.seal.bondRoom(number);
    return undefined;
  }
}
