/**
 * Self-contained training vectors: each carries its inputs (the whole pot-training-job/1 spec, the
 * bytes of every batch, the rho context of every stage) and its outputs (H(S_0), then per stage
 * the SHA-256 of the per-sample losses, the intermediate state hash, H(S_{i+1}) and rho). Stage 1
 * starts from S_0, stage k+1 from the state stage k produced. The Python reference
 * (spec/reference) recomputes them from the job spec alone.
 *
 * Used by scripts/gen-training-vectors.ts (writes test/vectors/training-vectors.json), the
 * determinism test and its child processes, and scripts/spec-check.ts (random jobs).
 */
import { createHash } from "node:crypto";
import {
  decodeBatch,
  encodeBatch,
  initialState,
  loadMnist,
  runStage,
  stateHash,
  takeSamples,
  type Batch,
  type JobSpec,
} from "./ml-exports";
import { ADAM, cnnSpec, mlpSpec, MOMENTUM, RHO_CTX, SGD } from "./ml-fixtures";
import { buildVectorJob, COVERAGE_CASES, syntheticBatch } from "./ml-vector-jobs";

export interface VectorStage {
  context: { domain: string; jobId: string; stage: number };
  /** Base64 of each batch's canonical bytes (POTB; palette form when it fits). */
  batches: string[];
  expect: {
    stepLossesSha256: string;
    meanLoss: number;
    intermediateStateHash: string;
    stateHash: string;
    rho: string;
  };
}

export interface TrainingVector {
  name: string;
  description: string;
  job: JobSpec;
  initialStateHash: string;
  stages: VectorStage[];
}

/** Runs `stages` stages of `spec` from S_0 on the given data (one Batch per stage). */
export async function vectorOf(
  name: string,
  description: string,
  spec: JobSpec,
  stageData: Batch[],
): Promise<TrainingVector> {
  let state = await initialState(spec);
  const initialStateHash = stateHash(state);
  const stages: VectorStage[] = [];
  for (const [i, data] of stageData.entries()) {
    const bytes = encodeBatch(data, { features: "auto" });
    const context = { ...RHO_CTX, stage: RHO_CTX.stage + i };
    const r = await runStage(spec, state, decodeBatch(bytes), context);
    const losses = createHash("sha256");
    for (const l of r.stepLosses) losses.update(new Uint8Array(l.buffer, l.byteOffset, l.byteLength));
    stages.push({
      context: { domain: context.domain, jobId: context.jobId.toString(), stage: context.stage },
      batches: [Buffer.from(bytes).toString("base64")],
      expect: {
        stepLossesSha256: `0x${losses.digest("hex")}`,
        meanLoss: r.meanLoss,
        intermediateStateHash: r.intermediateStateHash,
        stateHash: r.stateHash,
        rho: r.rho,
      },
    });
    state = r.state;
  }
  return { name, description, job: spec, initialStateHash, stages };
}

interface VectorCase {
  name: string;
  description: string;
  build: () => Promise<{ spec: JobSpec; stageData: Batch[] }>;
}

/** Seeded MNIST samples for `stages` stages of a job. */
function mnistStages(spec: JobSpec, stages: number): Batch[] {
  const { train } = loadMnist({
    featureShape: spec.data.featureShape,
    trainSize: 1000,
    testSize: 0,
    seed: 42,
  });
  const per = spec.training.batchSize * spec.training.stepsPerStage;
  return Array.from({ length: stages }, (_, s) => takeSamples(train, s * per, per));
}

export const VECTOR_CASES: VectorCase[] = [
  {
    name: "mlp-sgd",
    description: "MNIST MLP 784-128(relu)-10(softmax), categoricalCrossentropy, sgd; fused Dense path",
    build: async () => {
      const spec = await mlpSpec(SGD, 3, 16);
      return { spec, stageData: mnistStages(spec, 2) };
    },
  },
  {
    name: "mlp-adam",
    description: "MNIST MLP 784-128(relu)-10(softmax), categoricalCrossentropy, adam",
    build: async () => {
      const spec = await mlpSpec(ADAM, 3, 16);
      return { spec, stageData: mnistStages(spec, 2) };
    },
  },
  {
    name: "cnn-momentum",
    description:
      "MNIST CNN conv3x3x8-maxpool2-conv3x3x16-maxpool2-dense10, categoricalCrossentropy, momentum",
    build: async () => {
      const spec = await cnnSpec(MOMENTUM, 2, 8);
      return { spec, stageData: mnistStages(spec, 1) };
    },
  },
  ...COVERAGE_CASES.map((c) => ({
    name: c.name,
    description: c.description,
    build: async () => {
      const spec = await buildVectorJob(c.job);
      return { spec, stageData: Array.from({ length: c.stages }, (_, s) => syntheticBatch(spec, 1000 + s)) };
    },
  })),
];

/** Computes one named vector. */
export async function computeVector(name: string): Promise<TrainingVector> {
  const c = VECTOR_CASES.find((v) => v.name === name);
  if (!c) throw new Error(`unknown training vector ${name}`);
  const { spec, stageData } = await c.build();
  return vectorOf(c.name, c.description, spec, stageData);
}
