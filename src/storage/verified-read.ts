/**
 * Backend-neutral verified reading of a UnixFS object: blocks come from any raw block source (Helia's
 * blockstore, Kubo's `block/get`), each is hashed against its CID before the UnixFS exporter sees it,
 * and a progress watchdog turns "no block for timeoutMs" into a {@link FetchTimeoutError} naming the CID.
 */
import { setMaxListeners } from "node:events";
import { exporter } from "ipfs-unixfs-exporter";
import type { CID } from "multiformats/cid";
import { verifyBlock } from "./cid";
import { FetchTimeoutError, ObjectTooLargeError, StorageError } from "./errors";

/** Where raw blocks come from. Implementations must honour `signal` (a missing block otherwise hangs). */
export interface RawBlockSource {
  getBlock(cid: CID, signal: AbortSignal): Promise<Uint8Array>;
}

/** How many blocks are requested in parallel while streaming one object. */
export const BLOCK_READ_CONCURRENCY = 16;

/** Aborts when no block arrived for `timeoutMs`; remembers which block it was waiting for. */
class ProgressWatchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  readonly signal: AbortSignal;
  timedOut = false;
  waitingFor: string | undefined;

  constructor(
    private readonly timeoutMs: number,
    userSignal?: AbortSignal,
  ) {
    this.signal = userSignal ? AbortSignal.any([this.controller.signal, userSignal]) : this.controller.signal;
    setMaxListeners(Infinity, this.signal, this.controller.signal);
    this.restart();
  }

  restart(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error(`no progress for ${this.timeoutMs} ms`));
    }, this.timeoutMs);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

/** An opened object: its size (from the root node) and a one-shot stream of verified content. */
export interface VerifiedObject {
  size: bigint;
  content: AsyncGenerator<Uint8Array, void, undefined>;
}

/**
 * Opens `root` for verified reading. Resolves once the root block is fetched and verified.
 * Throws {@link FetchTimeoutError} if the root never arrives, {@link ObjectTooLargeError} above `maxBytes`.
 */
export async function openVerified(
  root: CID,
  source: RawBlockSource,
  options: { timeoutMs: number; signal?: AbortSignal; maxBytes?: number },
): Promise<VerifiedObject> {
  const rootName = root.toString();
  const watchdog = new ProgressWatchdog(options.timeoutMs, options.signal);
  const storage = {
    async *get(cid: CID, opts?: { signal?: AbortSignal }) {
      watchdog.waitingFor = cid.toString();
      const bytes = await source.getBlock(cid, opts?.signal ?? watchdog.signal);
      verifyBlock(cid, bytes);
      watchdog.restart();
      yield bytes;
    },
  };
  const translate = (err: unknown): unknown => {
    if (watchdog.timedOut)
      return new FetchTimeoutError(rootName, options.timeoutMs, watchdog.waitingFor, { cause: err });
    return err;
  };

  let entry;
  try {
    entry = await exporter(root, storage, { signal: watchdog.signal });
  } catch (err) {
    watchdog.dispose();
    throw translate(err);
  }
  if (entry.type !== "file" && entry.type !== "raw" && entry.type !== "identity") {
    watchdog.dispose();
    throw new StorageError(
      "NOT_A_FILE",
      `content ${rootName} is a UnixFS ${entry.type}, not a file; fetch the file CID inside it.`,
    );
  }
  if (options.maxBytes != null && entry.size > BigInt(options.maxBytes)) {
    watchdog.dispose();
    throw new ObjectTooLargeError(rootName, entry.size, options.maxBytes);
  }
  const file = entry;
  async function* content(): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      for await (const chunk of file.content({
        signal: watchdog.signal,
        blockReadConcurrency: BLOCK_READ_CONCURRENCY,
      })) {
        yield chunk;
      }
    } catch (err) {
      throw translate(err);
    } finally {
      watchdog.dispose();
    }
  }
  return { size: entry.size, content: content() };
}

/** Reads a whole verified object into one preallocated buffer (one copy per chunk, no concatenation). */
export async function readVerified(
  root: CID,
  source: RawBlockSource,
  options: { timeoutMs: number; signal?: AbortSignal; maxBytes?: number },
): Promise<Uint8Array> {
  const object = await openVerified(root, source, options);
  if (object.size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ObjectTooLargeError(root.toString(), object.size, Number.MAX_SAFE_INTEGER);
  }
  const out = new Uint8Array(Number(object.size));
  let offset = 0;
  for await (const chunk of object.content) {
    if (offset + chunk.byteLength > out.byteLength) {
      throw new StorageError(
        "CONTENT_SIZE_MISMATCH",
        `content ${root.toString()} yields more bytes than its declared size ${object.size}; the DAG is malformed.`,
      );
    }
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (offset !== out.byteLength) {
    throw new StorageError(
      "CONTENT_SIZE_MISMATCH",
      `content ${root.toString()} yielded ${offset} bytes but declares ${object.size}; the DAG is malformed.`,
    );
  }
  return out;
}
