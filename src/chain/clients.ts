/**
 * viem clients for a PoT network. Caching is off (`cacheTime: 0`) so a block number or nonce read right
 * after a transaction is never stale, polling is fast on local chains, and every JSON-RPC request goes
 * through `withRetry` with the configured policy (viem's own retries are off: one policy, one place).
 */
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import type { PotConfig } from "../config/types";
import { ChainIdMismatchError, RpcUnavailableError } from "./errors";
import { RetryExhaustedError, withRetry } from "./retry";

/** The configuration fields the clients need. */
export type ClientConfig = Pick<
  PotConfig,
  "network" | "rpcUrl" | "chainId" | "rpcTimeoutMs" | "pollingIntervalMs" | "retry"
>;

/** A viem chain definition for the configured network. */
export function potChain(config: Pick<PotConfig, "network" | "rpcUrl" | "chainId">): Chain {
  return defineChain({
    id: config.chainId,
    name: config.network,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
}

/**
 * An HTTP transport whose requests are retried by `withRetry` on transient failures only. When the policy
 * gives up, the error is `RpcUnavailableError` naming the URL.
 */
export function retryingHttp(config: ClientConfig): Transport {
  const base = http(config.rpcUrl, { timeout: config.rpcTimeoutMs, retryCount: 0 });
  return ((params: Parameters<Transport>[0]) => {
    const transport = base(params);
    const request = (async (args: unknown, options?: unknown) => {
      try {
        return await withRetry(
          () => (transport.request as (a: unknown, o?: unknown) => Promise<unknown>)(args, options),
          config.retry,
        );
      } catch (error) {
        if (error instanceof RetryExhaustedError)
          throw new RpcUnavailableError(config.rpcUrl, error.attempts, error.cause);
        throw error;
      }
    }) as typeof transport.request;
    return { ...transport, request };
  }) as Transport;
}

/** The public (read) client of a network. */
export function createPotPublicClient(config: ClientConfig): PublicClient {
  return createPublicClient({
    chain: potChain(config),
    transport: retryingHttp(config),
    cacheTime: 0,
    pollingInterval: config.pollingIntervalMs,
  }) as PublicClient;
}

/** A wallet client that signs locally with `account` (never with the node's accounts). */
export function createPotWalletClient(config: ClientConfig, account: Account): WalletClient {
  return createWalletClient({
    account,
    chain: potChain(config),
    transport: retryingHttp(config),
    cacheTime: 0,
    pollingInterval: config.pollingIntervalMs,
  });
}

/** Checks that the node really is the configured chain; throws `ChainIdMismatchError` otherwise. */
export async function assertChainId(
  client: PublicClient,
  config: Pick<PotConfig, "chainId" | "rpcUrl">,
): Promise<void> {
  const actual = await client.getChainId();
  if (actual !== config.chainId) throw new ChainIdMismatchError(config.chainId, actual, config.rpcUrl);
}
