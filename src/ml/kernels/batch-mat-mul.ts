/**
 * BatchMatMul made fast and deterministic on the wasm backend.
 *
 * - tfjs-backend-wasm 4.22 sends a matmul with transposeA or transposeB (every backward pass) to
 *   a naive loop. We transpose physically first (wasm Transpose, an exact copy) and call the
 *   stock XNNPACK path, which accumulates every output element in k order with separately
 *   rounded float32 multiply and add (bit-identical to the reference in test/ml/kernels.test.ts).
 * - XNNPACK re-packs the right operand whenever it is a new tensor (the weights, every step).
 *   When the left operand is the smaller one (m < n, e.g. a batch of 64 times a 784x128 weight),
 *   we compute C^T = B^T A^T and transpose back: each element is the same k-ordered sum of the
 *   same products, so the bits are identical, and only the smaller operand is packed.
 */
import type { TensorInfo } from "@tensorflow/tfjs";
import type { WasmBackendInternals, WasmKernelFunc } from "./wasm-internals";

/** Wraps the stock wasm BatchMatMul so it only ever sees untransposed inputs. */
export function makeBatchMatMul(stockMatMul: WasmKernelFunc, stockTranspose: WasmKernelFunc): WasmKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { a, b } = inputs;
    const transposeA = Boolean(attrs?.transposeA);
    const transposeB = Boolean(attrs?.transposeB);
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const unbatched =
      a.shape.slice(0, -2).every((d) => d === 1) && b.shape.slice(0, -2).every((d) => d === 1);
    const temporaries: TensorInfo[] = [];
    const swapLast = (x: TensorInfo): TensorInfo => {
      const t = transposeLastTwo(x, backend, stockTranspose);
      temporaries.push(t);
      return t;
    };
    let out: TensorInfo;
    if (unbatched && 4 * m < 3 * n) {
      // C^T = B^T . A^T, both operands untransposed in memory.
      const bT = transposeB ? b : swapLast(b);
      const aT = transposeA ? a : swapLast(a);
      const cT = stockMatMul({
        inputs: { a: bT, b: aT },
        backend,
        attrs: { transposeA: false, transposeB: false },
      });
      temporaries.push(cT);
      out = transposeLastTwo(cT, backend, stockTranspose);
    } else if (!transposeA && !transposeB) {
      return stockMatMul({ inputs, backend, attrs });
    } else {
      const a2 = transposeA ? swapLast(a) : a;
      const b2 = transposeB ? swapLast(b) : b;
      out = stockMatMul({
        inputs: { a: a2, b: b2 },
        backend,
        attrs: { transposeA: false, transposeB: false },
      });
    }
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
