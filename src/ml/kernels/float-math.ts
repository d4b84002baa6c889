/**
 * exp, log, tanh and sigmoid of float32 values, specified to the bit (docs/protocol/training.md,
 * "Transcendental functions"). Each is a fixed sequence of IEEE-754 binary64 additions,
 * subtractions, multiplications and divisions (round to nearest even; no fused multiply-add), ended
 * by one rounding to float32. Every language with IEEE doubles reproduces them exactly; the
 * Python reference (spec/reference) does. No libm call is involved: Math.exp and friends are only
 * accurate to an ulp, and differ between engines and platforms.
 */

const f = Math.fround;

/** ln 2 split in two: LN2_HI has 32 significant bits, so n * LN2_HI is exact for |n| < 2^21. */
const LN2_HI = 6.9314718036912381649e-1;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.4426950408889634;
const LN2 = 0.6931471805599453;
const SQRT2 = 1.4142135623730951;

/** 1/k! as binary64 (1 / k!, both exact integers below 2^53, one division). */
const INV_FACTORIAL = (() => {
  const c = [1];
  let fact = 1;
  for (let k = 1; k <= 17; k++) {
    fact *= k;
    c.push(1 / fact);
  }
  return c;
})();
// Unrolled below (the hot loops of every softmax): C_k = 1/k!.
const [C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17] = INV_FACTORIAL;

/** 2^n as binary64 for -1022 <= n <= 1023 (built by exact doublings and halvings). */
const POW2 = (() => {
  const table = new Float64Array(2046);
  table[1022] = 1;
  for (let n = 1; n <= 1023; n++) table[1022 + n] = table[1021 + n] * 2;
  for (let n = -1; n >= -1022; n--) table[1022 + n] = table[1023 + n] / 2;
  return table;
})();

/**
 * e^x in binary64 for -700 <= x <= 700 (callers clamp): n = floor(x/ln2 + 1/2),
 * r = (x - n*LN2_HI) - n*LN2_LO, p = Horner sum of r^k/k! for k = 13 down to 0, times 2^n.
 */
export function exp64(x: number): number {
  const n = Math.floor(x * INV_LN2 + 0.5);
  const r = x - n * LN2_HI - n * LN2_LO;
  let p = C13;
  p = p * r + C12;
  p = p * r + C11;
  p = p * r + C10;
  p = p * r + C9;
  p = p * r + C8;
  p = p * r + C7;
  p = p * r + C6;
  p = p * r + C5;
  p = p * r + C4;
  p = p * r + C3;
  p = p * r + C2;
  p = p * r + C1;
  p = p * r + C0;
  return p * POW2[1022 + n];
}

/** e^y - 1 in binary64 for 0 <= y <= 700: Horner sum of y^k/k! (k = 17 down to 1) below 1/2. */
export function expm164(y: number): number {
  if (y >= 0.5) return exp64(y) - 1;
  let p = C17;
  p = p * y + C16;
  p = p * y + C15;
  p = p * y + C14;
  p = p * y + C13;
  p = p * y + C12;
  p = p * y + C11;
  p = p * y + C10;
  p = p * y + C9;
  p = p * y + C8;
  p = p * y + C7;
  p = p * y + C6;
  p = p * y + C5;
  p = p * y + C4;
  p = p * y + C3;
  p = p * y + C2;
  p = p * y + C1;
  return p * y;
}

/** exp of a float32: +Infinity above 89, +0 below -104 (both beyond float32's range), else fround(exp64(x)). */
export function exp32(x: number): number {
  if (x !== x) return NaN;
  if (x > 89) return Infinity;
  if (x < -104) return 0;
  return f(exp64(x));
}

const bitsView = new DataView(new ArrayBuffer(4));

/**
 * log of a float32: NaN below 0, -Infinity at 0, +Infinity at +Infinity; otherwise x = m * 2^e
 * with m in [sqrt(1/2), sqrt(2)] taken from the float32 bits (subnormals scaled by 2^24 first),
 * s = (m-1)/(m+1), log m = 2s + 2s*z*(1/3 + z/5 + ... + z^11/25) with z = s*s, and
 * fround(e*LN2 + log m).
 */
export function log32(x: number): number {
  if (x !== x || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  let e = 0;
  let v = x;
  if (v < 1.1754943508222875e-38) {
    v *= 16777216;
    e = -24;
  }
  bitsView.setFloat32(0, v, true);
  const bits = bitsView.getUint32(0, true);
  e += (bits >>> 23) - 127;
  bitsView.setUint32(0, (bits & 0x7fffff) | 0x3f800000, true);
  let m = bitsView.getFloat32(0, true);
  if (m > SQRT2) {
    m /= 2;
    e += 1;
  }
  const s = (m - 1) / (m + 1);
  const z = s * s;
  let q = 1 / 25;
  for (let k = 11; k >= 1; k--) q = q * z + 1 / (2 * k + 1);
  const logM = 2 * s + 2 * s * z * q;
  return f(e * LN2 + logM);
}

/** tanh of a float32: sign(x) * u / (u + 2) with u = expm164(2|x|); ±1 beyond |x| > 20. */
export function tanh32(x: number): number {
  if (x !== x) return NaN;
  const a = Math.abs(x);
  let t: number;
  if (a > 20) t = 1;
  else {
    const u = expm164(2 * a);
    t = u / (u + 2);
  }
  return f(x < 0 ? -t : t);
}

/** sigmoid of a float32: 1/(1 + exp64(-x)) for x >= 0, e/(1 + e) with e = exp64(x) below 0; clamped at ±104. */
export function sigmoid32(x: number): number {
  if (x !== x) return NaN;
  if (x > 104) return 1;
  if (x < -104) return 0;
  if (x >= 0) return f(1 / (1 + exp64(-x)));
  const e = exp64(x);
  return f(e / (1 + e));
}

/**
 * Softmax of `count` rows of `width` float32 values, in place from `x` into `out`:
 * mx = max of the row, e_j = exp32(fround(x_j - mx)), s = float32 sum of e_j in order from +0,
 * out_j = fround(e_j / s).
 */
export function softmaxRows(x: Float32Array, out: Float32Array, count: number, width: number): void {
  for (let r = 0; r < count; r++) {
    const base = r * width;
    let mx = x[base];
    for (let j = 1; j < width; j++) if (x[base + j] > mx) mx = x[base + j];
    let s = 0;
    for (let j = 0; j < width; j++) {
      const e = exp32(f(x[base + j] - mx));
      out[base + j] = e;
      s = f(s + e);
    }
    for (let j = 0; j < width; j++) out[base + j] = f(out[base + j] / s);
  }
}

/**
 * Softmax cross-entropy of `count` rows of logits `z` against targets `y` (one-hot rows), and the
 * softmax itself (for the gradient): m = max of the row, d_j = fround(z_j - m),
 * S = float32 sum of exp32(d_j) in order from +0, Y = float32 sum of fround(y_j * d_j) in order
 * from +0, loss = fround(log32(S) - Y), probs_j = fround(exp32(d_j) / S).
 */
export function softmaxCrossEntropyRows(
  z: Float32Array,
  y: Float32Array,
  losses: Float32Array,
  probs: Float32Array,
  count: number,
  width: number,
): void {
  for (let r = 0; r < count; r++) {
    const base = r * width;
    let mx = z[base];
    for (let j = 1; j < width; j++) if (z[base + j] > mx) mx = z[base + j];
    let s = 0;
    let t = 0;
    for (let j = 0; j < width; j++) {
      const d = f(z[base + j] - mx);
      const e = exp32(d);
      probs[base + j] = e;
      s = f(s + e);
      t = f(t + f(y[base + j] * d));
    }
    losses[r] = f(log32(s) - t);
    for (let j = 0; j < width; j++) probs[base + j] = f(probs[base + j] / s);
  }
}
