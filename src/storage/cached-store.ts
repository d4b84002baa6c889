/**
 * A content store that opens the real one (embedded IPFS node or Kubo) only when it needs it: small
 * objects read before come from an `ObjectCache` (verified against their CIDs on every read), and a miss
 * opens the store, fetches (verified as always) and files the object in the cache. `pot job status` reads
 * the job document through it, so a second status of the same job never starts Helia.
 */
import type { ObjectCache } from "./object-cache";
import type { ContentInput, ContentStore, FetchOptions, GetOptions, PutOptions } from "./types";

/** A `ContentStore` over a cache and a store opened on first need; `opened` says whether it was. */
export class CachedContentStore implements ContentStore {
  private store: Promise<ContentStore> | undefined;

  constructor(
    private readonly cache: ObjectCache,
    private readonly open: () => Promise<ContentStore>,
    readonly kind: ContentStore["kind"],
    readonly fetchTimeoutMs: number,
  ) {}

  /** Whether the real store was opened (a cache miss, or a call that needs the network). */
  get opened(): boolean {
    return this.store !== undefined;
  }

  async get(cid: string, options?: GetOptions): Promise<Uint8Array> {
    const cached = await this.cache.get(cid);
    if (cached !== undefined && (options?.maxBytes === undefined || cached.byteLength <= options.maxBytes))
      return cached;
    const bytes = await (await this.real()).get(cid, options);
    await this.cache.put(cid, bytes).catch(() => false);
    return bytes;
  }

  async *getStream(cid: string, options?: FetchOptions): AsyncIterable<Uint8Array> {
    const cached = await this.cache.get(cid);
    if (cached !== undefined) yield cached;
    else yield* (await this.real()).getStream(cid, options);
  }

  async has(cid: string, options?: { signal?: AbortSignal }): Promise<boolean> {
    return (await this.cache.get(cid)) !== undefined || (await this.real()).has(cid, options);
  }

  async put(content: ContentInput, options?: PutOptions): Promise<string> {
    return (await this.real()).put(content, options);
  }

  async putRawBlock(bytes: Uint8Array, options?: PutOptions): Promise<string> {
    return (await this.real()).putRawBlock(bytes, options);
  }

  async getRawBlock(cid: string, options?: GetOptions): Promise<Uint8Array> {
    return (await this.real()).getRawBlock(cid, options);
  }

  async pin(cid: string, options?: FetchOptions): Promise<void> {
    return (await this.real()).pin(cid, options);
  }

  async addresses(): Promise<string[]> {
    return (await this.real()).addresses();
  }

  async dial(addresses: readonly string[], options?: { signal?: AbortSignal; timeoutMs?: number }) {
    return (await this.real()).dial(addresses, options);
  }

  async close(): Promise<void> {
    const store = this.store;
    this.store = undefined;
    if (store !== undefined)
      await store.then(
        (s) => s.close(),
        () => undefined,
      );
  }

  private real(): Promise<ContentStore> {
    this.store ??= this.open();
    return this.store;
  }
}
