/**
 * Hardhat configuration for Proof of Training.
 *
 * Two things differ from a stock Hardhat 2 project, both because these machines (and many users')
 * reach only the npm registry:
 *  - solc is the npm `solc` package (solc-js), never a download. Its version must equal
 *    SOLIDITY_VERSION exactly, or compilation stops with an error saying how to fix it.
 *  - the public testnet is configured from environment variables only (POT_RPC_URL,
 *    POT_DEPLOYER_KEY); using it without them fails with a clear message.
 */
import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig, NetworkUserConfig } from "hardhat/types";
import "@nomicfoundation/hardhat-toolbox";

export const SOLIDITY_VERSION = "0.8.28";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD).setAction(async (args: { solcVersion: string }) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solcPackageVersion: string = require("solc/package.json").version;
  if (args.solcVersion !== SOLIDITY_VERSION || solcPackageVersion !== SOLIDITY_VERSION) {
    throw new Error(
      `Solidity ${args.solcVersion} was requested and the npm package solc is ${solcPackageVersion}, ` +
        `but this project compiles only with solc-js ${SOLIDITY_VERSION} (no compiler download). ` +
        `Pin "solc": "${SOLIDITY_VERSION}" in package.json and run npm ci.`,
    );
  }
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: SOLIDITY_VERSION,
    longVersion: `${SOLIDITY_VERSION}+commit.7893614a`,
  };
});

/** The public testnet, from the environment only; refuses to start half-configured. */
function testnetFromEnv(): NetworkUserConfig {
  const url = process.env.POT_RPC_URL;
  const key = process.env.POT_DEPLOYER_KEY;
  const wanted = process.argv.includes("testnet") || process.env.HARDHAT_NETWORK === "testnet";
  if (wanted && (!url || !key)) {
    throw new Error(
      "The 'testnet' network needs POT_RPC_URL (an HTTPS JSON-RPC endpoint of the chain) and " +
        "POT_DEPLOYER_KEY (the 0x-prefixed private key of a funded deployer). Set both and retry.",
    );
  }
  return {
    url: url ?? "http://127.0.0.1:0",
    accounts: key ? [key] : [],
    chainId: process.env.POT_CHAIN_ID ? Number(process.env.POT_CHAIN_ID) : undefined,
  };
}

const config: HardhatUserConfig = {
  solidity: {
    compilers: [
      {
        version: SOLIDITY_VERSION,
        settings: {
          optimizer: { enabled: true, runs: 10_000 },
          viaIR: true,
          evmVersion: "cancun",
        },
      },
    ],
    // PoTStages sits near its 20 KB size target: fewer optimizer runs trade a little gas for size.
    overrides: {
      "contracts/stages/PoTStages.sol": {
        version: SOLIDITY_VERSION,
        settings: { optimizer: { enabled: true, runs: 50 }, viaIR: true, evmVersion: "cancun" },
      },
    },
  },
  networks: {
    hardhat: {
      // Deterministic accounts; plenty of them for multi-miner tests.
      accounts: { count: 30 },
    },
    localhost: {
      url: process.env.POT_LOCAL_RPC_URL ?? "http://127.0.0.1:8545",
    },
    testnet: testnetFromEnv(),
  },
  typechain: {
    outDir: "typechain-types",
    target: "ethers-v6",
  },
  mocha: {
    timeout: 600_000,
    reporter: "./test/support/summary-reporter.js",
  },
  gasReporter: {
    enabled: process.env.REPORT_GAS === "1",
    offline: true,
  },
};

export default config;
