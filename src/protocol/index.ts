/**
 * The protocol core: pure functions and types shared by the contracts' tests, the miner, the
 * employer and the verifier. No I/O lives here. docs/PROTOCOL.md specifies every byte.
 */
export * from "./errors";
export * from "./bytes";
export * from "./domain";
export * from "./messages";
export * from "./rho";
export * from "./pos";
export * from "./follow-the-coin";
export * from "./planning";
export * from "./model-layers";
export * from "./job-document";
export * from "./manifest";
export * from "./outcome";
export * from "./merkle";
export * from "./checkpoints";
