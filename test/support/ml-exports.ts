/** What the training tests' support files use, from one place. */
export * from "../../src/ml";
export { stateHash } from "../../src/protocol/rho";
export { tf } from "../../src/ml/backend";
