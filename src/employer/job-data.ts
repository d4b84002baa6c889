/**
 * A job's record (events, job document, states, stage statuses) lives in src/chain/job-record.ts, shared
 * with the verifier and the explorer; re-exported here for the employer's callers.
 */
export * from "../chain/job-record";
