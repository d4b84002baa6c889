/**
 * Reads the deployments file written by `pot deploy` (deploy/deploy.ts): the addresses of the PoT
 * contracts on one chain. The reader accepts `{ chainId, contracts: { PoTToken: { address } | "0x..", ... } }`
 * and the short names `token`, `staking`, `escrow`, `stages`, `committee`, `disputes` (what `pot deploy`
 * writes), at the top level or under `contracts`; `chainId` may be a number or a decimal string. A file of
 * the single-ledger version (a `ledger` entry) is refused with a hint to redeploy.
 */
import { readFileSync } from "node:fs";
import { getAddress, isAddress, type Address, type PublicClient } from "viem";
import type { PoTContractName } from "./artifacts";
import { DeploymentNotFoundError, StaleDeploymentError } from "./errors";

/** Addresses of a PoT deployment; contracts not deployed (yet) are absent. */
export interface Deployment {
  readonly path: string;
  /** Chain id recorded in the file, if any. */
  readonly chainId?: number;
  /** Block of the first deployment transaction (where event watching can start), if recorded. */
  readonly deployBlock?: bigint;
  readonly contracts: Partial<Record<PoTContractName, Address>>;
}

const ALIASES: Record<string, PoTContractName> = {
  PoTToken: "PoTToken",
  token: "PoTToken",
  PoTStaking: "PoTStaking",
  staking: "PoTStaking",
  PoTEscrow: "PoTEscrow",
  escrow: "PoTEscrow",
  PoTStages: "PoTStages",
  stages: "PoTStages",
  PoTCommittee: "PoTCommittee",
  committee: "PoTCommittee",
  PoTDisputes: "PoTDisputes",
  disputes: "PoTDisputes",
};

/** Entries of deployments files written before the ledger was split (issue 12). */
const RETIRED = new Set(["PoTLedger", "ledger"]);

/** Reads and checks the deployments file. Throws `DeploymentNotFoundError` ("run pot deploy first"). */
export function readDeployment(path: string, expectedChainId?: number): Deployment {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DeploymentNotFoundError(
      path,
      code === "ENOENT" ? "the file does not exist" : "the file is not valid JSON",
    );
  }
  if (parsed === null || typeof parsed !== "object")
    throw new DeploymentNotFoundError(path, "not a JSON object");
  const root = parsed as Record<string, unknown>;
  const chainId =
    typeof root.chainId === "number"
      ? root.chainId
      : typeof root.chainId === "string"
        ? Number(root.chainId)
        : undefined;
  if (expectedChainId !== undefined && chainId !== undefined && chainId !== expectedChainId) {
    throw new DeploymentNotFoundError(path, `it is for chain ${chainId}, not ${expectedChainId}`);
  }
  const contracts: Partial<Record<PoTContractName, Address>> = {};
  const sections = [
    root,
    typeof root.contracts === "object" && root.contracts !== null ? root.contracts : {},
  ];
  for (const section of sections) {
    for (const [key, value] of Object.entries(section as Record<string, unknown>)) {
      if (RETIRED.has(key))
        throw new DeploymentNotFoundError(
          path,
          "it is a deployment of the single PoTLedger, which this version no longer speaks to (run pot deploy --force)",
        );
      const name = ALIASES[key];
      if (name === undefined) continue;
      const address =
        typeof value === "string"
          ? value
          : typeof value === "object" && value !== null
            ? (value as { address?: unknown }).address
            : undefined;
      if (typeof address !== "string" || !isAddress(address, { strict: false })) {
        throw new DeploymentNotFoundError(path, `${key} has no valid address`);
      }
      contracts[name] = getAddress(address);
    }
  }
  const deployBlock =
    typeof root.deployBlock === "number" ||
    (typeof root.deployBlock === "string" && /^\d+$/.test(root.deployBlock))
      ? BigInt(root.deployBlock)
      : undefined;
  return { path, chainId, deployBlock, contracts };
}

/** The address of `name` in the deployment, or a `DeploymentNotFoundError` naming it. */
export function requireAddress(deployment: Deployment, name: PoTContractName): Address {
  const address = deployment.contracts[name];
  if (address === undefined) throw new DeploymentNotFoundError(deployment.path, `it has no ${name} address`);
  return address;
}

/**
 * Checks that the chain behind `client` holds the deployment: code at every address and the deploy block
 * at or below the head. Throws `StaleDeploymentError` ("npx pot deploy") otherwise, e.g. after a restart
 * of the local node, instead of the misleading reverts and empty reads a forgotten deployment gives later.
 */
export async function assertDeploymentLive(client: PublicClient, deployment: Deployment): Promise<void> {
  const reason = await staleReason(client, deployment);
  if (reason !== undefined) throw new StaleDeploymentError(deployment.path, reason);
}

/** Why the chain does not hold the deployment, or undefined when it does. */
export async function staleReason(client: PublicClient, deployment: Deployment): Promise<string | undefined> {
  const entries = Object.entries(deployment.contracts) as [PoTContractName, Address][];
  const [head, ...codes] = await Promise.all([
    client.getBlockNumber({ cacheTime: 0 }),
    ...entries.map(([, address]) => client.getCode({ address })),
  ]);
  const missing = entries
    .filter((_, i) => codes[i] === undefined || codes[i] === "0x")
    .map(([n, a]) => `${n} ${a}`);
  if (missing.length > 0) return `no contract code at ${missing.join(", ")}`;
  if (deployment.deployBlock !== undefined && deployment.deployBlock > head)
    return `it was deployed at block ${deployment.deployBlock} but the chain's head is block ${head}`;
  return undefined;
}
