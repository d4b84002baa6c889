/**
 * `pot job create|serve|status|fetch|refund` and `pot verify`: thin commands over src/employer and
 * src/verify (docs/employer.md, docs/verifier.md), one file per command.
 */
import type { Command } from "commander";
import type { CliContext } from "../../context";
import { registerCreateCommand } from "./create";
import { registerFetchCommand } from "./fetch";
import { registerRefundCommand } from "./refund";
import { registerServeCommand } from "./serve";
import { registerStatusCommand } from "./status";
import { registerVerifyCommand } from "./verify";

/** Registers `pot job ...` and `pot verify`. */
export function registerJobCommands(program: Command, context: () => CliContext): void {
  const job = program
    .command("job")
    .description("employer: create, serve, watch, fetch and refund training jobs");
  registerCreateCommand(job, context);
  registerServeCommand(job, context);
  registerStatusCommand(job, context);
  registerFetchCommand(job, context);
  registerRefundCommand(job, context);
  registerVerifyCommand(program, context);
}
