/** The lines `pot job serve` prints as a job runs: one per wrapped stage and one when the job ends. */
import type { ServeEvent } from "../employer/serve";

/** The line for `event` of job `jobId`, or undefined for events shown only as progress (inputs). */
export function serveEventLine(
  jobId: bigint,
  event: ServeEvent,
  exitWhenFinished: boolean,
): string | undefined {
  const after = exitWhenFinished
    ? "stopping (--exit-when-finished)"
    : "still serving its data for pot job fetch and pot verify; Ctrl-C stops";
  switch (event.kind) {
    case "inputs":
      return undefined;
    case "stage-wrapped":
      return `stage ${event.stage}/${event.numStages} wrapped: result S_${event.stage} ${event.resultCid}${event.pinned ? " (pinned here)" : ""}`;
    case "finished":
      return event.targetReachedAt === undefined
        ? `job ${jobId} finished: all ${event.numStages} stages wrapped; ${after}`
        : `job ${jobId} finished at stage ${event.targetReachedAt} of ${event.numStages}: target reached (the rest of the fee is refunded); ${after}`;
    case "expired":
      return `job ${jobId} expired with ${event.wrappedStages}/${event.numStages} stages wrapped (reclaim the rest of the fee with pot job refund ${jobId}); ${after}`;
  }
}

/** The summary of the inputs `serveJob` pinned before it started watching. */
export function serveInputsLine(
  jobId: bigint,
  pinned: number,
  inputs: Extract<ServeEvent, { kind: "inputs" }> | undefined,
): string {
  const batches =
    inputs === undefined ? "no batches" : `${inputs.total} batches of ${inputs.numStages} stages`;
  const testSet = inputs?.testSet === true ? ", test set" : "";
  return `job ${jobId}: ${pinned} objects pinned (job document, manifest, S_0${testSet} and ${batches})`;
}
