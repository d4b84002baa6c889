/**
 * Retry of transient RPC failures: exponential backoff with jitter, a limit, and a strict notion of
 * "transient" (connection refused/reset, timeouts, HTTP 429/5xx, rate limits). A revert is never transient:
 * retrying it would only repeat it.
 */
import type { RetryPolicy } from "../config/types";
import { ChainError, shortMessage } from "./errors";

/** The retry policy gave up: every attempt failed with a transient error. `cause` is the last one. */
export class RetryExhaustedError extends ChainError {
  constructor(
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      `Gave up after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${shortMessage(cause)}`,
      "Check that the node is up and reachable, or raise POT_RETRY_ATTEMPTS",
      { cause },
    );
  }
}

/** Options of `withRetry`. */
export interface WithRetryOptions {
  /** Decides whether an error is worth another attempt (default `isTransientError`). */
  isRetryable?: (error: unknown) => boolean;
  /** Called before each wait, e.g. to log. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  /** Stops waiting and rethrows when aborted. */
  signal?: AbortSignal;
  /** Randomness for jitter in [0, 1) (tests may pin it). */
  random?: () => number;
}

const TRANSIENT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
]);

const TRANSIENT_MESSAGES = [
  /socket hang up/i,
  /other side closed/i,
  /fetch failed/i,
  /timed? ?out/i,
  /connection (refused|reset|closed)/i,
  /too many requests/i,
  /rate limit/i,
];

const REVERT_MESSAGES = [
  /revert/i,
  /invalid opcode/i,
  /out of gas/i,
  /nonce too (low|high)/i,
  /insufficient funds/i,
];

/** The errors of a cause chain, outermost first (bounded, cycle-safe). */
function causeChain(error: unknown): Record<string, unknown>[] {
  const chain: Record<string, unknown>[] = [];
  let current: unknown = error;
  while (
    current !== null &&
    typeof current === "object" &&
    chain.length < 16 &&
    !chain.includes(current as never)
  ) {
    chain.push(current as Record<string, unknown>);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/**
 * Whether `error` is a transient transport failure worth retrying: a refused/reset/dropped connection, a
 * timeout, HTTP 408/429/5xx or a JSON-RPC rate limit (-32005). Anything that carries revert data or says
 * "revert" is not, whatever the transport said.
 */
export function isTransientError(error: unknown): boolean {
  const chain = causeChain(error);
  if (chain.length === 0) return false;
  for (const e of chain) {
    const name = typeof e.name === "string" ? e.name : "";
    const message = typeof e.message === "string" ? e.message : "";
    if (name.includes("Revert") || name === "ContractFunctionExecutionError") return false;
    if (typeof e.data === "string" && e.data.startsWith("0x") && e.data.length > 2) return false;
    if (REVERT_MESSAGES.some((re) => re.test(message)) && !/HTTP request failed/.test(message)) return false;
  }
  for (const e of chain) {
    const name = typeof e.name === "string" ? e.name : "";
    const message = typeof e.message === "string" ? e.message : "";
    if (typeof e.code === "string" && TRANSIENT_CODES.has(e.code)) return true;
    if (typeof e.code === "number" && (e.code === -32005 || e.code === 429)) return true;
    if (name === "TimeoutError" || name === "SocketClosedError") return true;
    if (name === "HttpRequestError") {
      const status = typeof e.status === "number" ? e.status : undefined;
      // No status: the request never got an HTTP answer (network failure).
      if (status === undefined || status === 408 || status === 429 || status >= 500) return true;
    }
    if (TRANSIENT_MESSAGES.some((re) => re.test(message))) return true;
  }
  return false;
}

/** The wait before retry number `retry` (1-based): min(max, base * 2^(retry-1)), with "equal jitter". */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(retry - 1, 30));
  return Math.round(exp / 2 + (exp / 2) * random());
}

/**
 * Runs `fn`, retrying while it fails with a transient error, at most `policy.attempts` times in total.
 * A non-transient error (a revert, a bad argument) is rethrown at once; when the limit is reached,
 * `RetryExhaustedError` (with the last error as `cause`) is thrown.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  options: WithRetryOptions = {},
): Promise<T> {
  const isRetryable = options.isRetryable ?? isTransientError;
  const attempts = Math.max(1, policy.attempts);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!isRetryable(error)) throw error;
      if (attempt >= attempts) throw new RetryExhaustedError(attempt, error);
      const delayMs = backoffDelay(policy, attempt, options.random);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, options.signal);
    }
  }
}

/** Resolves after `ms`, or rejects with the abort reason when `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
