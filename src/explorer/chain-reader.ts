/**
 * Everything the explorer reads from the chain, and nothing else of the explorer touches it: the protocol's
 * logs (escrow, stages, committee, disputes; followed incrementally, decoded by src/chain), the per-job
 * fold of those logs (the dummy job 0 included), the job views, the staking views (stakes, draw weights,
 * coin age, peers) and the head block.
 */
import type { Address, PublicClient } from "viem";
import type { EventWatcher, WatchedLog } from "../chain/events";
import { jobEventsFromLogs, ledgerLogWatcher, type JobEvents } from "../chain/job-events";
import { readJob, type LedgerHandle, type OnChainJob } from "../chain/ledger-reads";
import { decodeLedgerLog, type LedgerEvent } from "../chain/pot-contracts";
import { readPeer, readStakers, type StakerView } from "../chain/staking-calls";

type WrappedEvent = Extract<LedgerEvent, { kind: "BlockWrapped" }>;

/** A wrapped block with the declarants of its stage and the builder of its header. */
export type WrappedBlock = WrappedEvent & { readonly declarants: Address[]; readonly builder?: Address };

/** A `Slashed` event of PoTDisputes. */
export type SlashEvent = Extract<LedgerEvent, { kind: "Slashed" }>;

export type { StakerView };

/** Where to read. */
export interface ChainReaderOptions {
  readonly handle: LedgerHandle;
  /**
   * Blocks a protocol event must be buried under before it is shown (default 0). The explorer keeps what it
   * was shown, so on a chain that reorganizes, set this above the deepest expected reorg.
   */
  readonly confirmations?: number;
  /** Most stakers listed (default 500). */
  readonly maxStakers?: number;
}

/** Follows one deployment's protocol contracts and reads their views for the explorer. */
export class ChainReader {
  private readonly watcher: EventWatcher;
  private readonly logs: WatchedLog[] = [];
  private readonly client: PublicClient;

  constructor(private readonly options: ChainReaderOptions) {
    this.watcher = ledgerLogWatcher(options.handle, options.confirmations ?? 0);
    this.client = options.handle.client;
  }

  /** Reads the protocol logs that arrived since the last call; resolves to how many arrived. */
  async follow(): Promise<number> {
    const fresh = await this.watcher.poll();
    this.logs.push(...fresh);
    return fresh.length;
  }

  /** The head block of the chain. */
  async head(): Promise<{ number: bigint; timestamp: bigint }> {
    const b = await this.client.getBlock({ blockTag: "latest" });
    return { number: b.number, timestamp: b.timestamp };
  }

  /**
   * Every job created so far, the built-in dummy job (id 0, endless: its stages up to the last one with an
   * event) first, with its events folded by stage (oldest job first).
   */
  jobs(): JobEvents[] {
    const suite = this.options.handle.suite;
    const byJob = new Map<bigint, WatchedLog[]>();
    for (const log of this.logs) {
      const jobId = (log.args as { jobId?: bigint } | undefined)?.jobId;
      if (typeof jobId !== "bigint") continue;
      let list = byJob.get(jobId);
      if (list === undefined) byJob.set(jobId, (list = []));
      list.push(log);
    }
    return [...byJob.entries()]
      .filter(([, logs]) => logs.some((l) => l.eventName === "JobCreated"))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([jobId, logs]) => jobEventsFromLogs(suite, jobId, logs));
  }

  /** Every wrapped block of the global chain (dummy job included), in chain order, with who made it. */
  wrappedBlocks(): WrappedBlock[] {
    const suite = this.options.handle.suite;
    const events = this.logs.map((log) => decodeLedgerLog(suite, log));
    const key = (jobId: bigint, stage: number) => `${jobId}:${stage}`;
    const declarants = new Map<string, Address[]>();
    const builders = new Map<string, Address>();
    for (const e of events) {
      if (e?.kind === "Declared") {
        const k = key(e.jobId, e.stage);
        declarants.set(k, [...(declarants.get(k) ?? []), e.declarer]);
      } else if (e?.kind === "HeaderSubmitted") builders.set(e.headerHash.toLowerCase(), e.builder);
    }
    return events
      .filter((e): e is WrappedEvent => e?.kind === "BlockWrapped")
      .map((w) => ({
        ...w,
        declarants: declarants.get(key(w.jobId, w.stage)) ?? [],
        builder: builders.get(w.headerHash.toLowerCase()),
      }));
  }

  /** Every stake slashed so far, in chain order. */
  slashes(): SlashEvent[] {
    const suite = this.options.handle.suite;
    return this.logs
      .filter((l) => l.eventName === "Slashed")
      .map((log) => decodeLedgerLog(suite, log))
      .filter((e): e is SlashEvent => e?.kind === "Slashed");
  }

  /** The contracts' view of a job (status, escrow left, wrapped stages). */
  job(jobId: bigint): Promise<OnChainJob> {
    return readJob(this.options.handle, jobId);
  }

  /** The IPFS multiaddr `account` announced in the staking contract's registry ("" when none). */
  peerOf(account: Address): Promise<string> {
    return readPeer(this.client, this.options.handle.staking, account);
  }

  /** The stakers, largest stake first, with draw weights as of `atBlock` (default: the head). */
  async stakers(atBlock?: bigint): Promise<StakerView[]> {
    const block = atBlock ?? (await this.client.getBlockNumber({ cacheTime: 0 }));
    return readStakers(this.client, this.options.handle.staking, block, this.options.maxStakers ?? 500);
  }
}
