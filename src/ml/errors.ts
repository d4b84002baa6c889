/**
 * Typed errors of the training engine. Every failure names the field or input at fault and what
 * to do about it, so the employer CLI and the miner can show it as is.
 */

import { PotError } from "../errors";

/** Machine-readable reason, stable across versions. */
export type MlErrorCode =
  | "INVALID_MODEL_SPEC"
  | "ENGINE_MISMATCH"
  | "BACKEND_UNAVAILABLE"
  | "INVALID_STATE_BYTES"
  | "INVALID_BATCH"
  | "INVALID_DATASET"
  | "NON_FINITE_WEIGHT";

/** Base class: `err instanceof MlError` catches every training-engine failure. */
export class MlError extends PotError {
  declare readonly code: MlErrorCode;

  constructor(code: MlErrorCode, message: string) {
    super(message, { code });
  }
}

/** The job spec (model JSON or training config) is malformed or uses something unsupported. */
export class InvalidModelSpecError extends MlError {
  readonly field: string;

  constructor(field: string, problem: string) {
    super("INVALID_MODEL_SPEC", `job spec ${field}: ${problem}`);
    this.field = field;
  }
}

/** The job was made for a different training engine (versions or kernel set) than this node runs. */
export class EngineMismatchError extends MlError {
  readonly expected: string;
  readonly actual: string;

  constructor(expected: string, actual: string) {
    super(
      "ENGINE_MISMATCH",
      `job spec engineId is ${expected} but this node's training engine is ${actual}: ` +
        `results would not be bit-identical, so this node refuses the job ` +
        `(install the engine versions the job names, or the employer must re-issue the job for ${actual})`,
    );
    this.expected = expected;
    this.actual = actual;
  }
}

/** The deterministic wasm backend could not be initialized or is not the active backend. */
export class BackendUnavailableError extends MlError {
  constructor(problem: string) {
    super("BACKEND_UNAVAILABLE", `training backend: ${problem}`);
  }
}

/** Canonical training-state bytes are truncated, corrupt or do not fit the job's model. */
export class InvalidStateBytesError extends MlError {
  readonly field: string;

  constructor(field: string, problem: string) {
    super("INVALID_STATE_BYTES", `training state ${field}: ${problem}`);
    this.field = field;
  }
}

/** A training batch is malformed or does not fit the job's model. */
export class InvalidBatchError extends MlError {
  readonly field: string;

  constructor(field: string, problem: string) {
    super("INVALID_BATCH", `batch ${field}: ${problem}`);
    this.field = field;
  }
}

/** A built-in dataset was asked for something it cannot give (e.g. more samples than it holds). */
export class InvalidDatasetError extends MlError {
  constructor(problem: string) {
    super("INVALID_DATASET", `dataset: ${problem}`);
  }
}

/**
 * A weight or optimizer slot became NaN or infinite (training diverged): the state has no
 * canonical bytes (a NaN's sign and payload bits differ between platforms), so it is never hashed.
 */
export class NonFiniteWeightError extends MlError {
  readonly tensor: string;
  readonly index: number;

  constructor(tensor: string, index: number, value: number) {
    super(
      "NON_FINITE_WEIGHT",
      `training state ${tensor}[${index}] is ${value}: training diverged and the state cannot be hashed ` +
        `(lower the learning rate in the job spec)`,
    );
    this.tensor = tensor;
    this.index = index;
  }
}
