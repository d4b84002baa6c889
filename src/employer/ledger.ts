/**
 * The employer's transactions on the protocol's contracts (create a job, expire it, claim, withdraw;
 * src/chain/job-txs.ts) and the read side (job and stage views, the per-job fold of the protocol's events;
 * src/chain/job-events.ts, shared with the verifier and the explorer), for the employer's callers.
 */
export * from "../chain/job-events";
export * from "../chain/job-txs";
