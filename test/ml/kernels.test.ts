import { expect } from "chai";
import { initEngine, seededPermutation, tf } from "../support/ml-exports";

const f = Math.fround;

/** Reference matmul: i-k-j, each product and sum rounded to float32 (what XNNPACK computes). */
function referenceMatMul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] = f(c[i * n + j] + f(av * b[p * n + j]));
    }
  return c;
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

function randomArray(n: number, seed: number): Float32Array {
  const p = seededPermutation(n, seed);
  return Float32Array.from(p, (v) => (v / n) * 2 - 1 + 1e-3 * (v % 7));
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  return (
    a.length === b.length &&
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}

function backpropFilter(
  x: tf.Tensor,
  dy: tf.Tensor,
  filterShape: number[],
  stride: number,
  pad: "valid" | "same",
): tf.Tensor {
  return tf
    .engine()
    .runKernel(
      "Conv2DBackpropFilter",
      { x, dy },
      { strides: [stride, stride], pad, dataFormat: "NHWC", filterShape },
    ) as tf.Tensor;
}

describe("ml: deterministic kernels", function () {
  before(async function () {
    await initEngine();
  });

  it("runs on the wasm backend", function () {
    expect(tf.getBackend()).to.equal("wasm");
  });

  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    for (const [m, k, n] of [
      [37, 53, 29],
      [16, 70, 48],
    ])
      it(`matMul ${m}x${k}x${n} transposeA=${ta} transposeB=${tb} equals the float32 reference bit for bit`, function () {
        const a = randomArray(m * k, 1);
        const b = randomArray(k * n, 2);
        const ain = ta ? transpose(a, m, k) : a;
        const bin = tb ? transpose(b, k, n) : b;
        const out = tf.tidy(() =>
          tf
            .matMul(tf.tensor(ain, ta ? [k, m] : [m, k]), tf.tensor(bin, tb ? [n, k] : [k, n]), ta, tb)
            .dataSync(),
        ) as Float32Array;
        expect(bitsEqual(out, referenceMatMul(a, b, m, k, n))).to.equal(true);
      });
  }

  for (const [pad, stride, c] of [
    ["valid", 1, 1],
    ["same", 1, 1],
    ["valid", 1, 2],
    ["same", 2, 2],
    ["same", 1, 5],
    ["valid", 2, 4],
  ] as const) {
    it(`Conv2DBackpropFilter (pad ${pad}, stride ${stride}, ${c} channels) equals an im2col float32 reference and tfjs-cpu within 1e-5`, async function () {
      const [n, h, w, fh, fw, oc] = [3, 9, 8, 3, 3, 4];
      const x = randomArray(n * h * w * c, 3);
      const xt = tf.tensor4d(x, [n, h, w, c]);
      const oh = pad === "same" ? Math.ceil(h / stride) : Math.floor((h - fh) / stride) + 1;
      const ow = pad === "same" ? Math.ceil(w / stride) : Math.floor((w - fw) / stride) + 1;
      const dy = randomArray(n * oh * ow * oc, 4);
      const got = tf.tidy(() =>
        backpropFilter(xt, tf.tensor4d(dy, [n, oh, ow, oc]), [fh, fw, c, oc], stride, pad).dataSync(),
      ) as Float32Array;
      // Reference: sum over (b, oy, ox) in order of x-window * dy, rounded to float32 each time.
      const padTop = pad === "same" ? Math.floor(Math.max((oh - 1) * stride + fh - h, 0) / 2) : 0;
      const padLeft = pad === "same" ? Math.floor(Math.max((ow - 1) * stride + fw - w, 0) / 2) : 0;
      const ref = new Float32Array(fh * fw * c * oc);
      for (let kh = 0; kh < fh; kh++)
        for (let kw = 0; kw < fw; kw++)
          for (let ci = 0; ci < c; ci++)
            for (let co = 0; co < oc; co++) {
              let s = 0;
              for (let b = 0; b < n; b++)
                for (let oy = 0; oy < oh; oy++)
                  for (let ox = 0; ox < ow; ox++) {
                    const iy = oy * stride - padTop + kh;
                    const ix = ox * stride - padLeft + kw;
                    const xv =
                      iy >= 0 && iy < h && ix >= 0 && ix < w ? x[((b * h + iy) * w + ix) * c + ci] : 0;
                    s = f(s + f(xv * dy[((b * oh + oy) * ow + ox) * oc + co]));
                  }
              ref[((kh * fw + kw) * c + ci) * oc + co] = s;
            }
      expect(bitsEqual(got, ref)).to.equal(true);
      // Our one-pass [dW, db] kernel: the same dW, and db = float32 sum of dY over (n, oh, ow) in order.
      const both = tf.tidy(() =>
        (
          tf
            .engine()
            .runKernel(
              "PotConv2DBackpropFilterBias",
              { x: xt, dy: tf.tensor4d(dy, [n, oh, ow, oc]) },
              { strides: [stride, stride], pad, dataFormat: "NHWC", filterShape: [fh, fw, c, oc] },
            ) as unknown as tf.Tensor[]
        ).map((t) => t.dataSync() as Float32Array),
      );
      expect(bitsEqual(both[0], ref)).to.equal(true);
      const dbRef = new Float32Array(oc);
      for (let mIdx = 0; mIdx < n * oh * ow; mIdx++)
        for (let co = 0; co < oc; co++) dbRef[co] = f(dbRef[co] + dy[mIdx * oc + co]);
      expect(bitsEqual(both[1], dbRef)).to.equal(true);
      await tf.setBackend("cpu");
      const cpu = tf.tidy(() =>
        backpropFilter(
          tf.tensor4d(x, [n, h, w, c]),
          tf.tensor4d(dy, [n, oh, ow, oc]),
          [fh, fw, c, oc],
          stride,
          pad,
        ).dataSync(),
      );
      await tf.setBackend("wasm");
      got.forEach((v, i) => expect(v).to.be.closeTo(cpu[i], 1e-5));
      xt.dispose();
    });
  }

  /** Runs `f` on the cpu backend (float64-accumulating reference) and returns its values. */
  async function onCpu(f: () => tf.Tensor): Promise<Float32Array> {
    await tf.setBackend("cpu");
    try {
      return tf.tidy(() => f().dataSync()) as Float32Array;
    } finally {
      await tf.setBackend("wasm");
    }
  }

  for (const [pad, stride] of [
    ["valid", 1],
    ["same", 2],
    ["valid", 2],
  ] as const) {
    it(`Conv2DBackpropInput (pad ${pad}, stride ${stride}) matches tfjs-cpu within 1e-5 and is repeatable`, async function () {
      const [n, h, w, c, fh, fw, oc] = [2, 9, 8, 3, 3, 3, 4];
      const oh = pad === "same" ? Math.ceil(h / stride) : Math.floor((h - fh) / stride) + 1;
      const ow = pad === "same" ? Math.ceil(w / stride) : Math.floor((w - fw) / stride) + 1;
      const dy = randomArray(n * oh * ow * oc, 5);
      const filter = randomArray(fh * fw * c * oc, 6);
      const run = () =>
        tf.engine().runKernel(
          "Conv2DBackpropInput",
          { dy: tf.tensor4d(dy, [n, oh, ow, oc]), filter: tf.tensor4d(filter, [fh, fw, c, oc]) },
          {
            strides: [stride, stride],
            pad,
            dataFormat: "NHWC",
            inputShape: [n, h, w, c],
          },
        ) as tf.Tensor;
      const got = tf.tidy(() => run().dataSync()) as Float32Array;
      expect(bitsEqual(got, tf.tidy(() => run().dataSync()) as Float32Array)).to.equal(true);
      const cpu = await onCpu(run);
      expect(got.length).to.equal(n * h * w * c);
      got.forEach((v, i) => expect(v).to.be.closeTo(cpu[i], 1e-5));
    });
  }

  for (const [pool, stride, pad] of [
    [2, 2, "valid"],
    [3, 2, "same"],
    [3, 1, "valid"],
  ] as const) {
    it(`MaxPoolGrad (pool ${pool}, stride ${stride}, ${pad}) equals tfjs-cpu exactly`, async function () {
      const [n, h, w, c] = [2, 7, 6, 3];
      const x = randomArray(n * h * w * c, 7);
      // Weight each pooled output differently so every routed gradient is distinguishable.
      const grad = () =>
        tf.grad((t: tf.Tensor) => {
          const pooled = tf.maxPool(t as tf.Tensor4D, pool, stride, pad);
          return tf.sum(tf.mul(pooled, tf.reshape(tf.range(1, pooled.size + 1), pooled.shape)));
        })(tf.tensor4d(x, [n, h, w, c]));
      const got = tf.tidy(() => grad().dataSync()) as Float32Array;
      const cpu = await onCpu(grad);
      expect(Array.from(got)).to.deep.equal(Array.from(cpu));
    });
  }
});
