/**
 * `pot deploy`: deploys token, staking, escrow, stages, committee and disputes with `deploySuite` of
 * deploy/suite.ts and writes the deployments file the other commands read.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { loadPoTArtifact } from "../../chain/artifacts";
import { ContractsNotCompiledError } from "../../chain/errors";
import { PROJECT_ROOT } from "../../config/load";
import type { PotConfig } from "../../config/types";
import type { Output } from "../output";
import type { CliContext } from "../context";
import { CliUsageError } from "../errors";
import { chainClients, chainDeployments } from "../lazy";

const E18 = 10n ** 18n;

/** Registers `pot deploy`. */
export function registerDeployCommand(program: Command, context: () => CliContext): void {
  program
    .command("deploy")
    .description(
      "deploy the PoT contracts (token, staking, escrow, stages, committee, disputes) and write the deployments file",
    )
    .option("--genesis <amount>", "POT of genesis allocation per holder (whole POT)", "1000000")
    .option("--force", "overwrite an existing deployments file")
    .action(async (opts: { genesis: string; force?: boolean }) => {
      const ctx = context();
      const config = ctx.config;
      if (!/^\d+$/.test(opts.genesis)) {
        throw new CliUsageError(
          `Invalid --genesis "${opts.genesis}"`,
          "Give a whole number of POT, e.g. 1000000",
        );
      }
      const { assertChainId, createPotPublicClient } = chainClients();
      const client = createPotPublicClient(config);
      await assertChainId(client, config);
      if (existsSync(config.deploymentsFile) && !opts.force) {
        // A file whose contracts the chain does not hold (the local node was restarted) is replaced.
        const { readDeployment, staleReason } = chainDeployments();
        const stale = await staleReason(client, readDeployment(config.deploymentsFile, config.chainId)).catch(
          () => undefined,
        );
        if (stale === undefined)
          throw new CliUsageError(
            `${config.deploymentsFile} already exists and its contracts are on this chain`,
            "Pass --force to deploy again and overwrite it (the old contracts stay on-chain but are forgotten)",
          );
        ctx.out.note(`Replacing ${config.deploymentsFile}: ${stale}`);
      }
      ensureCompiled(config, ctx.out);

      // deploy/deploy.ts imports the Hardhat runtime, which loads hardhat.config.ts from the project root
      // and, when "testnet" appears in argv, insists on POT_DEPLOYER_KEY. Our signer is the pot wallet, so
      // the runtime is loaded on its in-process network with a neutral argv.
      const argv = process.argv;
      const cwd = process.cwd();
      process.env.HARDHAT_NETWORK = "hardhat";
      process.argv = argv.slice(0, 2);
      process.chdir(PROJECT_ROOT);
      let deployModule: typeof import("../../../deploy/deploy");
      try {
        // Compiled from dist/, nothing can load hardhat.config.ts yet: hardhat/register registers ts-node
        // for it (under ts-node, `.ts` is registered already and the runtime loads the config itself).
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        if (!(".ts" in require.extensions)) require("hardhat/register");
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        deployModule = require("../../../deploy/deploy") as typeof import("../../../deploy/deploy");
      } finally {
        process.argv = argv;
        process.chdir(cwd);
      }
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { JsonRpcProvider, Wallet } = require("ethers") as typeof import("ethers");
      const provider = new JsonRpcProvider(config.rpcUrl, config.chainId, {
        cacheTimeout: -1,
        staticNetwork: true,
      });
      let signer: import("ethers").Signer;
      const holders: string[] = [];
      if (config.wallet.kind === "none") {
        if (!config.isLocal) {
          throw new CliUsageError("pot deploy needs a funded account", "Pass --keystore or --private-key");
        }
        const accounts = (await provider.send("eth_accounts", [])) as string[];
        if (accounts.length === 0)
          throw new CliUsageError("The node has no unlocked accounts", "Pass --private-key");
        signer = await provider.getSigner(accounts[0]);
        holders.push(...accounts.slice(0, 10));
      } else {
        const wallet = new Wallet(await ctx.privateKey(), provider);
        signer = wallet;
        holders.push(wallet.address);
        if (config.isLocal) {
          const accounts = (await provider.send("eth_accounts", [])) as string[];
          holders.push(
            ...accounts.slice(0, 9).filter((a) => a.toLowerCase() !== wallet.address.toLowerCase()),
          );
        }
      }
      const genesis = holders.map((holder) => ({ holder, amount: BigInt(opts.genesis) * E18 }));
      // local or testnet parameters only (both enable the faucet); any other network throws
      const params = deployModule.paramsForNetwork(config.network, genesis);
      ctx.out.note(`Deploying PoT to ${config.network} (${config.rpcUrl})...`);
      const deployment = await deployModule.deploySuite(signer, params);
      mkdirSync(dirname(config.deploymentsFile), { recursive: true });
      const written = resolve(
        deployModule.writeDeployment(config.network, deployment, params, dirname(config.deploymentsFile)),
      );
      if (written !== resolve(config.deploymentsFile)) renameSync(written, config.deploymentsFile);
      provider.destroy();
      ctx.out.result(
        {
          network: config.network,
          chainId: deployment.chainId,
          deployBlock: deployment.deployBlock,
          contracts: deployment.addresses,
          deploymentsFile: config.deploymentsFile,
          genesis: genesis.map((g) => ({ holder: g.holder, amount: g.amount })),
        },
        () => [
          `PoT deployed on ${config.network} (chain ${deployment.chainId}) at block ${deployment.deployBlock}`,
          ...Object.entries(deployment.addresses).map(([name, address]) => `  ${name.padEnd(9)} ${address}`),
          `Wrote ${config.deploymentsFile}`,
          `Genesis: ${opts.genesis} POT to each of ${genesis.length} holder(s)`,
        ],
      );
    });
}

/**
 * Loads the artifacts of the deployed contracts; when they are missing from the project's own artifacts
 * folder (a fresh clone), compiles first with `hardhat compile` (solc-js, no download; ~30 s on 2 cores).
 */
function ensureCompiled(config: PotConfig, out: Output): void {
  const names = ["PoTToken", "PoTStaking", "PoTEscrow", "PoTStages", "PoTCommittee", "PoTDisputes"] as const;
  try {
    for (const name of names) loadPoTArtifact(config.artifactsDir, name);
    return;
  } catch (error) {
    const own = resolve(config.artifactsDir) === resolve(PROJECT_ROOT, "artifacts");
    if (!(error instanceof ContractsNotCompiledError) || !own) throw error;
  }
  out.note("The contracts are not compiled yet: compiling them (npx hardhat compile)...");
  const cli = require.resolve("hardhat/internal/cli/cli.js", { paths: [PROJECT_ROOT] });
  const env = { ...process.env };
  delete env.HARDHAT_NETWORK;
  const r = spawnSync(process.execPath, [cli, "compile", "--quiet"], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ["ignore", 2, 2], // stdout stays one JSON document with --json
  });
  if (r.status !== 0)
    throw new CliUsageError(
      `Compiling the contracts failed (exit ${r.status ?? r.signal})`,
      "Run npx hardhat compile in the project folder and fix what it reports",
    );
  for (const name of names) loadPoTArtifact(config.artifactsDir, name);
}

/** Whether deploy/deploy.ts is present (the command is registered only then). */
export function deployScriptPresent(): boolean {
  return existsSync(join(PROJECT_ROOT, "deploy", "deploy.ts"));
}
