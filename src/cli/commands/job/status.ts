/**
 * `pot job status [--wait] [--loss]`: a job's stages, rewards and loss curve (docs/employer.md).
 */
import type { Command } from "commander";
import type { LedgerHandle } from "../../../employer";
import type { CliContext } from "../../context";
import { CliUsageError } from "../../errors";
import { ChainNudger } from "../../../chain/on-demand-mining";
import { employer, employerStatus } from "../../lazy";
import { terminalProgress } from "../../progress";
import { handleOf, parseJobId } from "../../args";
import { withCachedStore } from "./store";

/**
 * Polls the job until it is no longer open (finished, or expired by a call of expireJob) or its deadline
 * passed, noting each newly wrapped stage on stderr.
 */
async function waitForJobEnd(ctx: CliContext, h: LedgerHandle, jobId: bigint): Promise<void> {
  let wrapped = -1;
  const nudger = new ChainNudger({
    client: h.client,
    isLocal: ctx.config.isLocal,
    notice: (message) => ctx.out.note(`note: ${message}`),
  });
  for (;;) {
    const job = await employer().readJob(h, jobId);
    if (job.status === 0)
      throw new CliUsageError(
        `Job ${jobId} does not exist on this deployment`,
        "Check the job id and the network",
      );
    if (job.wrappedStages !== wrapped) {
      wrapped = job.wrappedStages;
      ctx.out.note(`job ${jobId}: ${job.statusName}, ${wrapped}/${job.numStages} stages wrapped`);
    }
    if (job.statusName !== "open") return;
    const head = await h.client.getBlock({ blockTag: "latest" });
    if (head.timestamp > job.deadline) {
      ctx.out.note(`job ${jobId}: its deadline passed unfinished (pot job refund ${jobId} returns the fee)`);
      return;
    }
    await nudger.waiting(head.number);
    await new Promise((r) => setTimeout(r, Math.max(ctx.config.pollingIntervalMs, 1_000)));
  }
}

/** Registers `pot job status`. */
export function registerStatusCommand(job: Command, context: () => CliContext): void {
  job
    .command("status")
    .description(
      "stages, declarants, builders, committees, rewards and (with --loss) the loss curve on the test set",
    )
    .argument("<jobId>", "job id")
    .option("--loss", "evaluate S_0 and every wrapped stage on the job's test set")
    .option("--wait", "first wait until the job is finished or expired, noting each wrapped stage")
    .action(async (jobIdText: string, o: { loss?: boolean; wait?: boolean }) => {
      const ctx = context();
      const jobId = parseJobId(jobIdText);
      const session = await ctx.readSession();
      const { formatStatus, jobStatus } = employerStatus();
      if (o.wait === true) await waitForJobEnd(ctx, handleOf(session), jobId);
      const progress = terminalProgress(!ctx.config.json && o.loss === true);
      const status = await withCachedStore(
        ctx,
        (store) => {
          progress.step("reading the job from the chain and IPFS");
          return jobStatus(handleOf(session), store, jobId, {
            evaluate: o.loss === true,
            onEvaluated: (p, done, total) => progress.count("evaluate", done, total, `S_${p.stage}`),
          });
        },
        session,
        progress,
        jobId,
      );
      progress.stop();
      ctx.out.result(status, () => formatStatus(status));
    });
}
