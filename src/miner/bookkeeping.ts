/**
 * The miner's records and how they stay bounded: the chain view folded from events, the persisted state
 * (results, declaration and vote secrets, once-only duties done), and the pruning of both. A stage is
 * forgotten once it needs nothing more from anyone (`pruneView`: wrapped, faults settled,
 * RETAINED_WRAPPED_STAGES below its job's newest wrapped stage), an ended job once nothing of it is left
 * to do for `ENDED_JOB_RETENTION_BLOCKS` (`pruneJob`); their records leave the state file with them
 * (`pruneState`), and their training-state bytes leave `states/` unless another result uses them. What is
 * left per job is its `claim` done key. No chain access: the agent feeds events and asks for pruning.
 */
import type { Address, Hex } from "viem";
import type { LedgerEvent } from "../chain/pot-contracts";
import { doneKeyStage, stageKey, voteKey, type DoneKey } from "./duties/keys";
import type { Logger } from "./log";
import type { MinerState, MinerStore } from "./state";
import { applyEvent, pruneJob, pruneView, type ChainView } from "./view";

/** An ended job's stages stay in the view and the state this many blocks after it ended with nothing to do. */
export const ENDED_JOB_RETENTION_BLOCKS = 64n;

/**
 * Forgets the persisted records of pruned stages: those below the view's per-job watermark and those
 * named in `prunedKeys` (`stageKey`s): declarations, votes, done keys (all but `claim:<job>` name their
 * stage) and results. Returns the hashes of the results it removed (the caller drops unused bytes).
 */
export function pruneState(state: MinerState, view: ChainView, prunedKeys: Iterable<string> = []): Hex[] {
  const named = new Set(prunedKeys);
  const gone = (jobId: string, stage: number) =>
    stage < (view.prunedBelow.get(jobId) ?? 0) || named.has(stageKey(jobId, stage));
  for (const [key, d] of Object.entries(state.declarations))
    if (gone(d.jobId, d.stage)) delete state.declarations[key];
  for (const [key, v] of Object.entries(state.votes)) if (gone(v.jobId, v.stage)) delete state.votes[key];
  for (const key of Object.keys(state.done)) {
    const at = doneKeyStage(key);
    if (at !== undefined && gone(at.jobId, at.stage)) delete state.done[key];
  }
  const dropped: Hex[] = [];
  for (const [key, r] of Object.entries(state.results))
    if (gone(r.jobId, r.stage)) {
      delete state.results[key];
      dropped.push(r.outcome.stateHash);
    }
  return dropped;
}

export class MinerBook {
  readonly view: ChainView;

  constructor(
    readonly state: MinerState,
    readonly store: MinerStore,
    view: ChainView,
    private readonly me: Address,
    private readonly log: Logger,
  ) {
    this.view = view;
  }

  /** Persists the state (awaited before any transaction that depends on it). */
  save(): Promise<void> {
    return this.store.save(this.state);
  }

  /**
   * Saves the state without waiting (for bookkeeping that no transaction depends on, such as marking an
   * own declaration confirmed); a failed write is logged and the next save writes the state again.
   */
  saveInBackground(): void {
    this.save().catch((error: unknown) =>
      this.log.error("state not saved", { error: (error as Error).message }),
    );
  }

  /** Records a once-only duty as done (its tx hash, or `reverted:<error>` when it became moot). */
  async markDone(key: DoneKey, value: string): Promise<void> {
    this.state.done[key] = value;
    await this.save();
  }

  /** Folds a confirmed event into the view, and marks our own declarations and votes it shows confirmed. */
  onEvent(e: LedgerEvent): void {
    applyEvent(this.view, e);
    const me = this.me.toLowerCase();
    if (e.kind === "Declared" && e.declarer.toLowerCase() === me) {
      const rec = this.state.declarations[stageKey(e.jobId, e.stage)];
      if (rec !== undefined && rec.status !== "confirmed") {
        rec.status = "confirmed";
        this.saveInBackground();
      }
    }
    if ((e.kind === "JuryCommitted" || e.kind === "JuryVoted") && e.juror.toLowerCase() === me) {
      const rec = this.state.votes[voteKey(e.jobId, e.stage, e.round)];
      const field = e.kind === "JuryCommitted" ? "commitStatus" : "status";
      if (rec !== undefined && rec[field] !== "confirmed") {
        rec[field] = "confirmed";
        this.saveInBackground();
      }
    }
  }

  /**
   * Prunes the view's finished stages, and the ended jobs in `quietJobs` (no duty left) that ended at least
   * ENDED_JOB_RETENTION_BLOCKS before `head`, then their records from the state and their unused bytes.
   * Saves (in the background) only when something was removed. Returns how many stages were pruned.
   */
  prune(head: bigint, quietJobs: Iterable<string> = []): number {
    const pruned: string[] = [];
    pruneView(this.view, undefined, pruned);
    for (const id of quietJobs) {
      const job = this.view.jobs.get(id);
      if (job === undefined || job.status === "open" || job.jobId === 0n) continue;
      if (job.endedBlock === undefined || head < job.endedBlock + ENDED_JOB_RETENTION_BLOCKS) continue;
      if (this.view.prunedBelow.get(id) === Number.MAX_SAFE_INTEGER) continue;
      pruneJob(this.view, id, pruned);
    }
    if (pruned.length === 0) return 0;
    const sizes = recordCount(this.state);
    const dropped = pruneState(this.state, this.view, pruned);
    const used = new Set(Object.values(this.state.results).map((r) => r.outcome.stateHash.toLowerCase()));
    for (const hash of dropped) if (!used.has(hash.toLowerCase())) this.store.dropState(hash);
    if (recordCount(this.state) !== sizes) this.saveInBackground();
    return pruned.length;
  }
}

const recordCount = (s: MinerState): number =>
  Object.keys(s.results).length +
  Object.keys(s.declarations).length +
  Object.keys(s.votes).length +
  Object.keys(s.done).length;
