/** The content store of a `pot` configuration: the embedded node under the data directory, or Kubo. */
import { join } from "node:path";
import type { PotConfig } from "../config/types";
import type { StorageConfig } from "../storage";

/**
 * Storage configuration from a PotConfig (embedded repo at `<dataDir>/ipfs` unless `repoPath` is given;
 * listening on `listen`, else on the configured POT_IPFS_LISTEN, else on a random loopback port; announcing
 * POT_IPFS_ANNOUNCE when set).
 */
export function storageConfigOf(
  config: Pick<PotConfig, "ipfs" | "dataDir">,
  overrides: { repoPath?: string; listen?: string[]; peers?: string[]; fetchTimeoutMs?: number } = {},
): StorageConfig {
  if (config.ipfs.mode === "kubo")
    return { kind: "kubo", url: config.ipfs.url, fetchTimeoutMs: overrides.fetchTimeoutMs };
  return {
    kind: "embedded",
    repoPath: overrides.repoPath ?? join(config.dataDir, "ipfs"),
    listen: overrides.listen ?? (config.ipfs.listen && [...config.ipfs.listen]),
    announce: config.ipfs.announce && [...config.ipfs.announce],
    peers: overrides.peers,
    fetchTimeoutMs: overrides.fetchTimeoutMs,
  };
}

/** Where the verified cache of small documents lives: `<dataDir>/cache/objects` (see src/storage/object-cache.ts). */
export function objectCacheDirOf(config: Pick<PotConfig, "dataDir">): string {
  return join(config.dataDir, "cache", "objects");
}
