/**
 * The miner's status file (`miner-status.json`, read by `pot miner status`): the last `status()` plus
 * pid, start time and a heartbeat `at`. Rewritten when the status changed (other than its head block) and
 * at least every STATUS_HEARTBEAT_MS. Atomic (never torn) but not fsynced: a tick comes every polling
 * interval, and rewriting the file each time cost the miner's thread ~1% of its time in rename alone.
 */
import { minerStatusPath } from "./settings";
import { writeFileAtomic } from "./state";

/** The status file is rewritten at least this often, even when nothing changed (ms). */
export const STATUS_HEARTBEAT_MS = 5_000;

export class StatusFile {
  /** The last status written (without its head block), and when. */
  private last = { body: "", at: 0 };
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly dataDir: string) {}

  /** Writes `status` if it changed or the heartbeat is due (always with `force`); best effort. */
  write<S extends { readonly block: string }>(status: S, force = false): void {
    // The head block alone changing (every block) does not force a write; the heartbeat carries it.
    const body = JSON.stringify({ ...status, block: undefined });
    const now = Date.now();
    if (!force && body === this.last.body && now - this.last.at < STATUS_HEARTBEAT_MS) return;
    this.last = { body, at: now };
    try {
      writeFileAtomic(
        minerStatusPath(this.dataDir),
        JSON.stringify(
          { ...status, pid: process.pid, startedAt: this.startedAt, at: new Date(now).toISOString() },
          null,
          1,
        ),
        { durable: false },
      );
    } catch {
      /* status is best effort */
    }
  }
}
