/**
 * Binary batch format (docs/protocol/training.md, "Batch format"): samples and labels for training.
 *
 *   offset  size  field
 *   0       4     magic "POTB"
 *   4       1     format version = 1
 *   5       1     feature dtype = 1 (float32)
 *   6       1     label kind: 1 class index (int32, one per sample), 2 float32 targets
 *   7       1     reserved = 0
 *   8       4     sample count n, uint32 LE
 *   12      4     feature rank r, uint32 LE, then r dims (uint32 LE): the shape of one sample
 *   ..      4     label rank q (0 for class indices), then q dims (uint32 LE)
 *   then          n * prod(feature dims) float32 LE features, sample-major (row-major within a sample)
 *   then          n * prod(label dims) labels: int32 LE class indices or float32 LE targets
 */
import { InvalidBatchError } from "../errors";

export const BATCH_MAGIC = "POTB";
export const BATCH_VERSION = 1;
const LABEL_CLASS_INDEX = 1;
const LABEL_FLOAT32 = 2;

/** Decoded samples: n samples of `featureShape`, with class-index or float32 labels. */
export interface Batch {
  count: number;
  featureShape: number[];
  /** count * prod(featureShape) values. */
  features: Float32Array;
  /** [] for class indices (Int32Array of count), else the shape of one float32 target. */
  labelShape: number[];
  labels: Int32Array | Float32Array;
}

function prod(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Checks a Batch's internal consistency: lengths, non-negative class indices and, unless
 * `checkFeatures` is false, finite features (a non-finite feature fails a stage later anyway,
 * with NonFiniteLossError, so the training loop skips this O(n) scan; decodeBatch does it).
 */
export function assertBatch(batch: Batch, field = "batch", checkFeatures = true): void {
  const { count, featureShape, features, labelShape, labels } = batch;
  if (!Number.isSafeInteger(count) || count < 1)
    throw new InvalidBatchError(`${field}.count`, `expected >= 1, got ${count}`);
  if (featureShape.length === 0 || featureShape.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new InvalidBatchError(`${field}.featureShape`, `expected positive dims, got [${featureShape}]`);
  }
  if (!(features instanceof Float32Array) || features.length !== count * prod(featureShape)) {
    throw new InvalidBatchError(
      `${field}.features`,
      `expected a Float32Array of ${count} x [${featureShape}] = ${count * prod(featureShape)} values, got ${features?.length}`,
    );
  }
  for (let i = 0; checkFeatures && i < features.length; i++) {
    if (!Number.isFinite(features[i]))
      throw new InvalidBatchError(`${field}.features[${i}]`, `is ${features[i]}: features must be finite`);
  }
  if (labelShape.length === 0) {
    if (!(labels instanceof Int32Array) || labels.length !== count) {
      throw new InvalidBatchError(`${field}.labels`, `expected an Int32Array of ${count} class indices`);
    }
    for (let i = 0; i < count; i++) {
      if (labels[i] < 0)
        throw new InvalidBatchError(`${field}.labels[${i}]`, `class index ${labels[i]} is negative`);
    }
  } else if (!(labels instanceof Float32Array) || labels.length !== count * prod(labelShape)) {
    throw new InvalidBatchError(
      `${field}.labels`,
      `expected a Float32Array of ${count} x [${labelShape}] targets`,
    );
  }
}

/** Encodes a batch to its canonical bytes. */
export function encodeBatch(batch: Batch): Uint8Array {
  assertBatch(batch);
  const header = 8 + 4 + 4 + 4 * batch.featureShape.length + 4 + 4 * batch.labelShape.length;
  const bytes = new Uint8Array(header + 4 * batch.features.length + 4 * batch.labels.length);
  const view = new DataView(bytes.buffer);
  bytes.set(Buffer.from(BATCH_MAGIC, "ascii"), 0);
  view.setUint8(4, BATCH_VERSION);
  view.setUint8(5, 1);
  view.setUint8(6, batch.labelShape.length === 0 ? LABEL_CLASS_INDEX : LABEL_FLOAT32);
  view.setUint32(8, batch.count, true);
  let o = 12;
  for (const dims of [batch.featureShape, batch.labelShape]) {
    view.setUint32(o, dims.length, true);
    o += 4;
    for (const d of dims) {
      view.setUint32(o, d, true);
      o += 4;
    }
  }
  new Float32Array(bytes.buffer, header, batch.features.length).set(batch.features);
  const labelOffset = header + 4 * batch.features.length;
  if (batch.labels instanceof Int32Array)
    new Int32Array(bytes.buffer, labelOffset, batch.labels.length).set(batch.labels);
  else new Float32Array(bytes.buffer, labelOffset, batch.labels.length).set(batch.labels);
  return bytes;
}

/** Decodes and validates batch bytes. Throws InvalidBatchError naming the field at fault. */
export function decodeBatch(bytes: Uint8Array): Batch {
  if (!(bytes instanceof Uint8Array)) throw new InvalidBatchError("bytes", "expected a Uint8Array");
  const need = (n: number, what: string) => {
    if (bytes.length < n)
      throw new InvalidBatchError("length", `${bytes.length} bytes ends inside the ${what} (truncated)`);
  };
  need(16, "header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (Buffer.from(bytes.subarray(0, 4)).toString("latin1") !== BATCH_MAGIC) {
    throw new InvalidBatchError("magic", `expected "${BATCH_MAGIC}": these are not PoT batch bytes`);
  }
  if (view.getUint8(4) !== BATCH_VERSION)
    throw new InvalidBatchError("version", `expected ${BATCH_VERSION}, got ${view.getUint8(4)}`);
  if (view.getUint8(5) !== 1)
    throw new InvalidBatchError("feature dtype", `expected 1 (float32), got ${view.getUint8(5)}`);
  const kind = view.getUint8(6);
  if (kind !== LABEL_CLASS_INDEX && kind !== LABEL_FLOAT32)
    throw new InvalidBatchError("label kind", `expected 1 or 2, got ${kind}`);
  if (view.getUint8(7) !== 0) throw new InvalidBatchError("reserved", "must be 0");
  const count = view.getUint32(8, true);
  let o = 12;
  const readShape = (what: string): number[] => {
    need(o + 4, `${what} rank`);
    const rank = view.getUint32(o, true);
    o += 4;
    if (rank > 8) throw new InvalidBatchError(`${what} rank`, `${rank} is more than 8`);
    need(o + 4 * rank, `${what} dims`);
    const dims: number[] = [];
    for (let i = 0; i < rank; i++, o += 4) dims.push(view.getUint32(o, true));
    return dims;
  };
  const featureShape = readShape("feature shape");
  const labelShape = readShape("label shape");
  if (kind === LABEL_CLASS_INDEX && labelShape.length !== 0)
    throw new InvalidBatchError("label shape", "class-index labels have rank 0");
  if (kind === LABEL_FLOAT32 && labelShape.length === 0)
    throw new InvalidBatchError("label shape", "float32 targets need rank >= 1");
  const nFeatures = count * prod(featureShape);
  const nLabels = count * prod(labelShape);
  const expected = o + 4 * (nFeatures + nLabels);
  if (bytes.length !== expected) {
    throw new InvalidBatchError(
      "length",
      `header announces ${count} samples of [${featureShape}] (${expected} bytes), got ${bytes.length} bytes` +
        (bytes.length < expected ? " (truncated)" : " (trailing bytes)"),
    );
  }
  const body = bytes.slice(o); // aligned copy
  const features = new Float32Array(body.buffer, 0, nFeatures);
  const labels =
    kind === LABEL_CLASS_INDEX
      ? new Int32Array(body.buffer, 4 * nFeatures, nLabels)
      : new Float32Array(body.buffer, 4 * nFeatures, nLabels);
  const batch: Batch = { count, featureShape, features, labelShape, labels };
  assertBatch(batch);
  return batch;
}

/** Samples [start, start+count) of a batch, wrapping around at the end (copies). */
export function takeSamples(batch: Batch, start: number, count: number): Batch {
  const fs = prod(batch.featureShape);
  const ls = Math.max(1, prod(batch.labelShape));
  const features = new Float32Array(count * fs);
  const labels =
    batch.labels instanceof Int32Array ? new Int32Array(count * ls) : new Float32Array(count * ls);
  for (let i = 0; i < count; i++) {
    const j = (start + i) % batch.count;
    features.set(batch.features.subarray(j * fs, (j + 1) * fs), i * fs);
    labels.set(batch.labels.subarray(j * ls, (j + 1) * ls), i * ls);
  }
  return {
    count,
    featureShape: [...batch.featureShape],
    features,
    labelShape: [...batch.labelShape],
    labels,
  };
}
