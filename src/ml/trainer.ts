/**
 * The training loop's core: holds one job's weights (as wasm tensors) and optimizer slots, runs
 * SGD steps and returns each step's per-sample losses, read from the same forward pass whose
 * gradient is applied. runStage (stage.ts) drives it and feeds the training secret.
 */
import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import type { Hex } from "viem";
import { assertWasmBackend } from "./backend";
import { InvalidBatchError } from "./errors";
import { forward, perSampleLoss } from "./forward";
import type { CompiledModel, JobSpec } from "./model-spec";
import { FloatOptimizer } from "./optimizer";
import {
  assertFiniteState,
  decodeState,
  encodeState,
  encodeStateHeader,
  SLOTS_PER_WEIGHT,
  type TrainingState,
} from "./state";
import type { Batch } from "./data/batch-format";
import { wasmInternals } from "./kernels/wasm-internals";

function prod(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** One-hot (class-index labels) or float32 targets of a batch slice, as a float32 array. */
export function targetsOf(
  spec: JobSpec,
  batch: Batch,
  start: number,
  count: number,
): { values: Float32Array; shape: number[] } {
  const labels = spec.data.labels;
  if (labels.kind === "classIndex") {
    const k = labels.numClasses;
    const values = new Float32Array(count * k);
    for (let i = 0; i < count; i++) values[i * k + batch.labels[start + i]] = 1;
    return { values, shape: [count, k] };
  }
  const size = prod(labels.shape);
  return {
    values: batch.labels.subarray(start * size, (start + count) * size) as Float32Array,
    shape: [count, ...labels.shape],
  };
}

/** Throws InvalidBatchError unless the batch's shapes and labels fit the job spec. */
export function assertBatchFits(spec: JobSpec, batch: Batch, field: string): void {
  const fs = spec.data.featureShape;
  if (batch.featureShape.length !== fs.length || batch.featureShape.some((d, i) => d !== fs[i])) {
    throw new InvalidBatchError(
      `${field}.featureShape`,
      `is [${batch.featureShape}], the job's data.featureShape is [${fs}]`,
    );
  }
  const labels = spec.data.labels;
  if (labels.kind === "classIndex") {
    if (!(batch.labels instanceof Int32Array) || batch.labelShape.length !== 0) {
      throw new InvalidBatchError(`${field}.labels`, "the job needs class-index labels (int32, rank 0)");
    }
    for (let i = 0; i < batch.labels.length; i++) {
      const c = batch.labels[i];
      if (c < 0 || c >= labels.numClasses) {
        throw new InvalidBatchError(
          `${field}.labels[${i}]`,
          `class ${c} is outside [0, ${labels.numClasses})`,
        );
      }
    }
  } else if (
    !(batch.labels instanceof Float32Array) ||
    batch.labelShape.length !== labels.shape.length ||
    batch.labelShape.some((d, i) => d !== labels.shape[i])
  ) {
    throw new InvalidBatchError(
      `${field}.labels`,
      `the job needs float32 targets of shape [${labels.shape}]`,
    );
  }
  if (batch.features.length !== batch.count * prod(fs)) {
    throw new InvalidBatchError(
      `${field}.features`,
      `expected ${batch.count * prod(fs)} values, got ${batch.features.length}`,
    );
  }
}

/** Weights as wasm tensors plus float32 optimizer slots; dispose() when done. */
export class Trainer {
  readonly spec: JobSpec;
  readonly model: CompiledModel;
  private readonly optimizer: FloatOptimizer;
  private params: tf.Tensor[] = [];
  private slots: Float32Array[][] = [];
  private scratch: Float32Array[];
  private stepCount = 0;

  constructor(spec: JobSpec, model: CompiledModel) {
    assertWasmBackend();
    this.spec = spec;
    this.model = model;
    this.optimizer = new FloatOptimizer(spec.training.optimizer);
    this.scratch = model.weights.map((w) => new Float32Array(prod(w.shape)));
  }

  /** SGD steps applied since S_0. */
  get step(): number {
    return this.stepCount;
  }

  /** Loads canonical state bytes (validated against the model and optimizer). */
  load(stateBytes: Uint8Array): void {
    this.setState(decodeState(stateBytes, this.model.weights, this.spec.training.optimizer.name));
  }

  /** Loads an in-memory state (arrays are copied into wasm tensors; slots are taken over). */
  setState(state: TrainingState): void {
    this.disposeParams();
    this.params = state.weights.map((w, i) => tf.tensor(w, this.model.weights[i].shape, "float32"));
    this.slots = state.slots;
    this.stepCount = state.step;
  }

  /** The current state as canonical bytes. */
  stateBytes(): Uint8Array {
    // Views into wasm memory, copied once into the canonical buffer (a JS allocation cannot move the wasm heap).
    return encodeState({ ...this.state(), weights: this.heapViews() }, this.model.weights);
  }

  /**
   * H(current state) = sha256 of stateBytes(), streamed from wasm memory and the slots without
   * building the bytes (the intermediate state of a stage is only hashed).
   */
  stateHash(): Hex {
    assertFiniteState([this.heapViews(), ...this.slots], this.model.weights);
    const h = createHash("sha256");
    h.update(encodeStateHeader(this.spec.training.optimizer.name, this.stepCount, this.model.weights));
    for (const v of [...this.heapViews(), ...this.slots.flat()]) {
      h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    }
    return `0x${h.digest("hex")}`;
  }

  /** The current state (weights copied out of wasm memory; slots are the live arrays). */
  state(): TrainingState {
    return {
      optimizer: this.spec.training.optimizer.name,
      step: this.stepCount,
      weights: this.params.map((p) => p.dataSync() as Float32Array),
      slots: this.slots,
    };
  }

  private heapViews(): Float32Array[] {
    const backend = wasmInternals(tf.backend());
    return this.params.map((p) => backend.typedArrayFromHeap(p));
  }

  /**
   * One SGD step on samples [start, start+batchSize) of `batch` (shapes checked by the caller).
   * Returns the per-sample float32 losses of the forward pass whose gradient was applied.
   */
  trainStep(batch: Batch, start = 0): Float32Array {
    const bs = this.spec.training.batchSize;
    if (start + bs > batch.count) {
      throw new InvalidBatchError(
        "count",
        `a step needs ${bs} samples from ${start}, the batch holds ${batch.count}`,
      );
    }
    const fs = prod(this.spec.data.featureShape);
    const x = tf.tensor(
      batch.features.subarray(start * fs, (start + bs) * fs),
      [bs, ...this.spec.data.featureShape],
      "float32",
    );
    const t = targetsOf(this.spec, batch, start, bs);
    const y = tf.tensor(t.values, t.shape, "float32");
    const logits = this.spec.training.loss !== "meanSquaredError";
    let lossVec: tf.Tensor | undefined;
    const grads = tf.tidy(() =>
      tf.grads((...ps: tf.Tensor[]) => {
        const l = perSampleLoss(this.spec.training.loss, forward(this.model, ps, x, logits), y);
        lossVec = tf.keep(l);
        return tf.mean(l);
      })(this.params),
    );
    x.dispose();
    y.dispose();
    const losses = lossVec!.dataSync() as Float32Array;
    lossVec!.dispose();
    this.applyGradients(grads);
    return losses;
  }

  private applyGradients(grads: tf.Tensor[]): void {
    const backend = wasmInternals(tf.backend());
    const t = this.stepCount + 1;
    const [p1, p2] = this.optimizer.powers(t);
    const next: tf.Tensor[] = [];
    for (let i = 0; i < this.params.length; i++) {
      // Views into wasm memory: taken right before use (an allocation may move the heap).
      const w = backend.typedArrayFromHeap(this.params[i]);
      const g = backend.typedArrayFromHeap(grads[i]);
      const slots = this.slots.map((s) => s[i]);
      this.optimizer.update(w, g, this.scratch[i], slots, p1, p2);
      next.push(tf.tensor(this.scratch[i], this.model.weights[i].shape, "float32"));
    }
    for (const g of grads) g.dispose();
    this.disposeParams();
    this.params = next;
    this.stepCount = t;
  }

  private disposeParams(): void {
    for (const p of this.params) p.dispose();
    this.params = [];
  }

  /** Frees the wasm tensors. */
  dispose(): void {
    this.disposeParams();
  }

  /** Zeroed optimizer slots for fresh weights. */
  static zeroSlots(spec: JobSpec, model: CompiledModel): Float32Array[][] {
    const n = SLOTS_PER_WEIGHT[spec.training.optimizer.name];
    return Array.from({ length: n }, () => model.weights.map((w) => new Float32Array(prod(w.shape))));
  }

  /** The current weights as tensors, for evaluation (owned by the trainer: do not dispose). */
  weights(): tf.Tensor[] {
    return this.params;
  }
}
