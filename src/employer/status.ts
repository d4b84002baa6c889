/**
 * A job's progress from the chain's events: per stage, who declared, who built the header, which
 * declarations it opened, who attested and wrapped, rewards, the held-out metric each wrapped stage's
 * outcome declares (on-chain, agreed by its declarants), the early-stopping target and whether the job
 * finished early; and, on request, the loss curve evaluated here: each wrapped S is fetched by CID
 * (hash-checked) and evaluated on the job's held-out test set.
 */
import { formatEther, type Address, type Hex } from "viem";
import { describeTarget, type JobTarget } from "../protocol/outcome";
import { FAULT, JURY_REASON } from "../chain/ledger-events";
import type { Batch } from "../ml";
import type { ContentStore, FetchOptions } from "../storage";
import {
  readAncestry,
  readJob,
  readJobLimits,
  readStakerCounts,
  rewardTotals,
  type AncestorJob,
  type LedgerHandle,
  type StageReward,
  type StakerCounts,
} from "./ledger";
import {
  fetchState,
  loadJobRecord,
  stageStatuses,
  stateRef,
  type JobRecord,
  type LossPoint,
  type StageStatus,
} from "./job-data";

export { stageStatuses, type LossPoint, type StageStatus };

/** TensorFlow.js, loaded only to evaluate (`pot job status` without --loss never needs it). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ml = () => require("../ml") as typeof import("../ml");

/** A job's status. */
export interface JobStatus {
  jobId: bigint;
  name: string;
  employer: Address;
  status: string;
  numStages: number;
  wrappedStages: number;
  fee: bigint;
  escrow: bigint;
  deadline: bigint;
  c: number;
  k: number;
  /** Declarations of a stage close no sooner than this after it opened (job term). */
  minDeclareSeconds: number;
  specCid: string;
  stages: StageStatus[];
  /** Stages that went to a jury: why, its rounds, revealed votes and the decision. */
  juries: {
    stage: number;
    reason: string;
    rounds: number;
    votes: number;
    decided?: { resultHash: Hex; rho: Hex };
  }[];
  /** Stakes slashed in the job (faulty declarations, jurors). */
  slashes: { stage: number; staker: Address; fault: string; amount: bigint }[];
  /** Rewards credited by the wrapped stages, summed per account and role. */
  rewards: StageReward[];
  /** `escrow.claim`s made: what each account moved to its claimable balance. */
  claims: { account: Address; amount: bigint; coinbase: bigint }[];
  /** Unspent fee refunded to the employer's claimable balance (wei). */
  refunded: bigint;
  /** The early-stopping target (JobTarget; `description` in words), or null without one. */
  target: (JobTarget & { description: string }) | null;
  /** The stage that reached the target (TargetReached): the job finished there, the rest refunded. */
  finishedEarlyAt?: number;
  /** S_0 and every wrapped stage evaluated on the test set (empty unless asked and a test set exists). */
  lossCurve: LossPoint[];
  /** Why an unfinished job is stuck or expired, and what to do (empty for a job that is progressing). */
  advice: string[];
  /**
   * A fine-tuning job's ancestors, parent first, back to the job trained from its own spec's S_0 (empty for
   * such a job): each one's S_0 is the final state of the next.
   */
  ancestry: AncestorJob[];
}

/** What `jobAdvice` looks at. */
export interface AdviceInput {
  jobId: bigint;
  status: string;
  numStages: number;
  wrappedStages: number;
  escrow: bigint;
  deadline: bigint;
  c: number;
  k: number;
  /** Timestamp of the chain's head block. */
  now: bigint;
  stakers: StakerCounts;
  /** The first unwrapped stage, if any. */
  current?: StageStatus;
}

/** Why an unfinished job does not progress or has ended, and what to do about it (pure). */
export function jobAdvice(a: AdviceInput): string[] {
  const when = new Date(Number(a.deadline) * 1000).toISOString();
  const done = `${a.wrappedStages} of ${a.numStages} stages wrapped`;
  if (a.status === "finished") return [];
  if (a.status === "expired") {
    return [
      `The job expired unfinished (${done}); its unspent fee was credited to the employer: pot job refund ${a.jobId} withdraws it`,
    ];
  }
  if (a.status !== "open") return [];
  if (a.now >= a.deadline) {
    return [
      `The deadline passed at ${when} with ${done}: the job can no longer finish. ` +
        `pot job refund ${a.jobId} expires it and returns the unspent fee (${a.escrow} wei)`,
    ];
  }
  const out: string[] = [];
  const short = (what: string) =>
    `${what} but only ${a.stakers.drawable} staker(s) hold the minimum stake in the current draw epoch` +
    (a.stakers.pending > 0 ? ` (${a.stakers.pending} more count from the next epoch)` : "");
  if (a.c > a.stakers.drawable) out.push(short(`Each stage needs C = ${a.c} agreeing declarations`));
  else if (a.k > a.stakers.drawable) out.push(short(`Each stage needs a committee of K = ${a.k}`));
  if (out.length > 0) {
    const where =
      a.current !== undefined
        ? ` Stage ${a.current.stage} is ${a.current.phase} with ${a.current.declarants.length} declaration(s).`
        : "";
    out[0] =
      `Stuck: ${out[0]}: the job cannot progress until more miners stake.${where} ` +
      `If it stays stuck, pot job refund ${a.jobId} returns the unspent fee after the deadline ${when}`;
  }
  return out;
}

/** Options of `jobStatus`. */
export interface StatusOptions extends FetchOptions {
  /** Evaluate S_0 and every wrapped S on the job's test set (default false). */
  evaluate?: boolean;
  /** Called after each evaluated stage. */
  onEvaluated?: (point: LossPoint, done: number, total: number) => void;
}

/** Evaluates S_0 and every wrapped S of the job on `test`. */
export async function lossCurve(
  record: JobRecord,
  store: ContentStore,
  test: Batch,
  options: StatusOptions = {},
): Promise<LossPoint[]> {
  const { evaluate } = ml();
  const stages = [0, ...record.events.stages.filter((s) => s.wrapped).map((s) => s.stage)];
  const out: LossPoint[] = [];
  for (const stage of stages) {
    const ref = stateRef(record, stage)!;
    const bytes = await fetchState(store, ref, options);
    const e = await evaluate(record.document.spec, bytes, test);
    const point = { stage, loss: e.loss, accuracy: e.accuracy, samples: e.count };
    out.push(point);
    options.onEvaluated?.(point, out.length, stages.length);
  }
  return out;
}

/** Reads a job's status from the chain (and IPFS for the job document and, with `evaluate`, the states). */
export async function jobStatus(
  h: LedgerHandle,
  store: ContentStore,
  jobId: bigint,
  options: StatusOptions = {},
): Promise<JobStatus> {
  const [record, job, head, limits] = await Promise.all([
    loadJobRecord(h, store, jobId, options),
    readJob(h, jobId),
    h.client.getBlock({ blockTag: "latest" }),
    readJobLimits(h),
  ]);
  const stakers = await readStakerCounts(h, limits.minStake);
  const ancestry = job.parentJobId === 0n ? [] : await readAncestry(h, job.parentJobId);
  const stages = stageStatuses(record.events);
  let curve: LossPoint[] = [];
  if (options.evaluate === true && record.document.testSetCid !== undefined) {
    const test = ml().decodeBatch(await store.get(record.document.testSetCid, options));
    curve = await lossCurve(record, store, test, options);
    for (const p of curve) if (p.stage > 0) stages[p.stage - 1].loss = p;
  }
  const c = record.events.created;
  const events = record.events;
  const faultName = (f: number) =>
    (Object.entries(FAULT).find(([, v]) => v === f)?.[0] ?? `fault ${f}`)
      .replace(/([A-Z])/g, " $1")
      .toLowerCase();
  return {
    jobId,
    name: record.document.name,
    employer: c.employer,
    status: job.statusName,
    numStages: c.numStages,
    wrappedStages: job.wrappedStages,
    fee: c.fee,
    escrow: job.escrow,
    deadline: c.deadline,
    c: c.c,
    k: c.k,
    minDeclareSeconds: c.minDeclareSeconds,
    specCid: record.specCid,
    stages,
    juries: events.stages.flatMap((st) =>
      st.jury === undefined
        ? []
        : [
            {
              stage: st.stage,
              reason: JURY_REASON[st.jury.reason as keyof typeof JURY_REASON] ?? `reason ${st.jury.reason}`,
              rounds: st.jury.rounds,
              votes: st.jury.votes?.length ?? 0,
              decided: st.jury.decided,
            },
          ],
    ),
    slashes: events.stages.flatMap((st) =>
      st.slashes.map((x) => ({
        stage: st.stage,
        staker: x.staker,
        fault: faultName(x.fault),
        amount: x.amount,
      })),
    ),
    rewards: rewardTotals([events]),
    claims: events.claims.map((x) => ({ account: x.account, amount: x.amount, coinbase: x.coinbase })),
    refunded: events.refunds.reduce((a, r) => a + r.amount, 0n),
    target:
      events.target === undefined || events.target.kind === 0
        ? null
        : { ...events.target, description: describeTarget(events.target) },
    ...(events.targetReached !== undefined ? { finishedEarlyAt: events.targetReached.stage } : {}),
    lossCurve: curve,
    ancestry,
    advice: jobAdvice({
      jobId,
      status: job.statusName,
      numStages: c.numStages,
      wrappedStages: job.wrappedStages,
      escrow: job.escrow,
      deadline: c.deadline,
      c: c.c,
      k: c.k,
      now: head.timestamp,
      stakers,
      current: stages.find((st) => st.phase !== "wrapped"),
    }),
  };
}

/** Text lines of a status (for the CLI). */
export function formatStatus(s: JobStatus): string[] {
  const short = (a?: string) => (a === undefined ? "-" : `${a.slice(0, 6)}..${a.slice(-4)}`);
  const lines = [
    `Job ${s.jobId} "${s.name}": ${s.status}, ${s.wrappedStages}/${s.numStages} stages wrapped`,
    `Employer ${s.employer}; fee ${formatEther(s.fee)} ETH, escrow left ${formatEther(s.escrow)} ETH; C=${s.c} K=${s.k}; declarations open >= ${s.minDeclareSeconds} s; deadline ${new Date(Number(s.deadline) * 1000).toISOString()}`,
    `Job document ${s.specCid}`,
    ...(s.ancestry.length === 0
      ? []
      : [
          `Fine-tuned from: ${s.ancestry.map((a) => `job ${a.jobId} (${a.statusName})`).join(" <- ")}; S_0 = final state ${s.ancestry[0].finalStateHash} of job ${s.ancestry[0].jobId}`,
        ]),
    ...(s.target === null ? [] : [`Target: stops early when ${s.target.description}`]),
    ...(s.finishedEarlyAt === undefined
      ? []
      : [
          `Finished at stage ${s.finishedEarlyAt} of ${s.numStages}: target reached; refunded ${formatEther(s.refunded)} ETH (the fee of the ${s.numStages - s.finishedEarlyAt} stage(s) never trained)`,
        ]),
    ...s.advice,
    "",
    "stage  phase      declarants  builder         opened  faulty  wrapper         " +
      "chain loss  chain acc  eval loss  eval acc",
  ];
  const pct = (a: number | undefined) =>
    a === undefined || Number.isNaN(a) ? "-" : `${(a * 100).toFixed(2)}%`;
  for (const st of s.stages) {
    lines.push(
      [
        String(st.stage).padEnd(6),
        st.phase.padEnd(10),
        String(st.declarants.length).padEnd(11),
        short(st.builder).padEnd(15),
        String(st.opened?.length ?? "-").padEnd(7),
        String(st.faulty?.length ?? "-").padEnd(7),
        short(st.wrapper).padEnd(15),
        (st.heldOut?.loss !== undefined ? st.heldOut.loss.toFixed(4) : "-").padEnd(11),
        pct(st.heldOut?.accuracy).padEnd(10),
        (st.loss ? st.loss.loss.toFixed(4) : "-").padEnd(10),
        pct(st.loss?.accuracy),
      ].join(" "),
    );
  }
  lines.push(
    "chain loss/acc: the held-out metric the wrapped stage's outcome declares (agreed by its declarants, on-chain); " +
      "eval loss/acc: S evaluated here on the job's test set (--loss)",
  );
  for (const j of s.juries)
    lines.push(
      `Stage ${j.stage} went to a jury (${j.reason}): ${j.rounds} round(s), ${j.votes} vote(s) revealed, ` +
        (j.decided ? `decided result ${j.decided.resultHash}` : "not decided yet"),
    );
  for (const x of s.slashes)
    lines.push(`Stage ${x.stage}: ${x.staker} slashed ${formatEther(x.amount)} POT (${x.fault})`);
  if (s.rewards.length > 0) {
    lines.push("", "Rewards credited (account, role, ETH):");
    for (const r of s.rewards) lines.push(`  ${r.account}  ${r.role.padEnd(9)} ${formatEther(r.amount)}`);
  }
  for (const x of s.claims)
    lines.push(
      `Claimed by ${x.account}: ${formatEther(x.amount)} ETH, ${formatEther(x.coinbase)} POT coinbase`,
    );
  if (s.refunded > 0n) lines.push(`Refunded to the employer: ${formatEther(s.refunded)} ETH (pot withdraw)`);
  if (s.lossCurve.length > 0) {
    lines.push("", "Loss curve (evaluated here on the test set):");
    const max = Math.max(...s.lossCurve.map((p) => p.loss));
    for (const p of s.lossCurve) {
      const bar = "#".repeat(Math.max(1, Math.round((p.loss / (max || 1)) * 40)));
      const chain = p.stage === 0 ? undefined : s.stages[p.stage - 1]?.heldOut?.loss;
      const onChain = chain === undefined ? "" : ` (chain ${chain.toFixed(4)})`;
      lines.push(`  S_${String(p.stage).padEnd(4)} ${p.loss.toFixed(4)}${onChain} ${bar}`);
    }
  }
  return lines;
}
