/** Facts about a stage that several duties ask: open or closed, declarations opening, results held. Pure. */
import type { Hex } from "viem";
import { commitmentHash } from "../../protocol/messages";
import type { MinerState, ResultRecord } from "../state";
import { isDisputed, type DeclarationView, type Pair, type StageView } from "../view";
import { resultKey } from "./keys";
import { lower, same } from "./types";

/**
 * Whether the stage's declarations are closed at block `blockNumber` with timestamp `now`
 * (PoTStages._closed). Transactions are simulated at the latest block and land in a later one, so a duty
 * that needs the stage closed asks about the latest block, and a declaration, which needs it open, about
 * the next one.
 */
export function declarationsClosed(st: StageView, blockNumber: bigint, now: bigint): boolean {
  if (st.closeBlock !== undefined && blockNumber >= st.closeBlock && now >= (st.notBefore ?? 0n)) return true;
  return isDisputed(st) && st.deadline !== undefined && now >= st.deadline;
}

/** Whether the stage still accepts declarations in the next block: opened, in its open phase, not closed. */
export function acceptsDeclarations(st: StageView, blockNumber: bigint, now: bigint): boolean {
  if (st.parentHash === undefined || st.seed === undefined) return false;
  if (st.header !== undefined || st.wrappedBlock !== undefined) return false;
  if (st.juryReason !== undefined || st.decided !== undefined || st.voided !== undefined) return false;
  return !declarationsClosed(st, blockNumber + 1n, now);
}

/** Memo of the commitment check (declarations are immutable; a stage's final rho is fixed). */
const opensMemo = new WeakMap<DeclarationView, { key: string; opens: boolean }>();

/**
 * Whether a declaration opens against a (result, rho) pair, as the contracts decide it: it names the result
 * and its commitment opens against rho.
 */
export function opensAgainst(
  domain: Hex,
  jobId: bigint,
  stage: number,
  pair: Pair,
  d: DeclarationView,
): boolean {
  if (!same(d.resultHash, pair.result)) return false;
  const key = `${lower(domain)}:${lower(pair.rho)}`;
  const memo = opensMemo.get(d);
  if (memo !== undefined && memo.key === key) return memo.opens;
  const opens = same(
    commitmentHash({ domain, rho: pair.rho, rand: d.rand, declarer: d.declarer, jobId, stage }),
    d.commitment,
  );
  opensMemo.set(d, { key, opens });
  return opens;
}

/** Whether `declarer`'s declaration of the stage is still bonded (not slashed, released or settled). */
export function unsettled(st: StageView, declarer: string): boolean {
  return (st.settled.get(lower(declarer)) ?? 0) < 3;
}

/** The result this miner holds for (job, stage) trained from `parentHash`. */
export function heldResult(
  state: MinerState,
  jobId: bigint,
  stage: number,
  parentHash: Hex,
): ResultRecord | undefined {
  return state.results[resultKey(jobId, stage, parentHash)];
}
