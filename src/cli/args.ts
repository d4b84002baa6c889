/** Argument parsing and session helpers shared by the `pot` commands. */
import type { LedgerHandle } from "../chain/ledger-reads";
import type { PotSession } from "../chain/contracts";
import { CliUsageError } from "./errors";
import { chainContracts } from "./lazy";

/** An integer option of at least `min`, or a usage error; undefined when not given. */
export function parseIntOption(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v < min)
    throw new CliUsageError(`Invalid --${name} "${text}"`, `Give an integer >= ${min}`);
  return v;
}

/**
 * The read handle of a session's protocol contracts; `DeploymentNotFoundError` (saying to run pot deploy)
 * when the deployment has only the token and staking contracts.
 */
export function handleOf(session: PotSession): LedgerHandle {
  return {
    client: session.publicClient,
    suite: chainContracts().requireSuite(session.contracts),
    staking: session.contracts.staking,
    fromBlock: session.contracts.deployment.deployBlock ?? 0n,
  };
}

/** A job id argument; job 0 (the dummy job) only with `allowDummy` (it has rewards but no employer). */
export function parseJobId(text: string, allowDummy = false): bigint {
  if (!/^\d+$/.test(text) || (text === "0" && !allowDummy))
    throw new CliUsageError(
      `Invalid job id "${text}"`,
      allowDummy
        ? "Give a job id such as 1 (0 is the dummy job)"
        : "Give the number pot job create printed (job 0 is the dummy job)",
    );
  return BigInt(text);
}
