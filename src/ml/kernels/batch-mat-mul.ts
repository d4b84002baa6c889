/**
 * BatchMatMul with transposed inputs, made fast and deterministic: tfjs-backend-wasm 4.22 sends a
 * matmul with transposeA or transposeB (every backward pass) to a naive loop. We transpose the
 * input physically first (wasm Transpose, an exact copy) and call the stock XNNPACK path, which
 * accumulates every output element in k order with separately rounded float32 multiply and add
 * (bit-identical to the reference in reference-matmul.ts).
 */
import type { TensorInfo } from "@tensorflow/tfjs";
import type { WasmBackendInternals, WasmKernelFunc } from "./wasm-internals";

/** Wraps the stock wasm BatchMatMul so it only ever sees untransposed inputs. */
export function makeBatchMatMul(stockMatMul: WasmKernelFunc, stockTranspose: WasmKernelFunc): WasmKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { a, b } = inputs;
    const transposeA = Boolean(attrs?.transposeA);
    const transposeB = Boolean(attrs?.transposeB);
    if (!transposeA && !transposeB) return stockMatMul({ inputs, backend, attrs });
    const temporaries: TensorInfo[] = [];
    const swapLast = (x: TensorInfo): TensorInfo => {
      const t = transposeLastTwo(x, backend, stockTranspose);
      temporaries.push(t);
      return t;
    };
    const a2 = transposeA ? swapLast(a) : a;
    const b2 = transposeB ? swapLast(b) : b;
    const out = stockMatMul({
      inputs: { a: a2, b: b2 },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    });
    for (const t of temporaries) backend.disposeData(t.dataId);
    return out;
  };
}

function transposeLastTwo(
  x: TensorInfo,
  backend: WasmBackendInternals,
  stockTranspose: WasmKernelFunc,
): TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return stockTranspose({ inputs: { x }, backend, attrs: { perm } });
}
