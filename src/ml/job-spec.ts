/**
 * Building a job spec on the employer side (the miner side validates with validateJobSpec and
 * assertEngineMatches).
 */
import { initEngine } from "./backend";
import { engineId } from "./engine-id";
import {
  JOB_SPEC_FORMAT,
  validateJobSpec,
  type DataSpec,
  type JobSpec,
  type TrainingConfig,
} from "./model-spec";

/**
 * A validated job spec for this node's engine. `model` is a LayersModel topology JSON (object or
 * string, e.g. `JSON.parse(model.toJSON())`); its random initializers must carry seeds
 * (seedInitializers can add them).
 */
export async function buildJobSpec(input: {
  model: unknown;
  training: TrainingConfig;
  data: DataSpec;
}): Promise<JobSpec> {
  await initEngine();
  const model = typeof input.model === "string" ? JSON.parse(input.model) : input.model;
  return validateJobSpec({
    format: JOB_SPEC_FORMAT,
    engineId: engineId(),
    model,
    training: input.training,
    data: input.data,
  }).spec;
}
