/**
 * The content-addressed store interface shared by the embedded IPFS node (Helia) and a Kubo daemon.
 *
 * CIDs are exchanged as strings in canonical form (CIDv1, base32: what `ipfs add --cid-version 1`
 * prints). Inputs may be any CID string form; they are parsed and normalised.
 */

/** Bytes to store: one buffer, or a stream of chunks for large objects. */
export type ContentInput = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** Options of {@link ContentStore.put}. */
export interface PutOptions {
  /** Pin the object after adding it (default false; call `pin` later, as `publishDataset` does). */
  pin?: boolean;
  signal?: AbortSignal;
}

/** Options of every fetch. */
export interface FetchOptions {
  /**
   * Fail with `FetchTimeoutError` when no block arrives for this long (ms). The timer restarts on every
   * block received, so a large object that keeps flowing never times out. Default: the store's
   * `fetchTimeoutMs`.
   */
  timeoutMs?: number;
  /** Caller abort; an abort is rethrown as is. */
  signal?: AbortSignal;
}

/** Options of {@link ContentStore.get}. */
export interface GetOptions extends FetchOptions {
  /** Refuse objects larger than this many bytes (checked from the root node before downloading). */
  maxBytes?: number;
}

/** Which backend a store runs on. */
export type ContentStoreKind = "embedded" | "kubo";

/** One content-addressed store. */
export interface ContentStore {
  readonly kind: ContentStoreKind;
  /** Default fetch timeout (ms) used when a call gives none. */
  readonly fetchTimeoutMs: number;

  /** Adds bytes as a UnixFS file with `ipfs add --cid-version 1` parameters and returns its CID. */
  put(content: ContentInput, options?: PutOptions): Promise<string>;

  /** Fetches an object, verifying every block against its CID, into one buffer. */
  get(cid: string, options?: GetOptions): Promise<Uint8Array>;

  /**
   * Stores `bytes` as ONE raw block and returns its CID, CIDv1(raw 0x55, sha2-256(bytes)) (no UnixFS,
   * no chunking: the CID of a state follows from its state hash, see `cidOfStateHash`).
   */
  putRawBlock(bytes: Uint8Array, options?: PutOptions): Promise<string>;

  /**
   * Fetches one raw block (CIDv1, raw codec, sha2-256; anything else throws InvalidCidError) and checks
   * its bytes against the CID's hash (ContentVerificationError otherwise).
   */
  getRawBlock(cid: string, options?: GetOptions): Promise<Uint8Array>;

  /** Streams an object, verifying every block against its CID before yielding it. */
  getStream(cid: string, options?: FetchOptions): AsyncIterable<Uint8Array>;

  /** True if the object's root block is held locally (never touches the network). */
  has(cid: string, options?: { signal?: AbortSignal }): Promise<boolean>;

  /** Pins the whole object (fetching missing blocks, bounded by the fetch timeout). */
  pin(cid: string, options?: FetchOptions): Promise<void>;

  /** Multiaddrs (with /p2p/<peer id>) at which other nodes can dial this node. */
  addresses(): Promise<string[]>;

  /** Connects to peers given by multiaddr (e.g. taken from the on-chain registry). */
  dial(addresses: readonly string[], options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<void>;

  /** Stops the node / releases the client. Idempotent. */
  close(): Promise<void>;
}
