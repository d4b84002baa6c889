/** Network presets. Anything a preset sets can be overridden by a flag, a `POT_*` variable or the file. */

/** What a network name implies before flags, environment and file are applied. */
export interface NetworkPreset {
  /** JSON-RPC URL, if the preset fixes one. */
  readonly rpcUrl?: string;
  /** Chain id, if the preset fixes one. */
  readonly chainId?: number;
  /** Local development chain: fast polling, no confirmations needed, faucet expected. */
  readonly isLocal: boolean;
  /** Default confirmations depth. */
  readonly confirmations: number;
  /** Default polling interval in ms. */
  readonly pollingIntervalMs: number;
}

/** The chain id of Hardhat's development network. */
export const HARDHAT_CHAIN_ID = 31337;

/** Default URL of a local `pot node` / `hardhat node`. */
export const LOCAL_RPC_URL = "http://127.0.0.1:8545";

/**
 * Presets by name. `hardhat` and `localhost` both mean a local `pot node` (Hardhat JSON-RPC chain);
 * `testnet` takes its URL and chain id from `POT_RPC_URL` and `POT_CHAIN_ID` (or flags / the file).
 */
export function networkPreset(
  name: string,
  env: Record<string, string | undefined>,
): NetworkPreset | undefined {
  switch (name) {
    case "hardhat":
    case "localhost":
      return {
        rpcUrl: env.POT_LOCAL_RPC_URL || LOCAL_RPC_URL,
        chainId: HARDHAT_CHAIN_ID,
        isLocal: true,
        confirmations: 0,
        pollingIntervalMs: 100,
      };
    case "testnet":
      return { isLocal: false, confirmations: 2, pollingIntervalMs: 2_000 };
    default:
      return undefined;
  }
}

/** Names with a preset (other names need an explicit RPC URL and chain id). */
export const PRESET_NETWORKS: readonly string[] = ["hardhat", "localhost", "testnet"];
