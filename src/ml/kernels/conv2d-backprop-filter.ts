/**
 * Conv2DBackpropFilter for the wasm backend, which lacks it (without it no CNN can train).
 *
 * dW = P^T . dY, where P is the im2col matrix of the input. We build P^T directly
 * ([fh*fw*inC, n*outH*outW], rows in (kh, kw, inC) order, columns in (n, oh, ow) order, zeros
 * where the window overlaps padding) and multiply it by dY ([n*outH*outW, outC]) with the stock
 * untransposed XNNPACK matmul, so each filter gradient is a k-ordered float32 sum: deterministic.
 */
import { backend_util, type TensorInfo } from "@tensorflow/tfjs";
import type { WasmKernelFunc } from "./wasm-internals";

/** Builds the kernel from the stock wasm BatchMatMul (untransposed path only). */
export function makeConv2DBackpropFilter(stockMatMul: WasmKernelFunc): WasmKernelFunc {
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

    const pt = backend.makeOutput([1, k, m], "float32");
    const ptv = backend.typedArrayFromHeap(pt);
    const xv = backend.typedArrayFromHeap(x);
    ptv.fill(0);
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
              for (let xo = 0; xo < ow; xo++) {
                const ix = xo * sw - padLeft + kw * dw;
                if (ix >= 0 && ix < inW) ptv[dst + xo] = xv[src + ix * inC];
              }
            }
          }
        }
      }
    }
    const dy3 = { dataId: dy.dataId, shape: [1, m, outC], dtype: dy.dtype } as TensorInfo;
    const out = stockMatMul({
      inputs: { a: pt, b: dy3 },
      backend,
      attrs: { transposeA: false, transposeB: false },
    });
    backend.disposeData(pt.dataId);
    out.shape = [fh, fw, inC, outC];
    return out;
  };
}
