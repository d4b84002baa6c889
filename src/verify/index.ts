/**
 * `verifyJob`: audits a job's whole lineage from the chain and IPFS (src/verify/lineage.ts) and re-executes
 * a uniform random sample of its wrapped stages bit for bit (src/verify/reexecute.ts), reporting the
 * probability that a single wrong stage would have been caught (src/verify/report.ts).
 */
import { randomInt } from "node:crypto";
import type { ContentStore, FetchOptions } from "../storage";
import { readDomain, type LedgerHandle } from "../chain/job-events";
import { loadJobRecord } from "../chain/job-record";
import { checkLineage } from "./lineage";
import { chooseSample, reexecuteStages } from "./reexecute";
import { detectionProbability, sampleSize, type Check, type Sample, type VerifyReport } from "./report";

export * from "./report";
export { checkLineage, type LineageResult } from "./lineage";
export { chooseSample, reexecuteStages } from "./reexecute";

/** Options of `verifyJob`. */
export interface VerifyOptions extends FetchOptions {
  /** Stages to re-execute (default: all). */
  sample?: Sample;
  /** Seed of the sample (default: random; the report names it). */
  seed?: number;
  /** Progress of the lineage pass and of each re-executed stage. */
  onProgress?: (
    p:
      | { phase: "lineage"; stage: number }
      | { phase: "reexecute"; stage: number; done: number; total: number },
  ) => void;
}

/** Verifies job `jobId`; never throws for a failed check (see `report.failures`). */
export async function verifyJob(
  h: LedgerHandle,
  store: ContentStore,
  jobId: bigint,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const [record, domain] = await Promise.all([loadJobRecord(h, store, jobId, options), readDomain(h)]);
  const lineage = await checkLineage(record, domain, store, {
    ...options,
    onStage: (stage) => options.onProgress?.({ phase: "lineage", stage }),
  });
  const seed = options.seed ?? randomInt(0, 2 ** 31);
  const m = sampleSize(options.sample ?? { kind: "all" }, lineage.wrapped.length);
  const chosen = chooseSample(lineage.wrapped, m, seed);
  let reexec: Check[] = [];
  if (chosen.length > 0) {
    if (lineage.manifest === undefined) {
      reexec = chosen.map((stage) => ({
        id: "reexec",
        stage,
        ok: false,
        message: `stage ${stage} cannot be re-executed: the dataset manifest is unavailable`,
      }));
    } else {
      reexec = await reexecuteStages(record, domain, store, lineage.manifest, chosen, {
        ...options,
        onStage: (stage, done, total) => options.onProgress?.({ phase: "reexecute", stage, done, total }),
      });
    }
  }
  const checks = [...lineage.checks, ...reexec].sort((a, b) => a.stage - b.stage);
  const failures = checks.filter((c) => !c.ok);
  return {
    jobId,
    ok: failures.length === 0,
    numStages: record.events.created.numStages,
    wrappedStages: lineage.wrapped.length,
    checks,
    failures,
    reexecuted: chosen,
    detection: {
      total: lineage.wrapped.length,
      sampled: chosen.length,
      singleWrongStage: detectionProbability(lineage.wrapped.length, chosen.length),
    },
    seed,
  };
}
