/**
 * tau of a model: src/ml validates the model JSON into the protocol's layer shapes, src/protocol prices
 * them (`modelCost`, src/protocol/model-layers.ts). Loads no TensorFlow.js: the employer plans with it.
 */
import { modelCost, type ModelCost } from "../protocol/model-layers";
import { compileLayers, seedInitializers, type CompiledLayers } from "./model-spec";

/** The per-sample cost of a validated model (a CompiledModel or CompiledLayers). */
export function compiledModelCost(model: Pick<CompiledLayers, "inputShape" | "layers">): ModelCost {
  return modelCost(model.inputShape, model.layers);
}

/**
 * tau of a TensorFlow.js LayersModel JSON (object, string, or a converter `model.json` with
 * `modelTopology`): the layers the engine would train, priced. Throws InvalidModelSpecError naming the
 * field at fault, exactly as the engine refuses the model (unseeded initializers aside: seeds cost nothing).
 */
export function estimateModelCost(model: unknown): ModelCost {
  // Seeds do not change the cost: an employer prices its model before `buildJobSpec` seeds its initializers.
  return compiledModelCost(compileLayers(seedInitializers(model, 1)));
}
