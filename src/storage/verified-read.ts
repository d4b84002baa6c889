/**
 * Backend-neutral verified reading of a UnixFS object: blocks come from any raw block source (Helia's
 * blockstore, Kubo's `block/get`), each is hashed against its CID before it is decoded or returned,
 * and a progress watchdog turns "no block for timeoutMs" into a {@link FetchTimeoutError} naming the CID.
 */
import { setMaxListeners } from "node:events";
import type { CID } from "multiformats/cid";
import { DAG_PB_CODEC, RAW_CODEC, verifyBlock } from "./cid";
import { FetchTimeoutError, ObjectTooLargeError, StorageError } from "./errors";

/** Where raw blocks come from. Implementations must honour `signal` (a missing block otherwise hangs). */
export interface RawBlockSource {
  getBlock(cid: CID, signal: AbortSignal): Promise<Uint8Array>;
}

const IDENTITY = 0x00;

/** How many blocks are requested in parallel (per DAG node) while streaming one object. */
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

  /** Cancels outstanding block requests (after a failure or once the object is fully read). */
  abort(): void {
    if (!this.controller.signal.aborted) this.controller.abort(new Error("fetch finished"));
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

/** Marks a promise as handled (its rejection is still seen by whoever awaits it). */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/**
 * Opens `root` for verified reading. Resolves once the root block is fetched and verified.
 * Supports raw blocks, identity CIDs and UnixFS files in dag-pb (any chunking/layout). Children are
 * prefetched in order, {@link BLOCK_READ_CONCURRENCY} at a time per node.
 * Throws {@link FetchTimeoutError} if a block never arrives, {@link ObjectTooLargeError} above `maxBytes`.
 */
export async function openVerified(
  root: CID,
  source: RawBlockSource,
  options: { timeoutMs: number; signal?: AbortSignal; maxBytes?: number },
): Promise<VerifiedObject> {
  const rootName = root.toString();
  const watchdog = new ProgressWatchdog(options.timeoutMs, options.signal);
  const fail = (err: unknown): unknown => {
    watchdog.abort();
    watchdog.dispose();
    if (watchdog.timedOut)
      return new FetchTimeoutError(rootName, options.timeoutMs, watchdog.waitingFor, { cause: err });
    return err;
  };
  const fetchBlock = async (cid: CID): Promise<Uint8Array> => {
    if (cid.multihash.code === IDENTITY) return cid.multihash.digest;
    watchdog.waitingFor = cid.toString();
    const bytes = await source.getBlock(cid, watchdog.signal);
    verifyBlock(cid, bytes);
    watchdog.restart();
    return bytes;
  };
  const [dagPb, { UnixFS }] = await Promise.all([import("@ipld/dag-pb"), import("ipfs-unixfs")]);
  const decodeFile = (cid: CID, bytes: Uint8Array) => {
    let node, unixfs;
    try {
      node = dagPb.decode(bytes);
      unixfs = node.Data != null ? UnixFS.unmarshal(node.Data) : undefined;
    } catch (err) {
      throw new StorageError("NOT_A_FILE", `block ${cid} is not a UnixFS node: ${(err as Error).message}.`);
    }
    if (unixfs == null || (unixfs.type !== "file" && unixfs.type !== "raw")) {
      throw new StorageError(
        "NOT_A_FILE",
        `content ${rootName} is a UnixFS ${unixfs?.type ?? "object without data"}, not a file; fetch the file CID inside it.`,
      );
    }
    return { links: node.Links.map((l) => l.Hash), data: unixfs.data, size: unixfs.fileSize() };
  };

  let rootBytes: Uint8Array;
  let rootNode: ReturnType<typeof decodeFile> | undefined;
  try {
    if (root.code !== RAW_CODEC && root.code !== DAG_PB_CODEC) {
      throw new StorageError(
        "NOT_A_FILE",
        `content ${rootName} has codec 0x${root.code.toString(16)}, not raw or dag-pb.`,
      );
    }
    rootBytes = await fetchBlock(root);
    if (root.code === DAG_PB_CODEC) rootNode = decodeFile(root, rootBytes);
  } catch (err) {
    throw fail(err);
  }
  const size = rootNode?.size ?? BigInt(rootBytes.byteLength);
  if (options.maxBytes != null && size > BigInt(options.maxBytes)) {
    watchdog.dispose();
    throw new ObjectTooLargeError(rootName, size, options.maxBytes);
  }

  async function* walk(node: ReturnType<typeof decodeFile>): AsyncGenerator<Uint8Array, void, undefined> {
    if (node.data != null && node.data.byteLength > 0) yield node.data;
    const pending: Promise<Uint8Array>[] = [];
    let next = 0;
    const fill = () => {
      while (next < node.links.length && pending.length < BLOCK_READ_CONCURRENCY) {
        pending.push(handled(fetchBlock(node.links[next++])));
      }
    };
    for (const child of node.links) {
      fill();
      const bytes = await pending.shift()!;
      if (child.code === RAW_CODEC || child.multihash.code === IDENTITY) yield bytes;
      else if (child.code === DAG_PB_CODEC) yield* walk(decodeFile(child, bytes));
      else throw new StorageError("NOT_A_FILE", `block ${child} in ${rootName} has an unsupported codec.`);
    }
  }

  async function* content(): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      if (rootNode == null) yield rootBytes;
      else yield* walk(rootNode);
    } catch (err) {
      throw fail(err);
    } finally {
      watchdog.abort();
      watchdog.dispose();
    }
  }
  return { size, content: content() };
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
