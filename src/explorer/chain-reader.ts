/**
 * Everything the explorer reads from the chain, and nothing else of the explorer touches it: the ledger's
 * logs (followed incrementally, decoded by src/chain), the per-job fold of those logs, the job views, the
 * staking views (stakes, draw weights, coin age, peers) and the head block. When the ledger contracts are
 * split, re-point this module only.
 */
import { getAddress, type Address, type PublicClient } from "viem";
import type { ContractRef } from "../chain/contracts";
import type { EventWatcher, WatchedLog } from "../chain/events";
import {
  jobEventsFromLogs,
  ledgerLogWatcher,
  readJob,
  type JobEvents,
  type LedgerHandle,
  type OnChainJob,
} from "../chain/job-events";
import { decodeLedgerLog, type LedgerEvent } from "../chain/pot-contracts";

/** Job id of the ledger's built-in dummy job (trained when the network is idle; it never ends). */
const DUMMY_JOB = 0n;

type WrappedEvent = Extract<LedgerEvent, { kind: "BlockWrapped" }>;

/** A wrapped block with the declarants of its stage and the builder of its header. */
export type WrappedBlock = WrappedEvent & { readonly declarants: Address[]; readonly builder?: Address };

/** A `Slashed` event of the ledger. */
export type SlashEvent = Extract<LedgerEvent, { kind: "Slashed" }>;

/** One staker as the staking contract reports it. */
export interface StakerView {
  readonly address: Address;
  /** Active stake (token wei). */
  readonly stake: bigint;
  /** Weight in committee and jury draws seeded at the head block (gwei of stake as of its epoch's start). */
  readonly drawWeight: bigint;
  readonly coinAge: bigint;
  /** IPFS multiaddr it announced ("" when none). */
  readonly peer: string;
}

/** Where to read. */
export interface ChainReaderOptions {
  readonly handle: LedgerHandle;
  readonly staking: ContractRef;
  /**
   * Blocks a ledger event must be buried under before it is shown (default 0). The explorer keeps what it
   * was shown, so on a chain that reorganizes, set this above the deepest expected reorg.
   */
  readonly confirmations?: number;
  /** Most stakers listed (default 500). */
  readonly maxStakers?: number;
}

/** Follows one deployment's ledger and reads its views for the explorer. */
export class ChainReader {
  private readonly watcher: EventWatcher;
  private readonly logs: WatchedLog[] = [];
  private readonly client: PublicClient;

  constructor(private readonly options: ChainReaderOptions) {
    this.watcher = ledgerLogWatcher(options.handle, options.confirmations ?? 0);
    this.client = options.handle.client;
  }

  /** Reads the ledger logs that arrived since the last call; resolves to how many arrived. */
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
   * Every employer job created so far, with its events folded by stage (oldest job first). The built-in
   * dummy job (id 0, endless) is left out: its blocks are in `wrappedBlocks()`.
   */
  jobs(): JobEvents[] {
    const byJob = new Map<bigint, WatchedLog[]>();
    for (const log of this.logs) {
      const jobId = (log.args as { jobId?: bigint } | undefined)?.jobId;
      if (typeof jobId !== "bigint" || jobId === DUMMY_JOB) continue;
      let list = byJob.get(jobId);
      if (list === undefined) byJob.set(jobId, (list = []));
      list.push(log);
    }
    return [...byJob.entries()]
      .filter(([, logs]) => logs.some((l) => l.eventName === "JobCreated"))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([jobId, logs]) => jobEventsFromLogs(jobId, logs));
  }

  /** Every wrapped block of the global chain (dummy job included), in chain order, with who made it. */
  wrappedBlocks(): WrappedBlock[] {
    const events = this.logs.map(decodeLedgerLog);
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
    return this.logs
      .filter((l) => l.eventName === "Slashed")
      .map(decodeLedgerLog)
      .filter((e): e is SlashEvent => e?.kind === "Slashed");
  }

  /** The ledger's view of a job (status, escrow left, wrapped stages). */
  job(jobId: bigint): Promise<OnChainJob> {
    return readJob(this.options.handle, jobId);
  }

  /** The IPFS multiaddr `account` announced in the staking contract's registry ("" when none). */
  peerOf(account: Address): Promise<string> {
    return this.client.readContract({
      ...this.options.staking,
      functionName: "peerOf",
      args: [account],
    } as never) as Promise<string>;
  }

  /** The stakers, largest stake first, with draw weights as of `atBlock` (default: the head). */
  async stakers(atBlock?: bigint): Promise<StakerView[]> {
    const staking = this.options.staking;
    const read = <T>(functionName: string, args: unknown[]) =>
      this.client.readContract({ ...staking, functionName, args } as never) as Promise<T>;
    const block = atBlock ?? (await this.client.getBlockNumber({ cacheTime: 0 }));
    const [addresses, stakes] = await read<readonly [readonly Address[], readonly bigint[]]>("stakersPage", [
      0n,
      BigInt(this.options.maxStakers ?? 500),
    ]);
    const views = await Promise.all(
      addresses.map(async (a, i) => {
        const [drawWeight, coinAge, peer] = await Promise.all([
          read<bigint>("drawWeightOf", [a, block]).catch(() => 0n),
          read<bigint>("coinAgeOf", [a]),
          this.peerOf(a),
        ]);
        return { address: getAddress(a), stake: BigInt(stakes[i]), drawWeight, coinAge, peer };
      }),
    );
    return views.sort((x, y) => (x.stake === y.stake ? 0 : x.stake > y.stake ? -1 : 1));
  }
}
