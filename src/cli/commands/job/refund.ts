/**
 * `pot job refund`: the unspent fee of a job that expired unfinished (docs/employer.md).
 */
import type { Command } from "commander";
import type { Address } from "viem";
import { formatEth } from "../../amounts";
import type { CliContext } from "../../context";
import { employer } from "../../lazy";
import { handleOf, parseJobId } from "../../args";

/** Registers `pot job refund`. */
export function registerRefundCommand(job: Command, context: () => CliContext): void {
  job
    .command("refund")
    .description("reclaim the unspent fee of a job that expired unfinished (expireJob + withdraw)")
    .argument("<jobId>", "job id")
    .action(async (jobIdText: string) => {
      const ctx = context();
      const jobId = parseJobId(jobIdText);
      const session = await ctx.signingSession();
      const r = await employer().refundJob(handleOf(session), session.sender, jobId);
      ctx.out.result(r, () => [
        `Job ${jobId}: ${formatEth(r.unspent)} unspent escrow credited; withdrew ${formatEth(r.withdrawn)} to ${session.sender.address as Address}`,
      ]);
    });
}
