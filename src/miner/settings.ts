/**
 * The miner's defaults and file names that the `pot` command needs before (or without) loading the agent:
 * this module imports nothing heavy, so `pot miner --help` and `pot miner status` start fast.
 */
import { join } from "node:path";

/**
 * Default pipelining depth: enough to keep training while the chain finalizes a stage in up to three
 * stages' training time (docs/bench/pipeline.md), at the cost of as many speculative states on disk.
 */
export const DEFAULT_SPECULATION_DEPTH = 3;

/** Where a running miner writes its status each tick (read by `pot miner status`). */
export function minerStatusPath(dataDir: string): string {
  return join(dataDir, "miner-status.json");
}
