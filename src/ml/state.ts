/**
 * Canonical training-state bytes S_i (docs/protocol/training.md, "Canonical state bytes").
 *
 *   offset  size  field
 *   0       4     magic "POTS"
 *   4       1     layout version = 1
 *   5       1     dtype code = 1 (float32)
 *   6       1     optimizer code: 0 sgd, 1 momentum, 2 adam
 *   7       1     slots per weight: 0 sgd, 1 momentum (velocity), 2 adam (m, v)
 *   8       8     step count: SGD steps applied since S_0, uint64 LE
 *   16      4     number of weight tensors W, uint32 LE
 *   20      ...   per weight, in getWeights() order: rank r (uint32 LE), then r dims (uint32 LE each)
 *   then          float32 LE values: every weight in order, then slot 0 of every weight in order,
 *                 then slot 1 of every weight (adam: all m, then all v)
 * Every field is a multiple of 4 bytes, so the value region is 4-byte aligned.
 */
import { InvalidStateBytesError, NonFiniteWeightError } from "./errors";
import type { OptimizerConfig, WeightSpec } from "./model-spec";

export const STATE_MAGIC = "POTS";
export const STATE_VERSION = 1;
const DTYPE_FLOAT32 = 1;
export const OPTIMIZER_CODES = { sgd: 0, momentum: 1, adam: 2 } as const;
export const SLOTS_PER_WEIGHT = { sgd: 0, momentum: 1, adam: 2 } as const;

/** Training state in memory: weights and optimizer slots as float32 arrays. */
export interface TrainingState {
  optimizer: OptimizerConfig["name"];
  /** SGD steps applied since S_0. */
  step: number;
  /** Weight values in getWeights() order. */
  weights: Float32Array[];
  /** slots[s][w]: slot s of weight w (momentum: [velocity]; adam: [m, v]). */
  slots: Float32Array[][];
}

function headerLength(weights: WeightSpec[]): number {
  return 20 + weights.reduce((n, w) => n + 4 + 4 * w.shape.length, 0);
}

function elements(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The canonical header (everything before the float32 values) for a state of these shapes. */
export function encodeStateHeader(
  optimizer: TrainingState["optimizer"],
  step: number,
  weights: WeightSpec[],
): Uint8Array {
  const bytes = new Uint8Array(headerLength(weights));
  writeHeader(bytes, optimizer, step, weights);
  return bytes;
}

function writeHeader(
  bytes: Uint8Array,
  optimizer: TrainingState["optimizer"],
  step: number,
  weights: WeightSpec[],
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  bytes.set(Buffer.from(STATE_MAGIC, "ascii"), 0);
  view.setUint8(4, STATE_VERSION);
  view.setUint8(5, DTYPE_FLOAT32);
  view.setUint8(6, OPTIMIZER_CODES[optimizer]);
  view.setUint8(7, SLOTS_PER_WEIGHT[optimizer]);
  view.setBigUint64(8, BigInt(step), true);
  view.setUint32(16, weights.length, true);
  let o = 20;
  for (const w of weights) {
    view.setUint32(o, w.shape.length, true);
    o += 4;
    for (const d of w.shape) {
      view.setUint32(o, d, true);
      o += 4;
    }
  }
}

/**
 * Throws NonFiniteWeightError unless every value of every weight and slot is finite (checked before
 * any state is encoded or hashed). `sets` = [weights, ...slots], each in `weights` order.
 */
export function assertFiniteState(sets: Float32Array[][], weights: WeightSpec[]): void {
  sets.forEach((set, s) =>
    set.forEach((values, i) => {
      for (let j = 0; j < values.length; j++) {
        const v = values[j];
        // v - v is 0 for finite v and NaN for NaN and ±Infinity.
        if (v - v !== 0) {
          throw new NonFiniteWeightError(
            s === 0 ? weights[i].name : `slot ${s - 1} of ${weights[i].name}`,
            j,
            v,
          );
        }
      }
    }),
  );
}

/** Serializes a training state to canonical bytes. `weights` gives the shapes, in order. */
export function encodeState(state: TrainingState, weights: WeightSpec[]): Uint8Array {
  const nSlots = SLOTS_PER_WEIGHT[state.optimizer];
  if (state.weights.length !== weights.length || state.slots.length !== nSlots) {
    throw new InvalidStateBytesError("tensors", `expected ${weights.length} weights and ${nSlots} slot sets`);
  }
  assertFiniteState([state.weights, ...state.slots], weights);
  const header = headerLength(weights);
  const perSet = weights.reduce((n, w) => n + elements(w.shape), 0);
  const bytes = new Uint8Array(header + 4 * perSet * (1 + nSlots));
  writeHeader(bytes, state.optimizer, state.step, weights);
  const values = new Float32Array(bytes.buffer, header);
  let v = 0;
  for (const set of [state.weights, ...state.slots]) {
    set.forEach((arr, i) => {
      if (arr.length !== elements(weights[i].shape)) {
        throw new InvalidStateBytesError(
          weights[i].name,
          `expected ${elements(weights[i].shape)} values, got ${arr.length}`,
        );
      }
      values.set(arr, v);
      v += arr.length;
    });
  }
  return bytes;
}

/**
 * Parses and validates canonical state bytes against the job's weight shapes and optimizer.
 * Throws InvalidStateBytesError naming the field that does not fit. The returned arrays are copies.
 */
export function decodeState(
  bytes: Uint8Array,
  weights: WeightSpec[],
  optimizer: OptimizerConfig["name"],
): TrainingState {
  if (!(bytes instanceof Uint8Array)) throw new InvalidStateBytesError("bytes", "expected a Uint8Array");
  if (bytes.length < 20)
    throw new InvalidStateBytesError(
      "length",
      `${bytes.length} bytes is shorter than the 20-byte header (truncated)`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (Buffer.from(bytes.subarray(0, 4)).toString("latin1") !== STATE_MAGIC) {
    throw new InvalidStateBytesError(
      "magic",
      `expected "${STATE_MAGIC}": these are not PoT training-state bytes`,
    );
  }
  if (view.getUint8(4) !== STATE_VERSION)
    throw new InvalidStateBytesError("version", `expected ${STATE_VERSION}, got ${view.getUint8(4)}`);
  if (view.getUint8(5) !== DTYPE_FLOAT32)
    throw new InvalidStateBytesError("dtype", `expected 1 (float32), got ${view.getUint8(5)}`);
  if (view.getUint8(6) !== OPTIMIZER_CODES[optimizer]) {
    throw new InvalidStateBytesError(
      "optimizer",
      `the job trains with ${optimizer} (code ${OPTIMIZER_CODES[optimizer]}), the state holds code ${view.getUint8(6)}`,
    );
  }
  const nSlots = SLOTS_PER_WEIGHT[optimizer];
  if (view.getUint8(7) !== nSlots)
    throw new InvalidStateBytesError("slots", `expected ${nSlots} slots per weight, got ${view.getUint8(7)}`);
  const step = view.getBigUint64(8, true);
  if (step > BigInt(Number.MAX_SAFE_INTEGER))
    throw new InvalidStateBytesError("step", `step count ${step} is out of range`);
  const count = view.getUint32(16, true);
  if (count !== weights.length)
    throw new InvalidStateBytesError(
      "weight count",
      `the model has ${weights.length} weight tensors, the state ${count}`,
    );
  const header = headerLength(weights);
  if (bytes.length < header)
    throw new InvalidStateBytesError(
      "length",
      `${bytes.length} bytes is shorter than the ${header}-byte header (truncated)`,
    );
  let o = 20;
  for (const w of weights) {
    const rank = view.getUint32(o, true);
    o += 4;
    const dims: number[] = [];
    for (let d = 0; d < rank && o + 4 <= header; d++, o += 4) dims.push(view.getUint32(o, true));
    if (rank !== w.shape.length || dims.some((d, i) => d !== w.shape[i])) {
      throw new InvalidStateBytesError(
        `shape of ${w.name}`,
        `the model needs [${w.shape}], the state holds rank ${rank} [${dims}]`,
      );
    }
  }
  const perSet = weights.reduce((n, w) => n + elements(w.shape), 0);
  const expected = header + 4 * perSet * (1 + nSlots);
  if (bytes.length !== expected) {
    throw new InvalidStateBytesError(
      "length",
      `expected ${expected} bytes for this model and optimizer, got ${bytes.length}` +
        (bytes.length < expected ? " (truncated)" : " (trailing bytes)"),
    );
  }
  // Copy into an aligned buffer (the input may sit at any offset).
  const values = new Float32Array(bytes.slice(header).buffer);
  let v = 0;
  const take = (): Float32Array[] =>
    weights.map((w) => {
      const n = elements(w.shape);
      const a = values.slice(v, v + n);
      v += n;
      return a;
    });
  const ws = take();
  const slots: Float32Array[][] = [];
  for (let s = 0; s < nSlots; s++) slots.push(take());
  try {
    assertFiniteState([ws, ...slots], weights);
  } catch (err) {
    if (!(err instanceof NonFiniteWeightError)) throw err;
    throw new InvalidStateBytesError("values", `${err.tensor}[${err.index}] is not finite`);
  }
  return { optimizer, step: Number(step), weights: ws, slots };
}
