/**
 * Binary batch format (docs/protocol/training.md, "Batch format"): samples and labels for training.
 *
 *   offset  size  field
 *   0       4     magic "POTB"
 *   4       1     format version = 1
 *   5       1     feature dtype: 1 float32, 2 uint8 palette (see below)
 *   6       1     label kind: 1 class index (int32, one per sample), 2 float32 targets
 *   7       1     reserved = 0
 *   8       4     sample count n, uint32 LE
 *   12      4     feature rank r, uint32 LE, then r dims (uint32 LE): the shape of one sample
 *   ..      4     label rank q (0 for class indices), then q dims (uint32 LE)
 *   then          dtype 1: n * prod(feature dims) float32 LE features, sample-major (row-major within a sample)
 *                 dtype 2: palette size P (uint32 LE, 1..256), P float32 LE palette values (finite, strictly
 *                 ascending by value, -0 before +0, no duplicates), then n * prod(feature dims) uint8
 *                 indices into the palette (each < P): feature = palette[index], exactly
 *   then          n * prod(label dims) labels: int32 LE class indices or float32 LE targets
 *
 * The palette form is lossless: it decodes to the very float32 bits that were encoded, so training is
 * bit-identical whichever form an employer uploads; it is 4x smaller for data with at most 256 distinct
 * feature values (MNIST pixels: 256), which is what miners fetch per stage.
 */
import { InvalidBatchError } from "../errors";

export const BATCH_MAGIC = "POTB";
export const BATCH_VERSION = 1;
const DTYPE_FLOAT32 = 1;
const DTYPE_PALETTE = 2;
/** Most distinct feature values the uint8 palette form holds. */
export const MAX_PALETTE_SIZE = 256;
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

/**
 * How features are stored: `float32` always works; `palette` (uint8 indices into at most 256 float32
 * values) needs at most 256 distinct feature values; `auto` takes `palette` when it fits, else float32.
 */
export type FeatureEncoding = "float32" | "palette" | "auto";

/** Options of `encodeBatch`. */
export interface EncodeBatchOptions {
  /** Default `float32`. */
  features?: FeatureEncoding;
}

/**
 * The distinct float32 bit patterns of `features` in palette order (ascending by value, -0 before +0), or
 * undefined when there are more than MAX_PALETTE_SIZE.
 */
function paletteOf(features: Float32Array): Float32Array | undefined {
  const bits = new Uint32Array(features.buffer, features.byteOffset, features.length);
  const seen = new Set<number>();
  for (let i = 0; i < bits.length; i++) {
    seen.add(bits[i]);
    if (seen.size > MAX_PALETTE_SIZE) return undefined;
  }
  const values = new Float32Array(new Uint32Array([...seen]).buffer);
  return values.sort((a, b) => a - b || (Object.is(a, -0) ? -1 : Object.is(b, -0) ? 1 : 0));
}

/** Encodes a batch to its canonical bytes (one canonical form per feature encoding). */
export function encodeBatch(batch: Batch, options: EncodeBatchOptions = {}): Uint8Array {
  assertBatch(batch);
  const mode = options.features ?? "float32";
  const palette = mode === "float32" ? undefined : paletteOf(batch.features);
  if (mode === "palette" && palette === undefined) {
    throw new InvalidBatchError(
      "features",
      `the palette encoding holds at most ${MAX_PALETTE_SIZE} distinct values; use float32 or auto`,
    );
  }
  const shapes = 8 + 4 + 4 + 4 * batch.featureShape.length + 4 + 4 * batch.labelShape.length;
  const header = palette === undefined ? shapes : shapes + 4 + 4 * palette.length;
  const featureBytes = palette === undefined ? 4 * batch.features.length : batch.features.length;
  const bytes = new Uint8Array(header + featureBytes + 4 * batch.labels.length);
  const view = new DataView(bytes.buffer);
  bytes.set(Buffer.from(BATCH_MAGIC, "ascii"), 0);
  view.setUint8(4, BATCH_VERSION);
  view.setUint8(5, palette === undefined ? DTYPE_FLOAT32 : DTYPE_PALETTE);
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
  if (palette === undefined) {
    // header is a multiple of 4; typed arrays use the host order, little-endian on x86-64 and arm64
    new Float32Array(bytes.buffer, header, batch.features.length).set(batch.features);
  } else {
    view.setUint32(o, palette.length, true);
    const index = new Map<number, number>();
    const paletteBits = new Uint32Array(palette.buffer);
    for (let p = 0; p < palette.length; p++) {
      view.setFloat32(o + 4 + 4 * p, palette[p], true);
      index.set(paletteBits[p], p);
    }
    const bits = new Uint32Array(batch.features.buffer, batch.features.byteOffset, batch.features.length);
    for (let i = 0; i < bits.length; i++) bytes[header + i] = index.get(bits[i]) as number;
  }
  const labelOffset = header + featureBytes;
  for (let i = 0; i < batch.labels.length; i++) {
    if (batch.labels instanceof Int32Array) view.setInt32(labelOffset + 4 * i, batch.labels[i], true);
    else view.setFloat32(labelOffset + 4 * i, batch.labels[i], true);
  }
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
  const dtype = view.getUint8(5);
  if (dtype !== DTYPE_FLOAT32 && dtype !== DTYPE_PALETTE)
    throw new InvalidBatchError("feature dtype", `expected 1 (float32) or 2 (uint8 palette), got ${dtype}`);
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
  let palette: Float32Array | undefined;
  if (dtype === DTYPE_PALETTE) palette = readPalette(bytes, view, o, need);
  const featuresAt = palette === undefined ? o : o + 4 + 4 * palette.length;
  const featureBytes = palette === undefined ? 4 * nFeatures : nFeatures;
  const expected = featuresAt + featureBytes + 4 * nLabels;
  if (bytes.length !== expected) {
    throw new InvalidBatchError(
      "length",
      `header announces ${count} samples of [${featureShape}] (${expected} bytes), got ${bytes.length} bytes` +
        (bytes.length < expected ? " (truncated)" : " (trailing bytes)"),
    );
  }
  let features: Float32Array;
  if (palette === undefined) {
    // one aligned copy: the bytes may sit at any offset
    features = new Float32Array(bytes.slice(featuresAt, featuresAt + featureBytes).buffer);
  } else {
    features = new Float32Array(nFeatures);
    for (let i = 0; i < nFeatures; i++) {
      const p = bytes[featuresAt + i];
      if (p >= palette.length)
        throw new InvalidBatchError(`features[${i}]`, `palette index ${p} >= palette size ${palette.length}`);
      features[i] = palette[p];
    }
  }
  const labelBytes = bytes.slice(featuresAt + featureBytes).buffer;
  const labels = kind === LABEL_CLASS_INDEX ? new Int32Array(labelBytes) : new Float32Array(labelBytes);
  const batch: Batch = { count, featureShape, features, labelShape, labels };
  // palette features are palette values, already checked finite: skip the per-feature scan
  assertBatch(batch, "batch", palette === undefined);
  return batch;
}

/** Reads and checks the palette of a dtype-2 batch at offset `o` (canonical: ascending, distinct, finite). */
function readPalette(
  bytes: Uint8Array,
  view: DataView,
  o: number,
  need: (n: number, what: string) => void,
): Float32Array {
  need(o + 4, "palette size");
  const size = view.getUint32(o, true);
  if (size < 1 || size > MAX_PALETTE_SIZE)
    throw new InvalidBatchError("palette size", `expected 1..${MAX_PALETTE_SIZE}, got ${size}`);
  need(o + 4 + 4 * size, "palette");
  const palette = new Float32Array(bytes.slice(o + 4, o + 4 + 4 * size).buffer);
  for (let p = 0; p < size; p++) {
    if (!Number.isFinite(palette[p]))
      throw new InvalidBatchError(`palette[${p}]`, `is ${palette[p]}: features must be finite`);
    const prev = palette[p - 1];
    const ascending =
      p === 0 ||
      prev < palette[p] ||
      (prev === palette[p] && Object.is(prev, -0) && !Object.is(palette[p], -0));
    if (!ascending)
      throw new InvalidBatchError(`palette[${p}]`, "palette values must be distinct and ascending");
  }
  return palette;
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
