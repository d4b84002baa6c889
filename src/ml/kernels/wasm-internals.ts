/**
 * The few internals of tfjs-backend-wasm 4.22 our kernels touch: tensor data lives in the wasm
 * heap and is addressed through the backend's data map. Pinned by the engine id (engine-id.ts).
 */
import type { TensorInfo } from "@tensorflow/tfjs";

/** Structural view of BackendWasm (the class is not exported with these members typed). */
export interface WasmBackendInternals {
  makeOutput(shape: number[], dtype: "float32"): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}

/** The kernel function signature of the wasm backend. */
export type WasmKernelFunc = (args: {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackendInternals;
  attrs?: Record<string, unknown>;
}) => TensorInfo;
