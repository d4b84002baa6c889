/** Argument parsing and session helpers shared by the `pot` commands. */
import type { LedgerHandle } from "../chain/job-events";
import type { PotSession } from "../chain/contracts";
import { CliUsageError } from "./errors";

/** An integer option of at least `min`, or a usage error; undefined when not given. */
export function parseIntOption(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v < min)
    throw new CliUsageError(`Invalid --${name} "${text}"`, `Give an integer >= ${min}`);
  return v;
}

/** The ledger handle of a session, or a usage error when the deployment has no ledger. */
export function handleOf(session: PotSession): LedgerHandle {
  if (session.contracts.ledger === undefined) {
    throw new CliUsageError(
      `The deployment ${session.contracts.deployment.path} has no PoTLedger`,
      "Deploy the ledger with pot deploy",
    );
  }
  return {
    client: session.publicClient,
    ledger: session.contracts.ledger,
    fromBlock: session.contracts.deployment.deployBlock ?? 0n,
  };
}
