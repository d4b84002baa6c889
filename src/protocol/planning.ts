/**
 * Stage planning: the functions tau and Delta of seed 002 (section 3, "Stages").
 *
 * tau estimates the work of training, from the model architecture alone, so it is the same on
 * every machine: we count floating-point operations per sample of the forward pass layer by layer
 * (a multiply-add is 2 FLOPs) and take training as 3x forward (the backward pass costs about twice
 * the forward pass: gradients with respect to activations and to weights).
 * Delta turns tau into a number of SGD steps per stage so a stage takes about the target time T on
 * the reference machine, corrected by the recent block rate the way Bitcoin retargets difficulty.
 */
import { assertCount, assertPositive } from "./bytes";
import { InvalidArgumentError, UnsupportedModelError } from "./errors";
import { ACTIVATION_FLOPS, SUPPORTED_LAYERS, type ModelCost } from "./model-layers";
import { MIN_BATCH_SIZE, MIN_STEPS_PER_STAGE } from "./rho";

type LayerJson = { class_name: string; config: Record<string, unknown> };

/**
 * tau of a TensorFlow.js LayersModel JSON read without the engine's validation.
 * @deprecated Use `estimateModelCost` of src/ml/model-cost.ts (the engine's validated layers, priced by
 * `modelCost` of ./model-layers.ts): this reader stays only for src/miner/trainer-pool.ts until it prices
 * its compiled model. It accepts only the layers of SUPPORTED_LAYERS, at the same cost.
 * Throws UnsupportedModelError naming the layer and field it cannot handle.
 */
export function estimateModelCost(modelJson: unknown): ModelCost {
  const layers = sequentialLayers(modelJson);
  let shape: number[] | undefined;
  const out: ModelCost["layers"] = [];
  layers.forEach((layer, i) => {
    const where = `layer ${i} (${layer.class_name})`;
    const cfg = layer.config ?? {};
    if (i === 0 || layer.class_name === "InputLayer") {
      const input = (cfg.batch_input_shape ?? cfg.batchInputShape) as unknown;
      if (Array.isArray(input))
        shape = input.slice(1).map((d, k) => dim(d, `${where}.batch_input_shape[${k + 1}]`));
      else if (i === 0)
        throw new UnsupportedModelError(`${where} has no batch_input_shape: the input shape must be fixed`);
    }
    if (!shape) throw new UnsupportedModelError(`${where}: input shape unknown`);
    const r = layerCost(layer, shape, where);
    out.push({ className: layer.class_name, outputShape: r.shape, forwardFlops: r.flops, params: r.params });
    shape = r.shape;
  });
  const forward = out.reduce((s, l) => s + l.forwardFlops, 0);
  return {
    params: out.reduce((s, l) => s + l.params, 0),
    forwardFlopsPerSample: forward,
    trainFlopsPerSample: 3 * forward,
    layers: out,
  };
}

function sequentialLayers(modelJson: unknown): LayerJson[] {
  let m: unknown = modelJson;
  if (typeof m === "string") {
    try {
      m = JSON.parse(m);
    } catch {
      throw new UnsupportedModelError("not valid JSON");
    }
  }
  if (m && typeof m === "object" && "modelTopology" in m) m = (m as { modelTopology: unknown }).modelTopology;
  if (m && typeof m === "object" && "model_config" in m) m = (m as { model_config: unknown }).model_config;
  const top = m as { class_name?: unknown; config?: unknown } | null;
  if (!top || typeof top !== "object") throw new UnsupportedModelError("expected a LayersModel JSON object");
  if (top.class_name !== "Sequential") {
    throw new UnsupportedModelError(
      `class_name is ${String(top.class_name)}; only Sequential models are supported`,
    );
  }
  const cfg = top.config as { layers?: unknown } | unknown[] | undefined;
  const layers = Array.isArray(cfg) ? cfg : cfg?.layers;
  if (!Array.isArray(layers) || layers.length === 0)
    throw new UnsupportedModelError("config.layers is empty or missing");
  return layers.map((l, i) => {
    if (!l || typeof l !== "object" || typeof (l as LayerJson).class_name !== "string") {
      throw new UnsupportedModelError(`layer ${i} has no class_name`);
    }
    return l as LayerJson;
  });
}

function layerCost(
  layer: LayerJson,
  input: number[],
  where: string,
): { shape: number[]; flops: number; params: number } {
  const cfg = layer.config ?? {};
  const elems = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const activation = (s: number[]) => {
    const name = cfg.activation ?? "linear";
    const per = Object.entries(ACTIVATION_FLOPS).find(([a]) => a === name)?.[1];
    if (per === undefined)
      throw new UnsupportedModelError(`${where}.activation "${String(name)}" is not supported`);
    return per * elems(s);
  };
  switch (layer.class_name) {
    case "InputLayer":
      return { shape: input, flops: 0, params: 0 };
    case "Flatten":
      return { shape: [elems(input)], flops: 0, params: 0 };
    case "Reshape": {
      const target = Array.isArray(cfg.target_shape) ? cfg.target_shape : [];
      const shape = target.map((d: unknown, k: number) => dim(d, `${where}.target_shape[${k}]`));
      if (shape.length === 0 || elems(shape) !== elems(input)) {
        throw new UnsupportedModelError(`${where}.target_shape [${target}] does not hold [${input}]`);
      }
      return { shape, flops: 0, params: 0 };
    }
    case "Activation":
      return { shape: input, flops: activation(input), params: 0 };
    case "Dense": {
      const units = dim(cfg.units, `${where}.units`);
      const inDim = input[input.length - 1];
      const lead = elems(input.slice(0, -1));
      const bias = cfg.use_bias !== false;
      const shape = [...input.slice(0, -1), units];
      return {
        shape,
        flops: lead * (2 * inDim * units + (bias ? units : 0)) + activation(shape),
        params: inDim * units + (bias ? units : 0),
      };
    }
    case "Conv2D": {
      if (input.length !== 3)
        throw new UnsupportedModelError(`${where}: expects a [height, width, channels] input`);
      if ((cfg.data_format ?? "channels_last") !== "channels_last") {
        throw new UnsupportedModelError(`${where}.data_format must be channels_last`);
      }
      const filters = dim(cfg.filters, `${where}.filters`);
      const [kh, kw] = pair(cfg.kernel_size, `${where}.kernel_size`);
      const [sh, sw] = pair(cfg.strides ?? [1, 1], `${where}.strides`);
      const dil = pair(cfg.dilation_rate ?? [1, 1], `${where}.dilation_rate`);
      if (dil[0] !== 1 || dil[1] !== 1) throw new UnsupportedModelError(`${where}.dilation_rate must be 1`);
      const [oh, ow] = windowOutput(input, kh, kw, sh, sw, cfg.padding, where);
      const cin = input[2];
      const bias = cfg.use_bias !== false;
      const shape = [oh, ow, filters];
      return {
        shape,
        flops: oh * ow * filters * (2 * kh * kw * cin + (bias ? 1 : 0)) + activation(shape),
        params: kh * kw * cin * filters + (bias ? filters : 0),
      };
    }
    case "MaxPooling2D":
    case "AveragePooling2D": {
      if (input.length !== 3)
        throw new UnsupportedModelError(`${where}: expects a [height, width, channels] input`);
      const [ph, pw] = pair(cfg.pool_size ?? [2, 2], `${where}.pool_size`);
      const [sh, sw] = pair(cfg.strides ?? [ph, pw], `${where}.strides`);
      const [oh, ow] = windowOutput(input, ph, pw, sh, sw, cfg.padding, where);
      return { shape: [oh, ow, input[2]], flops: oh * ow * input[2] * ph * pw, params: 0 };
    }
    default:
      throw new UnsupportedModelError(
        `${where}: layer class ${layer.class_name} is not supported (supported: ${SUPPORTED_LAYERS.join(", ")})`,
      );
  }
}

function windowOutput(
  input: number[],
  kh: number,
  kw: number,
  sh: number,
  sw: number,
  padding: unknown,
  where: string,
) {
  const [h, w] = input;
  if (padding === "same") return [Math.ceil(h / sh), Math.ceil(w / sw)];
  if (padding !== undefined && padding !== "valid") {
    throw new UnsupportedModelError(`${where}.padding "${String(padding)}" must be "valid" or "same"`);
  }
  if (h < kh || w < kw)
    throw new UnsupportedModelError(`${where}: window ${kh}x${kw} larger than input ${h}x${w}`);
  return [Math.floor((h - kh) / sh) + 1, Math.floor((w - kw) / sw) + 1];
}

function dim(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new UnsupportedModelError(`${field} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

function pair(v: unknown, field: string): [number, number] {
  if (typeof v === "number") return [dim(v, field), dim(v, field)];
  if (Array.isArray(v) && v.length === 2) return [dim(v[0], `${field}[0]`), dim(v[1], `${field}[1]`)];
  throw new UnsupportedModelError(`${field} must be a number or a pair, got ${JSON.stringify(v)}`);
}

// ----- Delta -----------------------------------------------------------------------------------

export interface StagePlanInput {
  /** tau per sample: ModelCost.trainFlopsPerSample. */
  trainFlopsPerSample: number;
  batchSize: number;
  /** T: how long one stage should take on the reference machine. */
  targetStageSeconds: number;
  /** Sustained training FLOP/s of the reference machine (docs/BENCHMARKS.md measures ours). */
  referenceFlopsPerSecond: number;
  /** Blocks the network wrapped in the last 24 hours, and how many it should have (86400 / T). */
  recentBlocks?: { observed: number; expected: number };
  /** Upper bound on steps per stage (stage size on IPFS); default 100_000. */
  maxStepsPerStage?: number;
}

export interface StagePlan {
  stepsPerStage: number;
  flopsPerStage: number;
  /** Expected stage time on the reference machine at this many steps. */
  estimatedSeconds: number;
  /** The retarget factor applied (observed / expected blocks, clamped to [1/4, 4]). */
  rateFactor: number;
}

/**
 * Delta: SGD steps per stage. steps = T * referenceFlops / (tau * batch), times the retarget factor
 * observed/expected blocks per day (blocks too fast -> longer stages), clamped to [1/4, 4] as
 * Bitcoin clamps its retarget, then to [MIN_STEPS_PER_STAGE, maxStepsPerStage].
 */
export function planStage(input: StagePlanInput): StagePlan {
  const tau = assertPositive("trainFlopsPerSample", input.trainFlopsPerSample);
  const batch = assertCount("batchSize", input.batchSize, MIN_BATCH_SIZE);
  const target = assertPositive("targetStageSeconds", input.targetStageSeconds);
  const ref = assertPositive("referenceFlopsPerSecond", input.referenceFlopsPerSecond);
  const max = assertCount("maxStepsPerStage", input.maxStepsPerStage ?? 100_000, MIN_STEPS_PER_STAGE);
  let rateFactor = 1;
  if (input.recentBlocks) {
    const observed = assertCount("recentBlocks.observed", input.recentBlocks.observed, 0);
    const expected = assertCount("recentBlocks.expected", input.recentBlocks.expected, 1);
    rateFactor = Math.min(4, Math.max(0.25, observed / expected));
  }
  const raw = Math.round(((target * ref) / (tau * batch)) * rateFactor);
  const steps = Math.min(max, Math.max(MIN_STEPS_PER_STAGE, raw));
  const flopsPerStage = steps * tau * batch;
  return { stepsPerStage: steps, flopsPerStage, estimatedSeconds: flopsPerStage / ref, rateFactor };
}

export interface JobPlan {
  /** Steps of each stage, in order; every entry is at least MIN_STEPS_PER_STAGE. */
  stageSteps: number[];
  totalSteps: number;
  /** Full batches per epoch (a trailing partial batch is dropped: every step sees batchSize samples). */
  batchesPerEpoch: number;
}

/**
 * Cuts a training run into stages of `stepsPerStage` steps; a remainder too short to be a stage
 * (fewer than MIN_STEPS_PER_STAGE steps) joins the last stage.
 */
export function planJob(input: {
  samples: number;
  batchSize: number;
  epochs: number;
  stepsPerStage: number;
}): JobPlan {
  const batch = assertCount("batchSize", input.batchSize, MIN_BATCH_SIZE);
  const samples = assertCount("samples", input.samples, batch);
  const epochs = assertCount("epochs", input.epochs, 1);
  const per = assertCount("stepsPerStage", input.stepsPerStage, MIN_STEPS_PER_STAGE);
  const batchesPerEpoch = Math.floor(samples / batch);
  const totalSteps = batchesPerEpoch * epochs;
  if (totalSteps < MIN_STEPS_PER_STAGE) {
    throw new InvalidArgumentError(
      "samples",
      `${totalSteps} steps in all; a job needs at least ${MIN_STEPS_PER_STAGE}`,
    );
  }
  const stageSteps: number[] = [];
  for (let left = totalSteps; left > 0; left -= per) stageSteps.push(Math.min(per, left));
  const last = stageSteps[stageSteps.length - 1];
  if (last < MIN_STEPS_PER_STAGE && stageSteps.length > 1) {
    stageSteps.pop();
    stageSteps[stageSteps.length - 1] += last;
  }
  return { stageSteps, totalSteps, batchesPerEpoch };
}
