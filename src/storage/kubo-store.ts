/**
 * {@link ContentStore} over a Kubo daemon's RPC API (`/api/v0`), with `kubo-rpc-client` (the maintained
 * successor of `ipfs-http-client`). Works with any Kubo-compatible RPC endpoint, e.g. a pinning
 * service exposing it. Reads never trust the daemon: objects are fetched block by block (`block/get`)
 * and every block is hashed against its CID here.
 */
import type { KuboRPCClient } from "kubo-rpc-client";
import type { CID } from "multiformats/cid";
import { KUBO_CHUNK_SIZE, parseCid, parseRawBlockCid, rawBlockCid } from "./cid";
import { ContentNotFoundError, KuboRpcError, StorageConfigError, StorageError } from "./errors";
import { DEFAULT_FETCH_TIMEOUT_MS } from "./helia-store";
import type { ContentInput, ContentStore, FetchOptions, GetOptions, PutOptions } from "./types";
import { openVerified, readVerified, type RawBlockSource } from "./verified-read";

/** Configuration of the Kubo RPC backend. */
export interface KuboStoreConfig {
  kind: "kubo";
  /** RPC API base URL, e.g. `http://127.0.0.1:5001` (the `/api/v0` path is added if absent). */
  url: string;
  /** Extra HTTP headers, e.g. `Authorization` for a pinning service. */
  headers?: Record<string, string>;
  /** Default fetch timeout in ms (no-progress timeout). Default 30000. */
  fetchTimeoutMs?: number;
}

function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true || (err as Error)?.name === "AbortError";
}

function looksNotFound(message: string): boolean {
  return /not found|no link named|context deadline exceeded|request timed out|timed out/i.test(message);
}

async function* toAsync(
  content: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): AsyncIterable<Uint8Array> {
  yield* content;
}

/** {@link ContentStore} backed by a Kubo daemon. Create with {@link openKuboStore}. */
export class KuboContentStore implements ContentStore {
  readonly kind = "kubo" as const;
  private readonly source: RawBlockSource;

  constructor(
    /** The underlying `kubo-rpc-client` instance. */
    readonly client: KuboRPCClient,
    readonly url: string,
    readonly fetchTimeoutMs: number,
    private readonly multiaddr: typeof import("@multiformats/multiaddr").multiaddr,
  ) {
    this.source = {
      getBlock: async (cid, signal) => {
        try {
          return await this.client.block.get(cid, { signal });
        } catch (err) {
          throw this.translate(cid.toString(), err, signal);
        }
      },
    };
  }

  private translate(cid: string, err: unknown, signal?: AbortSignal): unknown {
    if (isAbort(err, signal)) return err;
    const message = (err as Error)?.message ?? String(err);
    if (looksNotFound(message)) return new ContentNotFoundError(cid, `Kubo says: ${message}`, { cause: err });
    return new KuboRpcError(this.url, message, { cause: err });
  }

  async put(content: ContentInput, options: PutOptions = {}): Promise<string> {
    const input = content instanceof Uint8Array ? content : toAsync(content);
    try {
      const result = await this.client.add(input, {
        cidVersion: 1,
        rawLeaves: true,
        chunker: `size-${KUBO_CHUNK_SIZE}`,
        hashAlg: "sha2-256",
        pin: options.pin === true,
        signal: options.signal,
      });
      return result.cid.toV1().toString();
    } catch (err) {
      if (isAbort(err, options.signal)) throw err;
      throw new KuboRpcError(this.url, `add failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async get(cid: string, options: GetOptions = {}): Promise<Uint8Array> {
    return this.readVerified(parseCid(cid), options);
  }

  private readVerified(cid: CID, options: GetOptions): Promise<Uint8Array> {
    return readVerified(cid, this.source, {
      timeoutMs: options.timeoutMs ?? this.fetchTimeoutMs,
      signal: options.signal,
      maxBytes: options.maxBytes,
    });
  }

  async putRawBlock(bytes: Uint8Array, options: PutOptions = {}): Promise<string> {
    const want = rawBlockCid(bytes).toString();
    let got: CID;
    try {
      // Kubo's own parameter names (kubo-rpc-client passes unknown options through as query parameters):
      // raw codec, CIDv1, and blocks over 1 MiB allowed (a model's state is often larger).
      got = await this.client.block.put(bytes, {
        "cid-codec": "raw",
        mhtype: "sha2-256",
        pin: options.pin === true,
        "allow-big-block": true,
        signal: options.signal,
      } as Parameters<KuboRPCClient["block"]["put"]>[1]);
    } catch (err) {
      if (isAbort(err, options.signal)) throw err;
      throw new KuboRpcError(this.url, `block/put failed: ${(err as Error).message}`, { cause: err });
    }
    if (got.toV1().toString() !== want) {
      throw new KuboRpcError(
        this.url,
        `block/put returned ${got.toString()}, expected the raw block CID ${want}`,
      );
    }
    return want;
  }

  async getRawBlock(cid: string, options: GetOptions = {}): Promise<Uint8Array> {
    return this.readVerified(parseRawBlockCid(cid), options);
  }

  async *getStream(cid: string, options: FetchOptions = {}): AsyncIterable<Uint8Array> {
    const object = await openVerified(parseCid(cid), this.source, {
      timeoutMs: options.timeoutMs ?? this.fetchTimeoutMs,
      signal: options.signal,
    });
    yield* object.content;
  }

  async has(cid: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const parsed: CID = parseCid(cid);
    try {
      await this.client.block.stat(parsed, { signal: options.signal, offline: true } as {
        signal?: AbortSignal;
      });
      return true;
    } catch (err) {
      const translated = this.translate(cid, err, options.signal);
      if (translated instanceof ContentNotFoundError) return false;
      throw translated;
    }
  }

  async pin(cid: string, options: FetchOptions = {}): Promise<void> {
    // Fetch and verify every block under the progress timeout first; the daemon then pins local blocks.
    for await (const _chunk of this.getStream(cid, options)) {
      // draining is the point
    }
    try {
      await this.client.pin.add(parseCid(cid), { signal: options.signal });
    } catch (err) {
      throw this.translate(cid, err, options.signal);
    }
  }

  async addresses(): Promise<string[]> {
    try {
      const id = await this.client.id();
      return (id.addresses ?? []).map((ma) => ma.toString());
    } catch (err) {
      throw new KuboRpcError(this.url, `id failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async dial(
    addresses: readonly string[],
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<void> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.fetchTimeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    await Promise.all(
      addresses.map(async (address) => {
        let ma;
        try {
          ma = this.multiaddr(address);
        } catch (err) {
          throw new StorageConfigError(
            `peer address "${address}" is not a multiaddr: ${(err as Error).message}`,
          );
        }
        try {
          await this.client.swarm.connect(ma, { signal });
        } catch (err) {
          throw new StorageError(
            "DIAL_FAILED",
            `Kubo at ${this.url} could not connect to ${address}: ${(err as Error).message}`,
            { cause: err },
          );
        }
      }),
    );
  }

  async close(): Promise<void> {
    // The client holds no resources beyond pooled HTTP connections, which close when idle.
  }
}

/**
 * Connects to a Kubo RPC API and checks that it answers (`id`). Throws {@link KuboRpcError} if the
 * daemon is unreachable.
 */
export async function openKuboStore(config: KuboStoreConfig): Promise<KuboContentStore> {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new StorageConfigError(
      `Kubo RPC url "${config.url}" is not a URL; use e.g. http://127.0.0.1:5001.`,
    );
  }
  const fetchTimeoutMs = config.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  if (!(fetchTimeoutMs > 0))
    throw new StorageConfigError(`fetchTimeoutMs must be > 0, got ${fetchTimeoutMs}.`);
  const [{ create }, { multiaddr }] = await Promise.all([
    import("kubo-rpc-client"),
    import("@multiformats/multiaddr"),
  ]);
  const client = create({ url, headers: config.headers });
  const store = new KuboContentStore(client, url.toString(), fetchTimeoutMs, multiaddr);
  try {
    await client.id({ signal: AbortSignal.timeout(Math.min(fetchTimeoutMs, 10_000)) });
  } catch (err) {
    throw new KuboRpcError(url.toString(), `not reachable (${(err as Error).message})`, { cause: err });
  }
  return store;
}
