/**
 * Conv2DBackpropInput for the wasm backend: the stock kernel is a naive loop (~20 ms per step
 * for a small CNN). dX is a stride-1 'valid' convolution of dY - dilated by the stride and
 * zero-padded, built here in plain TypeScript (exact copies) - with the filter rotated by 180
 * degrees and its in/out channels swapped; that convolution runs on the stock XNNPACK Conv2D,
 * the same deterministic kernel as the forward pass.
 */
import { backend_util, type TensorInfo } from "@tensorflow/tfjs";
import type { WasmKernelFunc } from "./wasm-internals";

/** Builds the kernel from the stock wasm Conv2D. */
export function makeConv2DBackpropInput(stockConv2D: WasmKernelFunc): WasmKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as {
      strides: number | [number, number];
      pad: "valid" | "same" | number;
      dataFormat: "NHWC" | "NCHW";
      dimRoundingMode?: "floor" | "round" | "ceil";
      inputShape: [number, number, number, number];
    };
    if (a.dataFormat !== "NHWC") {
      throw new Error(
        `Conv2DBackpropInput (deterministic wasm kernel): only NHWC is supported, got ${a.dataFormat}`,
      );
    }
    const info = backend_util.computeConv2DInfo(
      a.inputShape,
      filter.shape as [number, number, number, number],
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
      false,
      "channelsLast",
    );
    const [n, inH, inW, inC] = a.inputShape;
    const {
      filterHeight: fh,
      filterWidth: fw,
      outHeight: oh,
      outWidth: ow,
      strideHeight: sh,
      strideWidth: sw,
    } = info;
    const outC = info.outChannels;
    const zH = inH + fh - 1;
    const zW = inW + fw - 1;
    const offH = info.padInfo.top - fh + 1;
    const offW = info.padInfo.left - fw + 1;

    // Z[b, q, r, co] = dY[b, (q+offH)/sh, (r+offW)/sw, co] where that is an integer in range, else 0.
    const z = backend.makeOutput([n, zH, zW, outC], "float32");
    const wf = backend.makeOutput([fh, fw, outC, inC], "float32");
    const zv = backend.typedArrayFromHeap(z);
    const wfv = backend.typedArrayFromHeap(wf);
    const dyv = backend.typedArrayFromHeap(dy);
    const fv = backend.typedArrayFromHeap(filter);
    // All views share the wasm memory: native copies with copyWithin on one view of it.
    const heap = new Float32Array(zv.buffer);
    const zBase = zv.byteOffset / 4;
    const dyBase = dyv.byteOffset / 4;
    zv.fill(0);
    for (let b = 0; b < n; b++) {
      for (let q = 0; q < zH; q++) {
        const py = q + offH;
        if (py < 0 || py % sh !== 0 || py / sh >= oh) continue;
        const oy = py / sh;
        for (let r = 0; r < zW; r++) {
          const px = r + offW;
          if (px < 0 || px % sw !== 0 || px / sw >= ow) continue;
          const src = dyBase + ((b * oh + oy) * ow + px / sw) * outC;
          heap.copyWithin(zBase + ((b * zH + q) * zW + r) * outC, src, src + outC);
        }
      }
    }
    // Wf[kh, kw, co, ci] = W[fh-1-kh, fw-1-kw, ci, co]
    for (let kh = 0; kh < fh; kh++) {
      for (let kw = 0; kw < fw; kw++) {
        const dst = (kh * fw + kw) * outC * inC;
        const src = ((fh - 1 - kh) * fw + (fw - 1 - kw)) * inC * outC;
        for (let ci = 0; ci < inC; ci++) {
          for (let co = 0; co < outC; co++) wfv[dst + co * inC + ci] = fv[src + ci * outC + co];
        }
      }
    }
    const out = stockConv2D({
      inputs: { x: z, filter: wf },
      backend,
      attrs: { strides: 1, pad: "valid", dataFormat: "NHWC", dilations: 1, dimRoundingMode: undefined },
    });
    backend.disposeData(z.dataId);
    backend.disposeData(wf.dataId);
    return out;
  };
}
