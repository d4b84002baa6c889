/**
 * The verifier's report: every check with a precise message, and the probability that the re-execution
 * sample would have caught a wrong stage.
 */

/** One check of the verifier. */
export interface Check {
  /** Stable identifier, e.g. `state-hash`, `commitment-opens`, `reexec-rho`. */
  readonly id: string;
  /** The stage it is about (0 = S_0 / the job as a whole). */
  readonly stage: number;
  readonly ok: boolean;
  /** What was checked and, on failure, what differs (expected vs actual). */
  readonly message: string;
}

/** How many stages to re-execute. */
export type Sample =
  | { kind: "all" }
  | { kind: "count"; count: number }
  | { kind: "fraction"; fraction: number }
  | { kind: "none" };

/** The detection probability achieved by a sample. */
export interface Detection {
  /** Stages eligible for re-execution (wrapped). */
  readonly total: number;
  /** Stages re-executed. */
  readonly sampled: number;
  /**
   * Probability that a single wrong stage (consistent hashes, wrong training) is caught: sampled / total,
   * times segmentsPerStage with `--segments`.
   */
  readonly singleWrongStage: number;
  /**
   * With `--segments K`: the probability K / m that the K segments re-executed of a stage's m catch a
   * wrong stage (its lowest over the sampled stages).
   */
  readonly segmentsPerStage?: number;
}

/** The whole report of `verifyJob`. */
export interface VerifyReport {
  readonly jobId: bigint;
  /** Every check passed. */
  readonly ok: boolean;
  readonly numStages: number;
  readonly wrappedStages: number;
  /**
   * The stage the job finished at by reaching its early-stopping target (TargetReached): the job is complete
   * there, stages after it are never trained.
   */
  readonly finishedEarlyAt?: number;
  readonly checks: Check[];
  readonly failures: Check[];
  /** Stages re-executed bit for bit, in order. */
  readonly reexecuted: number[];
  readonly detection: Detection;
  /** The seed that chose the sample (reproduce it with --seed). */
  readonly seed: number;
  /**
   * A fine-tuning job's ancestors, parent first, back to the job trained from its own spec's S_0: each is
   * verified like the job itself (same sample rule). `ok` holds only if every ancestor's report is ok.
   */
  readonly ancestors?: VerifyReport[];
}

/** Stages of a sample of `total`: all, a count (clamped) or ceil(fraction x total). */
export function sampleSize(sample: Sample, total: number): number {
  switch (sample.kind) {
    case "all":
      return total;
    case "none":
      return 0;
    case "count":
      return Math.max(0, Math.min(total, Math.floor(sample.count)));
    case "fraction": {
      if (!(sample.fraction >= 0 && sample.fraction <= 1)) throw new RangeError("fraction must be in [0, 1]");
      return Math.min(total, Math.ceil(sample.fraction * total - 1e-9));
    }
  }
}

/**
 * Probability that `wrong` wrong stages among `total` are caught by re-executing `sampled` stages drawn
 * uniformly without replacement: 1 - C(total - wrong, sampled) / C(total, sampled). For one wrong stage
 * this is sampled / total (1 when all are re-executed).
 */
export function detectionProbability(total: number, sampled: number, wrong = 1): number {
  if (total <= 0 || wrong <= 0) return total <= 0 ? 1 : 0;
  if (sampled >= total) return 1;
  if (sampled <= 0) return 0;
  if (wrong === 1) return sampled / total;
  // P(miss) = prod_{i=0}^{sampled-1} (total - wrong - i) / (total - i)
  let miss = 1;
  for (let i = 0; i < sampled; i++) {
    const num = total - wrong - i;
    if (num <= 0) return 1;
    miss *= num / (total - i);
  }
  return 1 - miss;
}

/**
 * The exit code of `pot verify`: 1 when a check failed, and when no stage is wrapped (nothing trained was
 * verified) unless `allowUnfinished`; 0 otherwise (a partly wrapped job verifies its wrapped stages).
 */
export function verifyExitCode(r: VerifyReport, allowUnfinished = false): number {
  if (!r.ok || (r.ancestors ?? []).some((a) => !a.ok)) return 1;
  return r.wrappedStages === 0 && !allowUnfinished ? 1 : 0;
}

/** Text lines of a report and of its ancestors' (for the CLI). */
export function formatReport(r: VerifyReport): string[] {
  const ancestors = r.ancestors ?? [];
  if (ancestors.length === 0) return formatJobReport(r);
  const chain = [r.jobId, ...ancestors.map((a) => a.jobId)].join(" <- ");
  return [
    `Lineage: job ${chain} (each job's S_0 is its parent's final state)`,
    ...formatJobReport(r),
    ...ancestors.flatMap((a) => formatJobReport(a)),
  ];
}

/** Text lines of one job's report. */
function formatJobReport(r: VerifyReport): string[] {
  const passed = `${r.checks.length - r.failures.length}/${r.checks.length} checks passed`;
  const early = r.finishedEarlyAt;
  const wrapped =
    `${r.wrappedStages} of ${r.numStages} stages wrapped` +
    (early === undefined ? "" : `; finished at stage ${early}: target reached`);
  const end = early ?? r.numStages;
  const verdict = !r.ok
    ? "FAILED"
    : r.wrappedStages === 0
      ? "NOTHING TO VERIFY"
      : r.wrappedStages < end
        ? "VERIFIED SO FAR (unfinished)"
        : "VERIFIED";
  const lines = [`Job ${r.jobId}: ${verdict} (${passed}, ${wrapped})`];
  if (r.ok && r.wrappedStages === 0)
    lines.push("  No stage is wrapped: nothing trained exists yet, only S_0 and the job's data were checked");
  else if (r.ok && r.wrappedStages < end)
    lines.push(`  Only the ${r.wrappedStages} wrapped stage(s) were checked; the job is not finished`);
  for (const f of r.failures) lines.push(`  FAIL stage ${f.stage} [${f.id}]: ${f.message}`);
  const d = r.detection;
  if (d.total === 0) {
    lines.push("Re-executed bit for bit: none (no wrapped stage)");
    return lines;
  }
  lines.push(
    `Re-executed bit for bit: ${r.reexecuted.length === 0 ? "none" : `stages ${r.reexecuted.join(", ")}`} (${d.sampled} of ${d.total}, seed ${r.seed})` +
      (d.segmentsPerStage === undefined
        ? ""
        : `, step-checkpoint segments only: a wrong stage among them is caught with probability ${(d.segmentsPerStage * 100).toFixed(1)}% (K of its m segments: K/m)`),
    `A single wrong stage would have been caught with probability ${(d.singleWrongStage * 100).toFixed(1)}%` +
      (d.total > 0 ? ` (${d.sampled}/${d.total})` : ""),
  );
  if (d.total > 1 && d.sampled < d.total) {
    const fractions = [0.1, 0.25, 0.5, 1];
    lines.push(
      `  (re-executing a fraction f of the ${d.total} stages catches it with probability ceil(f x ${d.total}) / ${d.total}: ` +
        fractions
          .map(
            (f) =>
              `f=${f}: ${((sampleSize({ kind: "fraction", fraction: f }, d.total) / d.total) * 100).toFixed(0)}%`,
          )
          .join(", ") +
        ")",
    );
  }
  return lines;
}
