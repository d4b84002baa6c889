/**
 * The few internals of tfjs-backend-wasm 4.22 our kernels touch: tensor data lives in the wasm
 * heap and is addressed through the backend's data map. Pinned by the engine id (engine-id.ts).
 *
 * Our kernels are written against {@link WasmKernelFunc} (the backend typed, the inputs all present, one
 * output unless said otherwise); `toKernelFunc` and `fromKernelFunc` convert to and from tfjs's untyped
 * `KernelFunc` with runtime checks instead of casts.
 */
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from "@tensorflow/tfjs";
import { BackendUnavailableError } from "../errors";

/** Structural view of BackendWasm (the class is not exported with these members typed). */
export interface WasmBackendInternals {
  makeOutput(shape: number[], dtype: "float32"): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}

/** The kernel function signature of the wasm backend, with `Out` its output(s). */
export type WasmKernelFunc<Out extends TensorInfo | TensorInfo[] = TensorInfo> = (args: {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackendInternals;
  attrs?: Record<string, unknown>;
}) => Out;

/** Whether `backend` has the members of BackendWasm our kernels use. */
export function isWasmBackend(backend: object): backend is WasmBackendInternals {
  return (
    "makeOutput" in backend &&
    typeof backend.makeOutput === "function" &&
    "typedArrayFromHeap" in backend &&
    typeof backend.typedArrayFromHeap === "function" &&
    "disposeData" in backend &&
    typeof backend.disposeData === "function"
  );
}

/** `backend` as BackendWasm's internals; throws when it is another backend. */
export function wasmInternals(backend: object): WasmBackendInternals {
  if (!isWasmBackend(backend)) {
    throw new BackendUnavailableError("a PoT kernel ran on a backend that is not tfjs-backend-wasm");
  }
  return backend;
}

/** One of our kernels as a tfjs kernel function (registered on the wasm backend only). */
export function toKernelFunc<Out extends TensorInfo | TensorInfo[]>(fn: WasmKernelFunc<Out>): KernelFunc {
  return ({ inputs, backend, attrs }) =>
    fn({ inputs: presentInputs(inputs), backend: wasmInternals(backend), attrs });
}

/** A stock kernel with one output as a {@link WasmKernelFunc} (its name for the error on more outputs). */
export function fromKernelFunc(name: string, fn: KernelFunc): WasmKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const out = fn({ inputs, backend, attrs: attrs === undefined ? undefined : attrMap(attrs) });
    if (Array.isArray(out))
      throw new BackendUnavailableError(`the stock ${name} kernel gave several outputs`);
    return out;
  };
}

/** The inputs tfjs passes, without absent optional ones (an omitted bias). */
function presentInputs(inputs: NamedTensorInfoMap): Record<string, TensorInfo> {
  const present: Record<string, TensorInfo> = {};
  for (const [name, t] of Object.entries(inputs)) if (t !== undefined) present[name] = t;
  return present;
}

/** Attributes for a stock kernel: the unset ones (`undefined`) are left out, as tfjs reads them alike. */
function attrMap(attrs: Record<string, unknown>): NamedAttrMap {
  const map: NamedAttrMap = {};
  for (const [name, value] of Object.entries(attrs)) if (isAttribute(value)) map[name] = value;
  return map;
}

function isAttribute(value: unknown): value is NamedAttrMap[string] {
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "string") return true;
  if (Array.isArray(value)) return value.every(isAttribute);
  return (
    typeof value === "object" && value !== null && Object.values(value).every((v: unknown) => isAttribute(v))
  );
}
