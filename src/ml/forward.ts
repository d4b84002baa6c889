/**
 * Executes a CompiledModel with TensorFlow.js ops, and the per-sample losses the engine trains on.
 * Dense and Conv2D use tfjs's fused kernels (bias and relu inside the XNNPACK operator).
 */
import * as tf from "@tensorflow/tfjs";
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
        const fusedActivation: "relu" | "linear" = layer.activation === "relu" ? "relu" : "linear";
        h =
          layer.kind === "dense"
            ? tf.fused.matMul({
                a: h as tf.Tensor2D,
                b: kernel as tf.Tensor2D,
                bias,
                activation: fusedActivation,
              })
            : tf.fused.conv2d({
                x: h as tf.Tensor4D,
                filter: kernel as tf.Tensor4D,
                strides: layer.strides,
                pad: layer.padding,
                bias,
                activation: fusedActivation,
              });
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

/**
 * Softmax cross-entropy per sample from logits z and one-hot targets y:
 * loss_i = log(sum_j exp(z_ij - max_i)) - sum_j y_ij * (z_ij - max_i); gradient (softmax(z) - y) * dloss.
 */
const softmaxCrossEntropy = tf.customGrad(((z: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
  const shifted = tf.sub(z, tf.max(z, 1, true));
  const value = tf.sub(tf.log(tf.sum(tf.exp(shifted), 1)), tf.sum(tf.mul(y, shifted), 1));
  save([z, y]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [zs, ys] = saved;
      return [tf.mul(tf.sub(tf.softmax(zs), ys), tf.expandDims(dy, 1)), tf.zerosLike(ys)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/** Per-sample losses [batch] of the model output (logits for cross-entropy) against targets. */
export function perSampleLoss(loss: LossName, output: tf.Tensor, targets: tf.Tensor): tf.Tensor1D {
  if (loss === "meanSquaredError") {
    const d = tf.sub(output, targets);
    return tf.mean(tf.reshape(tf.mul(d, d), [d.shape[0], -1]), 1) as tf.Tensor1D;
  }
  return softmaxCrossEntropy(output, targets) as tf.Tensor1D;
}
