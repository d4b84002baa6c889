/**
 * `pot verify`: audits a job's lineage and re-executes its stages (docs/verifier.md), or checks a model
 * certificate (`--certificate`, docs/certificate.md).
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import type { Sample } from "../../../verify";
import type { CliContext } from "../../context";
import { CliUsageError } from "../../errors";
import { verifier } from "../../lazy";
import { terminalProgress } from "../../progress";
import { handleOf, parseIntOption, parseJobId } from "../../args";
import { withStore } from "./store";

/** Registers `pot verify`. */
export function registerVerifyCommand(program: Command, context: () => CliContext): void {
  program
    .command("verify")
    .description(
      "audit a job's lineage from the chain and IPFS and re-execute stages bit for bit, or check a model certificate (--certificate)",
    )
    .argument("[jobId]", "job id (not with --certificate)")
    .option("--all", "re-execute every wrapped stage (default)")
    .option("--sample <n>", "re-execute n stages chosen uniformly at random")
    .option("--fraction <f>", "re-execute a fraction f of the stages")
    .option("--seed <n>", "seed of the sample (default random; printed)")
    .option(
      "--segments <K>",
      "re-execute K random step-checkpoint segments of each sampled stage instead of the whole stage",
    )
    .option("--allow-unfinished", "exit 0 for a job with no wrapped stage (nothing trained to verify)")
    .option(
      "--certificate <dir>",
      "check the certificate.json and model files pot job fetch wrote in <dir>: offline, then against the chain",
    )
    .option("--offline", "with --certificate: no chain check (signatures, hash chain and weights only)")
    .action(
      async (
        jobIdText: string | undefined,
        o: {
          all?: boolean;
          sample?: string;
          fraction?: string;
          seed?: string;
          segments?: string;
          allowUnfinished?: boolean;
          certificate?: string;
          offline?: boolean;
        },
      ) => {
        const ctx = context();
        if (o.certificate !== undefined) {
          if (jobIdText !== undefined)
            throw new CliUsageError(
              "Give a job id or --certificate, not both",
              "pot verify --certificate <dir>",
            );
          const dir = resolve(o.certificate);
          const { checkCertificate, checkCertificateOnChain, formatCertificateSummary, readCertificate } =
            verifier();
          let summary = await checkCertificate(dir);
          if (o.offline !== true) {
            await checkCertificateOnChain(handleOf(await ctx.readSession()), readCertificate(dir));
            summary = { ...summary, onChain: true };
          }
          ctx.out.result(summary, () => formatCertificateSummary(dir, summary));
          return;
        }
        if (jobIdText === undefined)
          throw new CliUsageError(
            "Give a job id, or --certificate <dir>",
            "pot verify 3, or pot verify --certificate model",
          );
        const jobId = parseJobId(jobIdText);
        let sample: Sample = { kind: "all" };
        if (o.sample !== undefined) sample = { kind: "count", count: parseIntOption("sample", o.sample, 0)! };
        if (o.fraction !== undefined) {
          const f = Number(o.fraction);
          if (!(f >= 0 && f <= 1))
            throw new CliUsageError(`Invalid --fraction "${o.fraction}"`, "Give a number from 0 to 1");
          sample = { kind: "fraction", fraction: f };
        }
        const session = await ctx.readSession();
        const { formatReport, verifyJob } = verifier();
        const progress = terminalProgress(!ctx.config.json);
        const report = await withStore(
          ctx,
          (store) => {
            progress.step("reading the job from the chain and IPFS");
            return verifyJob(handleOf(session), store, jobId, {
              sample,
              seed: parseIntOption("seed", o.seed, 0),
              segments: parseIntOption("segments", o.segments, 1),
              onProgress: (p) =>
                p.phase === "lineage"
                  ? progress.step(`checking the lineage: stage ${p.stage}`)
                  : progress.count("re-execute", p.done, p.total, `stage ${p.stage}`),
            });
          },
          session,
          progress,
          jobId,
        );
        progress.stop();
        ctx.out.result(report, () => formatReport(report));
        const code = verifier().verifyExitCode(report, o.allowUnfinished === true);
        if (code !== 0) process.exitCode = code;
      },
    );
}
