/**
 * Training test vectors: fixed spec, fixed data (seeded MNIST split), one stage from S_0.
 * Used by scripts/gen-training-vectors.ts (writes test/vectors/training-*.json), by the vector
 * test, and by the child processes of the cross-process determinism test.
 */
import { createHash } from "node:crypto";
import {
  initialState,
  loadMnist,
  runStage,
  stateHash,
  takeSamples,
  type OptimizerConfig,
} from "./ml-exports";
import { ADAM, cnnSpec, mlpSpec, MOMENTUM, RHO_CTX, SGD } from "./ml-fixtures";

export interface TrainingVector {
  name: string;
  model: "mlp" | "cnn";
  optimizer: OptimizerConfig["name"];
  stepsPerStage: number;
  batchSize: number;
  engineId: string;
  initialStateHash: string;
  stepLossesSha256: string;
  meanLoss: number;
  intermediateStateHash: string;
  stateHash: string;
  rho: string;
}

export const VECTOR_CASES: { name: string; model: "mlp" | "cnn"; optimizer: OptimizerConfig }[] = [
  { name: "mlp-sgd", model: "mlp", optimizer: SGD },
  { name: "mlp-adam", model: "mlp", optimizer: ADAM },
  { name: "cnn-momentum", model: "cnn", optimizer: MOMENTUM },
];

/** Computes one vector: S_0 of the fixture model, one stage on seeded MNIST samples 0.. */
export async function computeVector(name: string): Promise<TrainingVector> {
  const c = VECTOR_CASES.find((v) => v.name === name);
  if (!c) throw new Error(`unknown training vector ${name}`);
  const spec = c.model === "mlp" ? await mlpSpec(c.optimizer, 3, 16) : await cnnSpec(c.optimizer, 2, 8);
  const { train } = loadMnist({
    featureShape: c.model === "mlp" ? [784] : [28, 28, 1],
    trainSize: 1000,
    testSize: 0,
    seed: 42,
  });
  const s0 = await initialState(spec);
  const data = takeSamples(train, 0, spec.training.batchSize * spec.training.stepsPerStage);
  const r = await runStage(spec, s0, data, RHO_CTX);
  const losses = createHash("sha256");
  for (const l of r.stepLosses) losses.update(new Uint8Array(l.buffer, l.byteOffset, l.byteLength));
  return {
    name,
    model: c.model,
    optimizer: c.optimizer.name,
    stepsPerStage: spec.training.stepsPerStage,
    batchSize: spec.training.batchSize,
    engineId: spec.engineId,
    initialStateHash: stateHash(s0),
    stepLossesSha256: `0x${losses.digest("hex")}`,
    meanLoss: r.meanLoss,
    intermediateStateHash: r.intermediateStateHash,
    stateHash: r.stateHash,
    rho: r.rho,
  };
}
