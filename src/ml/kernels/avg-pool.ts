/**
 * AvgPool and AvgPoolGrad for the wasm backend in plain TypeScript (the stock AvgPool is an
 * XNNPACK operator whose summation order no document pins down).
 *
 * Forward: out = fround(s / count), s the float32 sum from +0 of the window's inputs inside the
 * image, rows then columns; count the number of those inputs (padding is not counted).
 * Backward: for each output (batch, row, column, channel) in order, g = fround(dy / count) is
 * added in float32 to every input of its window inside the image, rows then columns.
 */
import { backend_util, type TensorInfo } from "@tensorflow/tfjs";
import type { WasmKernelFunc } from "./wasm-internals";

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: "valid" | "same" | number;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/** The pooling attributes tfjs passes to AvgPool and AvgPoolGrad, checked. */
function poolAttrs(attrs: Record<string, unknown> | undefined): PoolAttrs {
  const { filterSize, strides, pad, dimRoundingMode } = attrs ?? {};
  const size = (v: unknown): v is number | [number, number] =>
    typeof v === "number" || (Array.isArray(v) && v.length === 2 && v.every((d) => typeof d === "number"));
  const rounding = (v: unknown): v is PoolAttrs["dimRoundingMode"] =>
    v === undefined || v === "floor" || v === "round" || v === "ceil";
  if (
    !size(filterSize) ||
    !size(strides) ||
    !(pad === "valid" || pad === "same" || typeof pad === "number") ||
    !rounding(dimRoundingMode)
  ) {
    throw new Error(`AvgPool (deterministic wasm kernel): unexpected attributes ${JSON.stringify(attrs)}`);
  }
  return { filterSize, strides, pad, dimRoundingMode };
}

function poolGeometry(shape: number[], a: PoolAttrs) {
  const info = backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  const [n, inH, inW, c] = shape;
  return {
    n,
    inH,
    inW,
    c,
    fh: info.filterHeight,
    fw: info.filterWidth,
    oh: info.outHeight,
    ow: info.outWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/** Visits the windows: visit(outIndexBase, rows [y0, y1), cols [x0, x1)) in (batch, row, col) order. */
function forEachWindow(
  g: ReturnType<typeof poolGeometry>,
  visit: (b: number, outBase: number, y0: number, y1: number, x0: number, x1: number) => void,
): void {
  for (let b = 0; b < g.n; b++) {
    for (let y = 0; y < g.oh; y++) {
      const ys = y * g.sh - g.top;
      const y0 = Math.max(ys, 0);
      const y1 = Math.min(ys + g.fh, g.inH);
      for (let x = 0; x < g.ow; x++) {
        const xs = x * g.sw - g.left;
        visit(b, ((b * g.oh + y) * g.ow + x) * g.c, y0, y1, Math.max(xs, 0), Math.min(xs + g.fw, g.inW));
      }
    }
  }
}

export function makeAvgPool(): WasmKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    const g = poolGeometry(x.shape, poolAttrs(attrs));
    const out = backend.makeOutput([g.n, g.oh, g.ow, g.c], "float32");
    const xv = backend.typedArrayFromHeap(x);
    const ov = backend.typedArrayFromHeap(out);
    forEachWindow(g, (b, outBase, y0, y1, x0, x1) => {
      const count = (y1 - y0) * (x1 - x0);
      for (let ch = 0; ch < g.c; ch++) {
        let s = 0;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++)
            s = Math.fround(s + xv[((b * g.inH + iy) * g.inW + ix) * g.c + ch]);
        }
        ov[outBase + ch] = Math.fround(s / count);
      }
    });
    return out;
  };
}

export function makeAvgPoolGrad(): WasmKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const g = poolGeometry(input.shape, poolAttrs(attrs));
    const dx = backend.makeOutput([...input.shape], "float32");
    const dxv = backend.typedArrayFromHeap(dx);
    const dyv = backend.typedArrayFromHeap(dy);
    dxv.fill(0);
    forEachWindow(g, (b, outBase, y0, y1, x0, x1) => {
      const count = (y1 - y0) * (x1 - x0);
      for (let ch = 0; ch < g.c; ch++) {
        const share = Math.fround(dyv[outBase + ch] / count);
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const i = ((b * g.inH + iy) * g.inW + ix) * g.c + ch;
            dxv[i] = Math.fround(dxv[i] + share);
          }
        }
      }
    });
    return dx;
  };
}
