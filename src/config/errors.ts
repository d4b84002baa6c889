/**
 * Typed configuration errors. Each names the field, where its value came from and what to do.
 */

import { PotError } from "../errors";

/** Where a configuration value came from, in order of precedence (highest first). */
export type ConfigSource = "flag" | "env" | "file" | "preset" | "default";

/** A configuration value is missing or invalid; `message` says which one and how to fix it. */
export class ConfigError extends PotError {
  declare readonly hint: string;
  constructor(
    /** The `PotConfig` field at fault, e.g. `confirmations`. */
    readonly field: string,
    message: string,
    /** What the user should do about it. */
    hint: string,
  ) {
    super(`${message}. ${hint}`, { hint });
  }
}

/** The configuration file named by `--config` / `POT_CONFIG` cannot be read or is not valid JSON. */
export class ConfigFileError extends ConfigError {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(
      "config",
      `Cannot use the configuration file ${path}: ${reason}`,
      "Fix the file (JSON object) or drop --config.",
    );
  }
}
