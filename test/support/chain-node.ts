/**
 * Test helpers for the chain room: a real `hardhat node` child process on 127.0.0.1 (a free port, no
 * compilation) and a token + staking deployment made with ethers from the Hardhat artifacts.
 */
import { writeFileSync } from "node:fs";
import { ContractFactory, JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { loadPoTArtifact } from "../../src/chain/artifacts";
import { PROJECT_ROOT } from "../../src/config/load";
import { startLocalNode, type DevAccount } from "../../src/cli/commands/node";
import { join } from "node:path";
import type { NodeImpl } from "../../src/devnet/node-impl";

/** A running local node (hardhat or anvil). */
export interface TestNode {
  readonly url: string;
  readonly accounts: DevAccount[];
  stop(): Promise<void>;
}

/** Starts `hardhat node --hostname 127.0.0.1 --port 0` (or anvil); call `stop()` in `after`. */
export async function startTestNode(impl: NodeImpl = "hardhat"): Promise<TestNode> {
  const node = await startLocalNode(0, undefined, { impl });
  return {
    url: node.url,
    accounts: node.accounts,
    async stop() {
      if (node.child.exitCode === null) node.child.kill("SIGTERM");
      await node.exited;
    },
  };
}

/** Addresses of a token + staking deployment. */
export interface TestDeployment {
  readonly token: string;
  readonly staking: string;
  readonly deployBlock: number;
}

/**
 * Deploys PoTToken (faucet on, 10,000 POT per call, 60 s cooldown, 1,000,000 POT faucet cap, 1,000,000 POT
 * genesis to `genesis`) and PoTStaking (unbonding 7 days, coin age cap 30 days, 32-block draw epochs, 10%
 * slash bounty) from `deployerKey`, with ethers.
 */
export async function deployTokenAndStaking(
  url: string,
  deployerKey: string,
  genesis: string[] = [],
): Promise<TestDeployment> {
  const provider = new JsonRpcProvider(url, 31337, { cacheTimeout: -1, staticNetwork: true });
  const signer = new NonceManager(new Wallet(deployerKey, provider));
  const artifactsDir = join(PROJECT_ROOT, "artifacts");
  const tokenA = loadPoTArtifact(artifactsDir, "PoTToken");
  const stakingA = loadPoTArtifact(artifactsDir, "PoTStaking");
  const e18 = 10n ** 18n;
  const token = await new ContractFactory(tokenA.abi as never, tokenA.bytecode, signer).deploy(
    genesis,
    genesis.map(() => 1_000_000n * e18),
    true,
    10_000n * e18,
    60n,
    1_000_000n * e18,
  );
  const receipt = await token.deploymentTransaction()!.wait();
  const staking = await new ContractFactory(stakingA.abi as never, stakingA.bytecode, signer).deploy(
    await token.getAddress(),
    7n * 24n * 3600n,
    30n * 24n * 3600n,
    32n,
    1000n,
  );
  await staking.waitForDeployment();
  const out = {
    token: await token.getAddress(),
    staking: await staking.getAddress(),
    deployBlock: receipt!.blockNumber,
  };
  provider.destroy();
  return out;
}

/** Writes a deployments file in the format of deploy/deploy.ts (token and staking only). */
export function writeTestDeployments(path: string, d: TestDeployment): void {
  writeFileSync(
    path,
    JSON.stringify(
      {
        network: "localhost",
        chainId: "31337",
        deployBlock: d.deployBlock,
        contracts: { token: d.token, staking: d.staking },
      },
      null,
      2,
    ),
  );
}
