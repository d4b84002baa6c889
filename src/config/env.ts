/** Every `POT_*` environment variable the `pot` tooling reads, with what it means (docs/cli.md lists them). */

/** One documented environment variable. */
export interface EnvVariable {
  readonly name: string;
  readonly description: string;
}

/** All `POT_*` variables, in the order docs/cli.md lists them. */
export const POT_ENV_VARIABLES: readonly EnvVariable[] = [
  { name: "POT_CONFIG", description: "path of a JSON configuration file (same as --config)" },
  {
    name: "POT_NETWORK",
    description: "network name: hardhat, localhost, testnet or a custom name (default localhost)",
  },
  { name: "POT_RPC_URL", description: "JSON-RPC URL; required for testnet and custom networks" },
  { name: "POT_CHAIN_ID", description: "chain id; required for testnet and custom networks" },
  {
    name: "POT_LOCAL_RPC_URL",
    description: "URL of the hardhat/localhost preset (default http://127.0.0.1:8545)",
  },
  { name: "POT_DEPLOYMENTS", description: "deployments file (default deployments/<network>-<chainId>.json)" },
  {
    name: "POT_ARTIFACTS_DIR",
    description: "Hardhat artifacts folder with the contract ABIs (default ./artifacts of the project)",
  },
  { name: "POT_DATA_DIR", description: "data directory (default ./.pot if it exists, else ~/.pot)" },
  { name: "POT_CONFIRMATIONS", description: "blocks an event must be buried under before it is acted on" },
  { name: "POT_RPC_TIMEOUT_MS", description: "timeout of one JSON-RPC request in ms (default 10000)" },
  {
    name: "POT_POLLING_INTERVAL_MS",
    description: "block/event polling interval in ms (default 100 local, 2000 otherwise)",
  },
  {
    name: "POT_RETRY_ATTEMPTS",
    description: "attempts for a transient RPC failure, including the first (default 5)",
  },
  {
    name: "POT_RETRY_BASE_DELAY_MS",
    description: "first retry delay in ms, doubled each retry, with jitter (default 200)",
  },
  { name: "POT_RETRY_MAX_DELAY_MS", description: "largest retry delay in ms (default 5000)" },
  { name: "POT_IPFS_MODE", description: "embedded (default) or kubo" },
  { name: "POT_IPFS_URL", description: "Kubo RPC API URL, required when POT_IPFS_MODE=kubo" },
  {
    name: "POT_IPFS_LISTEN",
    description:
      "listen multiaddrs of the embedded IPFS node, comma-separated (default a random loopback port)",
  },
  {
    name: "POT_IPFS_ANNOUNCE",
    description:
      "multiaddrs the embedded IPFS node announces instead of its listen addresses (e.g. behind NAT)",
  },
  {
    name: "POT_NODE_IMPL",
    description: "pot node's and the devnet's node implementation: hardhat (default) or anvil",
  },
  { name: "POT_LOG_LEVEL", description: "error, warn, info (default) or debug" },
  { name: "POT_JSON", description: "1/true: print JSON instead of text (same as --json)" },
  { name: "POT_PRIVATE_KEY", description: "0x-prefixed private key of the account (same as --private-key)" },
  { name: "POT_KEYSTORE", description: "encrypted JSON keystore of the account (same as --keystore)" },
  {
    name: "POT_KEYSTORE_PASSWORD",
    description: "password of the keystore; prompted for on a terminal when unset",
  },
];
