/**
 * Typed errors of the protocol core. Every function in `src/protocol` validates its input and
 * throws one of these, with a message that names the offending field and what was expected,
 * so a caller (or a user reading a CLI error) can act on it.
 */

import { PotError } from "../errors";

/** Machine-readable reason, stable across versions. */
export type ProtocolErrorCode =
  "INVALID_ARGUMENT" | "NON_FINITE_LOSS" | "HASHER_ORDER" | "NOT_ENOUGH_STAKERS";

/** Base class: `err instanceof ProtocolError` catches every protocol-core failure. */
export class ProtocolError extends PotError {
  declare readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string) {
    super(message, { code });
  }
}

/** An argument has the wrong type, length or range. `field` names it. */
export class InvalidArgumentError extends ProtocolError {
  readonly field: string;

  constructor(field: string, problem: string) {
    super("INVALID_ARGUMENT", `${field}: ${problem}`);
    this.field = field;
  }
}

/**
 * A per-sample loss is NaN or infinite. NaN payloads are not deterministic across wasm engines,
 * and a diverged stage cannot be agreed on, so the stage fails instead of producing a secret.
 */
export class NonFiniteLossError extends ProtocolError {
  readonly step: number;
  readonly sample: number;

  constructor(step: number, sample: number, value: number) {
    super(
      "NON_FINITE_LOSS",
      `loss of sample ${sample} in step ${step} is ${value}: training diverged; ` +
        `this stage cannot produce a training secret (lower the learning rate in the job spec)`,
    );
    this.step = step;
    this.sample = sample;
  }
}

/** The training-secret hasher was fed in the wrong order (see docs/PROTOCOL.md, "Training secret"). */
export class HasherOrderError extends ProtocolError {
  constructor(problem: string) {
    super("HASHER_ORDER", `training-secret hasher: ${problem}`);
  }
}

/** Follow-the-coin was asked for more distinct stakeholders than hold stake. */
export class NotEnoughStakersError extends ProtocolError {
  constructor(wanted: number, available: number) {
    super(
      "NOT_ENOUGH_STAKERS",
      `follow-the-coin needs ${wanted} distinct stakeholders but only ${available} hold stake`,
    );
  }
}
