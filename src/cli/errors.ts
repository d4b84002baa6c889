/** How the `pot` command reports failures: one line with what went wrong and what to do. */
import { ConfigError } from "../config/errors";
import { ChainError, shortMessage } from "../chain/errors";

/** A bad argument of a command; the message says what is expected. */
export class CliUsageError extends Error {
  override readonly name = "CliUsageError";
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(`${message}. ${hint}`);
  }
}

/**
 * The one-line report of an error: our typed errors already carry what to do; anything else gets its first
 * line and a pointer to --verbose. With `verbose`, the stack follows.
 */
export function formatCliError(error: unknown, verbose: boolean): string {
  // Agents' errors that say what to do carry a `hint` (PreflightError, FetchRefusedError): matched by shape,
  // so the CLI's error path loads no agent module.
  const hinted = error instanceof Error && typeof (error as { hint?: unknown }).hint === "string";
  const known = hinted || error instanceof ConfigError || error instanceof ChainError;
  const line = known
    ? (error as Error).message
    : `${shortMessage(error)}${verbose ? "" : " (run again with --verbose for details)"}`;
  const out = `pot: ${line.replace(/\s*\n\s*/g, " ")}`;
  if (!verbose) return out;
  const stack = error instanceof Error && error.stack ? `\n${error.stack}` : "";
  const cause =
    error instanceof Error && error.cause !== undefined
      ? `\ncaused by: ${String((error.cause as Error)?.stack ?? error.cause)}`
      : "";
  return out + stack + cause;
}
