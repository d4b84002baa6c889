/**
 * Optimizer updates in exact float32 arithmetic, in plain TypeScript.
 *
 * Every operation is one IEEE-754 binary32 operation with round-to-nearest-even: computed in
 * float64 then rounded with Math.fround, which is exact for +, -, *, / and sqrt (double rounding
 * through binary64 is innocuous for these). Hyperparameters are rounded to float32 first.
 * So the update is specified to the bit (docs/protocol/training.md, "Optimizers") and an
 * independent implementation in any language reproduces it.
 */
import type { OptimizerConfig } from "./model-spec";

const f = Math.fround;

/** Float32 hyperparameters and per-step scalars of one optimizer. */
export class FloatOptimizer {
  readonly name: OptimizerConfig["name"];
  private readonly lr: number;
  private readonly mu: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;
  private readonly oneMinusB1: number;
  private readonly oneMinusB2: number;

  constructor(config: OptimizerConfig) {
    this.name = config.name;
    this.lr = f(config.learningRate);
    this.mu = config.name === "momentum" ? f(config.momentum) : 0;
    this.b1 = config.name === "adam" ? f(config.beta1) : 0;
    this.b2 = config.name === "adam" ? f(config.beta2) : 0;
    this.eps = config.name === "adam" ? f(config.epsilon) : 0;
    this.oneMinusB1 = f(1 - this.b1);
    this.oneMinusB2 = f(1 - this.b2);
  }

  /**
   * beta^t for Adam's bias correction: t-1 float32 multiplications, beta*beta*...*beta, left to
   * right (not Math.pow, whose last bit is implementation-defined).
   */
  static power(beta: number, t: number): number {
    let p = f(beta);
    for (let i = 1; i < t; i++) p = f(p * beta);
    return p;
  }

  /**
   * Applies one update to one weight: reads `w` and gradient `g`, writes the new weight into `out`
   * and updates `slots` in place. `t` is the step number after this update (1 for the first).
   */
  update(
    w: Float32Array,
    g: Float32Array,
    out: Float32Array,
    slots: Float32Array[],
    pow1 = 0,
    pow2 = 0,
  ): void {
    const n = w.length;
    const lr = this.lr;
    switch (this.name) {
      case "sgd":
        // w' = w - lr*g
        for (let i = 0; i < n; i++) out[i] = f(w[i] - f(lr * g[i]));
        return;
      case "momentum": {
        // v' = mu*v + g ; w' = w - lr*v'
        const v = slots[0];
        const mu = this.mu;
        for (let i = 0; i < n; i++) {
          const vi = f(f(mu * v[i]) + g[i]);
          v[i] = vi;
          out[i] = f(w[i] - f(lr * vi));
        }
        return;
      }
      case "adam": {
        // m' = b1*m + (1-b1)*g ; v' = b2*v + (1-b2)*(g*g)
        // w' = w - (lr * (m' / (1 - b1^t))) / (sqrt(v' / (1 - b2^t)) + eps)
        const m = slots[0];
        const v = slots[1];
        const { b1, b2, eps, oneMinusB1, oneMinusB2 } = this;
        const c1 = f(1 - pow1);
        const c2 = f(1 - pow2);
        for (let i = 0; i < n; i++) {
          const gi = g[i];
          const mi = f(f(b1 * m[i]) + f(oneMinusB1 * gi));
          const vi = f(f(b2 * v[i]) + f(oneMinusB2 * f(gi * gi)));
          m[i] = mi;
          v[i] = vi;
          const mHat = f(mi / c1);
          const vHat = f(vi / c2);
          out[i] = f(w[i] - f(f(lr * mHat) / f(f(Math.sqrt(vHat)) + eps)));
        }
        return;
      }
    }
  }

  private powT = 0;
  private pow1 = 1;
  private pow2 = 1;

  /** Adam's beta powers for step t (1-based), or zeros for other optimizers. O(1) for consecutive t. */
  powers(t: number): [number, number] {
    if (this.name !== "adam") return [0, 0];
    if (t === this.powT + 1 && this.powT > 0) {
      this.pow1 = f(this.pow1 * this.b1);
      this.pow2 = f(this.pow2 * this.b2);
    } else if (t !== this.powT) {
      this.pow1 = FloatOptimizer.power(this.b1, t);
      this.pow2 = FloatOptimizer.power(this.b2, t);
    }
    this.powT = t;
    return [this.pow1, this.pow2];
  }
}
