/**
 * Content-addressed storage: one {@link ContentStore} interface over an embedded IPFS node (default) or
 * a Kubo daemon's RPC API, plus dataset publishing/fetching with a Merkle-committed manifest.
 */
import { StorageConfigError } from "./errors";
import { openHeliaStore, type EmbeddedStoreConfig } from "./helia-store";
import { openKuboStore, type KuboStoreConfig } from "./kubo-store";
import type { ContentStore } from "./types";

export * from "./types";
export * from "./errors";
export {
  computeCid,
  canonicalCid,
  parseCid,
  sameCid,
  cidToBytesHex,
  cidFromBytesHex,
  cidOfStateHash,
  kuboCompatibleImportOptions,
  KUBO_CHUNK_SIZE,
} from "./cid";
export {
  openHeliaStore,
  HeliaContentStore,
  DEFAULT_FETCH_TIMEOUT_MS,
  DEFAULT_LISTEN,
  type EmbeddedStoreConfig,
} from "./helia-store";
export { openKuboStore, KuboContentStore, type KuboStoreConfig } from "./kubo-store";
export { ObjectCache, DEFAULT_OBJECT_CACHE_MAX_BYTES, type ObjectCacheOptions } from "./object-cache";
export { CachedContentStore } from "./cached-store";
export * from "./dataset";

/** Storage configuration: the embedded node (default) or a Kubo RPC API. */
export type StorageConfig = EmbeddedStoreConfig | KuboStoreConfig;

/** Opens the configured store. Remember to `close()` it. */
export async function openContentStore(config: StorageConfig): Promise<ContentStore> {
  switch (config.kind) {
    case "embedded":
      return openHeliaStore(config);
    case "kubo":
      return openKuboStore(config);
    default:
      throw new StorageConfigError(
        `unknown storage kind "${(config as { kind?: string }).kind}"; use "embedded" or "kubo".`,
      );
  }
}

function list(value: string | undefined): string[] | undefined {
  const items = value
    ?.split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return items != null && items.length > 0 ? items : undefined;
}

/**
 * Reads a storage config from environment variables:
 * - `POT_IPFS_API`: Kubo RPC URL (e.g. http://127.0.0.1:5001); if set, Kubo is used, else the embedded node.
 * - `POT_IPFS_REPO`: embedded repo directory (default `defaultRepoPath`).
 * - `POT_IPFS_LISTEN`: comma-separated listen multiaddrs (default /ip4/127.0.0.1/tcp/0).
 * - `POT_IPFS_ANNOUNCE`: comma-separated announce multiaddrs.
 * - `POT_IPFS_PEERS`: comma-separated peer multiaddrs to dial at start.
 * - `POT_IPFS_TIMEOUT_MS`: fetch (no-progress) timeout in ms (default 30000).
 */
export function storageConfigFromEnv(
  env: Record<string, string | undefined>,
  defaultRepoPath = ".pot/ipfs",
): StorageConfig {
  const timeout = env.POT_IPFS_TIMEOUT_MS;
  const fetchTimeoutMs = timeout != null && timeout !== "" ? Number(timeout) : undefined;
  if (fetchTimeoutMs != null && !(Number.isFinite(fetchTimeoutMs) && fetchTimeoutMs > 0)) {
    throw new StorageConfigError(`POT_IPFS_TIMEOUT_MS must be a positive number of ms, got "${timeout}".`);
  }
  if (env.POT_IPFS_API != null && env.POT_IPFS_API !== "") {
    return { kind: "kubo", url: env.POT_IPFS_API, fetchTimeoutMs };
  }
  return {
    kind: "embedded",
    repoPath: env.POT_IPFS_REPO || defaultRepoPath,
    listen: list(env.POT_IPFS_LISTEN),
    announce: list(env.POT_IPFS_ANNOUNCE),
    peers: list(env.POT_IPFS_PEERS),
    fetchTimeoutMs,
  };
}
