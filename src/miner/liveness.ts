/**
 * One miner per data directory, and whether the miner of a data directory is alive.
 *
 * `miner.lock` holds the pid of the miner using the directory; it is created exclusively at start and
 * removed at a clean stop. A lock left by a dead process (kill -9, power cut) is taken over with a warning;
 * a live one refuses the start. `pot miner status` combines the lock's pid with the status file's heartbeat
 * (`at`, rewritten at least every 5 s) into a docker-ps-like state: up, unresponsive or exited.
 */
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { MinerLockedError } from "./errors";

export { MinerLockedError };

/** Where the lock of a data directory lives. */
export function minerLockPath(dataDir: string): string {
  return join(dataDir, "miner.lock");
}

/** A heartbeat older than this (ms) means the miner is not responding (it writes one every 5 s). */
export const HEARTBEAT_STALE_MS = 20_000;

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid recorded in the lock, or undefined when there is no (readable) lock. */
export function readLockPid(dataDir: string): number | undefined {
  try {
    const pid = (JSON.parse(readFileSync(minerLockPath(dataDir), "utf8")) as { pid?: unknown }).pid;
    return typeof pid === "number" ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A held lock. `release()` removes the file (idempotent; also runs at process exit). */
export interface MinerLock {
  readonly path: string;
  /** The pid of the dead process whose lock was taken over, if any. */
  readonly tookOverFrom?: number;
  release(): void;
}

/**
 * Takes the data directory's lock for this process. Throws `MinerLockedError` when a live process holds it;
 * takes over (and reports in `tookOverFrom`) a lock whose pid is dead or unreadable.
 */
export function acquireMinerLock(dataDir: string, pid = process.pid): MinerLock {
  mkdirSync(dataDir, { recursive: true });
  const path = minerLockPath(dataDir);
  let tookOverFrom: number | undefined;
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
      const holder = readLockPid(dataDir);
      if (holder !== undefined && holder !== pid && pidAlive(holder))
        throw new MinerLockedError(dataDir, holder);
      tookOverFrom = holder ?? -1;
      rmSync(path, { force: true });
      continue;
    }
    writeSync(fd, JSON.stringify({ pid, startedAt: new Date().toISOString() }));
    closeSync(fd);
    break;
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener("exit", release);
    if (readLockPid(dataDir) === pid) rmSync(path, { force: true });
  };
  process.on("exit", release);
  return { path, tookOverFrom, release };
}

/** The state of a data directory's miner, like `docker ps` shows a container's. */
export interface MinerLiveness {
  readonly state: "up" | "unresponsive" | "exited";
  readonly running: boolean;
  /** The pid of the miner (from the lock, else the status file). */
  readonly pid?: number;
  /** Seconds since the last heartbeat (the status file's `at`). */
  readonly heartbeatAgeSeconds?: number;
  /** "Up 3 minutes", "Exited 12 seconds ago (killed: its lock was left behind)", ... */
  readonly summary: string;
}

/** A duration for humans: "12 seconds", "3 minutes", "2 hours", "4 days". */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const unit = (n: number, name: string) => `${n} ${name}${n === 1 ? "" : "s"}`;
  if (s < 60) return unit(s, "second");
  if (s < 3600) return unit(Math.floor(s / 60), "minute");
  if (s < 86_400) return unit(Math.floor(s / 3600), "hour");
  return unit(Math.floor(s / 86_400), "day");
}

/**
 * Combines the lock and the status file (`status`: its parsed JSON, with `at`, `startedAt`, `pid`,
 * `running`) into up / unresponsive / exited.
 */
export function minerLiveness(
  dataDir: string,
  status: { at?: unknown; startedAt?: unknown; pid?: unknown; running?: unknown },
  now = Date.now(),
): MinerLiveness {
  const lockPid = readLockPid(dataDir);
  const statusPid = typeof status.pid === "number" ? status.pid : undefined;
  const pid = lockPid ?? statusPid;
  const at = typeof status.at === "string" ? Date.parse(status.at) : NaN;
  const age = Number.isNaN(at) ? undefined : Math.max(0, now - at);
  const startedAt = typeof status.startedAt === "string" ? Date.parse(status.startedAt) : NaN;
  const heartbeatAgeSeconds = age === undefined ? undefined : Math.round(age / 1000);
  const alive = lockPid !== undefined && pidAlive(lockPid);
  if (alive && age !== undefined && age <= HEARTBEAT_STALE_MS) {
    const up = Number.isNaN(startedAt) ? "" : ` ${humanDuration(now - startedAt)}`;
    return { state: "up", running: true, pid, heartbeatAgeSeconds, summary: `Up${up} (pid ${pid})` };
  }
  if (alive) {
    const last = age === undefined ? "no heartbeat yet" : `last heartbeat ${humanDuration(age)} ago`;
    return {
      state: "unresponsive",
      running: true,
      pid,
      heartbeatAgeSeconds,
      summary: `Unresponsive (pid ${pid} is alive; ${last})`,
    };
  }
  const ago = age === undefined ? "" : ` ${humanDuration(age)} ago`;
  const how =
    lockPid !== undefined
      ? " (killed or crashed: it left its lock behind)"
      : status.running === false
        ? " (stopped cleanly)"
        : "";
  return { state: "exited", running: false, pid, heartbeatAgeSeconds, summary: `Exited${ago}${how}` };
}
