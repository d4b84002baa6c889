/**
 * Bit-for-bit re-execution of stages: fetch S_{s-1} (hash-checked against the chain) and the stage's
 * batches (checked against the manifest and the on-chain root), run the stage with the same engine, and
 * compare rho with what the header revealed and H(S_s) with the stage outcome's state hash; then evaluate
 * S_s on the job's held-out test set and compare the metric's bits with the outcome's (docs/PROTOCOL.md
 * "Stage outcome").
 */
import type { Hex } from "viem";
import {
  decodeBatch,
  evaluateWith,
  prepareJob,
  runStageWith,
  stageOutcome,
  Trainer,
  type Batch,
} from "../ml";
import { fetchStageBatches, type ContentStore, type DatasetManifest, type FetchOptions } from "../storage";
import { describeMetric } from "../protocol";
import { wrappedHeader, wrappedOutcome } from "../chain/stage-rewards";
import { fetchState, stateRef, type JobRecord } from "../chain/job-record";
import type { Check } from "./report";

/** Chooses `m` of `stages` uniformly at random (seeded, reproducible), returned in increasing order. */
export function chooseSample(stages: readonly number[], m: number, seed: number): number[] {
  const list = [...stages];
  let state = seed >>> 0;
  const next = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list.slice(0, Math.max(0, Math.min(m, list.length))).sort((a, b) => a - b);
}

/** S_{s-1} (hash-checked against the chain) and the stage's batches (checked against the manifest). */
export async function stageInputs(
  record: JobRecord,
  store: ContentStore,
  manifest: DatasetManifest,
  stage: number,
  options: FetchOptions,
): Promise<{ parent: Uint8Array; batches: Batch | Batch[] }> {
  const parent = await fetchState(store, stateRef(record, stage - 1)!, options);
  const fetched = await fetchStageBatches(
    store,
    manifest,
    record.events.created.manifestRoot,
    stage,
    options,
  );
  const batches = fetched.map((b) => decodeBatch(b.bytes));
  return { parent, batches: batches.length === 1 ? batches[0] : batches };
}

/** Re-executes `stages` of a job and returns the checks per stage (rho, state hash, held-out metric). */
export async function reexecuteStages(
  record: JobRecord,
  domain: Hex,
  store: ContentStore,
  manifest: DatasetManifest,
  stages: readonly number[],
  options: FetchOptions & { onStage?: (stage: number, done: number, total: number) => void } = {},
): Promise<Check[]> {
  const checks: Check[] = [];
  if (stages.length === 0) return checks;
  const job = await prepareJob(record.document.spec);
  const trainer = new Trainer(job.spec, job.model);
  const testSetCid = record.document.testSetCid;
  let test: Batch | undefined;
  try {
    if (testSetCid !== undefined) test = decodeBatch(await store.get(testSetCid, options));
  } catch (error) {
    trainer.dispose();
    return stages.map((stage) => ({
      id: "reexec-metric",
      stage,
      ok: false,
      message: `the job's held-out test set ${testSetCid} could not be fetched: ${(error as Error).message}`,
    }));
  }
  try {
    let done = 0;
    for (const stage of stages) {
      const header = wrappedHeader(record.events.stages[stage - 1]);
      const outcome = wrappedOutcome(record.events.stages[stage - 1]);
      if (header === undefined || outcome === undefined) {
        checks.push({
          id: "reexec",
          stage,
          ok: false,
          message:
            header === undefined
              ? `stage ${stage} is not wrapped: nothing to re-execute`
              : `stage ${stage} has no revealed outcome opening its result ${header.header.result}: nothing to compare with`,
        });
        continue;
      }
      let result;
      try {
        const { parent, batches } = await stageInputs(record, store, manifest, stage, options);
        result = runStageWith(trainer, parent, batches, {
          domain,
          jobId: record.events.jobId,
          stage,
        });
      } catch (error) {
        checks.push({
          id: "reexec",
          stage,
          ok: false,
          message: `stage ${stage} could not be re-executed: ${(error as Error).message}`,
        });
        options.onStage?.(stage, ++done, stages.length);
        continue;
      }
      const rhoOk = result.rho.toLowerCase() === header.header.rho.toLowerCase();
      const hashOk = result.stateHash.toLowerCase() === outcome.stateHash.toLowerCase();
      checks.push({
        id: "reexec-rho",
        stage,
        ok: rhoOk,
        message: rhoOk
          ? `stage ${stage} re-executed: rho matches`
          : `stage ${stage} re-executed from S_${stage - 1} gives rho ${result.rho}, but the header revealed ${header.header.rho}: the declared training did not happen as declared`,
      });
      checks.push({
        id: "reexec-state",
        stage,
        ok: hashOk,
        message: hashOk
          ? `stage ${stage} re-executed: H(S_${stage}) matches`
          : `stage ${stage} re-executed from S_${stage - 1} gives H(S_${stage}) = ${result.stateHash}, but the stage outcome names ${outcome.stateHash}`,
      });
      // the outcome an honest declarant computes for this stage (src/ml/outcome.ts, as the miner does);
      // the Trainer holds the re-executed S_stage
      const mine = stageOutcome(result, test === undefined ? undefined : evaluateWith(trainer, test)).outcome;
      const root = mine.checkpointRoot;
      const rootOk = root.toLowerCase() === outcome.checkpointRoot.toLowerCase();
      checks.push({
        id: "reexec-checkpoints",
        stage,
        ok: rootOk,
        message: rootOk
          ? `stage ${stage} re-executed: its ${result.checkpoints.length} step checkpoint(s) give the outcome's checkpoint root`
          : `stage ${stage} re-executed gives the checkpoint root ${root} (${result.checkpoints.length} checkpoints), but the stage outcome names ${outcome.checkpointRoot}`,
      });
      const metricOk =
        mine.heldOutLoss === outcome.heldOutLoss && mine.heldOutAccuracy === outcome.heldOutAccuracy;
      checks.push({
        id: "reexec-metric",
        stage,
        ok: metricOk,
        message: metricOk
          ? `stage ${stage} re-evaluated on the ${test === undefined ? "(absent) test set" : `${test.count}-sample test set`}: ${describeMetric(mine)} matches the outcome`
          : `stage ${stage}'s held-out metric: expected ${describeMetric(mine)} (the re-executed S_${stage} on the job's test set), got ${describeMetric(outcome)} in the stage outcome`,
      });
      options.onStage?.(stage, ++done, stages.length);
    }
  } finally {
    trainer.dispose();
  }
  return checks;
}
