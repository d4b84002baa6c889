/**
 * The layers a job's model may use, as shapes, and what they cost: the one list of supported layers.
 * src/ml validates a model JSON into these layers (`compileModel`, `compileLayers`) and trains exactly them;
 * tau (`modelCost`) prices them. A layer the engine trains always has a cost (test/protocol/model-layers).
 *
 * Cost: floating-point operations per sample of the forward pass, layer by layer (a multiply-add is 2
 * FLOPs), and training as 3x forward (the backward pass costs about twice the forward pass: gradients with
 * respect to activations and to weights). Pure: the same on every machine.
 */

/** TensorFlow.js layer classes a job may use (InputLayer only declares the input shape). */
export const SUPPORTED_LAYERS = [
  "InputLayer",
  "Dense",
  "Conv2D",
  "MaxPooling2D",
  "AveragePooling2D",
  "Flatten",
  "Reshape",
  "Activation",
] as const;
export type SupportedLayer = (typeof SUPPORTED_LAYERS)[number];

/** Activations a layer may apply (its `activation`, or an Activation layer). */
export const ACTIVATIONS = ["linear", "relu", "tanh", "sigmoid", "softmax"] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export type Padding = "valid" | "same";

/** FLOPs per element of each activation (comparisons, exp, division; rough but fixed). */
export const ACTIVATION_FLOPS: Readonly<Record<Activation, number>> = {
  linear: 0,
  relu: 1,
  sigmoid: 4,
  tanh: 4,
  softmax: 5,
};

/** One layer of a validated model, in the order the engine executes them (InputLayer has none). */
export type ModelLayer =
  | { kind: "dense"; name: string; units: number; activation: Activation; useBias: boolean }
  | {
      kind: "conv2d";
      name: string;
      filters: number;
      kernelSize: [number, number];
      strides: [number, number];
      padding: Padding;
      activation: Activation;
      useBias: boolean;
    }
  | {
      kind: "pool";
      name: string;
      op: "max" | "avg";
      poolSize: [number, number];
      strides: [number, number];
      padding: Padding;
    }
  | { kind: "flatten"; name: string }
  | { kind: "reshape"; name: string; targetShape: number[] }
  | { kind: "activation"; name: string; activation: Activation };

/** Per-sample cost of a model. */
export interface ModelCost {
  /** Trainable parameters. */
  params: number;
  /** FLOPs of one forward pass of one sample. */
  forwardFlopsPerSample: number;
  /** FLOPs of one training step per sample: forward + backward (3x forward). */
  trainFlopsPerSample: number;
  /** Per layer, in order: class, output shape (without batch), forward FLOPs, params. */
  layers: { className: string; outputShape: number[]; forwardFlops: number; params: number }[];
}

/** The TensorFlow.js class of a layer. */
export function layerClassName(layer: ModelLayer): Exclude<SupportedLayer, "InputLayer"> {
  switch (layer.kind) {
    case "dense":
      return "Dense";
    case "conv2d":
      return "Conv2D";
    case "pool":
      return layer.op === "max" ? "MaxPooling2D" : "AveragePooling2D";
    case "flatten":
      return "Flatten";
    case "reshape":
      return "Reshape";
    case "activation":
      return "Activation";
  }
}

/** Output size of a window (kernel or pool) of `k` with `stride` over `inSize` (TensorFlow's rule). */
export function windowOutputSize(inSize: number, k: number, stride: number, padding: Padding): number {
  return padding === "same" ? Math.ceil(inSize / stride) : Math.floor((inSize - k) / stride) + 1;
}

const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Output shape (without batch), forward FLOPs per sample and parameters of one layer over `input`. */
export function layerCost(
  layer: ModelLayer,
  input: readonly number[],
): { shape: number[]; flops: number; params: number } {
  switch (layer.kind) {
    case "dense": {
      const inDim = input[input.length - 1];
      const lead = elements(input.slice(0, -1));
      const shape = [...input.slice(0, -1), layer.units];
      const bias = layer.useBias ? layer.units : 0;
      return {
        shape,
        flops: lead * (2 * inDim * layer.units + bias) + ACTIVATION_FLOPS[layer.activation] * elements(shape),
        params: inDim * layer.units + bias,
      };
    }
    case "conv2d": {
      const [kh, kw] = layer.kernelSize;
      const [oh, ow] = [0, 1].map((d) =>
        windowOutputSize(input[d], layer.kernelSize[d], layer.strides[d], layer.padding),
      );
      const cin = input[2];
      const shape = [oh, ow, layer.filters];
      const bias = layer.useBias ? 1 : 0;
      return {
        shape,
        flops:
          oh * ow * layer.filters * (2 * kh * kw * cin + bias) +
          ACTIVATION_FLOPS[layer.activation] * elements(shape),
        params: kh * kw * cin * layer.filters + bias * layer.filters,
      };
    }
    case "pool": {
      const [oh, ow] = [0, 1].map((d) =>
        windowOutputSize(input[d], layer.poolSize[d], layer.strides[d], layer.padding),
      );
      const [ph, pw] = layer.poolSize;
      return { shape: [oh, ow, input[2]], flops: oh * ow * input[2] * ph * pw, params: 0 };
    }
    case "flatten":
      return { shape: [elements(input)], flops: 0, params: 0 };
    case "reshape":
      return { shape: [...layer.targetShape], flops: 0, params: 0 };
    case "activation":
      return { shape: [...input], flops: ACTIVATION_FLOPS[layer.activation] * elements(input), params: 0 };
  }
}

/** tau: the per-sample cost of a validated model (its input shape and layers). */
export function modelCost(inputShape: readonly number[], layers: readonly ModelLayer[]): ModelCost {
  let shape: readonly number[] = inputShape;
  const out: ModelCost["layers"] = layers.map((layer) => {
    const r = layerCost(layer, shape);
    shape = r.shape;
    return {
      className: layerClassName(layer),
      outputShape: r.shape,
      forwardFlops: r.flops,
      params: r.params,
    };
  });
  const forward = out.reduce((s, l) => s + l.forwardFlops, 0);
  return {
    params: out.reduce((s, l) => s + l.params, 0),
    forwardFlopsPerSample: forward,
    trainFlopsPerSample: 3 * forward,
    layers: out,
  };
}
