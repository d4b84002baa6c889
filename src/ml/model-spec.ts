/**
 * Job specs: what an employer publishes and a miner validates before spending anything.
 *
 * A job spec is { format, engineId, model, training, data }: `model` is a TensorFlow.js
 * LayersModel topology JSON (Sequential, as `model.toJSON()` or the Keras-to-tfjs converter
 * produces it), `training` the optimizer, loss, batch size, steps per stage and seed, `data` the
 * shape of one sample and its label. `validateJobSpec` turns it into a CompiledModel (the layer
 * list the engine executes) or throws InvalidModelSpecError naming the field at fault.
 */
import {
  ACTIVATIONS,
  SUPPORTED_LAYERS,
  windowOutputSize,
  type Activation,
  type ModelLayer,
  type Padding,
} from "../protocol/model-layers";
import { MIN_BATCH_SIZE, MIN_STEPS_PER_STAGE } from "../protocol/rho";
import { InvalidModelSpecError } from "./errors";

export const JOB_SPEC_FORMAT = "pot-training-job/1";

export type OptimizerConfig =
  | { name: "sgd"; learningRate: number }
  | { name: "momentum"; learningRate: number; momentum: number }
  | { name: "adam"; learningRate: number; beta1: number; beta2: number; epsilon: number };

export type LossName = "categoricalCrossentropy" | "sparseCategoricalCrossentropy" | "meanSquaredError";

export interface TrainingConfig {
  optimizer: OptimizerConfig;
  loss: LossName;
  /** Samples per SGD step, at least MIN_BATCH_SIZE (2). */
  batchSize: number;
  /** SGD steps per stage, at least MIN_STEPS_PER_STAGE (2). */
  stepsPerStage: number;
  /** uint32 the employer seeded the model's initializers from (see `seedInitializers`). */
  seed: number;
  /**
   * Take a step checkpoint every this many steps of a stage (docs/PROTOCOL.md, "Step checkpoints"):
   * absent or 0 = no checkpoints (read it as `checkpointEvery ?? 0`; the validated spec keeps it as given,
   * so that a spec without it stays byte for byte what its author wrote).
   */
  checkpointEvery?: number;
}

/** Labels: class indices (int32, one per sample) or float32 targets of a fixed shape. */
export type LabelSpec = { kind: "classIndex"; numClasses: number } | { kind: "float32"; shape: number[] };

export interface DataSpec {
  /** Shape of one sample's features, without the batch dimension (e.g. [784] or [28, 28, 1]). */
  featureShape: number[];
  labels: LabelSpec;
}

export interface JobSpec {
  format: typeof JOB_SPEC_FORMAT;
  /** engineId() of the engine every miner must run (engine-id.ts). */
  engineId: string;
  /** LayersModel topology JSON (object or its JSON string). */
  model: unknown;
  training: TrainingConfig;
  data: DataSpec;
}

export type { Activation, Padding };

/** A validated layer: the protocol's layer shapes (src/protocol/model-layers.ts), which tau prices. */
export type CompiledLayer = ModelLayer;

export interface WeightSpec {
  /** "<layer name>/kernel" or "<layer name>/bias", in getWeights() order. */
  name: string;
  shape: number[];
}

/** What the engine executes: validated layers, weight shapes in getWeights() order, I/O shapes. */
export interface CompiledModel {
  inputShape: number[];
  outputShape: number[];
  layers: CompiledLayer[];
  weights: WeightSpec[];
  /** The last layer's softmax, folded into the loss (computed stably from logits). */
  softmaxOutput: boolean;
}

const RANDOM_INITIALIZERS = new Set([
  "VarianceScaling",
  "RandomUniform",
  "RandomNormal",
  "TruncatedNormal",
  "GlorotUniform",
  "GlorotNormal",
  "HeUniform",
  "HeNormal",
  "LeCunUniform",
  "LeCunNormal",
]);
const CONSTANT_INITIALIZERS = new Set(["Zeros", "Ones", "Constant"]);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fail(field: string, problem: string): never {
  throw new InvalidModelSpecError(field, problem);
}

function positiveInt(field: string, v: unknown, min = 1): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    fail(field, `expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function finitePositive(field: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    fail(field, `expected a finite number > 0, got ${JSON.stringify(v)}`);
  }
  return v;
}

function unitInterval(field: string, v: unknown): number {
  if (typeof v !== "number" || !(v >= 0 && v < 1))
    fail(field, `expected a number in [0, 1), got ${JSON.stringify(v)}`);
  return v;
}

function shapeOf(field: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.length === 0) fail(field, `expected a non-empty array of positive integers`);
  return v.map((d, i) => positiveInt(`${field}[${i}]`, d));
}

function pair(field: string, v: unknown): [number, number] {
  const a = typeof v === "number" ? [v, v] : v;
  if (!Array.isArray(a) || a.length !== 2) fail(field, `expected an integer or a pair of integers`);
  return [positiveInt(`${field}[0]`, a[0]), positiveInt(`${field}[1]`, a[1])];
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function validateOptimizer(v: unknown): OptimizerConfig {
  const f = "training.optimizer";
  if (!isObject(v)) fail(f, "expected an object with a name (sgd, momentum or adam)");
  const lr = finitePositive(`${f}.learningRate`, v.learningRate);
  switch (v.name) {
    case "sgd":
      return { name: "sgd", learningRate: lr };
    case "momentum":
      return { name: "momentum", learningRate: lr, momentum: unitInterval(`${f}.momentum`, v.momentum) };
    case "adam":
      return {
        name: "adam",
        learningRate: lr,
        beta1: unitInterval(`${f}.beta1`, v.beta1),
        beta2: unitInterval(`${f}.beta2`, v.beta2),
        epsilon: finitePositive(`${f}.epsilon`, v.epsilon),
      };
    default:
      return fail(`${f}.name`, `unsupported optimizer ${JSON.stringify(v.name)}: use sgd, momentum or adam`);
  }
}

/**
 * Checks training.checkpointEvery: an integer >= 0 (steps between two step checkpoints; 0 = none).
 * Throws InvalidModelSpecError naming the field.
 */
export function validateCheckpointEvery(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    fail(
      "training.checkpointEvery",
      `must be an integer >= 0 (steps between two step checkpoints; 0 = none), got ${typeof value === "number" ? String(value) : JSON.stringify(value)}`,
    );
  }
  return value;
}

function validateTraining(v: unknown): TrainingConfig {
  if (!isObject(v)) fail("training", "expected an object");
  const optimizer = validateOptimizer(v.optimizer);
  const losses: LossName[] = ["categoricalCrossentropy", "sparseCategoricalCrossentropy", "meanSquaredError"];
  if (!losses.includes(v.loss as LossName)) {
    fail("training.loss", `unsupported loss ${JSON.stringify(v.loss)}: use one of ${losses.join(", ")}`);
  }
  const batchSize = v.batchSize;
  if (typeof batchSize !== "number" || !Number.isSafeInteger(batchSize) || batchSize < MIN_BATCH_SIZE) {
    fail(
      "training.batchSize",
      `must be an integer >= ${MIN_BATCH_SIZE} (with one sample its loss would be derivable from the state), got ${JSON.stringify(batchSize)}`,
    );
  }
  const stepsPerStage = v.stepsPerStage;
  if (
    typeof stepsPerStage !== "number" ||
    !Number.isSafeInteger(stepsPerStage) ||
    stepsPerStage < MIN_STEPS_PER_STAGE
  ) {
    fail(
      "training.stepsPerStage",
      `must be an integer >= ${MIN_STEPS_PER_STAGE}, got ${JSON.stringify(stepsPerStage)}`,
    );
  }
  const seed = v.seed;
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 1 || seed > 0xffffffff) {
    fail(
      "training.seed",
      `expected an integer in 1..4294967295, got ${JSON.stringify(seed)}` +
        (seed === 0 ? ` (${SEED_ZERO})` : ""),
    );
  }
  const training: TrainingConfig = { optimizer, loss: v.loss as LossName, batchSize, stepsPerStage, seed };
  if (v.checkpointEvery !== undefined) training.checkpointEvery = validateCheckpointEvery(v.checkpointEvery);
  return training;
}

function validateData(v: unknown): DataSpec {
  if (!isObject(v)) fail("data", "expected an object with featureShape and labels");
  const featureShape = shapeOf("data.featureShape", v.featureShape);
  const labels = v.labels;
  if (!isObject(labels))
    fail("data.labels", "expected { kind: 'classIndex', numClasses } or { kind: 'float32', shape }");
  if (labels.kind === "classIndex") {
    return {
      featureShape,
      labels: { kind: "classIndex", numClasses: positiveInt("data.labels.numClasses", labels.numClasses, 2) },
    };
  }
  if (labels.kind === "float32") {
    return { featureShape, labels: { kind: "float32", shape: shapeOf("data.labels.shape", labels.shape) } };
  }
  return fail("data.labels.kind", `expected 'classIndex' or 'float32', got ${JSON.stringify(labels.kind)}`);
}

function activationOf(field: string, v: unknown): Activation {
  const a = v === undefined || v === null ? "linear" : v;
  const known = ACTIVATIONS.find((activation) => activation === a);
  if (known === undefined)
    fail(field, `unsupported activation ${JSON.stringify(a)}: use one of ${ACTIVATIONS.join(", ")}`);
  return known;
}

/** Why a seed of 0 is refused. */
const SEED_ZERO =
  "TensorFlow.js treats seed 0 as no seed and draws normal initializers from Math.random, so no two miners would agree on S_0";

function checkInitializer(field: string, v: unknown): void {
  if (!isObject(v) || typeof v.class_name !== "string")
    fail(field, "expected an initializer { class_name, config }");
  const cfg = isObject(v.config) ? v.config : {};
  if (CONSTANT_INITIALIZERS.has(v.class_name)) return;
  if (!RANDOM_INITIALIZERS.has(v.class_name)) {
    fail(
      field,
      `unsupported initializer ${v.class_name}: use a seeded random initializer (e.g. VarianceScaling) or Zeros/Ones/Constant`,
    );
  }
  if (cfg.seed === 0) fail(`${field}.config.seed`, `must not be 0 (${SEED_ZERO}); use 1 or more`);
  if (typeof cfg.seed !== "number" || !Number.isSafeInteger(cfg.seed) || cfg.seed < 0) {
    fail(
      `${field}.config.seed`,
      `initializer ${v.class_name} has no seed: unseeded initializers use Math.random and no two miners would agree on S_0 ` +
        `(give it a seed, e.g. with seedInitializers(model, seed))`,
    );
  }
}

function checkNoExtras(field: string, cfg: Json): void {
  for (const key of [
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
  ]) {
    if (cfg[key] !== undefined && cfg[key] !== null)
      fail(`${field}.${key}`, "regularizers and constraints are not supported: remove it");
  }
  if (cfg.trainable === false)
    fail(`${field}.trainable`, "frozen layers are not supported: every layer must be trainable");
  if (cfg.dtype !== undefined && cfg.dtype !== "float32") fail(`${field}.dtype`, "only float32 is supported");
}

/** The model JSON itself: a string is parsed (InvalidModelSpecError when it is not JSON). */
function parsedModel(model: unknown): unknown {
  if (typeof model !== "string") return model;
  try {
    return JSON.parse(model);
  } catch {
    fail("model", "is a string but not valid JSON");
  }
}

/** Parses the model topology JSON (object or string) into its layer list. */
function modelLayers(model: unknown): Json[] {
  let m = parsedModel(model);
  if (isObject(m) && isObject(m.modelTopology)) m = m.modelTopology;
  if (!isObject(m)) fail("model", "expected a LayersModel topology JSON object");
  if (m.class_name !== "Sequential") {
    fail("model.class_name", `only Sequential models are supported, got ${JSON.stringify(m.class_name)}`);
  }
  const cfg = m.config;
  const layers = Array.isArray(cfg) ? cfg : isObject(cfg) ? cfg.layers : undefined;
  if (!Array.isArray(layers) || layers.length === 0)
    fail("model.config.layers", "expected a non-empty array of layers");
  return layers as Json[];
}

/** A model's layers validated on their own: shapes, layers and weights (no data or loss checks). */
export interface CompiledLayers {
  inputShape: number[];
  outputShape: number[];
  layers: CompiledLayer[];
  weights: WeightSpec[];
}

/**
 * Validates the layers of a model topology and infers their shapes from the declared input shape (which
 * must equal `featureShape` when given). Throws InvalidModelSpecError naming the field at fault.
 */
export function compileLayers(model: unknown, featureShape?: number[]): CompiledLayers {
  const raw = modelLayers(model);
  const layers: CompiledLayer[] = [];
  const weights: WeightSpec[] = [];
  let shape: number[] | undefined;
  let inputShape: number[] | undefined;
  raw.forEach((layer, i) => {
    const f = `model.config.layers[${i}]`;
    if (!isObject(layer) || !isObject(layer.config)) fail(f, "expected { class_name, config }");
    const cfg = layer.config;
    const cls = layer.class_name;
    if (!isSupportedLayer(cls)) {
      fail(
        `${f}.class_name`,
        `unsupported layer ${JSON.stringify(cls)}: supported layers are ${SUPPORTED_LAYERS.join(", ")}`,
      );
    }
    const name = typeof cfg.name === "string" ? cfg.name : `layer${i}`;
    checkNoExtras(`${f}.config`, cfg);
    const declared = cfg.batch_input_shape ?? cfg.batch_shape;
    if (declared !== undefined) {
      if (!Array.isArray(declared) || declared[0] !== null)
        fail(`${f}.config.batch_input_shape`, "expected [null, ...sample shape]");
      const s = shapeOf(`${f}.config.batch_input_shape`, declared.slice(1));
      if (shape !== undefined && !sameShape(shape, s))
        fail(`${f}.config.batch_input_shape`, `${s} does not match ${shape}`);
      if (shape === undefined && featureShape !== undefined && !sameShape(s, featureShape)) {
        fail(
          `${f}.config.batch_input_shape`,
          `model input [${s}] does not match data.featureShape [${featureShape}]`,
        );
      }
      inputShape ??= s;
      shape ??= s;
    }
    if (shape === undefined)
      fail(`${f}.config.batch_input_shape`, "the first layer must declare the input shape");
    const inShape: number[] = shape;
    switch (cls) {
      case "InputLayer":
        break;
      case "Dense": {
        if (inShape.length !== 1)
          fail(`${f}`, `Dense needs a flat input, got shape [${inShape}] (add a Flatten layer)`);
        const units = positiveInt(`${f}.config.units`, cfg.units);
        const useBias = cfg.use_bias !== false;
        checkInitializer(`${f}.config.kernel_initializer`, cfg.kernel_initializer);
        weights.push({ name: `${name}/kernel`, shape: [inShape[0], units] });
        if (useBias) {
          checkInitializer(`${f}.config.bias_initializer`, cfg.bias_initializer);
          weights.push({ name: `${name}/bias`, shape: [units] });
        }
        layers.push({
          kind: "dense",
          name,
          units,
          activation: activationOf(`${f}.config.activation`, cfg.activation),
          useBias,
        });
        shape = [units];
        break;
      }
      case "Conv2D": {
        if (inShape.length !== 3)
          fail(f, `Conv2D needs an [height, width, channels] input, got [${inShape}]`);
        if (cfg.data_format !== undefined && cfg.data_format !== "channels_last") {
          fail(`${f}.config.data_format`, "only channels_last is supported");
        }
        const dil = pair(`${f}.config.dilation_rate`, cfg.dilation_rate ?? 1);
        if (dil[0] !== 1 || dil[1] !== 1)
          fail(`${f}.config.dilation_rate`, "only a dilation rate of 1 is supported");
        const filters = positiveInt(`${f}.config.filters`, cfg.filters);
        const kernelSize = pair(`${f}.config.kernel_size`, cfg.kernel_size);
        const strides = pair(`${f}.config.strides`, cfg.strides ?? 1);
        const padding = paddingOf(`${f}.config.padding`, cfg.padding);
        const useBias = cfg.use_bias !== false;
        checkInitializer(`${f}.config.kernel_initializer`, cfg.kernel_initializer);
        weights.push({ name: `${name}/kernel`, shape: [kernelSize[0], kernelSize[1], inShape[2], filters] });
        if (useBias) {
          checkInitializer(`${f}.config.bias_initializer`, cfg.bias_initializer);
          weights.push({ name: `${name}/bias`, shape: [filters] });
        }
        const [oh, ow] = [0, 1].map((d) => outSize(f, inShape[d], kernelSize[d], strides[d], padding));
        layers.push({
          kind: "conv2d",
          name,
          filters,
          kernelSize,
          strides,
          padding,
          activation: activationOf(`${f}.config.activation`, cfg.activation),
          useBias,
        });
        shape = [oh, ow, filters];
        break;
      }
      case "MaxPooling2D":
      case "AveragePooling2D": {
        if (inShape.length !== 3)
          fail(f, `${cls} needs an [height, width, channels] input, got [${inShape}]`);
        if (cfg.data_format !== undefined && cfg.data_format !== "channels_last") {
          fail(`${f}.config.data_format`, "only channels_last is supported");
        }
        const poolSize = pair(`${f}.config.pool_size`, cfg.pool_size ?? 2);
        const strides = pair(`${f}.config.strides`, cfg.strides ?? poolSize);
        const padding = paddingOf(`${f}.config.padding`, cfg.padding);
        const op = cls === "MaxPooling2D" ? "max" : "avg";
        layers.push({ kind: "pool", name, op, poolSize, strides, padding });
        shape = [0, 1]
          .map((d) => outSize(f, inShape[d], poolSize[d], strides[d], padding))
          .concat(inShape[2]);
        break;
      }
      case "Flatten":
        layers.push({ kind: "flatten", name });
        shape = [inShape.reduce((a, b) => a * b, 1)];
        break;
      case "Reshape": {
        const target = shapeOf(`${f}.config.target_shape`, cfg.target_shape);
        if (size(target) !== size(inShape))
          fail(`${f}.config.target_shape`, `[${target}] does not hold [${inShape}]`);
        layers.push({ kind: "reshape", name, targetShape: target });
        shape = target;
        break;
      }
      case "Activation":
        layers.push({
          kind: "activation",
          name,
          activation: activationOf(`${f}.config.activation`, cfg.activation),
        });
        break;
    }
  });
  return { inputShape: inputShape as number[], outputShape: shape as number[], layers, weights };
}

function isSupportedLayer(cls: unknown): cls is (typeof SUPPORTED_LAYERS)[number] {
  return SUPPORTED_LAYERS.some((supported) => supported === cls);
}

/**
 * Validates the model topology against the data shapes and the loss, and compiles it into the
 * layer list the engine executes. Throws InvalidModelSpecError naming the field at fault.
 */
export function compileModel(model: unknown, data: DataSpec, loss: LossName): CompiledModel {
  const { outputShape, layers, weights } = compileLayers(model, data.featureShape);
  if (weights.length === 0) fail("model.config.layers", "the model has no trainable weights");
  const softmaxIndex = layers.findIndex((l) => "activation" in l && l.activation === "softmax");
  const last = layers[layers.length - 1];
  const softmaxOutput = "activation" in last && last.activation === "softmax";
  if (softmaxIndex !== -1 && softmaxIndex !== layers.length - 1) {
    fail(
      `model.config.layers[${softmaxIndex}].config.activation`,
      "softmax is only supported on the last layer",
    );
  }
  const crossEntropy = loss !== "meanSquaredError";
  if (crossEntropy) {
    if (data.labels.kind !== "classIndex") fail("data.labels.kind", `loss ${loss} needs class-index labels`);
    if (!sameShape(outputShape, [data.labels.numClasses])) {
      fail(
        "model",
        `output shape [${outputShape}] does not match data.labels.numClasses ${data.labels.numClasses}`,
      );
    }
    if (!softmaxOutput) {
      fail(
        `model.config.layers[${layers.length - 1}].config.activation`,
        `loss ${loss} needs a softmax output layer`,
      );
    }
  } else {
    const expected = data.labels.kind === "float32" ? data.labels.shape : [data.labels.numClasses];
    if (!sameShape(outputShape, expected))
      fail("model", `output shape [${outputShape}] does not match the labels' shape [${expected}]`);
    if (softmaxOutput && data.labels.kind !== "classIndex") {
      fail(
        `model.config.layers[${layers.length - 1}].config.activation`,
        "softmax output with meanSquaredError needs class-index labels",
      );
    }
  }
  return { inputShape: [...data.featureShape], outputShape, layers, weights, softmaxOutput };
}

function paddingOf(field: string, v: unknown): Padding {
  const p = v ?? "valid";
  if (p !== "valid" && p !== "same") fail(field, `expected 'valid' or 'same', got ${JSON.stringify(p)}`);
  return p;
}

function outSize(field: string, inSize: number, k: number, stride: number, padding: Padding): number {
  const out = windowOutputSize(inSize, k, stride, padding);
  if (out < 1) fail(field, `window ${k} does not fit an input of size ${inSize}`);
  return out;
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A validated job spec plus the compiled model the engine executes. */
export interface ValidatedJobSpec {
  spec: JobSpec;
  model: CompiledModel;
}

/**
 * Validates a job spec (format, engineId syntax, training config, data shapes, model) without
 * checking that the engine id is this node's (see assertEngineMatches). Throws
 * InvalidModelSpecError naming the field at fault.
 */
export function validateJobSpec(spec: unknown): ValidatedJobSpec {
  if (!isObject(spec)) fail("(root)", "expected a job spec object");
  if (spec.format !== JOB_SPEC_FORMAT)
    fail("format", `expected ${JSON.stringify(JOB_SPEC_FORMAT)}, got ${JSON.stringify(spec.format)}`);
  if (typeof spec.engineId !== "string" || !/^0x[0-9a-f]{64}$/.test(spec.engineId)) {
    fail("engineId", "expected 0x followed by 64 lowercase hex digits (engineId() of the training engine)");
  }
  const training = validateTraining(spec.training);
  const data = validateData(spec.data);
  const model = compileModel(spec.model, data, training.loss);
  const clean: JobSpec = {
    format: JOB_SPEC_FORMAT,
    engineId: spec.engineId,
    model: spec.model,
    training,
    data,
  };
  return { spec: clean, model };
}

/**
 * Returns a copy of the model topology where every random initializer without a seed gets
 * `seed + k` (k = its position among the model's initializers), so S_0 is reproducible.
 * Employer-side helper: miners never change a spec's initializers.
 */
export function seedInitializers(model: unknown, seed: number): Json {
  const copy = structuredClone(parsedModel(model)) as Json;
  let k = 0;
  for (const layer of modelLayers(copy)) {
    const cfg = isObject(layer.config) ? layer.config : {};
    for (const key of ["kernel_initializer", "bias_initializer"]) {
      const init = cfg[key];
      if (!isObject(init) || !RANDOM_INITIALIZERS.has(init.class_name as string)) continue;
      const c = isObject(init.config) ? init.config : (init.config = {});
      // (seed + k) mod 2^32, never 0 (which TensorFlow.js treats as "no seed").
      if (typeof (c as Json).seed !== "number") (c as Json).seed = (seed + k) >>> 0 || 1;
      k++;
    }
  }
  return copy;
}
