/**
 * Deploys the PoT contracts (token, staking, escrow, stages, committee, disputes) and wires them together.
 *
 *   npx hardhat run deploy/deploy.ts --network <hardhat|localhost|testnet>
 *
 * writes deployments/<network>-<chainId>.json (addresses, chain id, deploy block, parameters), the file
 * the agents read. `pot deploy` does the same with the pot wallet. Parameters: deploy/params.ts and
 * docs/contracts/suite.md. `localParams()` is fast (small windows, kernels always pass, faucet on);
 * `testnetParams()` is realistic (faucet on, capped). These two are the only parameter sets that enable
 * the faucet, and `main` (and `pot deploy`) deploy only to hardhat, localhost and testnet
 * (`paramsForNetwork`): a deployment where POT has value (mainnet) must pass its own params with
 * `token.faucet: false` to `deploySuite` (the faucet is then off for good).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ethers, network } from "hardhat";
import { deploySuite, paramsForNetwork, type SuiteDeployment, type SuiteParams } from "./suite";

export * from "./suite";

const E18 = 10n ** 18n;

function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

/** Writes deployments/<network>-<chainId>.json and returns its path. */
export function writeDeployment(
  networkName: string,
  d: Pick<SuiteDeployment, "addresses" | "chainId" | "deployBlock">,
  params: SuiteParams,
  dir = "deployments",
): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${networkName}-${d.chainId}.json`);
  const body = {
    network: networkName,
    chainId: d.chainId.toString(),
    deployBlock: d.deployBlock,
    contracts: d.addresses,
    params: jsonSafe(params),
    deployedAt: new Date().toISOString(),
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}

async function main(): Promise<void> {
  const [deployer, ...others] = await ethers.getSigners();
  const isLocal = network.name === "hardhat" || network.name === "localhost";
  // Local networks: genesis to the first 10 accounts; testnet: to the deployer only (it funds miners).
  const holders = isLocal ? [deployer, ...others.slice(0, 9)] : [deployer];
  const genesis = holders.map((s) => ({ holder: s.address, amount: 1_000_000n * E18 }));
  const params = paramsForNetwork(network.name, genesis);
  const d = await deploySuite(deployer, params);
  const file = writeDeployment(network.name, d, params);
  console.log(`PoT deployed on ${network.name} (chain ${d.chainId}) at block ${d.deployBlock}`);
  for (const [name, address] of Object.entries(d.addresses)) console.log(`  ${name.padEnd(9)} ${address}`);
  console.log(`wrote ${file}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
