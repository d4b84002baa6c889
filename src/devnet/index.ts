/**
 * src/devnet: a local Proof of Training network of real processes (hardhat node, `pot deploy`, N `pot miner
 * start` children with their own embedded IPFS nodes) plus an in-process employer, for the demo
 * (scripts/demo.ts), the end-to-end test (test/e2e) and the scenarios. See docs/devnet.md.
 */
export * from "./process";
export * from "./wait";
export * from "./devnet";
export * from "./employer";
export * from "./chain-stats";
