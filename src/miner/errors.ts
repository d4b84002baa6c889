/**
 * The miner's errors, on the one error base (src/errors.ts): each has a stable `code` and a `hint` the CLI
 * prints. `instanceof MinerError` catches every one of them.
 */
import { PotError, type PotErrorOptions } from "../errors";

/** Base of the miner's errors: the message ends with the hint (also for callers that print only it). */
export class MinerError extends PotError {
  constructor(message: string, options: PotErrorOptions & { readonly hint: string }) {
    super(`${message}. ${options.hint}`, options);
  }
}

/** Another live process holds the data directory (code MINER_LOCKED). */
export class MinerLockedError extends MinerError {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`Another miner (pid ${pid}) is running with the data directory ${dataDir}`, {
      hint:
        `Stop it first (Ctrl-C in its terminal, or kill ${pid}), or give this miner its own data directory ` +
        "(--data-dir or POT_DATA_DIR)",
    });
  }
}

/** The state file is damaged, of another format/version, or of another chain/ledger/account (MINER_STATE). */
export class MinerStateError extends MinerError {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`Miner state ${path} is unusable: ${reason}`, {
      hint:
        "It holds the secrets of pending declarations: restore it from a backup, or move it away to start " +
        "afresh (declarations it prepared may then be slashed unopened)",
    });
  }
}

/** The dummy job cannot be trained on this ledger: its spec or S_0 is not the built-in one (DUMMY_JOB_UNSUPPORTED). */
export class DummyJobUnsupportedError extends MinerError {
  constructor(reason: string) {
    super(
      `The ledger's dummy job is not the built-in dummy job v1 (${reason}); this miner will not train it`,
      { hint: "See docs/protocol/dummy-job.md" },
    );
  }
}
