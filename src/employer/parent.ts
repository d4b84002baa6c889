/**
 * Fine-tuning from a finished job (`pot job create --from-job N`, `JobInput.fromJob`): the new job's S_0 is
 * the parent's final state byte for byte, weights and optimizer state (docs/PROTOCOL.md section 4b), so the
 * ledger can check it by hash (PoTEscrow.createJobFrom). The preflight refuses, before any wei is spent, a
 * parent that did not finish, a model topology that differs from the parent's, and another optimizer (its
 * slots are part of the state).
 */
import { compileModel, type CompiledModel, type JobSpec } from "../ml";
import { fetchState, lastWrappedStage, loadJobRecord, stateRef, type JobRecord } from "../chain/job-record";
import { readJob, type LedgerHandle } from "../chain/ledger-reads";
import type { ContentStore, FetchOptions } from "../storage";
import type { PreflightIssue } from "./preflight";

/** A job as a parent of a fine-tuning job. */
export interface ParentJob {
  readonly jobId: bigint;
  readonly statusName: string;
  readonly numStages: number;
  readonly wrappedStages: number;
  /** H(S_n) on-chain (PoTStages.finalStateOf); the zero hash unless the job finished. */
  readonly finalStateHash: `0x${string}`;
  readonly record: JobRecord;
  /** The parent's job spec (its document's `spec`). */
  readonly spec: JobSpec;
}

/** Reads job `jobId` as a parent: its status and final state hash, its events and job document. */
export async function readParentJob(
  h: LedgerHandle,
  store: ContentStore,
  jobId: bigint,
  options: FetchOptions = {},
): Promise<ParentJob> {
  const [job, record] = await Promise.all([readJob(h, jobId), loadJobRecord(h, store, jobId, options)]);
  return {
    jobId,
    statusName: job.statusName,
    numStages: job.numStages,
    wrappedStages: job.wrappedStages,
    finalStateHash: job.finalStateHash,
    record,
    spec: record.document.spec as JobSpec,
  };
}

/** The parent's final state S_n, fetched by its last header's CID and checked against H(S_n). */
export function fetchParentFinalState(
  store: ContentStore,
  parent: ParentJob,
  options: FetchOptions = {},
): Promise<Uint8Array> {
  const ref = stateRef(parent.record, lastWrappedStage(parent.record));
  if (ref === undefined || ref.stage === 0) throw new Error(`job ${parent.jobId} has no wrapped stage`);
  return fetchState(store, ref, options);
}

const issue = (check: string, message: string, hint: string): PreflightIssue => ({
  check,
  level: "error",
  message,
  hint,
});

/** The compiled model of a spec, or the reason it does not compile. */
function compiled(spec: JobSpec): CompiledModel | string {
  try {
    return compileModel(spec.model, spec.data, spec.training.loss);
  } catch (error) {
    return (error as Error).message;
  }
}

/** A layer as it shapes the weights and the computation, without its name. */
function layerKey(layer: CompiledModel["layers"][number]): string {
  const { name: _name, ...rest } = layer;
  return JSON.stringify(rest);
}

/** Where two compiled models differ (undefined: the same topology). */
export function topologyDifference(parent: CompiledModel, child: CompiledModel): string | undefined {
  if (JSON.stringify(parent.inputShape) !== JSON.stringify(child.inputShape))
    return `input shape [${child.inputShape.join(", ")}] instead of the parent's [${parent.inputShape.join(", ")}]`;
  if (parent.layers.length !== child.layers.length)
    return `${child.layers.length} layers instead of the parent's ${parent.layers.length}`;
  for (let i = 0; i < parent.layers.length; i++) {
    if (layerKey(parent.layers[i]) !== layerKey(child.layers[i]))
      return `layer ${i} is ${layerKey(child.layers[i])}, the parent's is ${layerKey(parent.layers[i])}`;
  }
  if (parent.softmaxOutput !== child.softmaxOutput) return "the softmax output differs from the parent's";
  return undefined;
}

/**
 * The preflight checks of a fine-tuning job against its parent: the parent finished (all its stages
 * wrapped), the model topology and the optimizer are the parent's (`childSpec` undefined: the model did not
 * build, already reported).
 */
export function checkParent(parent: ParentJob, childSpec: JobSpec | undefined): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  if (parent.statusName !== "finished")
    issues.push(
      issue(
        "parent-finished",
        `Job ${parent.jobId} has not finished (${parent.statusName}, ${parent.wrappedStages} of ${parent.numStages} stages wrapped): only a finished job's final state can be fine-tuned`,
        `Wait until pot job status ${parent.jobId} shows it finished, or pick a finished job`,
      ),
    );
  if (childSpec === undefined) return issues;
  const [p, c] = [compiled(parent.spec), compiled(childSpec)];
  if (typeof p === "string") {
    issues.push(
      issue("parent-topology", `Job ${parent.jobId}'s model does not compile: ${p}`, "Pick another parent"),
    );
  } else if (typeof c !== "string") {
    const diff = topologyDifference(p, c);
    if (diff !== undefined)
      issues.push(
        issue(
          "parent-topology",
          `The model's topology differs from job ${parent.jobId}'s: ${diff}`,
          "Fine-tune the parent's own model (omit --model), with the same layers and shapes",
        ),
      );
  }
  const [po, co] = [parent.spec.training.optimizer.name, childSpec.training.optimizer.name];
  if (po !== co)
    issues.push(
      issue(
        "parent-optimizer",
        `Job ${parent.jobId} trained with ${po}, this job with ${co}: the parent's final state carries ${po}'s optimizer state`,
        `Pass --optimizer ${po} (the learning rate may change)`,
      ),
    );
  return issues;
}
