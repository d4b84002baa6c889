/**
 * Our deterministic kernels for the wasm backend, registered over (or next to) the stock ones.
 * Any change to what a kernel computes must bump KERNEL_SET, which feeds the engine id.
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorInfo } from "@tensorflow/tfjs";
import { makeBatchMatMul } from "./batch-mat-mul";
import { makeConv2DBackpropFilter } from "./conv2d-backprop-filter";
import { makeConv2DBackpropInput } from "./conv2d-backprop-input";
import { makeMaxPoolGrad } from "./max-pool-grad";
import { makeSingleChannelConv } from "./conv2d-single-channel";
import { makeAvgPool, makeAvgPoolGrad } from "./avg-pool";
import {
  makeSoftmax,
  makeSoftmaxCrossEntropy,
  makeUnaryKernel,
  SOFTMAX_CROSS_ENTROPY,
  UNARY_KERNELS,
} from "./elementwise";
import { fromKernelFunc, toKernelFunc, type WasmKernelFunc } from "./wasm-internals";

export { SOFTMAX_CROSS_ENTROPY };

/** Names and revisions of the kernels we register; part of the engine id. */
export const KERNEL_SET = [
  "BatchMatMul:transpose-then-xnnpack-pack-smaller@2",
  "Conv2DBackpropFilter:im2col-transpose-xnnpack@2",
  "Conv2DBackpropInput:dilate-pad-flip-xnnpack-conv@2",
  "FusedConv2D:xnnpack-or-im2col-fc-for-one-channel@1",
  "MaxPoolGrad:first-max-ts@1",
  "PotConv2DBackpropFilterBias:im2col-ones-row-xnnpack@1",
  "Exp:pot-exp64-poly13@1",
  "Log:pot-log64-atanh-series@1",
  "Tanh:pot-expm1-ratio@1",
  "Sigmoid:pot-exp64-ratio@1",
  "Softmax:pot-max-exp-sum-div@1",
  "PotSoftmaxCrossEntropy:pot-max-exp-sum-log@1",
  "AvgPool:pot-ordered-sum-div-count@1",
  "AvgPoolGrad:pot-share-ordered-add@1",
] as const;

/** Stock kernels we replace by plain-TypeScript ones (see each file), by kernel name. */
function ownKernels(): [string, WasmKernelFunc<TensorInfo | TensorInfo[]>][] {
  return [
    ...UNARY_KERNELS.map(([name, fn]): [string, WasmKernelFunc] => [name, makeUnaryKernel(name, fn)]),
    ["Softmax", makeSoftmax()],
    [SOFTMAX_CROSS_ENTROPY, makeSoftmaxCrossEntropy()],
    ["FusedConv2D", makeSingleChannelConv(stockKernel("FusedConv2D"), stockKernel("_FusedMatMul"))],
    ["AvgPool", makeAvgPool()],
    ["AvgPoolGrad", makeAvgPoolGrad()],
  ];
}

/** Our own kernel: [dW, db] of a Conv2D with bias in one pass (conv2d-backprop-filter.ts). */
export const CONV2D_BACKPROP_FILTER_BIAS = "PotConv2DBackpropFilterBias";

let registered = false;
let stock:
  | {
      matMul: tf.KernelConfig;
      backpropFilter?: tf.KernelConfig;
      backpropInput: tf.KernelConfig;
      maxPoolGrad: tf.KernelConfig;
      replaced: tf.KernelConfig[];
    }
  | undefined;

function stockKernel(name: string): WasmKernelFunc {
  const config = tf.getKernel(name, "wasm");
  if (!config) throw new Error(`tfjs-backend-wasm has no stock ${name} kernel`);
  return fromKernelFunc(name, config.kernelFunc);
}

/** Registers our kernels on the wasm backend (idempotent). Call after the backend is initialized. */
export function registerDeterministicKernels(): void {
  if (registered) return;
  stock = {
    matMul: tf.getKernel("BatchMatMul", "wasm")!,
    backpropFilter: tf.getKernel("Conv2DBackpropFilter", "wasm"),
    backpropInput: tf.getKernel("Conv2DBackpropInput", "wasm")!,
    maxPoolGrad: tf.getKernel("MaxPoolGrad", "wasm")!,
    replaced: [],
  };
  const stockMatMul = stockKernel("BatchMatMul");
  const stockTranspose = stockKernel("Transpose");
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    kernelName: "BatchMatMul",
    backendName: "wasm",
    kernelFunc: toKernelFunc(makeBatchMatMul(stockMatMul, stockTranspose)),
  });
  if (tf.getKernel("Conv2DBackpropFilter", "wasm")) tf.unregisterKernel("Conv2DBackpropFilter", "wasm");
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: toKernelFunc(makeConv2DBackpropFilter(stockMatMul, stockTranspose)),
  });
  if (!tf.getKernel(CONV2D_BACKPROP_FILTER_BIAS, "wasm")) {
    tf.registerKernel({
      kernelName: CONV2D_BACKPROP_FILTER_BIAS,
      backendName: "wasm",
      kernelFunc: toKernelFunc(makeConv2DBackpropFilter(stockMatMul, stockTranspose, true)),
    });
  }
  const stockFusedMatMul = stockKernel("_FusedMatMul");
  const stockConv2D = makeSingleChannelConv(stockKernel("Conv2D"), stockFusedMatMul);
  tf.unregisterKernel("Conv2DBackpropInput", "wasm");
  tf.registerKernel({
    kernelName: "Conv2DBackpropInput",
    backendName: "wasm",
    kernelFunc: toKernelFunc(makeConv2DBackpropInput(stockConv2D)),
  });
  tf.unregisterKernel("MaxPoolGrad", "wasm");
  tf.registerKernel({
    kernelName: "MaxPoolGrad",
    backendName: "wasm",
    kernelFunc: toKernelFunc(makeMaxPoolGrad()),
  });
  for (const [kernelName, kernelFunc] of ownKernels()) {
    const config = tf.getKernel(kernelName, "wasm");
    if (config) {
      stock.replaced.push(config);
      tf.unregisterKernel(kernelName, "wasm");
    }
    tf.registerKernel({
      kernelName,
      backendName: "wasm",
      kernelFunc: toKernelFunc(kernelFunc),
    });
  }
  registered = true;
}

/**
 * Benchmarks only: puts the stock wasm kernels back (no Conv2DBackpropFilter, slow transposed
 * matmul). The engine refuses to train until registerDeterministicKernels() runs again.
 */
export function restoreStockKernels(): void {
  if (!registered || !stock) return;
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({ ...stock.matMul, setupFunc: undefined });
  tf.unregisterKernel("Conv2DBackpropFilter", "wasm");
  if (stock.backpropFilter) tf.registerKernel(stock.backpropFilter);
  for (const k of [stock.backpropInput, stock.maxPoolGrad, ...stock.replaced]) {
    tf.unregisterKernel(k.kernelName, "wasm");
    tf.registerKernel({ ...k, setupFunc: undefined });
  }
  registered = false;
}

/** Whether our kernels are the registered ones. */
export function deterministicKernelsRegistered(): boolean {
  return registered;
}
