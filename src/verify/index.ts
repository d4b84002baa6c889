/**
 * `verifyJob`: audits a job's whole lineage from the chain and IPFS (src/verify/lineage.ts) and re-executes
 * a uniform random sample of its wrapped stages bit for bit (src/verify/reexecute.ts), reporting the
 * probability that a single wrong stage would have been caught (src/verify/report.ts).
 */
import { randomInt } from "node:crypto";
import type { ContentStore, FetchOptions } from "../storage";
import { readDomain, type LedgerHandle } from "../chain/ledger-reads";
import { loadJobRecord } from "../chain/job-record";
import { checkLineage, checkParentLink } from "./lineage";
import type { JobRecord } from "../chain/job-record";
import { wrappedOutcome } from "../chain/stage-rewards";
import { chooseSample, reexecuteStages } from "./reexecute";
import { reexecuteSegments, type CheckpointSource } from "./segments";
import { detectionProbability, sampleSize, type Check, type Sample, type VerifyReport } from "./report";

export * from "./report";
export { checkLineage, checkParentLink, jobTarget, type LineageResult } from "./lineage";
export { chooseSample, reexecuteStages } from "./reexecute";
export {
  reexecuteSegments,
  verifySegments,
  type CheckpointSource,
  type SegmentInput,
  type SegmentReport,
  type SegmentSample,
  type StageCheckpoints,
} from "./segments";
export * from "./certificate";

/** Options of `verifyJob`. */
export interface VerifyOptions extends FetchOptions {
  /** Stages to re-execute (default: all). */
  sample?: Sample;
  /** Seed of the sample (default: random; the report names it). */
  seed?: number;
  /**
   * `pot verify --segments K`: re-execute K step-checkpoint segments of each sampled stage instead of the
   * whole stage (src/verify/segments.ts). Needs `checkpointsOf`.
   */
  segments?: number;
  /** The checkpoint list and committed root of a wrapped stage (from the chain's header event). */
  checkpointsOf?: CheckpointSource;
  /** Progress of the lineage pass and of each re-executed stage. */
  onProgress?: (
    p:
      | { phase: "lineage"; stage: number }
      | { phase: "reexecute"; stage: number; done: number; total: number },
  ) => void;
}

/** Longest lineage `verifyJob` follows (a longer one fails the `parent-depth` check). */
export const MAX_LINEAGE_DEPTH = 64;

/**
 * Verifies job `jobId` and, for a fine-tuning job, its lineage: the link to its parent (`checkParentLink`)
 * and every ancestor in turn, back to a job trained from its own spec's S_0 (`report.ancestors`). Never
 * throws for a failed check (see `report.failures`).
 */
export async function verifyJob(
  h: LedgerHandle,
  store: ContentStore,
  jobId: bigint,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const jobs = [await verifyOneJob(h, store, jobId, options)];
  for (;;) {
    const derived = jobs[jobs.length - 1].record?.events.derived;
    if (derived === undefined) break;
    const parentId = derived.parentJobId;
    if (jobs.length > MAX_LINEAGE_DEPTH || jobs.some((j) => j.report.jobId === parentId)) {
      const message = `the lineage is longer than ${MAX_LINEAGE_DEPTH} jobs or loops back to job ${parentId}`;
      jobs.push({ report: failedReport(parentId, "parent-depth", message) });
      break;
    }
    jobs.push(await verifyOneJob(h, store, parentId, options));
  }
  // each job's link to its parent: the parent finished, and its final state is the job's S_0
  const reports = jobs.map((j, i) => {
    const parent = jobs[i + 1]?.record;
    return j.record !== undefined && parent !== undefined
      ? withChecks(j.report, checkParentLink(j.record, parent))
      : j.report;
  });
  const [own, ...ancestors] = reports;
  if (ancestors.length === 0) return own;
  return { ...own, ok: reports.every((r) => r.ok), ancestors };
}

/** A report whose only check failed (a lineage that cannot be followed). */
function failedReport(jobId: bigint, id: string, message: string): VerifyReport {
  const check: Check = { id, stage: 0, ok: false, message };
  return {
    jobId,
    ok: false,
    numStages: 0,
    wrappedStages: 0,
    checks: [check],
    failures: [check],
    reexecuted: [],
    detection: { total: 0, sampled: 0, singleWrongStage: 1 },
    seed: 0,
  };
}

/** The report with more checks (stage 0 first). */
function withChecks(report: VerifyReport, extra: Check[]): VerifyReport {
  const checks = [...extra, ...report.checks].sort((a, b) => a.stage - b.stage);
  const failures = checks.filter((c) => !c.ok);
  return { ...report, checks, failures, ok: failures.length === 0 };
}

/** Verifies one job (its own lineage of stages and the re-execution sample). */
async function verifyOneJob(
  h: LedgerHandle,
  store: ContentStore,
  jobId: bigint,
  options: VerifyOptions,
): Promise<{ report: VerifyReport; record?: JobRecord }> {
  const [record, domain] = await Promise.all([loadJobRecord(h, store, jobId, options), readDomain(h)]);
  const lineage = await checkLineage(record, domain, store, {
    ...options,
    onStage: (stage) => options.onProgress?.({ phase: "lineage", stage }),
  });
  const seed = options.seed ?? randomInt(0, 2 ** 31);
  const m = sampleSize(options.sample ?? { kind: "all" }, lineage.wrapped.length);
  const chosen = chooseSample(lineage.wrapped, m, seed);
  let reexec: Check[] = [];
  let segmentDetection: number | undefined;
  const onStage = (stage: number, done: number, total: number) =>
    options.onProgress?.({ phase: "reexecute", stage, done, total });
  if (chosen.length > 0) {
    if (lineage.manifest === undefined) {
      reexec = chosen.map((stage) => ({
        id: "reexec",
        stage,
        ok: false,
        message: `stage ${stage} cannot be re-executed: the dataset manifest is unavailable`,
      }));
    } else if (options.segments !== undefined) {
      const source = options.checkpointsOf ?? chainCheckpoints;
      const sample = { count: options.segments, seed };
      const run = await reexecuteSegments(record, store, lineage.manifest, chosen, sample, source, {
        ...options,
        onStage,
      });
      reexec = run.checks;
      segmentDetection = run.detection;
    } else {
      reexec = await reexecuteStages(record, domain, store, lineage.manifest, chosen, {
        ...options,
        onStage,
      });
    }
  }
  const checks = [...lineage.checks, ...reexec].sort((a, b) => a.stage - b.stage);
  const failures = checks.filter((c) => !c.ok);
  const report: VerifyReport = {
    jobId,
    ok: failures.length === 0,
    numStages: record.events.created.numStages,
    wrappedStages: lineage.wrapped.length,
    ...(lineage.finishedEarlyAt !== undefined ? { finishedEarlyAt: lineage.finishedEarlyAt } : {}),
    checks,
    failures,
    reexecuted: chosen,
    detection: {
      total: lineage.wrapped.length,
      sampled: chosen.length,
      singleWrongStage: detectionProbability(lineage.wrapped.length, chosen.length) * (segmentDetection ?? 1),
      ...(segmentDetection === undefined ? {} : { segmentsPerStage: segmentDetection }),
    },
    seed,
  };
  return { report, record };
}

/**
 * The checkpoint list of a wrapped stage as the chain recorded it: OutcomeRevealed of the wrapped header
 * (the ledger checked that the list opens the outcome's checkpoint root, which the declarations committed to).
 */
const chainCheckpoints: CheckpointSource = async (record, stage) => {
  const s = record.events.stages[stage - 1];
  const outcome = s === undefined ? undefined : wrappedOutcome(s);
  if (s?.outcome === undefined || outcome === undefined) return undefined;
  return { hashes: [...s.outcome.checkpoints], root: outcome.checkpointRoot };
};
