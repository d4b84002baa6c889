/** Types of the one `PotConfig` every part of the `pot` tooling reads. */

/** How transient RPC failures are retried (see `withRetry` in src/chain). */
export interface RetryPolicy {
  /** Total attempts including the first (>= 1). */
  readonly attempts: number;
  /** Delay before the first retry, in ms; doubles each retry (with jitter). */
  readonly baseDelayMs: number;
  /** Upper bound of one delay, in ms. */
  readonly maxDelayMs: number;
}

/** The content store: embedded Helia (default) or a Kubo daemon over its RPC API. */
/**
 * The content store: the embedded node (listening on `listen`, default a random loopback TCP port; telling
 * peers `announce` instead of its listen addresses when set, e.g. a public address behind NAT) or a Kubo
 * daemon at `url`.
 */
export type IpfsConfig =
  | { readonly mode: "embedded"; readonly listen?: readonly string[]; readonly announce?: readonly string[] }
  | { readonly mode: "kubo"; readonly url: string };

/** Log verbosity, lowest to highest. */
export type LogLevel = "error" | "warn" | "info" | "debug";

/** Log levels in increasing verbosity. */
export const LOG_LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];

/**
 * Where the signing key comes from. The keystore password is never part of the configuration: it is read
 * from `POT_KEYSTORE_PASSWORD` or prompted for when the key is unlocked.
 */
export type WalletSource =
  | { readonly kind: "none" }
  | { readonly kind: "private-key"; readonly privateKey: `0x${string}` }
  | { readonly kind: "keystore"; readonly path: string };

/** The complete, validated configuration of a `pot` process. */
export interface PotConfig {
  /** Network name: a preset (`hardhat`, `localhost`, `testnet`) or any name with explicit RPC URL and chain id. */
  readonly network: string;
  /** JSON-RPC endpoint (http or https). */
  readonly rpcUrl: string;
  /** EVM chain id; checked against the node before any transaction. */
  readonly chainId: number;
  /** Whether the network is a local development chain (fast polling, faucet expected). */
  readonly isLocal: boolean;
  /** Path of the deployments file written by `pot deploy` (`deployments/<network>-<chainId>.json`). */
  readonly deploymentsFile: string;
  /** Hardhat artifacts folder (ABIs come from there). */
  readonly artifactsDir: string;
  /** Data directory of the agents (keystores, checkpoints, IPFS repo). */
  readonly dataDir: string;
  /** Blocks an event must be buried under before it is acted on. */
  readonly confirmations: number;
  /** Timeout of one JSON-RPC request, in ms. */
  readonly rpcTimeoutMs: number;
  /** Polling interval of block and event watching, in ms. */
  readonly pollingIntervalMs: number;
  /** Retry policy for transient RPC failures. */
  readonly retry: RetryPolicy;
  /** Content store. */
  readonly ipfs: IpfsConfig;
  /** Log verbosity. */
  readonly logLevel: LogLevel;
  /** Print machine-readable JSON instead of text. */
  readonly json: boolean;
  /** Signing key source. */
  readonly wallet: WalletSource;
}
