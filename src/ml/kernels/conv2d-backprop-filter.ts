/**
 * Conv2DBackpropFilter for the wasm backend, which lacks it (without it no CNN can train).
 *
 * dW = P^T . dY, where P is the im2col matrix of the input ([n*outH*outW, fh*fw*inC], rows in
 * (n, oh, ow) order, columns in (kh, kw, inC) order, zeros where the window overlaps padding).
 * We build P in plain TypeScript, transpose it with the stock wasm Transpose (exact copies) and
 * multiply P^T by dY ([n*outH*outW, outC]) with the stock untransposed XNNPACK matmul, so each
 * filter gradient is a float32 sum in (n, oh, ow) order: deterministic.
 *
 * PotConv2DBackpropFilterBias (our kernel name) returns [dW, db] in one pass: P^T gets a last row
 * of ones, so db[c] = sum of dY[m, c] over m in (n, oh, ow) order, float32.
 */
import { backend_util, type TensorInfo } from "@tensorflow/tfjs";
import type { WasmKernelFunc } from "./wasm-internals";

/** Builds the kernel from the stock wasm BatchMatMul (untransposed path only). */
export function makeConv2DBackpropFilter(
  stockMatMul: WasmKernelFunc,
  stockTranspose: WasmKernelFunc,
  withBias = false,
): WasmKernelFunc<TensorInfo | TensorInfo[]> {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as {
      strides: number | [number, number];
      pad: "valid" | "same" | number;
      dataFormat: "NHWC" | "NCHW";
      dimRoundingMode?: "floor" | "round" | "ceil";
      filterShape: [number, number, number, number];
    };
    if (a.dataFormat !== "NHWC") {
      throw new Error(
        `Conv2DBackpropFilter (deterministic wasm kernel): only NHWC is supported, got ${a.dataFormat}`,
      );
    }
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      a.filterShape,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
      false,
      "channelsLast",
    );
    const [n, inH, inW, inC] = x.shape;
    const {
      filterHeight: fh,
      filterWidth: fw,
      outHeight: oh,
      outWidth: ow,
      strideHeight: sh,
      strideWidth: sw,
    } = info;
    const { dilationHeight: dh, dilationWidth: dw } = info;
    const padTop = info.padInfo.top;
    const padLeft = info.padInfo.left;
    const outC = info.outChannels;
    const k = fh * fw * inC;
    const m = n * oh * ow;
    // With the bias gradient, P^T gets one more row of ones: its product with dY is sum_m dY[m].
    const kk = withBias ? k + 1 : k;

    // Both builders give the same P^T bytes; the second is faster with few input channels.
    const pt = inC >= 4 ? buildPTransposedViaP() : buildPTransposedDirectly();

    function buildPTransposedViaP(): TensorInfo {
      // P [m, k]: row (b, oy, ox) holds the window, (kh, kw, inC) order; inC values are contiguous
      // in both x and P. Then P^T by the stock wasm Transpose (an exact copy).
      const p = backend.makeOutput([1, m, kk], "float32");
      const pv = backend.typedArrayFromHeap(p);
      const xv = backend.typedArrayFromHeap(x);
      // Both views share the wasm memory: copy with copyWithin on one view of all of it.
      const heap = new Float32Array(pv.buffer);
      const pBase = pv.byteOffset / 4;
      const xBase = xv.byteOffset / 4;
      const padded = padTop > 0 || padLeft > 0 || info.padInfo.bottom > 0 || info.padInfo.right > 0;
      if (padded) pv.fill(0);
      let row = 0;
      for (let b = 0; b < n; b++) {
        for (let y = 0; y < oh; y++) {
          for (let xo = 0; xo < ow; xo++, row += kk) {
            if (withBias) pv[row + k] = 1;
            const ix0 = xo * sw - padLeft;
            const wholeRow = dw === 1 && ix0 >= 0 && ix0 + fw <= inW;
            for (let kh = 0; kh < fh; kh++) {
              const iy = y * sh - padTop + kh * dh;
              if (iy < 0 || iy >= inH) continue;
              if (wholeRow) {
                // The window's row is fw*inC contiguous floats in x and in P: one native copy.
                const src = xBase + ((b * inH + iy) * inW + ix0) * inC;
                heap.copyWithin(pBase + row + kh * fw * inC, src, src + fw * inC);
                continue;
              }
              for (let kw = 0; kw < fw; kw++) {
                const ix = ix0 + kw * dw;
                if (ix < 0 || ix >= inW) continue;
                const src = ((b * inH + iy) * inW + ix) * inC;
                const dst = row + (kh * fw + kw) * inC;
                for (let c = 0; c < inC; c++) pv[dst + c] = xv[src + c];
              }
            }
          }
        }
      }
      const t = stockTranspose({ inputs: { x: p }, backend, attrs: { perm: [0, 2, 1] } });
      backend.disposeData(p.dataId);
      return t;
    }

    function buildPTransposedDirectly(): TensorInfo {
      // P^T [k, m] written directly: rows (kh, kw, inC), columns (n, oh, ow).
      const t = backend.makeOutput([1, kk, m], "float32");
      const tv = backend.typedArrayFromHeap(t);
      const xv = backend.typedArrayFromHeap(x);
      const heap = new Float32Array(tv.buffer);
      const tBase = tv.byteOffset / 4;
      const xBase = xv.byteOffset / 4;
      tv.fill(0, 0, k * m);
      if (withBias) tv.fill(1, k * m);
      for (let kh = 0; kh < fh; kh++) {
        for (let kw = 0; kw < fw; kw++) {
          for (let c = 0; c < inC; c++) {
            const rowBase = ((kh * fw + kw) * inC + c) * m;
            for (let b = 0; b < n; b++) {
              for (let y = 0; y < oh; y++) {
                const iy = y * sh - padTop + kh * dh;
                if (iy < 0 || iy >= inH) continue;
                const src = (b * inH + iy) * inW * inC + c;
                const dst = rowBase + (b * oh + y) * ow;
                if (inC === 1 && sw === 1 && dw === 1 && kw - padLeft >= 0 && ow - 1 + kw - padLeft < inW) {
                  // One channel, stride 1, in range: ow contiguous floats, one native copy.
                  heap.copyWithin(tBase + dst, xBase + src + kw - padLeft, xBase + src + kw - padLeft + ow);
                  continue;
                }
                for (let xo = 0; xo < ow; xo++) {
                  const ix = xo * sw - padLeft + kw * dw;
                  if (ix >= 0 && ix < inW) tv[dst + xo] = xv[src + ix * inC];
                }
              }
            }
          }
        }
      }
      return t;
    }
    const dy3 = { dataId: dy.dataId, shape: [1, m, outC], dtype: dy.dtype } as TensorInfo;
    const out = stockMatMul({
      inputs: { a: pt, b: dy3 },
      backend,
      attrs: { transposeA: false, transposeB: false },
    });
    backend.disposeData(pt.dataId);
    if (!withBias) {
      out.shape = [fh, fw, inC, outC];
      return out;
    }
    const dW = backend.makeOutput([fh, fw, inC, outC], "float32");
    const db = backend.makeOutput([outC], "float32");
    const outv = backend.typedArrayFromHeap(out);
    backend.typedArrayFromHeap(dW).set(outv.subarray(0, k * outC));
    backend.typedArrayFromHeap(db).set(outv.subarray(k * outC, kk * outC));
    backend.disposeData(out.dataId);
    return [dW, db];
  };
}
