/**
 * Loads the one `PotConfig` with precedence flags > environment (`POT_*`) > configuration file (JSON,
 * `--config` / `POT_CONFIG`) > network preset > defaults, and validates every field with an error that
 * names it, where the bad value came from, and what to do.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { ConfigError, ConfigFileError, type ConfigSource } from "./errors";
import { HARDHAT_CHAIN_ID, networkPreset, PRESET_NETWORKS } from "./networks";
import { LOG_LEVELS, type IpfsConfig, type LogLevel, type PotConfig, type WalletSource } from "./types";

/** Command-line flags that feed the configuration (all optional; commander gives strings/booleans). */
export interface ConfigFlags {
  network?: string;
  rpcUrl?: string;
  chainId?: string | number;
  config?: string;
  dataDir?: string;
  deployments?: string;
  confirmations?: string | number;
  json?: boolean;
  privateKey?: string;
  keystore?: string;
  logLevel?: string;
  verbose?: boolean;
}

/** Inputs of `loadConfig`; everything defaults to the real process. */
export interface LoadConfigOptions {
  flags?: ConfigFlags;
  env?: Record<string, string | undefined>;
  /** Base of relative paths from flags and environment. */
  cwd?: string;
  /** Home directory for the default data directory. */
  homeDir?: string;
  /** Project root: default artifacts and deployments live here. */
  projectRoot?: string;
}

/** The keys a configuration file may contain (anything else is rejected as a likely typo). */
const FILE_KEYS = [
  "network",
  "rpcUrl",
  "chainId",
  "deploymentsFile",
  "artifactsDir",
  "dataDir",
  "confirmations",
  "rpcTimeoutMs",
  "pollingIntervalMs",
  "retry",
  "ipfs",
  "logLevel",
  "json",
  "keystore",
] as const;

/**
 * The project root (the folder holding package.json, artifacts/ and deployments/): two levels up from
 * src/config, three from the compiled dist/src/config the `pot` command runs.
 */
export const PROJECT_ROOT = ((above) => (basename(above) === "dist" ? dirname(above) : above))(
  resolve(__dirname, "..", ".."),
);

/** Default values of the fields no preset sets. */
export const CONFIG_DEFAULTS = {
  network: "localhost",
  rpcTimeoutMs: 10_000,
  retry: { attempts: 5, baseDelayMs: 200, maxDelayMs: 5_000 },
  logLevel: "info" as LogLevel,
} as const;

interface Candidate {
  value: unknown;
  source: ConfigSource;
  /** How the user set it, for messages: "--rpc-url", "POT_RPC_URL", "retry.attempts in /x.json". */
  origin: string;
  /** Base folder for relative paths. */
  base: string;
}

/** Loads and validates the configuration. Throws `ConfigError` with an actionable message. */
export function loadConfig(options: LoadConfigOptions = {}): PotConfig {
  const flags = options.flags ?? {};
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const home = options.homeDir ?? homedir();
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;

  const configPath = flags.config ?? nonEmpty(env.POT_CONFIG);
  const file = configPath === undefined ? {} : readConfigFile(resolve(cwd, configPath));
  const fileBase = configPath === undefined ? cwd : dirname(resolve(cwd, configPath));
  const fileOrigin = (key: string) => `${key} in ${configPath}`;

  /** The highest-precedence value of a field among flag, environment and file. */
  const pick = (
    flag: unknown,
    flagName: string,
    envName: string | undefined,
    fileValue: unknown,
    fileKey: string,
  ) => {
    if (flag !== undefined && flag !== null)
      return { value: flag, source: "flag", origin: flagName, base: cwd } as Candidate;
    const envValue = envName === undefined ? undefined : nonEmpty(env[envName]);
    if (envValue !== undefined)
      return { value: envValue, source: "env", origin: envName!, base: cwd } as Candidate;
    if (fileValue !== undefined)
      return { value: fileValue, source: "file", origin: fileOrigin(fileKey), base: fileBase } as Candidate;
    return undefined;
  };

  const networkC = pick(flags.network, "--network", "POT_NETWORK", file.network, "network");
  const network = networkC === undefined ? CONFIG_DEFAULTS.network : parseName(networkC);
  const preset = networkPreset(network, env);

  const rpcC = pick(flags.rpcUrl, "--rpc-url", "POT_RPC_URL", file.rpcUrl, "rpcUrl");
  const rpcUrl = rpcC !== undefined ? parseUrl("rpcUrl", rpcC) : preset?.rpcUrl;
  if (rpcUrl === undefined) {
    throw new ConfigError(
      "rpcUrl",
      `Network "${network}" has no RPC URL`,
      network === "testnet"
        ? "Set POT_RPC_URL (the testnet's JSON-RPC endpoint) and POT_CHAIN_ID, or pass --rpc-url and --chain-id."
        : `Pass --rpc-url and --chain-id (or set POT_RPC_URL and POT_CHAIN_ID), or use a preset network: ${PRESET_NETWORKS.join(", ")}.`,
    );
  }
  const chainC = pick(flags.chainId, "--chain-id", "POT_CHAIN_ID", file.chainId, "chainId");
  const chainId =
    chainC !== undefined ? parseInteger("chainId", chainC, 1, Number.MAX_SAFE_INTEGER) : preset?.chainId;
  if (chainId === undefined) {
    throw new ConfigError(
      "chainId",
      `Network "${network}" has no chain id`,
      "Set POT_CHAIN_ID (or pass --chain-id) to the chain id of the RPC endpoint.",
    );
  }
  const isLocal = preset?.isLocal ?? chainId === HARDHAT_CHAIN_ID;

  const deploymentsC = pick(
    flags.deployments,
    "--deployments",
    "POT_DEPLOYMENTS",
    file.deploymentsFile,
    "deploymentsFile",
  );
  const deploymentsFile =
    deploymentsC !== undefined
      ? parsePath("deploymentsFile", deploymentsC)
      : join(projectRoot, "deployments", `${network}-${chainId}.json`);

  const artifactsC = pick(undefined, "", "POT_ARTIFACTS_DIR", file.artifactsDir, "artifactsDir");
  const artifactsDir =
    artifactsC !== undefined ? parsePath("artifactsDir", artifactsC) : join(projectRoot, "artifacts");

  const dataC = pick(flags.dataDir, "--data-dir", "POT_DATA_DIR", file.dataDir, "dataDir");
  const dataDir =
    dataC !== undefined
      ? parsePath("dataDir", dataC)
      : existsSync(join(cwd, ".pot"))
        ? join(cwd, ".pot")
        : join(home, ".pot");

  const confC = pick(
    flags.confirmations,
    "--confirmations",
    "POT_CONFIRMATIONS",
    file.confirmations,
    "confirmations",
  );
  const confirmations =
    confC !== undefined ? parseInteger("confirmations", confC, 0, 1_000) : (preset?.confirmations ?? 2);

  const timeoutC = pick(undefined, "", "POT_RPC_TIMEOUT_MS", file.rpcTimeoutMs, "rpcTimeoutMs");
  const rpcTimeoutMs =
    timeoutC !== undefined
      ? parseInteger("rpcTimeoutMs", timeoutC, 100, 600_000)
      : CONFIG_DEFAULTS.rpcTimeoutMs;

  const pollC = pick(undefined, "", "POT_POLLING_INTERVAL_MS", file.pollingIntervalMs, "pollingIntervalMs");
  const pollingIntervalMs =
    pollC !== undefined
      ? parseInteger("pollingIntervalMs", pollC, 10, 600_000)
      : (preset?.pollingIntervalMs ?? 2_000);

  const fileRetry = objectOrUndefined("retry", file.retry, fileOrigin("retry"));
  const attemptsC = pick(undefined, "", "POT_RETRY_ATTEMPTS", fileRetry?.attempts, "retry.attempts");
  const baseC = pick(undefined, "", "POT_RETRY_BASE_DELAY_MS", fileRetry?.baseDelayMs, "retry.baseDelayMs");
  const maxC = pick(undefined, "", "POT_RETRY_MAX_DELAY_MS", fileRetry?.maxDelayMs, "retry.maxDelayMs");
  const retry = {
    attempts: attemptsC ? parseInteger("retry.attempts", attemptsC, 1, 100) : CONFIG_DEFAULTS.retry.attempts,
    baseDelayMs: baseC
      ? parseInteger("retry.baseDelayMs", baseC, 0, 600_000)
      : CONFIG_DEFAULTS.retry.baseDelayMs,
    maxDelayMs: maxC ? parseInteger("retry.maxDelayMs", maxC, 0, 600_000) : CONFIG_DEFAULTS.retry.maxDelayMs,
  };
  if (retry.maxDelayMs < retry.baseDelayMs) {
    throw new ConfigError(
      "retry.maxDelayMs",
      `retry.maxDelayMs (${retry.maxDelayMs}) is below retry.baseDelayMs (${retry.baseDelayMs})`,
      "Set POT_RETRY_MAX_DELAY_MS at or above POT_RETRY_BASE_DELAY_MS.",
    );
  }

  const fileIpfs = objectOrUndefined("ipfs", file.ipfs, fileOrigin("ipfs"));
  const modeC = pick(undefined, "", "POT_IPFS_MODE", fileIpfs?.mode, "ipfs.mode");
  const mode =
    modeC === undefined ? "embedded" : parseEnum("ipfs.mode", modeC, ["embedded", "kubo"] as const);
  const listenC = pick(undefined, "", "POT_IPFS_LISTEN", fileIpfs?.listen, "ipfs.listen");
  const announceC = pick(undefined, "", "POT_IPFS_ANNOUNCE", fileIpfs?.announce, "ipfs.announce");
  let ipfs: IpfsConfig = {
    mode: "embedded",
    ...(listenC === undefined ? {} : { listen: parseMultiaddrs("ipfs.listen", listenC) }),
    ...(announceC === undefined ? {} : { announce: parseMultiaddrs("ipfs.announce", announceC) }),
  };
  if (mode === "kubo") {
    const urlC = pick(undefined, "", "POT_IPFS_URL", fileIpfs?.url, "ipfs.url");
    if (urlC === undefined) {
      throw new ConfigError(
        "ipfs.url",
        "IPFS mode is kubo but no Kubo RPC URL is set",
        "Set POT_IPFS_URL (e.g. http://127.0.0.1:5001) or use POT_IPFS_MODE=embedded.",
      );
    }
    ipfs = { mode: "kubo", url: parseUrl("ipfs.url", urlC) };
  }

  const levelC = pick(
    flags.verbose ? "debug" : flags.logLevel,
    "--log-level",
    "POT_LOG_LEVEL",
    file.logLevel,
    "logLevel",
  );
  const logLevel =
    levelC === undefined ? CONFIG_DEFAULTS.logLevel : parseEnum("logLevel", levelC, LOG_LEVELS);

  const jsonC = pick(flags.json ? true : undefined, "--json", "POT_JSON", file.json, "json");
  const json = jsonC === undefined ? false : parseBoolean("json", jsonC);

  if ((file as Record<string, unknown>).privateKey !== undefined) {
    throw new ConfigError(
      "privateKey",
      `${configPath} contains a private key`,
      "Keep keys out of configuration files: use a keystore (pot wallet new) or POT_PRIVATE_KEY.",
    );
  }
  const keyC = pick(flags.privateKey, "--private-key", "POT_PRIVATE_KEY", undefined, "privateKey");
  const keystoreC = pick(flags.keystore, "--keystore", "POT_KEYSTORE", file.keystore, "keystore");
  let wallet: WalletSource = { kind: "none" };
  if (keyC !== undefined && keystoreC !== undefined && keyC.source === keystoreC.source) {
    throw new ConfigError(
      "wallet",
      `Both ${keyC.origin} and ${keystoreC.origin} are set`,
      "Give either a private key or a keystore, not both.",
    );
  }
  // The higher-precedence source wins when key and keystore come from different layers.
  const order: ConfigSource[] = ["flag", "env", "file"];
  const keyFirst =
    keyC !== undefined &&
    (keystoreC === undefined || order.indexOf(keyC.source) < order.indexOf(keystoreC.source));
  if (keyFirst) wallet = { kind: "private-key", privateKey: parsePrivateKey(keyC!) };
  else if (keystoreC !== undefined) wallet = { kind: "keystore", path: parsePath("keystore", keystoreC) };

  return {
    network,
    rpcUrl,
    chainId,
    isLocal,
    deploymentsFile,
    artifactsDir,
    dataDir,
    confirmations,
    rpcTimeoutMs,
    pollingIntervalMs,
    retry,
    ipfs,
    logLevel,
    json,
    wallet,
  };
}

// ---------------------------------------------------------------------------------------------- file

type ConfigFile = Partial<Record<(typeof FILE_KEYS)[number], unknown>>;

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigFileError(path, code === "ENOENT" ? "no such file" : String((error as Error).message));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigFileError(path, `not valid JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigFileError(path, "the top level must be a JSON object");
  }
  for (const key of Object.keys(parsed)) {
    if (!(FILE_KEYS as readonly string[]).includes(key) && key !== "privateKey") {
      throw new ConfigFileError(path, `unknown key "${key}" (known: ${FILE_KEYS.join(", ")})`);
    }
  }
  return parsed as ConfigFile;
}

function objectOrUndefined(
  field: string,
  value: unknown,
  origin: string,
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(
      field,
      `${origin} must be a JSON object`,
      `Fix ${field} in the configuration file.`,
    );
  }
  return value as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------- parsers

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function invalid(field: string, c: Candidate, expected: string): ConfigError {
  return new ConfigError(
    field,
    `Invalid ${field} ${JSON.stringify(c.value)} (from ${c.origin}): expected ${expected}`,
    `Fix ${c.origin}.`,
  );
}

function parseName(c: Candidate): string {
  if (typeof c.value !== "string" || !/^[a-zA-Z0-9_-]{1,64}$/.test(c.value)) {
    throw invalid("network", c, "a name of letters, digits, - or _ (e.g. localhost, testnet)");
  }
  return c.value;
}

function parseUrl(field: string, c: Candidate): string {
  if (typeof c.value === "string") {
    try {
      const url = new URL(c.value);
      if (url.protocol === "http:" || url.protocol === "https:") return c.value;
    } catch {
      // falls through to the error
    }
  }
  throw invalid(field, c, "an http:// or https:// URL");
}

/** A comma-separated string (or a JSON array) of multiaddrs, e.g. "/ip4/0.0.0.0/tcp/4001". */
function parseMultiaddrs(field: string, c: Candidate): string[] {
  const items = typeof c.value === "string" ? c.value.split(",").map((s) => s.trim()) : c.value;
  if (
    !Array.isArray(items) ||
    items.length === 0 ||
    !items.every((a) => typeof a === "string" && /^\/\S+$/.test(a))
  )
    throw invalid(field, c, 'multiaddrs separated by commas, e.g. "/ip4/0.0.0.0/tcp/4001"');
  return items as string[];
}

function parseInteger(field: string, c: Candidate, min: number, max: number): number {
  const n =
    typeof c.value === "number"
      ? c.value
      : typeof c.value === "string" && /^\d+$/.test(c.value)
        ? Number(c.value)
        : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw invalid(field, c, `a whole number from ${min} to ${max}`);
  return n;
}

function parseEnum<T extends string>(field: string, c: Candidate, values: readonly T[]): T {
  if (typeof c.value === "string" && (values as readonly string[]).includes(c.value)) return c.value as T;
  throw invalid(field, c, `one of ${values.join(", ")}`);
}

function parseBoolean(field: string, c: Candidate): boolean {
  if (typeof c.value === "boolean") return c.value;
  if (typeof c.value === "string") {
    const v = c.value.toLowerCase();
    if (["1", "true", "yes", "on"].includes(v)) return true;
    if (["0", "false", "no", "off"].includes(v)) return false;
  }
  throw invalid(field, c, "true or false (1/0)");
}

function parsePath(field: string, c: Candidate): string {
  if (typeof c.value !== "string" || c.value === "") throw invalid(field, c, "a file or folder path");
  const expanded = c.value.startsWith("~/") ? join(homedir(), c.value.slice(2)) : c.value;
  return isAbsolute(expanded) ? expanded : resolve(c.base, expanded);
}

function parsePrivateKey(c: Candidate): `0x${string}` {
  if (typeof c.value === "string") {
    const hex = c.value.startsWith("0x") ? c.value : `0x${c.value}`;
    if (/^0x[0-9a-fA-F]{64}$/.test(hex) && !/^0x0{64}$/.test(hex)) return hex.toLowerCase() as `0x${string}`;
  }
  // Never echo the value: it is a secret.
  throw new ConfigError(
    "privateKey",
    `Invalid private key (from ${c.origin}): expected 32 bytes as 64 hex digits, 0x-prefixed`,
    `Fix ${c.origin}, or use a keystore (pot wallet new).`,
  );
}
