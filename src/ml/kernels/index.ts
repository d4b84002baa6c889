/**
 * Our deterministic kernels for the wasm backend, registered over (or next to) the stock ones.
 * Any change to what a kernel computes must bump KERNEL_SET, which feeds the engine id.
 */
import * as tf from "@tensorflow/tfjs";
import { makeBatchMatMul } from "./batch-mat-mul";
import { makeConv2DBackpropFilter } from "./conv2d-backprop-filter";
import type { WasmKernelFunc } from "./wasm-internals";

/** Names and revisions of the kernels we register; part of the engine id. */
export const KERNEL_SET = [
  "BatchMatMul:transpose-then-xnnpack@1",
  "Conv2DBackpropFilter:im2colT-xnnpack@1",
] as const;

let registered = false;

function stockKernel(name: string): WasmKernelFunc {
  const config = tf.getKernel(name, "wasm");
  if (!config) throw new Error(`tfjs-backend-wasm has no stock ${name} kernel`);
  return config.kernelFunc as unknown as WasmKernelFunc;
}

/** Registers our kernels on the wasm backend (idempotent). Call after the backend is initialized. */
export function registerDeterministicKernels(): void {
  if (registered) return;
  const stockMatMul = stockKernel("BatchMatMul");
  const stockTranspose = stockKernel("Transpose");
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    kernelName: "BatchMatMul",
    backendName: "wasm",
    kernelFunc: makeBatchMatMul(stockMatMul, stockTranspose) as unknown as tf.KernelFunc,
  });
  if (tf.getKernel("Conv2DBackpropFilter", "wasm")) tf.unregisterKernel("Conv2DBackpropFilter", "wasm");
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: makeConv2DBackpropFilter(stockMatMul) as unknown as tf.KernelFunc,
  });
  registered = true;
}
