/**
 * The employer's transactions on the protocol's contracts (create a job, expire it, claim, withdraw;
 * src/chain/job-txs.ts) and the read side (job and stage views, the per-job fold of the protocol's events;
 * src/chain/ledger-reads.ts, job-events.ts and stage-rewards.ts, shared with the verifier and the explorer),
 * for the employer's callers.
 */
export * from "../chain/ledger-reads";
export * from "../chain/job-events";
export * from "../chain/stage-rewards";
export * from "../chain/job-txs";
