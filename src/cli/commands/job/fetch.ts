/**
 * `pot job fetch`: the trained model, checked against the chain (docs/employer.md).
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import type { CliContext } from "../../context";
import { employer, verifier } from "../../lazy";
import { terminalProgress } from "../../progress";
import { handleOf, parseIntOption, parseJobId } from "../../args";
import { withStore } from "./store";

/** Registers `pot job fetch`. */
export function registerFetchCommand(job: Command, context: () => CliContext): void {
  job
    .command("fetch")
    .description(
      "download the last wrapped S, check it against the chain, write model.json + weights.bin (TensorFlow.js layers model)",
    )
    .argument("<jobId>", "job id")
    .option("--out <dir>", "output directory", "model")
    .option("--stage <n>", "a given stage instead of the last wrapped one (0 = S_0)")
    .option("--allow-unfinished", "write the untrained S_0 of a job with no wrapped stage (exit 0)")
    .option("--force", "overwrite an --out folder that already holds files")
    .action(
      async (
        jobIdText: string,
        o: { out: string; stage?: string; allowUnfinished?: boolean; force?: boolean },
      ) => {
        const ctx = context();
        const jobId = parseJobId(jobIdText);
        const session = await ctx.readSession();
        const progress = terminalProgress(!ctx.config.json);
        const fetched = await withStore(
          ctx,
          async (store) => {
            progress.step(`downloading ${o.stage === undefined ? "the last wrapped state" : `S_${o.stage}`}`);
            const model = await employer().fetchModel(handleOf(session), store, jobId, resolve(o.out), {
              stage: parseIntOption("stage", o.stage, 0),
              allowUnfinished: o.allowUnfinished === true,
              overwrite: o.force === true,
            });
            progress.step("writing certificate.json (the stages, headers and committee attestations)");
            const { path, certificate } = await verifier().certifyModel(handleOf(session), store, model);
            return { ...model, certificate: path, metric: certificate.metric };
          },
          session,
          progress,
          jobId,
        );
        progress.stop();
        const wrapped = `${fetched.wrappedStages} of ${fetched.numStages} stages wrapped`;
        ctx.out.result(fetched, () => [
          `Wrote ${fetched.modelJson} and ${fetched.weightsBin}: S_${fetched.stage} of job ${jobId} ` +
            `(${wrapped}${fetched.final ? ", final" : fetched.stage === 0 ? ", UNTRAINED" : ", unfinished"}), ` +
            `${fetched.step} steps, H(S) ${fetched.stateHash} checked`,
          `Wrote ${fetched.certificate}${fetched.metric === null ? "" : ` (test accuracy ${(fetched.metric.accuracy * 100).toFixed(2)}% on ${fetched.metric.samples} samples)`}: check it with pot verify --certificate ${fetched.dir}`,
          ...employer().loadModelHint(fetched.dir),
        ]);
      },
    );
}
