/**
 * Event watching by polling `eth_getLogs` over block ranges. Logs are delivered only once `confirmations`
 * blocks sit on top of them; each poll re-reads the last `reorgDepth` blocks before the cursor and drops logs
 * already delivered (same blockHash and logIndex), so a log that a reorg moved into a new block is
 * delivered again with its new position, and nothing is delivered twice. The cursor (the next block to read)
 * is handed to `onCheckpoint` after each batch, so a process can persist it and resume from it.
 */
import type { Abi, AbiEvent, Address, GetLogsReturnType, PublicClient } from "viem";
import { sleep } from "./retry";

/** A decoded log as viem returns it for known events. */
export type WatchedLog = GetLogsReturnType<undefined, AbiEvent[], true>[number];

/** Options of an `EventWatcher`. */
export interface EventWatcherOptions {
  readonly client: PublicClient;
  /** Contract(s) whose logs are watched. */
  readonly address: Address | readonly Address[];
  /** ABI(s) whose events are decoded; `eventNames` narrows them. */
  readonly abi: Abi;
  readonly eventNames?: readonly string[];
  /**
   * First block not yet processed: 0 (or the deployment block) for a fresh start, a stored checkpoint to
   * resume. Blocks before it are never read.
   */
  readonly fromBlock: bigint;
  /** Blocks that must sit on top of a log's block before it is delivered (0 = deliver at once). */
  readonly confirmations: number;
  /** Blocks before the cursor re-read on every poll to catch reorgs (default: `confirmations`, at least 1). */
  readonly reorgDepth?: number;
  /** Largest block range of one `eth_getLogs` request (default 2,000). */
  readonly maxBlockRange?: number;
  /** Delay between polls of `start()`, in ms. */
  readonly pollingIntervalMs?: number;
}

/** Handlers of `start()`. */
export interface EventWatcherHandlers {
  /** New logs in chain order; the checkpoint advances only after this resolves. */
  onLogs: (logs: WatchedLog[]) => void | Promise<void>;
  /** The next block to read, to persist for a later resume. */
  onCheckpoint?: (nextBlock: bigint) => void | Promise<void>;
  /** A poll failed (after the transport's retries); polling goes on. */
  onError?: (error: unknown) => void;
}

/** Polls a contract's logs; see the module comment for the delivery guarantees. */
export class EventWatcher {
  private cursor: bigint;
  private readonly floor: bigint;
  private readonly events: AbiEvent[];
  /** `${blockHash}:${logIndex}` of delivered logs still inside the re-read window, with their block. */
  private readonly seen = new Map<string, bigint>();
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: EventWatcherOptions) {
    this.cursor = options.fromBlock;
    this.floor = options.fromBlock;
    const wanted = options.eventNames === undefined ? undefined : new Set(options.eventNames);
    this.events = options.abi.filter(
      (item): item is AbiEvent => item.type === "event" && (wanted === undefined || wanted.has(item.name)),
    );
    if (wanted !== undefined && this.events.length !== wanted.size) {
      const known = new Set(this.events.map((e) => e.name));
      const missing = [...wanted].filter((n) => !known.has(n));
      throw new Error(`Unknown event(s) ${missing.join(", ")}: not in the ABI given to EventWatcher`);
    }
  }

  /** The next block a poll will deliver logs from (what to persist). */
  get nextBlock(): bigint {
    return this.cursor;
  }

  private get reorgDepth(): bigint {
    return BigInt(this.options.reorgDepth ?? Math.max(1, this.options.confirmations));
  }

  /**
   * One poll: reads the confirmed blocks from `nextBlock - reorgDepth` (never below `fromBlock`) to
   * `head - confirmations`, returns the logs not delivered before, in chain order, and advances the cursor.
   * With `deliver`, the logs are handed to it first and nothing advances if it throws (they come again).
   */
  async poll(deliver?: (logs: WatchedLog[]) => void | Promise<void>): Promise<WatchedLog[]> {
    const head = await this.options.client.getBlockNumber({ cacheTime: 0 });
    const safeHead = head - BigInt(this.options.confirmations);
    if (safeHead < this.floor) return [];
    let from = this.cursor - this.reorgDepth;
    if (from < this.floor) from = this.floor;
    const fresh: WatchedLog[] = [];
    const freshKeys = new Set<string>();
    const range = BigInt(this.options.maxBlockRange ?? 2_000);
    for (let start = from; start <= safeHead; start += range) {
      const end = start + range - 1n < safeHead ? start + range - 1n : safeHead;
      const logs: WatchedLog[] = await this.options.client.getLogs({
        address: this.options.address as Address[],
        events: this.events,
        fromBlock: start,
        toBlock: end,
        strict: true,
      });
      for (const log of logs) {
        const key = `${log.blockHash}:${log.logIndex}`;
        if (this.seen.has(key) || freshKeys.has(key)) continue;
        freshKeys.add(key);
        fresh.push(log);
      }
    }
    fresh.sort((a, b) =>
      a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
    );
    if (deliver !== undefined && fresh.length > 0) await deliver(fresh);
    for (const log of fresh) this.seen.set(`${log.blockHash}:${log.logIndex}`, log.blockNumber);
    // The chain may be shorter than before (a reorg to a shorter branch): the cursor follows it.
    this.cursor = safeHead + 1n;
    const keepFrom = this.cursor - this.reorgDepth;
    for (const [key, block] of this.seen) if (block < keepFrom) this.seen.delete(key);
    return fresh;
  }

  /** Polls every `pollingIntervalMs` until `stop()`, delivering logs and checkpoints to `handlers`. */
  start(handlers: EventWatcherHandlers): void {
    if (this.loop !== undefined) throw new Error("EventWatcher already started");
    const controller = new AbortController();
    this.controller = controller;
    const interval = this.options.pollingIntervalMs ?? 1_000;
    this.loop = (async () => {
      while (!controller.signal.aborted) {
        try {
          await this.poll(handlers.onLogs);
          await handlers.onCheckpoint?.(this.cursor);
        } catch (error) {
          if (controller.signal.aborted) break;
          handlers.onError?.(error);
        }
        await sleep(interval, controller.signal).catch(() => undefined);
      }
    })();
  }

  /** Stops `start()`'s loop and waits for the poll in progress to finish. */
  async stop(): Promise<void> {
    this.controller?.abort();
    await this.loop;
    this.loop = undefined;
    this.controller = undefined;
  }
}
