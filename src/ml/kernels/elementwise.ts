/**
 * Exp, Log, Tanh, Sigmoid and Softmax for the wasm backend in plain TypeScript, computed as
 * float-math.ts specifies (the stock kernels call libm or XNNPACK approximations that no
 * document pins down). Float32 in, float32 out; the inputs are small (logits, hidden layers).
 */
import type { TensorInfo } from "@tensorflow/tfjs";
import { exp32, log32, sigmoid32, softmaxCrossEntropyRows, softmaxRows, tanh32 } from "./float-math";
import type { WasmKernelFunc } from "./wasm-internals";

/** A unary float32 kernel applying `fn` to every element. */
export function makeUnaryKernel(name: string, fn: (x: number) => number): WasmKernelFunc {
  return ({ inputs, backend }) => {
    const x = inputs.x;
    if (x.dtype !== "float32")
      throw new Error(`${name} (deterministic wasm kernel): only float32, got ${x.dtype}`);
    const out = backend.makeOutput([...x.shape], "float32");
    const xv = backend.typedArrayFromHeap(x);
    const ov = backend.typedArrayFromHeap(out);
    for (let i = 0; i < xv.length; i++) ov[i] = fn(xv[i]);
    return out;
  };
}

export const UNARY_KERNELS: [string, (x: number) => number][] = [
  ["Exp", exp32],
  ["Log", log32],
  ["Tanh", tanh32],
  ["Sigmoid", sigmoid32],
];

/** Softmax over the last axis (the only one the engine uses). */
export function makeSoftmax(): WasmKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const x = inputs.logits as TensorInfo;
    const rank = x.shape.length;
    const dim = (attrs?.dim as number | undefined) ?? -1;
    if (dim !== -1 && dim !== rank - 1) {
      throw new Error(`Softmax (deterministic wasm kernel): only the last axis, got dim ${dim}`);
    }
    const width = x.shape[rank - 1];
    const out = backend.makeOutput([...x.shape], "float32");
    const xv = backend.typedArrayFromHeap(x);
    softmaxRows(xv, backend.typedArrayFromHeap(out), xv.length / width, width);
    return out;
  };
}

/** Our kernel name: per-sample softmax cross-entropy of logits [B, K] and one-hot labels [B, K]. */
export const SOFTMAX_CROSS_ENTROPY = "PotSoftmaxCrossEntropy";

/** [losses [B], softmax [B, K]] in one pass (float-math.ts, softmaxCrossEntropyRows). */
export function makeSoftmaxCrossEntropy(): WasmKernelFunc<TensorInfo[]> {
  return ({ inputs, backend }) => {
    const { logits, labels } = inputs as { logits: TensorInfo; labels: TensorInfo };
    const [count, width] = logits.shape;
    const losses = backend.makeOutput([count], "float32");
    const probs = backend.makeOutput([count, width], "float32");
    softmaxCrossEntropyRows(
      backend.typedArrayFromHeap(logits),
      backend.typedArrayFromHeap(labels),
      backend.typedArrayFromHeap(losses),
      backend.typedArrayFromHeap(probs),
      count,
      width,
    );
    return [losses, probs];
  };
}
