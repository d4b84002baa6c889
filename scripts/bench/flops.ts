/**
 * FLOPs of one training step of a compiled model, for the training benchmark's throughput figures
 * (GFLOP/s): a measurement of this engine's kernels, not a protocol quantity. Counts
 * multiply-adds of Dense and Conv2D as 2 FLOPs: forward 2*MACs, backward 2*MACs for the weight
 * gradient plus 2*MACs for the input gradient of every layer but the first. Elementwise work is
 * ignored. (The protocol's estimate of a job's work, tau, is `modelCost` in src/protocol/model-layers.ts;
 * jobs are planned and priced with it.)
 */
import type { CompiledModel } from "../../src/ml";

/** Estimated FLOPs of one SGD step on `batchSize` samples. */
export function modelFlops(model: CompiledModel, batchSize: number): number {
  let shape = [...model.inputShape];
  let total = 0;
  let first = true;
  for (const layer of model.layers) {
    if (layer.kind === "dense") {
      const macs = batchSize * shape[0] * layer.units;
      total += 2 * macs * (first ? 2 : 3);
      shape = [layer.units];
      first = false;
    } else if (layer.kind === "conv2d") {
      const [h, w, c] = shape;
      const out = [0, 1].map((d) =>
        layer.padding === "same"
          ? Math.ceil([h, w][d] / layer.strides[d])
          : Math.floor(([h, w][d] - layer.kernelSize[d]) / layer.strides[d]) + 1,
      );
      const macs =
        batchSize * out[0] * out[1] * layer.filters * layer.kernelSize[0] * layer.kernelSize[1] * c;
      total += 2 * macs * (first ? 2 : 3);
      shape = [out[0], out[1], layer.filters];
      first = false;
    } else if (layer.kind === "pool") {
      const [h, w, c] = shape;
      const out = [0, 1].map((d) =>
        layer.padding === "same"
          ? Math.ceil([h, w][d] / layer.strides[d])
          : Math.floor(([h, w][d] - layer.poolSize[d]) / layer.strides[d]) + 1,
      );
      shape = [out[0], out[1], c];
    } else if (layer.kind === "flatten") {
      shape = [shape.reduce((a, b) => a * b, 1)];
    } else if (layer.kind === "reshape") {
      shape = [...layer.targetShape];
    }
  }
  return total;
}
