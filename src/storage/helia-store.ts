/**
 * Embedded IPFS node: Helia (light) + libp2p TCP + noise + yamux + identify + bitswap, with a persistent
 * filesystem blockstore and datastore. No bootstrap, no DHT, no peer discovery, no public gateways:
 * peers are dialed explicitly (`peers` in the config, or `dial()` with addresses from the registry).
 */
import "./polyfills";
import { mkdir } from "node:fs/promises";
import * as path from "node:path";
import type { Helia } from "helia";
import type { Libp2p } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { kuboCompatibleImportOptions, parseCid, parseRawBlockCid, rawBlockCid } from "./cid";
import { StorageConfigError, StorageError } from "./errors";
import type { ContentInput, ContentStore, FetchOptions, GetOptions, PutOptions } from "./types";
import { openVerified, readVerified, type RawBlockSource } from "./verified-read";

/** Default fetch timeout (ms) when the config gives none. */
export const DEFAULT_FETCH_TIMEOUT_MS = 30_000;
/** Default listen address: loopback only, OS-chosen port. */
export const DEFAULT_LISTEN = ["/ip4/127.0.0.1/tcp/0"];

/** Configuration of the embedded node. */
export interface EmbeddedStoreConfig {
  kind: "embedded";
  /** Directory of the persistent repo (created if missing): `blocks/` and `datastore/` (peer key). */
  repoPath: string;
  /** libp2p listen multiaddrs. Default `/ip4/127.0.0.1/tcp/0` (loopback). Use `/ip4/0.0.0.0/tcp/4001` to serve others. */
  listen?: string[];
  /** Addresses to announce instead of the listen addresses (e.g. a public IP behind NAT). */
  announce?: string[];
  /** Peers (multiaddrs with /p2p/<id>) to dial at start, e.g. from the on-chain registry. */
  peers?: string[];
  /** Default fetch timeout in ms (no-progress timeout). Default 30000. */
  fetchTimeoutMs?: number;
}

type HeliaNode = Helia & { libp2p: Libp2p };

async function concatBlock(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const part of chunks) {
    parts.push(part);
    length += part.byteLength;
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** {@link ContentStore} over an embedded Helia node. Create with {@link openHeliaStore}. */
export class HeliaContentStore implements ContentStore {
  readonly kind = "embedded" as const;
  private closed = false;
  private readonly source: RawBlockSource;

  constructor(
    /** The running Helia node (exposed for diagnostics and advanced use). */
    readonly helia: HeliaNode,
    readonly fetchTimeoutMs: number,
    private readonly modules: HeliaModules,
    private readonly onClose: () => Promise<void>,
  ) {
    this.source = {
      getBlock: async (cid, signal) => concatBlock(await helia.blockstore.get(cid, { signal })),
    };
  }

  /** The node's libp2p peer id (stable across restarts of the same repo). */
  get peerId(): string {
    return this.helia.libp2p.peerId.toString();
  }

  async put(content: ContentInput, options: PutOptions = {}): Promise<string> {
    const fs = this.modules.unixfs(this.helia);
    const opts = { ...kuboCompatibleImportOptions(), signal: options.signal };
    const cid =
      content instanceof Uint8Array
        ? await fs.addBytes(content, opts)
        : await fs.addByteStream(content, opts);
    if (options.pin === true) await this.pinLocal(cid, options.signal);
    return cid.toString();
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
    const cid = rawBlockCid(bytes);
    await this.helia.blockstore.put(cid, bytes, { signal: options.signal });
    if (options.pin === true) await this.pinLocal(cid, options.signal);
    return cid.toString();
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

  async has(cid: string): Promise<boolean> {
    return this.helia.blockstore.has(parseCid(cid));
  }

  async pin(cid: string, options: FetchOptions = {}): Promise<void> {
    // Fetch (and verify) every block first under the progress timeout, then pin from local blocks.
    for await (const _chunk of this.getStream(cid, options)) {
      // draining is the point: every block is now local and verified
    }
    await this.pinLocal(parseCid(cid), options.signal);
  }

  private async pinLocal(cid: CID, signal?: AbortSignal): Promise<void> {
    if (await this.helia.pins.isPinned(cid, { signal })) return;
    for await (const _pinned of this.helia.pins.add(cid, { signal })) {
      // consume the generator: each yielded CID is one pinned block
    }
  }

  async addresses(): Promise<string[]> {
    return this.helia.libp2p.getMultiaddrs().map((ma) => ma.toString());
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
          ma = this.modules.multiaddr(address);
        } catch (err) {
          throw new StorageConfigError(
            `peer address "${address}" is not a multiaddr: ${(err as Error).message}`,
          );
        }
        try {
          await this.helia.libp2p.dial(ma, { signal });
        } catch (err) {
          throw new StorageError(
            "DIAL_FAILED",
            `could not connect to peer ${address}: ${(err as Error).message}. Check that it is running and reachable.`,
            { cause: err },
          );
        }
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.onClose();
  }
}

interface HeliaModules {
  unixfs: typeof import("@helia/unixfs").unixfs;
  multiaddr: typeof import("@multiformats/multiaddr").multiaddr;
}

/**
 * Starts an embedded IPFS node with a persistent repo at `config.repoPath` and returns it as a
 * {@link ContentStore}. Listens on loopback by default; dials `config.peers` if given.
 */
export async function openHeliaStore(config: EmbeddedStoreConfig): Promise<HeliaContentStore> {
  if (typeof config.repoPath !== "string" || config.repoPath.length === 0) {
    throw new StorageConfigError("embedded storage needs repoPath (a directory for the IPFS repo); set it.");
  }
  const fetchTimeoutMs = config.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  if (!(fetchTimeoutMs > 0))
    throw new StorageConfigError(`fetchTimeoutMs must be > 0, got ${fetchTimeoutMs}.`);

  const [
    { createHeliaLight },
    { withLibp2pLight },
    { withBitswap },
    { tcp },
    { noise },
    { yamux },
    { identify },
    { FsBlockstore },
    { FsDatastore },
    { unixfs },
    { multiaddr },
  ] = await Promise.all([
    import("helia"),
    import("@helia/libp2p"),
    import("@helia/bitswap"),
    import("@libp2p/tcp"),
    import("@chainsafe/libp2p-noise"),
    import("@chainsafe/libp2p-yamux"),
    import("@libp2p/identify"),
    import("blockstore-fs"),
    import("datastore-fs"),
    import("@helia/unixfs"),
    import("@multiformats/multiaddr"),
  ]);

  const repo = path.resolve(config.repoPath);
  await mkdir(repo, { recursive: true });
  const blockstore = new FsBlockstore(path.join(repo, "blocks"));
  const datastore = new FsDatastore(path.join(repo, "datastore"));
  await blockstore.open();
  await datastore.open();

  const light = createHeliaLight({ blockstore, datastore });
  const withNet = withLibp2pLight(light, {
    addresses: { listen: config.listen ?? DEFAULT_LISTEN, announce: config.announce },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  });
  const helia: HeliaNode = withBitswap(withNet);
  try {
    await helia.start();
  } catch (err) {
    await blockstore.close().catch(() => undefined);
    await datastore.close().catch(() => undefined);
    throw new StorageError(
      "NODE_START_FAILED",
      `embedded IPFS node could not start (repo ${repo}, listen ${(config.listen ?? DEFAULT_LISTEN).join(", ")}): ${(err as Error).message}`,
      { cause: err },
    );
  }

  const store = new HeliaContentStore(helia, fetchTimeoutMs, { unixfs, multiaddr }, async () => {
    await helia.stop();
    await blockstore.close();
    await datastore.close();
  });
  if (config.peers != null && config.peers.length > 0) {
    try {
      await store.dial(config.peers);
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}
