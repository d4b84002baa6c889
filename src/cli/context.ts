/**
 * What every `pot` command needs, resolved lazily from the global flags: the configuration, the account,
 * a connected session and the output.
 */
import type { Address } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { loadConfig, type ConfigFlags } from "../config/load";
import type { PotConfig } from "../config/types";
import type { PotSession } from "../chain/contracts";
import { chainContracts, chainWallet, viemAccounts } from "./lazy";
import { processOutput, type Output } from "./output";

/** The global flags as commander parses them. */
export type GlobalFlags = ConfigFlags;

/** Lazily resolved configuration, account and session of one `pot` invocation. */
export class CliContext {
  private cachedConfig: PotConfig | undefined;
  private cachedKey: `0x${string}` | undefined;

  constructor(
    readonly flags: GlobalFlags,
    readonly env: Record<string, string | undefined> = process.env,
  ) {}

  /** The validated configuration (throws `ConfigError`). */
  get config(): PotConfig {
    this.cachedConfig ??= loadConfig({ flags: this.flags, env: this.env });
    return this.cachedConfig;
  }

  /** Text or JSON output per `--json` / `POT_JSON`. */
  get out(): Output {
    return processOutput(this.config.json);
  }

  /** The signing account (decrypts the keystore; may prompt for the password on a terminal). */
  async account(): Promise<PrivateKeyAccount> {
    return viemAccounts().privateKeyToAccount(await this.privateKey());
  }

  /** The signing key (decrypts the keystore once per invocation). */
  async privateKey(): Promise<`0x${string}`> {
    this.cachedKey ??= await chainWallet().loadPrivateKey(this.config.wallet, { env: this.env });
    return this.cachedKey;
  }

  /** The account's address without decrypting a keystore, or undefined when no wallet is configured. */
  walletAddress(): Address | undefined {
    const w = this.config.wallet;
    if (w.kind === "keystore") return chainWallet().keystoreAddress(w.path);
    if (w.kind === "private-key") return viemAccounts().privateKeyToAddress(w.privateKey);
    return undefined;
  }

  /** A session with the configured account (for transactions). */
  async signingSession(): Promise<PotSession & Required<Pick<PotSession, "sender">>> {
    const session = await chainContracts().connectPot(this.config, await this.account());
    return session as PotSession & Required<Pick<PotSession, "sender">>;
  }

  /** A read-only session. */
  readSession(): Promise<PotSession> {
    return chainContracts().connectPot(this.config);
  }
}
