/** How the `pot` command reports failures: one line with what went wrong and what to do. */
import { shortMessage } from "../chain/errors";
import { PotError } from "../errors";

/** A bad argument of a command; the message says what is expected. */
export class CliUsageError extends PotError {
  declare readonly hint: string;
  constructor(message: string, hint: string) {
    super(`${message}. ${hint}`, { hint, code: "USAGE" });
  }
}

/**
 * The one-line report of an error: our typed errors already carry what to do; anything else gets its first
 * line and a pointer to --verbose. With `verbose`, the stack follows.
 */
export function formatCliError(error: unknown, verbose: boolean): string {
  // Every error raised on purpose is a PotError: its message says what went wrong and what to do, and its
  // code is stable. Agents' errors that still predate the base carry a `hint` and are matched by shape.
  const hinted = error instanceof Error && typeof (error as { hint?: unknown }).hint === "string";
  const line =
    error instanceof PotError
      ? `${withHint(error)} [${error.code}]`
      : hinted
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

/** The message, with the hint appended when the message does not already end with it. */
function withHint(error: PotError): string {
  if (error.hint === undefined || error.message.includes(error.hint)) return error.message;
  return `${error.message}. ${error.hint}`;
}
