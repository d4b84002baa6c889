/** Loads contract ABIs (and bytecode) from the Hardhat artifacts written by `npx hardhat compile`. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Abi } from "viem";
import { ContractsNotCompiledError } from "./errors";

/** The parts of a Hardhat artifact the tooling uses. */
export interface ContractArtifact {
  readonly contractName: string;
  readonly abi: Abi;
  readonly bytecode: `0x${string}`;
}

/** The contracts of a PoT deployment, by artifact name, with their source file. */
export const POT_CONTRACT_SOURCES = {
  PoTToken: "PoTToken.sol",
  PoTStaking: "PoTStaking.sol",
  PoTEscrow: "escrow/PoTEscrow.sol",
  PoTStages: "stages/PoTStages.sol",
  PoTCommittee: "committee/PoTCommittee.sol",
  PoTDisputes: "disputes/PoTDisputes.sol",
} as const;

/** A contract name of a PoT deployment. */
export type PoTContractName = keyof typeof POT_CONTRACT_SOURCES;

const cache = new Map<string, ContractArtifact>();

/**
 * Reads `artifacts/contracts/<sourceFile>/<name>.json`. Throws `ContractsNotCompiledError` (saying to run
 * `npx hardhat compile`) when it is missing or malformed.
 */
export function loadArtifact(
  artifactsDir: string,
  name: string,
  sourceFile = `${name}.sol`,
): ContractArtifact {
  const path = join(artifactsDir, "contracts", sourceFile, `${name}.json`);
  const hit = cache.get(path);
  if (hit) return hit;
  let parsed: { contractName?: unknown; abi?: unknown; bytecode?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new ContractsNotCompiledError(name, path);
  }
  if (!Array.isArray(parsed.abi) || typeof parsed.bytecode !== "string")
    throw new ContractsNotCompiledError(name, path);
  const artifact: ContractArtifact = {
    contractName: name,
    abi: parsed.abi as Abi,
    bytecode: parsed.bytecode as `0x${string}`,
  };
  cache.set(path, artifact);
  return artifact;
}

/** The artifact of a PoT contract. */
export function loadPoTArtifact(artifactsDir: string, name: PoTContractName): ContractArtifact {
  return loadArtifact(artifactsDir, name, POT_CONTRACT_SOURCES[name]);
}

/**
 * Every custom error of the given ABIs in one ABI, de-duplicated by signature: a call into one contract can
 * revert with another's error (e.g. staking's `stake` with the token's `ERC20InsufficientAllowance`).
 */
export function errorsAbi(...abis: Abi[]): Abi {
  const seen = new Set<string>();
  const out: Abi[number][] = [];
  for (const abi of abis) {
    for (const item of abi) {
      if (item.type !== "error") continue;
      const key = `${item.name}(${item.inputs.map((i) => i.type).join(",")})`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(item);
    }
  }
  return out;
}
