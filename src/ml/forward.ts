/**
 * Executes a CompiledModel with TensorFlow.js ops, and the per-sample losses the engine trains on.
 * Dense and Conv2D with relu/linear run as one fused XNNPACK kernel (bias and relu inside the
 * operator) in training too, with our own gradient (tfjs unfuses them whenever it records
 * gradients): dz = dy * step(y); dW, dx by the matmul / conv backprop kernels; db = sum(dz).
 * The input gradient of the first layer (the data) is never computed.
 */
import * as tf from "@tensorflow/tfjs";
import { CONV2D_BACKPROP_FILTER_BIAS, SOFTMAX_CROSS_ENTROPY } from "./kernels";
import type { Activation, CompiledModel, LossName } from "./model-spec";

function activate(x: tf.Tensor, a: Activation): tf.Tensor {
  switch (a) {
    case "linear":
      return x;
    case "relu":
      return tf.relu(x);
    case "tanh":
      return tf.tanh(x);
    case "sigmoid":
      return tf.sigmoid(x);
    case "softmax":
      return tf.softmax(x);
  }
}

/**
 * The model's output for input `x`. With `logits`, a final softmax is left out (the loss
 * applies it stably). `params` are the weights in getWeights() order.
 */
export function forward(model: CompiledModel, params: tf.Tensor[], x: tf.Tensor, logits: boolean): tf.Tensor {
  let h = x;
  let p = 0;
  const last = model.layers.length - 1;
  model.layers.forEach((layer, i) => {
    const skipSoftmax = logits && i === last && model.softmaxOutput;
    switch (layer.kind) {
      case "dense":
      case "conv2d": {
        const kernel = params[p++];
        const bias = layer.useBias ? params[p++] : undefined;
        const fusable = layer.activation === "relu" || layer.activation === "linear";
        const fusedActivation: FusedActivation = layer.activation === "relu" ? "relu" : "linear";
        h =
          layer.kind === "dense"
            ? fusedDense(h, kernel, bias, fusedActivation, i === 0)
            : fusedConv(h, kernel, bias, fusedActivation, layer.strides, layer.padding, i === 0);
        if (!fusable && !skipSoftmax) h = activate(h, layer.activation);
        break;
      }
      case "pool":
        h =
          layer.op === "max"
            ? tf.maxPool(h as tf.Tensor4D, layer.poolSize, layer.strides, layer.padding)
            : tf.avgPool(h as tf.Tensor4D, layer.poolSize, layer.strides, layer.padding);
        break;
      case "flatten":
        h = tf.reshape(h, [h.shape[0], -1]);
        break;
      case "reshape":
        h = tf.reshape(h, [h.shape[0], ...layer.targetShape]);
        break;
      case "activation":
        if (!skipSoftmax) h = activate(h, layer.activation);
        break;
    }
  });
  return h;
}

type FusedActivation = "relu" | "linear";

/** dz = dy * relu'(z), from the layer output y = relu(z) (y > 0 exactly when z > 0). */
function activationGrad(dy: tf.Tensor, y: tf.Tensor, activation: FusedActivation): tf.Tensor {
  return activation === "relu" ? tf.mul(dy, tf.step(y)) : dy;
}

/**
 * y = act(x W + b) as one _FusedMatMul kernel, with its gradient. The wasm kernel takes rank-3
 * operands, so x and W are reshaped to [1, m, k] and [1, k, n] outside the custom op (a reshape
 * inside it would release the input's data early).
 */
function fusedDense(
  x: tf.Tensor,
  w: tf.Tensor,
  b: tf.Tensor | undefined,
  activation: FusedActivation,
  inputIsData: boolean,
): tf.Tensor {
  const [m, k] = x.shape as [number, number];
  const n = w.shape[1] as number;
  const x3 = tf.reshape(x, [1, m, k]);
  const w3 = tf.reshape(w, [1, k, n]);
  const run = (xx: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) => {
    const attrs = { transposeA: false, transposeB: false };
    if (4 * m < 3 * n) {
      // Few rows, wide output: our BatchMatMul packs the smaller operand (kernels/batch-mat-mul.ts),
      // which beats the fused kernel here; bias and relu follow as separate kernels.
      const z = tf.engine().runKernel("BatchMatMul", { a: xx, b: ww }, attrs) as tf.Tensor;
      const zb = bb ? tf.add(z, bb) : z;
      return activation === "relu" ? tf.relu(zb) : zb;
    }
    return tf.engine().runKernel("_FusedMatMul", bb ? { a: xx, b: ww, bias: bb } : { a: xx, b: ww }, {
      ...attrs,
      activation,
    }) as tf.Tensor;
  };
  const grads = (dy: tf.Tensor, y: tf.Tensor, ww: tf.Tensor, xx: tf.Tensor): tf.Tensor[] => {
    const dz = activationGrad(dy, y, activation);
    const out = [tf.matMul(xx, dz, true, false)];
    if (b) out.push(tf.sum(dz, [0, 1]));
    if (!inputIsData) out.unshift(tf.matMul(dz, ww, false, true));
    return out;
  };
  return tf.reshape(customOp(run, grads, x3, w3, b, inputIsData), [m, n]);
}

/** y = act(conv2d(x, W) + b) as one FusedConv2D kernel, with its gradient. */
function fusedConv(
  x: tf.Tensor,
  w: tf.Tensor,
  b: tf.Tensor | undefined,
  activation: FusedActivation,
  strides: [number, number],
  pad: "valid" | "same",
  inputIsData: boolean,
): tf.Tensor {
  // 'same' goes to XNNPACK as explicit padding: its own TensorFlow-SAME mode (what tfjs-wasm asks
  // for) wraps around when (out-1)*stride + k < in and convolves the wrong window.
  const explicitPad = pad === "same" ? samePadding(x.shape, w.shape, strides) : pad;
  const run = (xx: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) =>
    tf.engine().runKernel("FusedConv2D", bb ? { x: xx, filter: ww, bias: bb } : { x: xx, filter: ww }, {
      strides,
      pad: explicitPad,
      dataFormat: "NHWC",
      dilations: [1, 1],
      activation,
    }) as tf.Tensor;
  const grads = (dy: tf.Tensor, y: tf.Tensor, ww: tf.Tensor, xx: tf.Tensor): tf.Tensor[] => {
    const dz = activationGrad(dy, y, activation);
    const conv = { strides, pad, dataFormat: "NHWC" };
    // [dW, db] in one pass when there is a bias (kernels/conv2d-backprop-filter.ts).
    const out = b
      ? outputs(
          tf
            .engine()
            .runKernel(CONV2D_BACKPROP_FILTER_BIAS, { x: xx, dy: dz }, { ...conv, filterShape: ww.shape }),
        )
      : [
          tf
            .engine()
            .runKernel(
              "Conv2DBackpropFilter",
              { x: xx, dy: dz },
              { ...conv, filterShape: ww.shape },
            ) as tf.Tensor,
        ];
    if (!inputIsData) {
      out.unshift(
        tf
          .engine()
          .runKernel(
            "Conv2DBackpropInput",
            { dy: dz, filter: ww },
            { ...conv, inputShape: xx.shape },
          ) as tf.Tensor,
      );
    }
    return out;
  };
  return customOp(run, grads, x, w, b, inputIsData);
}

/**
 * TensorFlow's 'same' padding as explicit NHWC padding: out = ceil(in / stride), total =
 * max(0, (out-1)*stride + k - in), before = floor(total / 2), after = total - before.
 */
function samePadding(
  xShape: number[],
  wShape: number[],
  strides: [number, number],
): [[number, number], [number, number], [number, number], [number, number]] {
  const [top, bottom, left, right] = [1, 2].flatMap((d) => {
    const out = Math.ceil(xShape[d] / strides[d - 1]);
    const total = Math.max(0, (out - 1) * strides[d - 1] + wShape[d - 1] - xShape[d]);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  });
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/** Wraps a forward kernel and its gradient as a tfjs custom op over (x?, w, b?). */
function customOp(
  run: (x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor) => tf.Tensor,
  grads: (dy: tf.Tensor, y: tf.Tensor, w: tf.Tensor, x: tf.Tensor) => tf.Tensor[],
  x: tf.Tensor,
  w: tf.Tensor,
  b: tf.Tensor | undefined,
  inputIsData: boolean,
): tf.Tensor {
  // Only tensors that need a gradient are inputs of the op; the data input is captured.
  const inputs = [...(inputIsData ? [] : [x]), w, ...(b ? [b] : [])];
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const { tensors: ins, save } = customGradArgs(args);
    const xx = inputIsData ? x : ins[0];
    const ww = ins[inputIsData ? 0 : 1];
    const bb = b ? ins[inputIsData ? 1 : 2] : undefined;
    const y = run(xx, ww, bb);
    save([xx, ww, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => grads(dy, saved[2], saved[1], saved[0]),
    };
  });
  return op(...inputs);
}

/** The arguments tfjs passes to a custom-gradient function: the input tensors, then the save function. */
function customGradArgs(args: Array<tf.Tensor | tf.GradSaveFunc>): {
  tensors: tf.Tensor[];
  save: tf.GradSaveFunc;
} {
  const save = args[args.length - 1];
  const tensors = args.slice(0, -1).filter((a): a is tf.Tensor => a instanceof tf.Tensor);
  if (typeof save !== "function" || tensors.length !== args.length - 1) {
    throw new Error("tf.customGrad passed something other than tensors and a save function");
  }
  return { tensors, save };
}

/** The outputs of a kernel that returns several tensors. */
function outputs(result: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  if (!Array.isArray(result)) throw new Error("a multi-output kernel returned one tensor");
  return result;
}

/**
 * Softmax cross-entropy per sample from logits z and one-hot targets y, in one kernel that also
 * gives softmax(z) for the gradient (kernels/float-math.ts, softmaxCrossEntropyRows):
 * loss_i = log(sum_j exp(z_ij - max_i)) - sum_j y_ij * (z_ij - max_i); gradient (softmax(z) - y) * dloss.
 */
const softmaxCrossEntropy = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const {
    tensors: [z, y],
    save,
  } = customGradArgs(args);
  const [value, probs] = outputs(tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, { logits: z, labels: y }));
  save([probs, y]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [p, ys] = saved;
      return [tf.mul(tf.sub(p, ys), tf.expandDims(dy, 1)), tf.zerosLike(ys)];
    },
  };
});

/** Per-sample losses [batch] of the model output (logits for cross-entropy) against targets. */
export function perSampleLoss(loss: LossName, output: tf.Tensor, targets: tf.Tensor): tf.Tensor1D {
  if (loss === "meanSquaredError") {
    const d = tf.sub(output, targets);
    return tf.mean(tf.reshape(tf.mul(d, d), [d.shape[0], -1]), 1) as tf.Tensor1D;
  }
  return softmaxCrossEntropy(output, targets) as tf.Tensor1D;
}
