/**
 * Convolutions with one input and one output channel, off XNNPACK's depthwise path.
 *
 * XNNPACK runs a convolution whose input and output have one channel each (and a kernel larger
 * than 1x1) with its depthwise microkernels, which sum the kernel taps in an order of their own
 * (several partial accumulators) instead of the (ky, kx, c) order of every other convolution. We
 * compute those as the im2col matrix P ([n*oh*ow, kh*kw], zeros outside the input, built here in
 * plain TypeScript) times the filter ([kh*kw, 1]) with the stock fully-connected kernel: each
 * output starts from its bias (or +0) and adds the products in (ky, kx) order, like any other
 * convolution (docs/protocol/training.md, "Conv2D"). Every other convolution goes to the stock kernel.
 */
import { backend_util, type TensorInfo } from "@tensorflow/tfjs";
import type { WasmKernelFunc } from "./wasm-internals";

/** Wraps a stock FusedConv2D or Conv2D kernel; `stockFusedMatMul` is the wasm _FusedMatMul. */
export function makeSingleChannelConv(
  stockConv: WasmKernelFunc,
  stockFusedMatMul: WasmKernelFunc,
): WasmKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, filter, bias } = inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo };
    const [fh, fw, inC, outC] = filter.shape;
    if (inC !== 1 || outC !== 1 || fh * fw === 1) return stockConv({ inputs, backend, attrs });
    const a = attrs as {
      strides: number | [number, number];
      pad: "valid" | "same" | number | backend_util.ExplicitPadding;
      dilations?: number | [number, number];
      dimRoundingMode?: "floor" | "round" | "ceil";
      activation?: string;
    };
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      a.strides,
      a.dilations ?? 1,
      a.pad,
      a.dimRoundingMode,
    );
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
      throw new Error("Conv2D (deterministic wasm kernel): only a dilation rate of 1 is supported");
    }
    const [n, inH, inW] = x.shape;
    const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const k = fh * fw;
    const p = backend.makeOutput([1, n * oh * ow, k], "float32");
    const pv = backend.typedArrayFromHeap(p);
    const xv = backend.typedArrayFromHeap(x);
    let row = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, row += k) {
          for (let ky = 0; ky < fh; ky++) {
            const iy = oy * sh - top + ky;
            for (let kx = 0; kx < fw; kx++) {
              const ix = ox * sw - left + kx;
              pv[row + ky * fw + kx] =
                iy >= 0 && iy < inH && ix >= 0 && ix < inW ? xv[(b * inH + iy) * inW + ix] : 0;
            }
          }
        }
      }
    }
    const w = { dataId: filter.dataId, dtype: filter.dtype, shape: [1, k, 1] } as TensorInfo;
    const out = stockFusedMatMul({
      inputs: bias ? { a: p, b: w, bias } : { a: p, b: w },
      backend,
      attrs: { transposeA: false, transposeB: false, activation: a.activation ?? "linear" },
    });
    backend.disposeData(p.dataId);
    out.shape = [n, oh, ow, 1];
    return out;
  };
}
