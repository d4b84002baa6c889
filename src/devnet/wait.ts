/** Waiting with a timeout; on timeout the error carries the tails of the logs that explain why. */
import { PotError } from "../errors";
import type { ManagedProcess } from "./process";

/** A wait timed out. `message` names what was awaited and ends with the relevant log tails. */
export class DevnetTimeoutError extends PotError {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly logs: string,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}${logs === "" ? "" : `\n${logs}`}`, {
      hint: "The log tails above say why; the full logs are in the devnet folder",
    });
  }
}

/** The last `lines` lines of each process, under a header naming it and its log file. */
export function formatTails(processes: readonly ManagedProcess[], lines = 15): string {
  return processes
    .map((p) => {
      const status = p.running ? "running" : `exited ${JSON.stringify(p.exitStatus)}`;
      return `--- ${p.name} (${status}; full log ${p.logFile}) ---\n${p
        .tail(lines)
        .map((l) => `  ${l}`)
        .join("\n")}`;
    })
    .join("\n");
}

/** Options of `waitFor`. */
export interface WaitOptions {
  readonly timeoutMs: number;
  /** Poll interval (default 250 ms). */
  readonly everyMs?: number;
  /** Processes whose log tails go into the timeout error. */
  readonly logs?: readonly ManagedProcess[];
  /** Fail at once if one of these processes exits. */
  readonly mustStayUp?: readonly ManagedProcess[];
  /** Aborts the wait (e.g. Ctrl-C). */
  readonly signal?: AbortSignal;
}

/**
 * Polls `fn` until it returns a truthy value (returned) or the timeout passes (`DevnetTimeoutError` with the
 * log tails). Errors thrown by `fn` are retried until the timeout, and the last one is reported.
 */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  o: WaitOptions,
): Promise<T> {
  const end = Date.now() + o.timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (o.signal?.aborted) throw new Error(`stopped while waiting for ${what}`);
    const dead = o.mustStayUp?.find((p) => !p.running);
    if (dead !== undefined) {
      throw new Error(
        `${dead.name} exited (${JSON.stringify(dead.exitStatus)}) while waiting for ${what}\n${formatTails([dead], 30)}`,
      );
    }
    try {
      const v = await fn();
      if (v) return v;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > end) {
      const last = lastError === undefined ? "" : ` (last error: ${(lastError as Error).message})`;
      throw new DevnetTimeoutError(what + last, o.timeoutMs, formatTails(o.logs ?? []));
    }
    await new Promise((r) => setTimeout(r, o.everyMs ?? 250));
  }
}
