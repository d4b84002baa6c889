/** Chain I/O of PoT: viem clients, contract access, retries, transactions, event watching, wallets. */
export * from "./errors";
export * from "./artifacts";
export * from "./deployments";
export * from "./clients";
export * from "./retry";
export * from "./revert";
export * from "./tx-sender";
export * from "./events";
export * from "./wallet";
export * from "./contracts";
