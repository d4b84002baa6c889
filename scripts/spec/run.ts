/**
 * The spec check (scripts/spec/check.ts, test/spec/reference.test.ts): the engine trains random small
 * jobs into self-contained vectors, then the Python reference recomputes those and the committed
 * vectors from their inputs alone and must match every hash bit for bit.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { syntheticBatch, buildVectorJob } from "../../test/support/ml-vector-jobs";
import { randomVectorJob } from "../../test/support/ml-random-jobs";
import { vectorOf, type TrainingVector } from "../../test/support/ml-vectors";
import { NonFiniteLossError } from "../../src/protocol/errors";

const ROOT = path.join(__dirname, "..", "..");
export const REFERENCE_DIR = path.join(ROOT, "spec", "reference");
export const COMMITTED_VECTORS = path.join(ROOT, "test", "vectors", "training-vectors.json");
export const NUMPY_HINT = "install it with: apt-get install python3-numpy (or pip install numpy)";

/** Why the reference cannot run here (no python3, or no NumPy), or undefined when it can. */
export function referenceUnavailable(): string | undefined {
  const r = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" });
  if (r.error) return `python3 not found: ${NUMPY_HINT}`;
  if (r.status !== 0) return `python3 has no NumPy: ${NUMPY_HINT}`;
  return undefined;
}

/** `count` random jobs from `seed`, trained by this engine into vectors. */
export async function randomVectors(count: number, seed: number): Promise<TrainingVector[]> {
  const out: TrainingVector[] = [];
  // A job that diverges (a non-finite loss fails its stage) has no vector: draw the next one.
  for (let jobSeed = seed >>> 0; out.length < count; jobSeed = (jobSeed + 1) >>> 0) {
    const { job, stages, summary } = randomVectorJob(jobSeed);
    const spec = await buildVectorJob(job);
    const data = Array.from({ length: stages }, (_, s) => syntheticBatch(spec, jobSeed * 7 + s));
    try {
      out.push(await vectorOf(`random-${jobSeed}`, summary, spec, data));
    } catch (err) {
      if (!(err instanceof NonFiniteLossError)) throw err;
    }
  }
  return out;
}

export interface SpecCheckResult {
  /** Set (with the reason and how to enable it) when python3 with NumPy is missing. */
  skipped?: string;
  total: number;
  failed: number;
  output: string;
}

/** Runs the reference on the committed vectors (optional) and `random` fresh random jobs. */
export async function runSpecCheck(options: {
  committed: boolean;
  random: number;
  seed: number;
  log?: (line: string) => void;
}): Promise<SpecCheckResult> {
  const log = options.log ?? (() => undefined);
  const unavailable = referenceUnavailable();
  if (unavailable) return { skipped: unavailable, total: 0, failed: 0, output: "" };
  const files = options.committed ? [COMMITTED_VECTORS] : [];
  const dir = mkdtempSync(path.join(tmpdir(), "pot-spec-check-"));
  try {
    if (options.random > 0) {
      log(`training ${options.random} random jobs with the engine (seed ${options.seed}) ...`);
      const vectors = await randomVectors(options.random, options.seed);
      const file = path.join(dir, "random-vectors.json");
      writeFileSync(file, JSON.stringify({ vectors }));
      files.push(file);
    }
    const r = spawnSync("python3", ["-m", "pot_reference", ...files], {
      cwd: REFERENCE_DIR,
      encoding: "utf8",
      maxBuffer: 16 << 20,
    });
    const output = `${r.stdout ?? ""}${r.stderr ?? ""}`;
    for (const line of output.trimEnd().split("\n")) log(line);
    const summary = /(\d+) of (\d+) vectors reproduced bit for bit/.exec(r.stdout ?? "");
    if (!summary) return { total: 0, failed: 1, output };
    const total = Number(summary[2]);
    return {
      total,
      failed: r.status === 0 ? total - Number(summary[1]) : Math.max(1, total - Number(summary[1])),
      output,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
