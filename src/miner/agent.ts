/**
 * The miner agent: a loop over its duties, like a validator client. Each tick it reads the confirmed
 * ledger events (EventWatcher, `confirmations` deep), folds them into its view, reads the head and the
 * committees of headered stages, asks the pure duty logic (duties.ts) what to do, and executes: training
 * in the background (one stage at a time, speculative work cancelled when the chain moves elsewhere),
 * transactions one after another. Every secret is persisted before the transaction that depends on it.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { getAddress, keccak256, toHex, type Address, type Hex } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import type { PotConfig } from "../config/types";
import { connectPot } from "../chain/contracts";
import { ContractRevertError } from "../chain/errors";
import { EventWatcher } from "../chain/events";
import {
  PotContractsAdapter,
  decodeLedgerLog,
  type Committee,
  type HeaderData,
  type LedgerEvent,
} from "../chain/pot-contracts";
import { sleep } from "../chain/retry";
import { loadAccount } from "../chain/wallet";
import { commitmentHash, juryVoteCommitment, stageAnchor, SealKind } from "../protocol/messages";
import { findSealTimestamp } from "../protocol/pos";
import { stateHash } from "../protocol/rho";
import { openContentStore, type ContentStore, type StorageConfig } from "../storage";
import {
  acceptsDeclarations,
  claimCandidates,
  computeDuties,
  doneKey,
  dutyId,
  headerStillWanted,
  juryStepNoLongerNeeded,
  lostHeaderRace,
  pruneState,
  slashNoLongerNeeded,
  voidNoLongerNeeded,
  STAGE_PHASE,
  type Duty,
  type Owed,
} from "./duties";
import { announcePeer } from "./announce";
import { createLogger, ethAmount, potAmount, type Logger } from "./log";
import { DEFAULT_SPECULATION_DEPTH, minerStatusPath } from "./settings";
import { DEFAULT_POLICY, acceptsJob, type MiningPolicy } from "./policy";
import {
  MinerStateError,
  MinerStore,
  resultKey,
  stageKey,
  voteKey,
  writeFileAtomic,
  type MinerState,
} from "./state";
import { TrainerPool } from "./trainer-pool";
import { acquireMinerLock, type MinerLock } from "./liveness";
import { cidFromBytesHex, cidToBytesHex } from "../storage";
import {
  applyEvent,
  declarationData,
  emptyView,
  pruneView,
  skey,
  type ChainView,
  type JobView,
} from "./view";
import { nextDrawEpochStart } from "../protocol/follow-the-coin";

/** After losing a header race: do not propose the header again for this long (the view catches up). */
const HEADER_LOST_PAUSE_MS = 5_000;

/** Re-dial a registered peer at most this often (ms). */
const DIAL_REFRESH_MS = 2_000;

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

/** The status file is rewritten at least this often, even when nothing changed (ms). */
const STATUS_HEARTBEAT_MS = 5_000;

const PRIORITY: Record<Duty["kind"], number> = {
  wrap: 0,
  attest: 1,
  "reveal-vote": 1,
  "commit-vote": 1,
  header: 2,
  contest: 2,
  void: 2,
  declare: 3,
  "request-jury": 4,
  "draw-jury": 4,
  "redraw-jury": 4,
  // a faulty declaration left unslashed blocks its declarer's stage + 2: slashing is protocol work
  slash: 5,
  claim: 7,
  "slash-juror": 7,
  release: 7,
  withdraw: 8,
  drop: 9,
  train: 10,
};
/** Duties at or above this priority are bookkeeping: they never delay a protocol duty by more than one tx. */
const BOOKKEEPING_PRIORITY = PRIORITY.claim;
/** Bookkeeping that may wait for a quiet moment: claims and withdrawals (what is owed does not shrink). */
const deferrable = (d: Duty): boolean => d.kind === "withdraw" || d.kind === "claim";
const priorityOf = (d: Duty): number => PRIORITY[d.kind];
/** Default coinbase (POT wei) at which the never-ending dummy job is claimed (MinerOptions). */
export const DEFAULT_DUMMY_CLAIM_COINBASE = 10n ** 19n;
/** What this miner is owed in the dummy job is read at most this often (ms). */
const DUMMY_OWED_REFRESH_MS = 10_000;
/** Default quiet time before rewards claims and withdrawals run (MinerOptions.bookkeepingQuietMs). */
export const DEFAULT_BOOKKEEPING_QUIET_MS = 1_500;
/** A rewards claim or withdrawal never waits longer than this, however busy the miner is. */
const BOOKKEEPING_MAX_DEFER_MS = 15_000;

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

class MinerAgent implements MinerHandle {
  private readonly cfg: PotConfig;
  private log: Logger;
  private chain!: PotContractsAdapter;
  private ipfs!: ContentStore;
  private store!: MinerStore;
  private state!: MinerState;
  private pool!: TrainerPool;
  private watcher!: EventWatcher;
  private domain!: Hex;
  /** poaMaxRounds * poaWindowBlocks: a header may be voided after its randBlock + this. */
  private poaExpiryBlocks!: bigint;
  private headerTimeoutSeconds!: bigint;
  private drawWindowBlocks!: bigint;
  private declarationSlash!: bigint;
  /** When each voided, not rebuilt stage was voided (read once from PoTStages), by `skey`. */
  private readonly voidedAt = new Map<string, bigint>();
  /** The dummy job's owed balance, and when it was read. */
  private dummyOwed: { owed: Owed; at: number } | undefined;
  private readonly view: ChainView = emptyView();
  private readonly policy: MiningPolicy;
  private readonly inFlight = new Set<string>();
  private readonly cooldown = new Map<string, { until: number; failures: number }>();
  private readonly speculative = new Map<
    string,
    { ctrl: AbortController; jobId: bigint; stage: number; parentHash: Hex }
  >();
  private readonly peerCache = new Map<string, { addr: string; at: number }>();
  /** Address -> when we last dialed it (re-dialed after DIAL_REFRESH_MS: a dropped connection must come back). */
  private readonly dialed = new Map<string, number>();
  private readonly unsupported = new Set<string>();
  private readonly counters: Record<string, number> = {};
  private head = { number: 0n, timestamp: 0n };
  private txBusy = false;
  private lastProtocolDutyAt = 0;
  /** When each deferred bookkeeping duty (by dutyId) was first proposed. */
  private deferredSince = new Map<string, number>();
  private trainBusy = false;
  /** The last status written (without its `at`), and when. */
  private lastStatus = { body: "", at: 0 };
  private stopped = false;
  private loop: Promise<void> | undefined;
  private lastError: string | undefined;
  private addresses: string[] = [];
  private lock: MinerLock | undefined;
  private readonly startedAt = new Date().toISOString();
  address!: Address;

  constructor(private readonly o: MinerOptions) {
    this.cfg = o.config;
    this.log = o.log ?? createLogger(o.config.logLevel, { agent: "miner" });
    this.policy = { ...DEFAULT_POLICY, ...o.policy };
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
    this.domain = await this.chain.domainSeparator();
    const params = await this.chain.ledgerParams();
    this.poaExpiryBlocks = params.poaMaxRounds * params.poaWindowBlocks;
    this.headerTimeoutSeconds = params.headerTimeoutSeconds;
    this.drawWindowBlocks = params.drawWindowBlocks;
    this.declarationSlash = params.declarationSlash;
    this.store = new MinerStore(this.cfg.dataDir);
    const expect = {
      chainId: this.cfg.chainId,
      stages: this.chain.suite.stages.address,
      account: account.address,
    };
    this.state = this.store.load(expect);
    const deployBlockHash = (await session.publicClient.getBlock({ blockNumber: this.chain.deployBlock }))
      .hash;
    if (this.state.deployBlockHash !== undefined && this.state.deployBlockHash !== deployBlockHash) {
      // Same chain id and ledger address, another chain: a restarted local node redeployed the contracts.
      if (!this.cfg.isLocal)
        throw new MinerStateError(
          this.store.statePath,
          `it belongs to a deployment whose block hash was ${this.state.deployBlockHash}, not ${deployBlockHash}; use another --data-dir`,
        );
      const movedTo = this.store.archive();
      this.log.warn("miner state of a forgotten chain moved aside (the local node was restarted)", {
        movedTo,
      });
      this.state = this.store.load(expect);
    }
    this.state.deployBlockHash = deployBlockHash;
    const pending = Object.values(this.state.declarations).filter((d) => d.status !== "confirmed").length;
    this.log.info("miner state loaded", {
      dataDir: this.cfg.dataDir,
      results: Object.keys(this.state.results).length,
      declarations: Object.keys(this.state.declarations).length,
      pending,
    });

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

    // Stake and register the IPFS address.
    const want = this.o.stakeWei ?? params.minStake * 10n;
    const active = await this.chain.stakeOf(account.address);
    if (active < want) {
      const need = want - active;
      if ((await this.chain.tokenBalance(account.address)) < need && this.cfg.isLocal) {
        await this.chain.faucet();
        this.log.info("faucet used");
      }
      await this.chain.stake(need);
      // draw weights change only at staking epoch boundaries: committees and juries count the new
      // stake from the next epoch on
      const drawableFromBlock = nextDrawEpochStart(
        await this.chain.blockNumber(),
        await this.chain.epochBlocks(),
      );
      this.log.info("staked", { amount: potAmount(need), active: potAmount(want), drawableFromBlock });
    }
    const announced = await announcePeer(this.chain, account.address, this.addresses);
    if (announced?.sent === true)
      this.log.info("ipfs address registered", { multiaddr: announced.multiaddr });

    this.pool = new TrainerPool({
      ipfs: this.ipfs,
      store: this.store,
      domain: this.domain,
      log: this.log,
      retry: this.cfg.retry,
      dialFor: (jobId, stage) => this.dialFor(jobId, stage),
      headerCid: (jobId, stage) => this.view.stages.get(skey(jobId, stage))?.header?.resultCid,
      prefetchStages: this.o.prefetchStages,
    });
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

  status(): MinerStatus {
    const decls = Object.values(this.state?.declarations ?? {});
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
    for (const s of this.speculative.values()) s.ctrl.abort();
    await this.loop;
    // Let in-flight work settle (bounded), then release the node.
    for (let i = 0; i < 100 && (this.txBusy || this.trainBusy); i++) await sleep(100);
    this.pool?.dispose();
    await this.store.flush();
    await this.ipfs?.close();
    this.writeStatus(true);
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

  /**
   * Saves the state without waiting (for bookkeeping that no transaction depends on, such as marking an
   * own declaration confirmed); a failed write is logged and the next save writes the state again.
   */
  private saveInBackground(): void {
    this.store
      .save(this.state)
      .catch((error: unknown) => this.log.error("state not saved", { error: (error as Error).message }));
  }

  private onEvent(e: LedgerEvent): void {
    applyEvent(this.view, e);
    const me = this.address.toLowerCase();
    if (e.kind === "Declared" && e.declarer.toLowerCase() === me) {
      const rec = this.state.declarations[stageKey(e.jobId, e.stage)];
      if (rec !== undefined && rec.status !== "confirmed") {
        rec.status = "confirmed";
        this.saveInBackground();
      }
    }
    if (e.kind === "JuryCommitted" && e.juror.toLowerCase() === me) {
      const rec = this.state.votes[voteKey(e.jobId, e.stage, e.round)];
      if (rec !== undefined && rec.commitStatus !== "confirmed") {
        rec.commitStatus = "confirmed";
        this.saveInBackground();
      }
    }
    if (e.kind === "JuryVoted" && e.juror.toLowerCase() === me) {
      const rec = this.state.votes[voteKey(e.jobId, e.stage, e.round)];
      if (rec !== undefined && rec.status !== "confirmed") {
        rec.status = "confirmed";
        this.saveInBackground();
      }
    }
    if (e.kind === "BlockWrapped")
      this.log.info("block wrapped", { index: e.index, jobId: e.jobId, stage: e.stage, wrapper: e.wrapper });
    else this.log.debug("event", { kind: e.kind, block: e.blockNumber });
  }

  private async tick(): Promise<void> {
    await this.watcher.poll((logs) => {
      for (const log of logs) {
        const e = decodeLedgerLog(this.chain.suite, log);
        if (e !== undefined) this.onEvent(e);
      }
    });
    this.head = await this.chain.latestBlock();
    this.cancelStaleSpeculation();

    const committees = new Map<string, Committee>();
    for (const st of this.view.stages.values()) {
      if (st.header === undefined || st.wrappedBlock !== undefined) continue;
      const job = this.view.jobs.get(st.jobId.toString());
      if (job === undefined || job.status !== "open") continue;
      const c = await this.chain.committeeOf(st.jobId, st.stage);
      if (c !== undefined) committees.set(skey(st.jobId, st.stage), c);
    }
    for (const st of this.view.stages.values()) {
      const key = skey(st.jobId, st.stage);
      if (st.voided === undefined || st.header !== undefined || st.decided !== undefined) continue;
      if (st.juryReason !== undefined || this.voidedAt.has(key)) continue;
      const snap = await this.chain.stageSnapshot(st.jobId, st.stage);
      if (snap.phase === STAGE_PHASE.decided) this.voidedAt.set(key, snap.deadline);
    }
    if (pruneView(this.view) > 0) this.pruneState();
    const claimableWei = await this.chain.claimable(this.address);
    const owed = await this.readOwed();
    const duties = computeDuties({
      view: this.view,
      state: this.state,
      me: this.address,
      blockNumber: this.head.number,
      now: this.head.timestamp,
      committees,
      accepts: (job) => this.accepts(job),
      speculationDepth: this.o.speculationDepth ?? DEFAULT_SPECULATION_DEPTH,
      builderGraceBlocks: this.o.builderGraceBlocks ?? 3n,
      claimableWei,
      withdrawMinWei: this.o.withdrawMinWei ?? 1n,
      owed,
      dummyClaimMinCoinbase: this.o.dummyClaimMinCoinbase ?? DEFAULT_DUMMY_CLAIM_COINBASE,
      bondRoom: await this.bondRoomIfDeclaring(),
      inFlight: this.inFlight,
      domain: this.domain,
      poaExpiryBlocks: this.poaExpiryBlocks,
      headerTimeoutSeconds: this.headerTimeoutSeconds,
      voidedAt: this.voidedAt,
      drawWindowBlocks: this.drawWindowBlocks,
    }).filter((d) => {
      const cd = this.cooldown.get(dutyId(d));
      return cd === undefined || cd.until <= Date.now();
    });
    duties.sort((a, b) => priorityOf(a) - priorityOf(b));

    const trains = duties.filter((d) => d.kind === "train");
    const txs = duties.filter((d) => d.kind !== "train");
    for (const d of txs.filter((x) => x.kind === "drop")) await this.execute(d);
    const bookkeepingDue = this.bookkeepingFilter(txs);
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
      // Stage-open work before jury work before speculation.
      const order = { "stage-open": 0, jury: 1, pipeline: 2 } as const;
      const next = [...trains].sort((a, b) =>
        a.kind === "train" && b.kind === "train" ? order[a.reason] - order[b.reason] : 0,
      )[0];
      this.trainBusy = true;
      void this.execute(next).finally(() => (this.trainBusy = false));
    }
    this.writeStatus();
  }

  /**
   * Rewards claims and withdrawals wait until no protocol transaction was due for `bookkeepingQuietMs`,
   * so that during a pipelined job this account's one-at-a-time queue goes to declarations, headers and
   * attestations; each runs in a gap, or once it has waited BOOKKEEPING_MAX_DEFER_MS however busy the
   * miner is (so a backlog drains under constant load). Shares do not shrink while they wait.
   * Returns the filter: true for a duty that may run now.
   */
  private bookkeepingFilter(txs: readonly Duty[]): (d: Duty) => boolean {
    const now = Date.now();
    if (txs.some((d) => d.kind !== "drop" && priorityOf(d) < BOOKKEEPING_PRIORITY))
      this.lastProtocolDutyAt = now;
    const quiet =
      now - this.lastProtocolDutyAt >= (this.o.bookkeepingQuietMs ?? DEFAULT_BOOKKEEPING_QUIET_MS);
    const waiting = new Map<string, number>();
    for (const d of txs.filter(deferrable)) {
      const id = dutyId(d);
      waiting.set(id, this.deferredSince.get(id) ?? now);
    }
    this.deferredSince = waiting; // forget duties no longer proposed (done or moot)
    return (d) =>
      !deferrable(d) || quiet || now - (waiting.get(dutyId(d)) ?? now) >= BOOKKEEPING_MAX_DEFER_MS;
  }

  /**
   * Writes the status file when the status changed (other than its head block), and at least every
   * STATUS_HEARTBEAT_MS (its `at` field tells a reader the miner is alive). Atomic (never torn) but not
   * fsynced: a tick comes every polling interval, and rewriting the file each time cost the miner's
   * thread ~1% of its time in rename alone.
   */
  private writeStatus(force = false): void {
    const status = this.status();
    // The head block alone changing (every block) does not force a write; the heartbeat carries it.
    const body = JSON.stringify({ ...status, block: undefined });
    const now = Date.now();
    if (!force && body === this.lastStatus.body && now - this.lastStatus.at < STATUS_HEARTBEAT_MS) return;
    this.lastStatus = { body, at: now };
    try {
      writeFileAtomic(
        minerStatusPath(this.cfg.dataDir),
        JSON.stringify(
          { ...status, pid: process.pid, startedAt: this.startedAt, at: new Date(now).toISOString() },
          null,
          1,
        ),
        { durable: false },
      );
    } catch {
      /* status is best effort */
    }
  }

  private accepts(job: JobView): boolean {
    if (this.unsupported.has(job.jobId.toString())) return false;
    return acceptsJob(this.policy, job);
  }

  /** Aborts speculative training whose stage the chain opened from another parent. */
  private cancelStaleSpeculation(): void {
    for (const [id, s] of this.speculative) {
      const st = this.view.stages.get(skey(s.jobId, s.stage));
      if (st?.parentHash !== undefined && st.parentHash.toLowerCase() !== s.parentHash.toLowerCase()) {
        s.ctrl.abort(new Error("stale speculative work"));
        this.speculative.delete(id);
        this.log.info("speculative training cancelled", { jobId: s.jobId, stage: s.stage });
        this.count("speculationCancelled");
      }
    }
  }

  private async execute(d: Duty): Promise<void> {
    const id = dutyId(d);
    if (this.inFlight.has(id)) return;
    this.inFlight.add(id);
    try {
      const pause = await this.perform(d);
      // A duty may ask not to be proposed again for a while (e.g. a header lost to another builder, until
      // our view shows that header); otherwise any failure backoff ends.
      if (typeof pause === "number") this.cooldown.set(id, { until: Date.now() + pause, failures: 0 });
      else this.cooldown.delete(id);
    } catch (error) {
      const prev = this.cooldown.get(id)?.failures ?? 0;
      const failures = prev + 1;
      const delay = Math.min(
        this.cfg.retry.maxDelayMs,
        this.cfg.retry.baseDelayMs * 2 ** Math.min(failures - 1, 20),
      );
      this.cooldown.set(id, { until: Date.now() + delay, failures });
      const name = error instanceof ContractRevertError ? error.errorName : undefined;
      this.lastError = `${d.kind}: ${(error as Error).message?.split("\n")[0]}`;
      this.log.warn("duty failed", {
        duty: d.kind,
        jobId: "jobId" in d ? d.jobId : undefined,
        stage: "stage" in d ? d.stage : undefined,
        revert: name,
        failures,
        retryInMs: delay,
        error,
      });
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** Performs a duty; a number asks for a pause (ms) before the same duty is proposed again. */
  private async perform(d: Duty): Promise<number | void> {
    switch (d.kind) {
      case "train":
        return this.doTrain(d);
      case "drop":
        return this.doDrop(d);
      case "declare":
        return this.doDeclare(d);
      case "header":
        return this.doHeader(d);
      case "attest":
      case "wrap":
        return this.doPoa(d);
      case "claim":
        return this.doClaim(d);
      case "contest":
        return this.doContest(d);
      case "request-jury":
      case "draw-jury":
      case "redraw-jury":
        return this.doJuryStep(d);
      case "commit-vote":
        return this.doCommitVote(d);
      case "reveal-vote":
        return this.doRevealVote(d);
      case "slash":
      case "release":
        return this.doSettleDeclaration(d);
      case "slash-juror":
        return this.doSlashJuror(d);
      case "void":
        return this.doVoid(d);
      case "withdraw": {
        const sent = await this.chain.withdraw();
        this.count("withdrawals");
        this.log.info("rewards withdrawn", { amount: ethAmount(d.amount), tx: sent.hash });
        return;
      }
    }
  }

  /**
   * What this miner is owed in the jobs `claimCandidates` names: ended jobs once (an ended job owing
   * nothing is marked done, never read again), the dummy job at most every DUMMY_OWED_REFRESH_MS.
   */
  private async readOwed(): Promise<Map<string, Owed>> {
    const owed = new Map<string, Owed>();
    for (const jobId of claimCandidates(this.view, this.state, this.address)) {
      if (jobId === 0n) {
        if (this.dummyOwed === undefined || Date.now() - this.dummyOwed.at >= DUMMY_OWED_REFRESH_MS)
          this.dummyOwed = { owed: await this.chain.owedOf(0n, this.address), at: Date.now() };
        owed.set("0", this.dummyOwed.owed);
        continue;
      }
      const o = await this.chain.owedOf(jobId, this.address);
      if (o.amount === 0n && o.coinbase === 0n) {
        this.state.done[doneKey.claim(jobId)] = "nothing-owed";
        this.saveInBackground();
      } else owed.set(jobId.toString(), o);
    }
    return owed;
  }

  /**
   * How many more declarations this miner's active stake covers (its bond; PoTStages NotEnoughBond), read
   * only while some stage accepts declarations (no declaration duty can come up otherwise).
   */
  private async bondRoomIfDeclaring(): Promise<number | undefined> {
    const { number, timestamp } = this.head;
    for (const st of this.view.stages.values())
      if (acceptsDeclarations(st, number, timestamp)) return this.bondRoom();
    return undefined;
  }

  /** How many more declarations this miner's active stake covers. */
  private async bondRoom(): Promise<number> {
    const [seal, bonded] = await Promise.all([
      this.chain.sealOf(this.address),
      this.chain.bondedOf(this.address),
    ]);
    const covered = this.declarationSlash > 0n ? seal.active / this.declarationSlash : 1n << 32n;
    return covered > bonded ? Number(covered - bonded) : 0;
  }

  private async doDrop(d: Extract<Duty, { kind: "drop" }>): Promise<void> {
    const r = this.state.results[d.key];
    if (r === undefined) return;
    delete this.state.results[d.key];
    await this.store.save(this.state);
    const used = Object.values(this.state.results).some((x) => x.resultHash === r.resultHash);
    if (!used) this.store.dropState(r.resultHash);
    this.log.info("result dropped", {
      jobId: r.jobId,
      stage: r.stage,
      speculative: r.speculative,
      reason: d.reason,
    });
    this.count("dropped");
  }

  /** Forgets the records of pruned stages (see `pruneState`) and the bytes no other result uses. */
  private pruneState(): void {
    const dropped = pruneState(this.state, this.view);
    const used = new Set(Object.values(this.state.results).map((r) => r.resultHash.toLowerCase()));
    for (const hash of dropped) if (!used.has(hash.toLowerCase())) this.store.dropState(hash);
    this.saveInBackground();
  }

  /** Records a once-only duty as done (its tx hash, or `reverted:<error>` when it became moot). */
  private async markDone(key: string, value: string): Promise<void> {
    this.state.done[key] = value;
    await this.store.save(this.state);
  }

  private async doTrain(d: Extract<Duty, { kind: "train" }>): Promise<void> {
    const job = this.view.jobs.get(d.jobId.toString());
    if (job === undefined) return;
    const st = this.view.stages.get(skey(d.jobId, d.stage));
    const ctrl = new AbortController();
    const id = dutyId(d);
    if (d.speculative)
      this.speculative.set(id, { ctrl, jobId: d.jobId, stage: d.stage, parentHash: d.parentHash });
    try {
      const rec = await this.pool.train(
        { job, stage: d.stage, parentHash: d.parentHash, speculative: d.speculative, seed: st?.seed },
        ctrl.signal,
      );
      if (ctrl.signal.aborted) return;
      this.state.results[resultKey(d.jobId, d.stage, d.parentHash)] = rec;
      await this.store.save(this.state);
      this.count(d.speculative ? "trainedSpeculative" : "trained");
    } catch (error) {
      if (
        (error as Error).name === "DummyJobUnsupportedError" ||
        (error as Error).name === "EngineMismatchError"
      ) {
        this.unsupported.add(d.jobId.toString());
        this.log.warn("job not trainable on this node; skipping it", { jobId: d.jobId, error });
        return;
      }
      if (ctrl.signal.aborted) return;
      throw error;
    } finally {
      this.speculative.delete(id);
    }
  }

  /** A PoS seal timestamp for (kind, jobId, stage) with the stage's seed, or undefined (try next second). */
  private async sealTimestamp(
    kind: SealKind,
    jobId: bigint,
    stage: number,
    seed: Hex,
  ): Promise<bigint | undefined> {
    const params = await this.chain.ledgerParams();
    const seal = await this.chain.sealOf(this.address);
    const latest = await this.chain.latestBlock();
    // Leave a margin for the block the transaction lands in (its timestamp is >= the latest one), and start
    // a second below the latest block's time: a node's pending block (where gas is estimated) can carry a
    // timestamp below the latest block's (hardhat with interval mining after evm_increaseTime), which would
    // refuse a seal of exactly the latest time (SealTimestampOutOfWindow).
    const window = params.sealWindowSeconds > 6n ? params.sealWindowSeconds - 6n : params.sealWindowSeconds;
    const now = latest.timestamp > 0n ? latest.timestamp - 1n : 0n;
    return findSealTimestamp(
      { domain: this.domain, kind, staker: this.address, jobId, stage, stageSeed: seed },
      seal.active / 10n ** 9n,
      params.targetPerGwei,
      now,
      window,
    );
  }

  private async doDeclare(d: Extract<Duty, { kind: "declare" }>): Promise<void> {
    const key = stageKey(d.jobId, d.stage);
    let rec = this.state.declarations[key];
    if (rec !== undefined && rec.status === "confirmed") return;
    if (
      rec !== undefined &&
      rec.status === "sent" &&
      (await this.chain.hasDeclared(d.jobId, d.stage, this.address))
    ) {
      // A send whose receipt was lost (crash, restart): the chain has it; never send it again.
      rec.status = "confirmed";
      await this.store.save(this.state);
      this.log.info("declaration found on-chain after restart", { jobId: d.jobId, stage: d.stage });
      return;
    }
    if (rec === undefined) {
      const result = this.state.results[d.resultKey];
      if (result === undefined) return;
      const rand = toHex(randomBytes(32));
      const commitment = commitmentHash({
        domain: this.domain,
        rho: result.rho,
        rand,
        declarer: this.address,
        jobId: d.jobId,
        stage: d.stage,
      });
      rec = {
        jobId: d.jobId.toString(),
        stage: d.stage,
        parentHash: result.parentHash,
        seed: d.seed,
        resultHash: result.resultHash,
        rho: result.rho,
        rand,
        commitment,
        resultCid: result.resultCid,
        status: "prepared",
      };
      this.state.declarations[key] = rec;
      await this.store.save(this.state); // the reveal survives anything from here on
    }
    const timestamp = await this.sealTimestamp(SealKind.Declaration, d.jobId, d.stage, rec.seed);
    if (timestamp === undefined) {
      this.log.debug("declaration kernel above target; trying next tick", { jobId: d.jobId, stage: d.stage });
      return;
    }
    rec.status = "sent";
    rec.timestamp = timestamp.toString();
    await this.store.save(this.state);
    try {
      const sent = await this.chain.declare({
        jobId: d.jobId,
        stage: d.stage,
        parentHash: rec.parentHash,
        seed: rec.seed,
        resultHash: rec.resultHash,
        commitment: rec.commitment,
        rand: rec.rand,
        timestamp,
      });
      rec.txHash = sent.hash;
      rec.status = "confirmed";
      await this.store.save(this.state);
      this.count("declared");
      this.log.info("declared", {
        jobId: d.jobId,
        stage: d.stage,
        resultHash: rec.resultHash,
        tx: sent.hash,
      });
    } catch (error) {
      if (error instanceof ContractRevertError && error.errorName === "AlreadyDeclared") {
        rec.status = "confirmed";
        await this.store.save(this.state);
        return;
      }
      throw error;
    }
  }

  /**
   * Builds the header with the duty's pair, listing every declaration of the stage (the contract opens
   * each: the openers are paid, the others are faulty). Without a jury decision at least C must open
   * against our rho, ours among them: checked here before any gas is spent.
   */
  private async doHeader(d: Extract<Duty, { kind: "header" }>): Promise<number | void> {
    const key = stageKey(d.jobId, d.stage);
    const st = this.view.stages.get(key);
    const job = this.view.jobs.get(d.jobId.toString());
    const result = this.state.results[d.resultKey];
    if (st?.parentHash === undefined || st.seed === undefined || job === undefined || result === undefined)
      return;
    const declarations = [...st.declarations.values()];
    const opening = declarations.filter(
      (decl) =>
        decl.resultHash.toLowerCase() === d.pair.result.toLowerCase() &&
        commitmentHash({
          domain: this.domain,
          rho: d.pair.rho,
          rand: decl.rand,
          declarer: decl.declarer,
          jobId: d.jobId,
          stage: d.stage,
        }).toLowerCase() === decl.commitment.toLowerCase(),
    );
    const juried = st.decided !== undefined;
    if (!juried && opening.length < job.c)
      throw new Error(`only ${opening.length} declarations open against our rho, ${job.c} needed`);
    if (opening.length < declarations.length)
      this.log.warn("declarations that do not open against our rho are listed as faulty", {
        jobId: d.jobId,
        stage: d.stage,
        faulty: declarations.length - opening.length,
      });
    const timestamp = await this.sealTimestamp(SealKind.Header, d.jobId, d.stage, st.seed);
    if (timestamp === undefined) return;
    // Our view lags the chain by `confirmations` blocks: another builder rank may have headered the stage
    // already, or a last declaration landed that the header must list too. Ask PoTStages (latest block)
    // right before sending.
    const { phase, declarations: onChain } = await this.chain.stageSnapshot(d.jobId, d.stage);
    if (onChain !== declarations.length) {
      this.log.debug("header waits: the view has not seen every declaration yet", {
        jobId: d.jobId,
        stage: d.stage,
        seen: declarations.length,
        onChain,
      });
      return 1_000;
    }
    if (!headerStillWanted(phase)) {
      this.log.info("header not sent: the stage already has one (another builder)", {
        jobId: d.jobId,
        stage: d.stage,
        phase,
      });
      this.count("headersLost");
      return HEADER_LOST_PAUSE_MS;
    }
    const resultCid = cidToBytesHex(result.resultCid);
    const header: HeaderData = {
      builder: this.address,
      parent: st.parentHash,
      seed: st.seed,
      result: d.pair.result,
      rho: d.pair.rho,
      resultCidHash: keccak256(resultCid),
      timestamp,
    };
    let sent;
    try {
      sent = await this.chain.submitHeader({
        jobId: d.jobId,
        stage: d.stage,
        header,
        resultCid,
        declarations: declarations.map(declarationData),
      });
    } catch (error) {
      const revert = error instanceof ContractRevertError ? error.errorName : undefined;
      const after = revert === "WrongPhase" ? await this.chain.stagePhase(d.jobId, d.stage) : -1;
      if (lostHeaderRace(revert, after)) {
        // A competing header landed between our check and our transaction: a benign loss, no retry (the
        // next ticks see the header in the view and stop proposing this duty).
        this.log.info("header lost the race to another builder", {
          jobId: d.jobId,
          stage: d.stage,
          phase: after,
        });
        this.count("headersLost");
        return HEADER_LOST_PAUSE_MS;
      }
      throw error;
    }
    await this.markDone(doneKey.header(d.jobId, d.stage), sent.hash);
    this.count("headers");
    this.log.info("header submitted", {
      jobId: d.jobId,
      stage: d.stage,
      declarations: declarations.length,
      openings: opening.length,
      juried,
      tx: sent.hash,
    });
  }

  /** Fetches S_{i+1} by the header's CID and checks its hash (what an attestation asserts). */
  private async checkResult(jobId: bigint, stage: number): Promise<void> {
    const st = this.view.stages.get(skey(jobId, stage));
    if (st?.header === undefined) throw new Error("no header");
    const cid = cidFromBytesHex(st.header.resultCid);
    await this.dialFor(jobId, stage + 1).catch(() => undefined);
    const bytes = await this.ipfs.get(cid, { timeoutMs: 30_000 });
    if (stateHash(bytes).toLowerCase() !== st.header.header.result.toLowerCase()) {
      throw new Error(
        `S_${stage} at ${cid} hashes to ${stateHash(bytes)}, not the header's ${st.header.header.result}; not attesting`,
      );
    }
  }

  private async doPoa(d: Extract<Duty, { kind: "attest" | "wrap" }>): Promise<void> {
    await this.checkResult(d.jobId, d.stage);
    if (d.kind === "attest") {
      const sent = await this.chain.attest(d.jobId, d.stage);
      await this.markDone(doneKey.attest(d.jobId, d.stage, d.round), sent.hash);
      this.count("attested");
      this.log.info("attested", { jobId: d.jobId, stage: d.stage, round: d.round });
      return;
    }
    const h = this.view.stages.get(skey(d.jobId, d.stage))?.header;
    if (h === undefined) return;
    const sent = await this.chain.wrap({
      jobId: d.jobId,
      stage: d.stage,
      header: h.header,
      openers: h.openers,
      weights: h.weights,
      faulty: h.faulty,
      seats: d.seats,
    });
    await this.markDone(doneKey.wrap(d.jobId, d.stage, d.round), sent.hash);
    this.count("wrapped");
    this.log.info("wrapped", { jobId: d.jobId, stage: d.stage, round: d.round, tx: sent.hash });
  }

  /** Claims everything this miner earned in a job (every stage and role) with one transaction. */
  private async doClaim(d: Extract<Duty, { kind: "claim" }>): Promise<void> {
    const owed = await this.chain.owedOf(d.jobId, this.address);
    if (owed.amount === 0n && owed.coinbase === 0n) {
      if (d.jobId !== 0n) await this.markDone(doneKey.claim(d.jobId), "nothing-owed");
      return;
    }
    const sent = await this.chain.claim(d.jobId, this.address);
    if (d.jobId === 0n) this.dummyOwed = undefined;
    else await this.markDone(doneKey.claim(d.jobId), sent.hash);
    this.count("claims");
    this.log.info("job earnings claimed", {
      jobId: d.jobId,
      amount: ethAmount(owed.amount),
      coinbase: potAmount(owed.coinbase),
      tx: sent.hash,
    });
  }

  private async doContest(d: Extract<Duty, { kind: "contest" }>): Promise<void> {
    const key = stageKey(d.jobId, d.stage);
    const mine = this.state.declarations[key];
    const st = this.view.stages.get(key);
    const decl = st?.declarations.get(this.address.toLowerCase());
    if (mine === undefined || decl === undefined || st?.header === undefined) return;
    const sent = await this.chain.contest(
      d.jobId,
      d.stage,
      st.header.header,
      mine.rho,
      declarationData(decl),
    );
    await this.markDone(doneKey.contest(d.jobId, d.stage), sent.hash);
    this.count("contests");
    this.log.warn("header contested: its rho is not ours for the same result", {
      jobId: d.jobId,
      stage: d.stage,
    });
  }

  /** Requests, draws or redraws a jury; a revert because another miner did it first is benign. */
  private async doJuryStep(
    d: Extract<Duty, { kind: "request-jury" | "draw-jury" | "redraw-jury" }>,
  ): Promise<number | void> {
    try {
      if (d.kind === "request-jury") await this.chain.requestJury(d.jobId, d.stage);
      else if (d.kind === "draw-jury") await this.chain.drawJury(d.jobId, d.stage);
      else await this.chain.redrawJury(d.jobId, d.stage);
    } catch (error) {
      const revert = error instanceof ContractRevertError ? error.errorName : undefined;
      if (!juryStepNoLongerNeeded(revert)) throw error;
      this.log.info("jury step not needed (another miner was first)", {
        step: d.kind,
        jobId: d.jobId,
        stage: d.stage,
        revert,
      });
      return 5_000; // until the view shows what the chain already has
    }
    this.count(d.kind === "request-jury" ? "juryRequests" : "juryDraws");
    this.log.info(d.kind === "request-jury" ? "jury requested" : "jury drawn", {
      jobId: d.jobId,
      stage: d.stage,
      reason: d.kind === "request-jury" ? d.reason : undefined,
    });
  }

  /** Commits our vote for a jury round: the salt is persisted before the commitment is sent. */
  private async doCommitVote(d: Extract<Duty, { kind: "commit-vote" }>): Promise<void> {
    const key = voteKey(d.jobId, d.stage, d.round);
    const seats = this.view.stages.get(skey(d.jobId, d.stage))?.rounds.get(d.round)?.seats;
    const result = this.state.results[d.resultKey];
    if (seats === undefined || result === undefined) return;
    let rec = this.state.votes[key];
    if (rec === undefined || rec.salt === undefined) {
      rec = {
        jobId: d.jobId.toString(),
        stage: d.stage,
        round: d.round,
        resultHash: result.resultHash,
        rho: result.rho,
        salt: toHex(randomBytes(32)),
        commitStatus: "prepared",
        status: "prepared",
      };
      this.state.votes[key] = rec;
      await this.store.save(this.state);
    }
    const commitment = juryVoteCommitment({
      domain: this.domain,
      jobId: d.jobId,
      stage: d.stage,
      round: d.round,
      juror: this.address,
      resultHash: rec.resultHash,
      rho: rec.rho,
      salt: rec.salt!,
    });
    rec.commitStatus = "sent";
    await this.store.save(this.state);
    let committed;
    try {
      committed = await this.chain.commitVote({ jobId: d.jobId, stage: d.stage, seats, commitment });
    } catch (error) {
      // a commitment of ours that our view had not seen yet: it is on chain
      if (!(error instanceof ContractRevertError && error.errorName === "AlreadyCommitted")) throw error;
    }
    rec.commitStatus = "confirmed";
    rec.commitTxHash = committed?.hash;
    await this.store.save(this.state);
    this.count("juryCommits");
    this.log.info("jury vote committed", { jobId: d.jobId, stage: d.stage, round: d.round });
  }

  /** Reveals our committed vote in the round's reveal window. */
  private async doRevealVote(d: Extract<Duty, { kind: "reveal-vote" }>): Promise<void> {
    const rec = this.state.votes[voteKey(d.jobId, d.stage, d.round)];
    const seats = this.view.stages.get(skey(d.jobId, d.stage))?.rounds.get(d.round)?.seats;
    if (seats === undefined || rec?.salt === undefined) {
      this.log.warn("jury vote cannot be revealed: its salt is not in the miner state", {
        jobId: d.jobId,
        stage: d.stage,
        round: d.round,
      });
      return;
    }
    rec.status = "sent";
    await this.store.save(this.state);
    const sent = await this.chain.vote({
      jobId: d.jobId,
      stage: d.stage,
      seats,
      resultHash: rec.resultHash,
      rho: rec.rho,
      salt: rec.salt,
    });
    rec.status = "confirmed";
    rec.txHash = sent.hash;
    await this.store.save(this.state);
    this.count("votes");
    this.log.info("jury vote revealed", {
      jobId: d.jobId,
      stage: d.stage,
      round: d.round,
      resultHash: rec.resultHash,
    });
  }

  /**
   * Slashes a declaration that does not open against its stage's final pair, or releases our own bond of
   * an expired job's unwrapped stage. A revert saying the declaration is settled already is benign.
   */
  private async doSettleDeclaration(d: Extract<Duty, { kind: "slash" | "release" }>): Promise<void> {
    const st = this.view.stages.get(skey(d.jobId, d.stage));
    const declarer = d.kind === "slash" ? d.declarer : this.address;
    const decl = st?.declarations.get(declarer.toLowerCase());
    if (st?.parentHash === undefined || st.seed === undefined || decl === undefined) return;
    const key =
      d.kind === "slash" ? doneKey.slash(d.jobId, d.stage, declarer) : doneKey.release(d.jobId, d.stage);
    const args = {
      jobId: d.jobId,
      stage: d.stage,
      anchor: stageAnchor(st.parentHash, st.seed),
      declaration: declarationData(decl),
      result: d.pair.result,
      rho: d.pair.rho,
    };
    let sent;
    try {
      sent = d.kind === "slash" ? await this.chain.slashDeclaration(args) : await this.chain.release(args);
    } catch (error) {
      const revert = error instanceof ContractRevertError ? error.errorName : undefined;
      if (!slashNoLongerNeeded(revert)) throw error;
      // Settled, slashed or released by someone else first: nothing to do, never again.
      await this.markDone(key, `reverted:${revert}`);
      this.count(d.kind === "slash" ? "slashesLost" : "releasesLost");
      this.log.info(`${d.kind} not sent: the declaration is already settled`, {
        jobId: d.jobId,
        stage: d.stage,
        declarer,
        revert,
      });
      return;
    }
    await this.markDone(key, sent.hash);
    this.count(d.kind === "slash" ? "slashed" : "released");
    this.log.info(d.kind === "slash" ? "declaration slashed" : "declaration bond released", {
      jobId: d.jobId,
      stage: d.stage,
      declarer,
      resultHash: decl.resultHash,
      tx: sent.hash,
    });
  }

  /** Slashes a juror seat holder that did not reveal, or revealed against the decision. */
  private async doSlashJuror(d: Extract<Duty, { kind: "slash-juror" }>): Promise<void> {
    const seats = this.view.stages.get(skey(d.jobId, d.stage))?.rounds.get(d.round)?.seats;
    if (seats === undefined) return;
    const key = doneKey.slashJuror(d.jobId, d.stage, d.round, d.juror);
    let sent;
    try {
      sent = await this.chain.slashJuror(d.jobId, d.stage, d.round, seats, d.juror);
    } catch (error) {
      const revert = error instanceof ContractRevertError ? error.errorName : undefined;
      if (revert !== "NotAFault") throw error;
      await this.markDone(key, `reverted:${revert}`);
      this.count("slashesLost");
      return;
    }
    await this.markDone(key, sent.hash);
    this.count("jurorsSlashed");
    this.log.info("juror slashed", { jobId: d.jobId, stage: d.stage, round: d.round, juror: d.juror });
  }

  /** Voids a header whose PoA expired; a revert because another miner voided it first is benign. */
  private async doVoid(d: Extract<Duty, { kind: "void" }>): Promise<number | void> {
    const key = doneKey.void(d.jobId, d.stage, d.headerHash);
    const benign = async (revert: string | undefined, phase: number) => {
      await this.markDone(key, `reverted:${revert ?? "phase"}`);
      this.count("voidsLost");
      this.log.info("header not voided: already voided or wrapped, or the job ended", {
        jobId: d.jobId,
        stage: d.stage,
        revert,
        phase,
      });
    };
    // The view lags by the confirmations: ask PoTStages (latest block) first.
    const phase = await this.chain.stagePhase(d.jobId, d.stage);
    if (phase !== STAGE_PHASE.headered) return benign(undefined, phase);
    const header = this.view.stages.get(stageKey(d.jobId, d.stage))?.header;
    if (header === undefined || header.headerHash.toLowerCase() !== d.headerHash.toLowerCase())
      return benign(undefined, phase);
    let sent;
    try {
      sent = await this.chain.voidHeader(d.jobId, d.stage, header.header);
    } catch (error) {
      const revert = error instanceof ContractRevertError ? error.errorName : undefined;
      if (voidNoLongerNeeded(revert)) return benign(revert, -1);
      if (revert === "PoaNotExpired") return 2_000; // our head was ahead of the block it lands in
      throw error;
    }
    await this.markDone(key, sent.hash);
    this.count("voided");
    this.log.warn("header voided: its PoA expired without a wrap", {
      jobId: d.jobId,
      stage: d.stage,
      headerHash: d.headerHash,
      tx: sent.hash,
    });
  }

  /** Dials the registered IPFS nodes of the job's employer and of the declarants around `stage`. */
  private async dialFor(jobId: bigint, stage: number): Promise<void> {
    const who = new Set<string>();
    const job = this.view.jobs.get(jobId.toString());
    if (job !== undefined && job.jobId !== 0n) who.add(job.employer.toLowerCase());
    for (const s of [stage - 1, stage]) {
      const st = this.view.stages.get(skey(jobId, s));
      if (st === undefined) continue;
      for (const d of st.declarations.keys()) who.add(d);
      if (st.header) who.add(st.header.header.builder.toLowerCase());
    }
    who.delete(this.address.toLowerCase());
    const addrs: string[] = [];
    for (const a of who) {
      const cached = this.peerCache.get(a);
      let addr = cached !== undefined && Date.now() - cached.at < 30_000 ? cached.addr : undefined;
      if (addr === undefined) {
        addr = await this.chain.peerOf(getAddress(a)).catch(() => "");
        this.peerCache.set(a, { addr, at: Date.now() });
      }
      const last = this.dialed.get(addr);
      if (addr !== "" && (last === undefined || Date.now() - last >= DIAL_REFRESH_MS)) addrs.push(addr);
    }
    if (addrs.length === 0) return;
    // Dialing a connected peer returns the open connection (cheap); a dropped one is re-established. The
    // old rule (dial each address once, ever) left a miner whose connection to the employer dropped
    // without a source for the batches until the employer happened to dial back (the pipeline bench stall).
    for (const a of addrs) this.dialed.set(a, Date.now());
    await this.ipfs
      .dial(addrs, { timeoutMs: 5_000 })
      .catch((error) => this.log.debug("dial failed", { addrs, error }));
  }
}
