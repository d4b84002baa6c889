/**
 * Every key the miner builds, in one place: the state's record keys (results, declarations, votes), the
 * view's stage and claim keys, the once-only `state.done` keys and the duty ids. Nothing else in the miner
 * joins key parts by hand.
 */
import type { Address, Hex } from "viem";
import type { Duty } from "./types";

const lower = (a: string) => a.toLowerCase();

/** A stage: `${jobId}:${stage}` (the view's stages, the state's declarations). */
export const stageKey = (jobId: bigint | string, stage: number): string => `${jobId}:${stage}`;
/** A result held for a stage trained from a parent: `${jobId}:${stage}:${parentHash}`. */
export const resultKey = (jobId: bigint | string, stage: number, parentHash: Hex): string =>
  `${jobId}:${stage}:${lower(parentHash)}`;
/** A jury vote: `${jobId}:${stage}:${round}`. */
export const voteKey = (jobId: bigint | string, stage: number, round: number): string =>
  `${jobId}:${stage}:${round}`;
/** A claim seen on-chain (Claimed): `${jobId}:${account}`. */
export const claimKey = (jobId: bigint | string, account: Address): string => `${jobId}:${lower(account)}`;

/** A key of `state.done`: only `doneKey` builds one. */
export type DoneKey = string & { readonly __doneKey: unique symbol };

const done = (kind: string, jobId: bigint, ...rest: (number | string)[]): DoneKey =>
  [kind, jobId.toString(), ...rest.map(String)].join(":") as DoneKey;

/**
 * The `state.done` keys of the duties done once (each is also the duty's id). Every one but `claim` names
 * its stage third (`doneKeyStage` reads it back for pruning).
 */
export const doneKey = {
  header: (jobId: bigint, stage: number) => done("header", jobId, stage),
  attest: (jobId: bigint, stage: number, round: number) => done("attest", jobId, stage, round),
  wrap: (jobId: bigint, stage: number, round: number) => done("wrap", jobId, stage, round),
  contest: (jobId: bigint, stage: number) => done("contest", jobId, stage),
  slash: (jobId: bigint, stage: number, declarer: Address) => done("slash", jobId, stage, lower(declarer)),
  slashJuror: (jobId: bigint, stage: number, round: number, juror: Address) =>
    done("slashj", jobId, stage, round, lower(juror)),
  release: (jobId: bigint, stage: number) => done("release", jobId, stage),
  void: (jobId: bigint, stage: number, headerHash: Hex) => done("void", jobId, stage, lower(headerHash)),
  claim: (jobId: bigint) => done("claim", jobId),
} as const;

/** The job and stage a done key names (undefined for a per-job key: `claim`). */
export function doneKeyStage(key: string): { jobId: string; stage: number } | undefined {
  const [, jobId, stage] = key.split(":");
  return jobId === undefined || stage === undefined ? undefined : { jobId, stage: Number(stage) };
}

/** Whether the once-only duty `key` was done (sent, or found moot). */
export const isDone = (state: { readonly done: Readonly<Record<string, string>> }, key: DoneKey): boolean =>
  state.done[key] !== undefined;

/** A stable id of a duty, to avoid running it twice concurrently (the done key where the duty has one). */
export function dutyId(d: Duty): string {
  switch (d.kind) {
    case "train":
      return `train:${d.jobId}:${d.stage}:${lower(d.parentHash)}`;
    case "drop":
      return `drop:${d.key}`;
    case "withdraw":
      return "withdraw";
    case "claim":
      return doneKey.claim(d.jobId);
    case "slash":
      return doneKey.slash(d.jobId, d.stage, d.declarer);
    case "slash-juror":
      return doneKey.slashJuror(d.jobId, d.stage, d.round, d.juror);
    case "void":
      return doneKey.void(d.jobId, d.stage, d.headerHash);
    case "attest":
    case "wrap":
    case "draw-jury":
    case "redraw-jury":
    case "commit-vote":
    case "reveal-vote":
      return `${d.kind}:${d.jobId}:${d.stage}:${d.round}`;
    default:
      return `${d.kind}:${d.jobId}:${d.stage}`;
  }
}
