/**
 * Early stopping for a job (docs/PROTOCOL.md "Stage outcome"): the employer's target as text
 * (`pot job create --target-accuracy 0.97 | 97%`, `--target-loss 0.25`), and the preflight checks that
 * refuse a target the job cannot meet by construction (no held-out test set, an accuracy target without
 * class labels, a value outside the ledger's range) before anything is uploaded or sent.
 */
import { PotError } from "../errors";
import {
  accuracyTarget,
  describeTarget,
  isValidTarget,
  lossTarget,
  PPM,
  TargetKind,
  type JobTarget,
} from "../protocol/outcome";
import type { LoadedDataset } from "./dataset";
import type { PreflightIssue } from "./preflight";

/** A target given as text that is not a number of the expected form. */
export class TargetValueError extends PotError {
  declare readonly hint: string;
  constructor(message: string, hint: string) {
    super(`${message}. ${hint}`, { hint, code: "TARGET_VALUE" });
  }
}

const NUMBER = /^\d+(\.\d+)?$|^\.\d+$/;

/**
 * An accuracy target from text: a fraction in (0, 1] ("0.97") or a percentage in (0, 100] ("97%",
 * "97.5 %"). A bare number above 1 ("97") is refused: say "97%" or "0.97".
 */
export function parseAccuracyTarget(text: string): JobTarget {
  const t = text.trim();
  const percent = t.endsWith("%");
  const digits = (percent ? t.slice(0, -1) : t).trim();
  const hint = "Give a fraction such as 0.97 or a percentage such as 97%";
  if (!NUMBER.test(digits)) throw new TargetValueError(`Invalid --target-accuracy "${text}"`, hint);
  const value = Number(digits);
  if (!percent && value > 1)
    throw new TargetValueError(
      `--target-accuracy ${text} is above 1`,
      `A fraction is at most 1: for ${value} percent write ${value}%`,
    );
  const fraction = percent ? value / 100 : value;
  if (!(fraction > 0) || fraction > 1 || Math.round(fraction * PPM) <= 0)
    throw new TargetValueError(`--target-accuracy ${text} is outside (0, 100 %] (at least 1 ppm)`, hint);
  return accuracyTarget(fraction);
}

/** A loss target from text: a finite number >= 0, met when the held-out loss is at most it. */
export function parseLossTarget(text: string): JobTarget {
  const t = text.trim();
  if (!NUMBER.test(t) && !/^\d+(\.\d+)?e[-+]?\d+$/i.test(t))
    throw new TargetValueError(
      `Invalid --target-loss "${text}"`,
      "Give the held-out loss to reach, a number >= 0 such as 0.25",
    );
  return lossTarget(Number(t));
}

/**
 * The target of `--target-accuracy` / `--target-loss` (at most one of them); undefined for neither.
 */
export function targetFromOptions(o: {
  targetAccuracy?: string;
  targetLoss?: string;
}): JobTarget | undefined {
  if (o.targetAccuracy !== undefined && o.targetLoss !== undefined)
    throw new TargetValueError(
      "--target-accuracy and --target-loss were both given",
      "A job has one early-stopping target: give one of them",
    );
  if (o.targetAccuracy !== undefined) return parseAccuracyTarget(o.targetAccuracy);
  if (o.targetLoss !== undefined) return parseLossTarget(o.targetLoss);
  return undefined;
}

/** "stops early when held-out accuracy >= 97.00 %", or "no early stopping". */
export function describeJobTarget(target: JobTarget | undefined): string {
  return target === undefined || target.kind === TargetKind.None
    ? "no early stopping (every stage is trained)"
    : `stops early when ${describeTarget(target)}; the unwrapped stages' fee is refunded`;
}

/**
 * Preflight of a target: the job needs a held-out test set (the metric is measured on it), an accuracy
 * target needs class-index labels, and the value must be one the ledger accepts (PoTStages: a loss's
 * float32 bits below +infinity, an accuracy of 1..1,000,000 ppm).
 */
export function checkTarget(target: JobTarget | undefined, dataset: LoadedDataset): PreflightIssue[] {
  if (target === undefined || target.kind === TargetKind.None) return [];
  const issues: PreflightIssue[] = [];
  const error = (message: string, hint: string): PreflightIssue => ({
    check: "target",
    level: "error",
    message,
    hint,
  });
  const valid = isValidTarget(target);
  if (!valid)
    issues.push(
      error(
        `The target (kind ${target.kind}, value ${target.value}) is not one the ledger accepts`,
        "Build it with lossTarget(loss >= 0) or accuracyTarget(fraction in (0, 1]) of src/protocol/outcome.ts",
      ),
    );
  if (dataset.test === undefined || dataset.test.count === 0)
    issues.push(
      error(
        `The target (${valid ? describeTarget(target) : "early stopping"}) needs a held-out test set, and the job has none: no stage could ever reach it`,
        "Give a test set (--test-size for mnist, test* files in a dataset directory) or drop --target-accuracy/--target-loss",
      ),
    );
  if (target.kind === TargetKind.AccuracyAtLeast && !(dataset.train.labels instanceof Int32Array))
    issues.push(
      error(
        "An accuracy target needs class-index labels, but the job's labels are float32 targets (accuracy is not measured)",
        "Use --target-loss instead",
      ),
    );
  return issues;
}
