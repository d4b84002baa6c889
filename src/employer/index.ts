/**
 * The employer agent: plan and create a job, keep its data available, watch it, fetch the trained model,
 * reclaim the fee of an expired job. Library functions; `pot job ...` (src/cli/commands/job/) is the
 * thin command on top. docs/employer.md.
 */
export * from "./plan";
export * from "./dataset";
export * from "./ledger";
export * from "./job-data";
export * from "./create-job";
export * from "./status";
export * from "./fetch-model";
export * from "./refund";
export * from "./preflight";
export * from "./parent";
export * from "./serve";
export * from "./storage-config";
export * from "./target";
