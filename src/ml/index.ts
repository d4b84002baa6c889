/**
 * The deterministic training engine (docs/protocol/training.md).
 */
export { initEngine, assertWasmBackend } from "./backend";
export {
  engineId,
  engineDescriptor,
  assertEngineMatches,
  ENGINE_REVISION,
  type EngineDescriptor,
} from "./engine-id";
export * from "./errors";
export {
  JOB_SPEC_FORMAT,
  validateJobSpec,
  validateCheckpointEvery,
  compileModel,
  compileLayers,
  seedInitializers,
  type JobSpec,
  type TrainingConfig,
  type OptimizerConfig,
  type LossName,
  type DataSpec,
  type LabelSpec,
  type CompiledModel,
  type CompiledLayer,
  type CompiledLayers,
  type WeightSpec,
  type ValidatedJobSpec,
} from "./model-spec";
export { buildJobSpec } from "./job-spec";
export { estimateModelCost, compiledModelCost } from "./model-cost";
export { encodeState, decodeState, STATE_MAGIC, STATE_VERSION, type TrainingState } from "./state";
export {
  runStage,
  runStageWith,
  runStageAsync,
  initialState,
  prepareJob,
  stageSteps,
  runSegment,
  type StageResult,
  type AsyncStageOptions,
} from "./stage";
export { Trainer } from "./trainer";
export { evaluate, evaluateWith, type Evaluation } from "./evaluate";
export { stageOutcome, type OutcomeOfStage } from "./outcome";
export {
  encodeBatch,
  decodeBatch,
  assertBatch,
  takeSamples,
  BATCH_MAGIC,
  BATCH_VERSION,
  MAX_PALETTE_SIZE,
  type Batch,
  type EncodeBatchOptions,
  type FeatureEncoding,
} from "./data/batch-format";
export { loadMnist, type MnistOptions } from "./data/mnist";
export { loadIris } from "./data/iris";
export { seededPermutation } from "./data/shuffle";
