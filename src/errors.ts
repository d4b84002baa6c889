/**
 * The one base of every error PoT raises on purpose. Each has a stable machine-readable `code` (scripts and
 * the CLI's `--json` output key on it; it never changes for a given kind of failure) and, where the user can
 * do something about it, a `hint` saying what. The rooms keep their own bases (ChainError, ConfigError,
 * ProtocolError, MlError, StorageError, ...) as subclasses, so `instanceof` still narrows by room.
 */

/** `FooBarError` -> `FOO_BAR`: the default code of an error class. */
export function codeOfClass(name: string): string {
  return name
    .replace(/Error$/, "")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toUpperCase();
}

/** Options of a PotError. */
export interface PotErrorOptions {
  /** Stable code; default: the class name in UPPER_SNAKE without `Error` (ContractRevertError -> CONTRACT_REVERT). */
  readonly code?: string;
  /** What the user should do. */
  readonly hint?: string;
  readonly cause?: unknown;
}

/** Base of every PoT error: a message, a stable code and an optional hint. */
export class PotError extends Error {
  readonly code: string;
  readonly hint?: string;

  constructor(message: string, options: PotErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? codeOfClass(new.target.name);
    if (options.hint !== undefined) this.hint = options.hint;
  }
}
