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
    const transposeA = Boolean(attrs?.transposeA);
    const transposeB = Boolean(attrs?.transposeB);
    const ra = inputs.a.shape.length;
    const rb = inputs.b.shape.length;
    const m = transposeA ? inputs.a.shape[ra - 1] : inputs.a.shape[ra - 2];
    const n = transposeB ? inputs.b.shape[rb - 2] : inputs.b.shape[rb - 1];
    const unbatched =
      inputs.a.shape.slice(0, -2).every((d) => d === 1) && inputs.b.shape.slice(0, -2).every((d) => d === 1);
    if (!unbatched) {
      if (!transposeA && !transposeB) return stockMatMul({ inputs, backend, attrs });
      return transposedThenStock(inputs.a, inputs.b, transposeA, transposeB, backend);
    }
    // Unbatched: work on rank-2 views of the same data (wasm Transpose is fastest on rank 2).
    const a = asMatrix(inputs.a);
    const b = asMatrix(inputs.b);
    const outShape = [...(ra >= rb ? inputs.a.shape : inputs.b.shape).slice(0, -2), m, n];
    let out: TensorInfo;
    if (4 * m < 3 * n) {
      // C^T = B^T . A^T, both operands untransposed in memory; then C = (C^T)^T.
      const temporaries: TensorInfo[] = [];
      const bT = transposeB ? b : transpose2(b, backend, stockTranspose, temporaries);
      const aT = transposeA ? a : transpose2(a, backend, stockTranspose, temporaries);
      const cT = stockMatMul({
        inputs: { a: bT, b: aT },
        backend,
        attrs: { transposeA: false, transposeB: false },
      });
      temporaries.push(cT);
      out = transpose2(asMatrix(cT), backend, stockTranspose, []);
      for (const t of temporaries) backend.disposeData(t.dataId);
    } else {
      out = transposedThenStock(a, b, transposeA, transposeB, backend);
    }
    out.shape = outShape;
    return out;
  };

  function transposedThenStock(
    a: TensorInfo,
    b: TensorInfo,
    transposeA: boolean,
    transposeB: boolean,
    backend: WasmBackendInternals,
  ): TensorInfo {
    const temporaries: TensorInfo[] = [];
    const a2 = transposeA ? transposeLastTwo(a, backend, stockTranspose, temporaries) : a;
    const b2 = transposeB ? transposeLastTwo(b, backend, stockTranspose, temporaries) : b;
    const out = stockMatMul({
      inputs: { a: a2, b: b2 },
      backend,
      attrs: { transposeA: false, transposeB: false },
    });
    for (const t of temporaries) backend.disposeData(t.dataId);
    return out;
  }
}

/** A rank-2 view (same data) of a tensor whose leading dimensions are all 1. */
function asMatrix(x: TensorInfo): TensorInfo {
  const r = x.shape.length;
  return { dataId: x.dataId, dtype: x.dtype, shape: [x.shape[r - 2], x.shape[r - 1]] };
}

function transpose2(
  x: TensorInfo,
  backend: WasmBackendInternals,
  stockTranspose: WasmKernelFunc,
  temporaries: TensorInfo[],
): TensorInfo {
  const t = stockTranspose({ inputs: { x }, backend, attrs: { perm: [1, 0] } });
  temporaries.push(t);
  return t;
}

function transposeLastTwo(
  x: TensorInfo,
  backend: WasmBackendInternals,
  stockTranspose: WasmKernelFunc,
  temporaries: TensorInfo[],
): TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  const t = stockTranspose({ inputs: { x }, backend, attrs: { perm } });
  temporaries.push(t);
  return t;
}
