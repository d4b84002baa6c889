/** Configuration of the `pot` tooling: one typed `PotConfig`, loaded from flags, `POT_*`, a file, defaults. */
export * from "./errors";
export * from "./types";
export * from "./networks";
export * from "./env";
export * from "./load";
