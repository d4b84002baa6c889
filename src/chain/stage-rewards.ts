/**
 * What the escrow credited for each wrapped stage, recomputed from the job's events (job-events.ts)
 * exactly as PoTEscrow.payStage credits it, and summed per account and role.
 */
import type { Address } from "viem";
import type { HeaderEvent, JobEvents, StageEvents } from "./job-events";
import type { StageOutcome } from "../protocol/outcome";

/** A reward the escrow credited for one stage (REWARD_ROLES). */
export interface StageReward {
  readonly account: Address;
  readonly role: RewardRole;
  readonly amount: bigint;
}
export const REWARD_ROLES = ["builder", "declarant", "attester"] as const;
export type RewardRole = (typeof REWARD_ROLES)[number];
/** The header a stage's wrapped block finalized (undefined if the stage is not wrapped). */
export function wrappedHeader(stage: StageEvents): HeaderEvent | undefined {
  if (stage.wrapped === undefined) return undefined;
  const hash = stage.wrapped.headerHash.toLowerCase();
  return stage.headers.find((h) => h.headerHash.toLowerCase() === hash);
}

/**
 * What the wrapped header's result opens to (OutcomeRevealed): H(S_stage), the checkpoint root and the
 * held-out metric. Undefined if the stage is not wrapped (or its outcome event was not read).
 */
export function wrappedOutcome(stage: StageEvents): StageOutcome | undefined {
  const header = wrappedHeader(stage);
  const revealed = stage.outcome;
  if (header === undefined || revealed === undefined) return undefined;
  return revealed.resultHash.toLowerCase() === header.header.result.toLowerCase()
    ? revealed.outcome
    : undefined;
}

/**
 * What the escrow credited for a wrapped stage, per account and role, recomputed from StagePaid and the
 * wrapped header exactly as PoTEscrow.payStage credits it: the builder's part plus the rounding dust, one
 * part per committee seat, and the declaration pool over the openers in proportion to their weights.
 */
export function stageRewards(stage: StageEvents): StageReward[] {
  const paid = stage.paid;
  const header = wrappedHeader(stage);
  if (paid === undefined || header === undefined) return [];
  const out: StageReward[] = [];
  const add = (account: Address, role: RewardRole, amount: bigint) => {
    if (amount === 0n) return;
    const row = out.find((r) => r.role === role && r.account.toLowerCase() === account.toLowerCase());
    if (row === undefined) out.push({ account, role, amount });
    else out[out.indexOf(row)] = { ...row, amount: row.amount + amount };
  };
  add(header.builder, "builder", paid.builderPart + paid.dust);
  const total = header.weights.reduce((a, b) => a + b, 0n);
  header.openers.forEach((opener, i) => {
    const share =
      total === 0n
        ? paid.declarationPool / BigInt(header.openers.length)
        : (paid.declarationPool * header.weights[i]) / total;
    add(opener, "declarant", share);
  });
  const seats = stage.seats ?? [
    ...(stage.wrapped?.attesters ?? []),
    ...(stage.wrapped ? [stage.wrapped.wrapper] : []),
  ];
  for (const seat of seats) add(seat, "attester", paid.perSeat);
  return out;
}

/** Credited rewards of some jobs summed per account and role, largest first. */
export function rewardTotals(jobs: readonly JobEvents[]): StageReward[] {
  const sums = new Map<string, StageReward>();
  for (const events of jobs)
    for (const s of events.stages)
      for (const r of stageRewards(s)) {
        const key = `${r.account.toLowerCase()}:${r.role}`;
        const row = sums.get(key);
        sums.set(key, { ...r, amount: (row?.amount ?? 0n) + r.amount });
      }
  return [...sums.values()].sort((a, b) => (a.amount === b.amount ? 0 : a.amount > b.amount ? -1 : 1));
}
