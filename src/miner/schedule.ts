/**
 * The scheduler's policy (agent.ts runs it): duty priorities, the backoff of failed duties, and the
 * deferral of rewards claims and withdrawals to quiet moments.
 */
import type { RetryPolicy } from "../config/types";
import { dutyId, type Duty } from "./duties";

const PRIORITY: Record<Duty["kind"], number> = {
  wrap: 0,
  attest: 1,
  "reveal-vote": 1,
  "commit-vote": 1,
  header: 2,
  contest: 2,
  void: 2,
  declare: 3,
  "request-jury": 4,
  "draw-jury": 4,
  "redraw-jury": 4,
  // a faulty declaration left unslashed blocks its declarer's stage + 2: slashing is protocol work
  slash: 5,
  claim: 7,
  "slash-juror": 7,
  release: 7,
  withdraw: 8,
  drop: 9,
  train: 10,
};
export const priorityOf = (d: Duty): number => PRIORITY[d.kind];
/** Duties at or above this priority are bookkeeping: they never delay a protocol duty by more than one tx. */
export const BOOKKEEPING_PRIORITY = PRIORITY.claim;
/** Training order: stage-open work before jury work before speculation. */
export const TRAIN_ORDER = { "stage-open": 0, jury: 1, pipeline: 2 } as const;
/** Default quiet time before rewards claims and withdrawals run (MinerOptions.bookkeepingQuietMs). */
export const DEFAULT_BOOKKEEPING_QUIET_MS = 1_500;
/** A rewards claim or withdrawal never waits longer than this, however busy the miner is. */
const BOOKKEEPING_MAX_DEFER_MS = 15_000;
/** Bookkeeping that may wait for a quiet moment: claims and withdrawals (what is owed does not shrink). */
const deferrable = (d: Duty): boolean => d.kind === "withdraw" || d.kind === "claim";

/** Duties held back: after a failure (exponential backoff) or on the duty's own request (a pause). */
export class Cooldowns {
  private readonly byId = new Map<string, { until: number; failures: number }>();

  constructor(private readonly retry: RetryPolicy) {}

  /** Whether the duty may run now. */
  ready(d: Duty, now = Date.now()): boolean {
    const cd = this.byId.get(dutyId(d));
    return cd === undefined || cd.until <= now;
  }

  /** The duty succeeded: a pause (ms) it asked for, or none (any backoff ends). */
  succeeded(id: string, pauseMs: number | void): void {
    if (typeof pauseMs === "number") this.byId.set(id, { until: Date.now() + pauseMs, failures: 0 });
    else this.byId.delete(id);
  }

  /** The duty failed: backs it off (base delay doubled per failure, capped) and returns the delay and count. */
  failed(id: string): { delay: number; failures: number } {
    const failures = (this.byId.get(id)?.failures ?? 0) + 1;
    const delay = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** Math.min(failures - 1, 20));
    this.byId.set(id, { until: Date.now() + delay, failures });
    return { delay, failures };
  }

  /** Forgets run-out backoffs of duties no longer proposed (moot duties would pile up otherwise). */
  prune(proposed: readonly Duty[]): void {
    const ids = new Set(proposed.map(dutyId));
    const now = Date.now();
    for (const [id, cd] of this.byId) if (cd.until <= now && !ids.has(id)) this.byId.delete(id);
  }
}

/**
 * Rewards claims and withdrawals wait until no protocol transaction was due for `quietMs`, so that during
 * a pipelined job this account's one-at-a-time queue goes to declarations, headers and attestations; each
 * runs in a gap, or once it has waited BOOKKEEPING_MAX_DEFER_MS however busy the miner is (so a backlog
 * drains under constant load). Shares do not shrink while they wait.
 */
export class BookkeepingGate {
  private lastProtocolDutyAt = 0;
  /** When each deferred bookkeeping duty (by dutyId) was first proposed. */
  private deferredSince = new Map<string, number>();

  constructor(private readonly quietMs: number) {}

  /** Given this tick's transactions, the filter: true for a duty that may run now. */
  filter(txs: readonly Duty[]): (d: Duty) => boolean {
    const now = Date.now();
    if (txs.some((d) => d.kind !== "drop" && priorityOf(d) < BOOKKEEPING_PRIORITY))
      this.lastProtocolDutyAt = now;
    const quiet = now - this.lastProtocolDutyAt >= this.quietMs;
    const waiting = new Map<string, number>();
    for (const d of txs.filter(deferrable)) {
      const id = dutyId(d);
      waiting.set(id, this.deferredSince.get(id) ?? now);
    }
    this.deferredSince = waiting; // forget duties no longer proposed (done or moot)
    return (d) =>
      !deferrable(d) || quiet || now - (waiting.get(dutyId(d)) ?? now) >= BOOKKEEPING_MAX_DEFER_MS;
  }
}
