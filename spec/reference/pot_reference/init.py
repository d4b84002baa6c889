"""S_0: the weights TensorFlow.js 4.22 builds from the model JSON (docs/protocol/training.md,
"Initial state S_0"): the Alea generator of seedrandom 3.0.5, tfjs's uniform and Marsaglia polar
normal samplers in binary64, V8's Math.log (fdlibm __ieee754_log) and IEEE sqrt, rounded to float32."""
import math
import struct

import numpy as np

TWO_M32 = 2.3283064365386963e-10


class Mash:
    def __init__(self):
        self.n = 0xEFC8249D

    def __call__(self, data):
        n = self.n
        for ch in str(data):
            n += ord(ch)
            h = 0.02519603282416938 * n
            n = int(h) & 0xFFFFFFFF  # h >>> 0 (h >= 0)
            h -= n
            h *= n
            n = int(h) & 0xFFFFFFFF
            h -= n
            n += h * 0x100000000
        self.n = n
        return (int(n) & 0xFFFFFFFF) * TWO_M32


class Alea:
    def __init__(self, seed):
        mash = Mash()
        self.c = 1
        self.s0 = mash(" ")
        self.s1 = mash(" ")
        self.s2 = mash(" ")
        for name in ("s0", "s1", "s2"):
            v = getattr(self, name) - mash(seed)
            setattr(self, name, v + 1 if v < 0 else v)

    def __call__(self):
        t = 2091639 * self.s0 + self.c * TWO_M32
        self.s0 = self.s1
        self.s1 = self.s2
        self.c = int(t)  # t | 0, t >= 0
        self.s2 = t - self.c
        return self.s2


def _hi_lo(x):
    b = struct.unpack("<Q", struct.pack("<d", x))[0]
    return (b >> 32) - (1 << 32 if b >> 63 else 0), b & 0xFFFFFFFF


def _with_hi(x, hi):
    b = struct.unpack("<Q", struct.pack("<d", x))[0]
    return struct.unpack("<d", struct.pack("<Q", ((hi & 0xFFFFFFFF) << 32) | (b & 0xFFFFFFFF)))[0]


LN2_HI, LN2_LO, TWO54 = 6.93147180369123816490e-01, 1.90821492927058770002e-10, 1.80143985094819840000e16
LG = [6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
      2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
      1.479819860511658591e-01]


def fdlibm_log(x):
    """V8's Math.log: fdlibm's __ieee754_log, for 0 < x < inf."""
    hx, lx = _hi_lo(x)
    k = 0
    if hx < 0x00100000:
        if ((hx & 0x7FFFFFFF) | lx) == 0:
            return -math.inf
        if hx < 0:
            return math.nan
        k -= 54
        x *= TWO54
        hx, _ = _hi_lo(x)
    if hx >= 0x7FF00000:
        return x + x
    k += (hx >> 20) - 1023
    hx &= 0x000FFFFF
    i = (hx + 0x95F64) & 0x100000
    x = _with_hi(x, hx | (i ^ 0x3FF00000))
    k += i >> 20
    f = x - 1.0
    if (0x000FFFFF & (2 + hx)) < 3:
        if f == 0.0:
            if k == 0:
                return 0.0
            dk = float(k)
            return dk * LN2_HI + dk * LN2_LO
        R = f * f * (0.5 - 0.33333333333333333 * f)
        if k == 0:
            return f - R
        dk = float(k)
        return dk * LN2_HI - ((R - dk * LN2_LO) - f)
    s = f / (2.0 + f)
    dk = float(k)
    z = s * s
    i = hx - 0x6147A
    w = z * z
    j = 0x6B851 - hx
    t1 = w * (LG[1] + w * (LG[3] + w * LG[5]))
    t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])))
    i |= j
    R = t2 + t1
    if i > 0:
        hfsq = 0.5 * f * f
        if k == 0:
            return f - (hfsq - s * (hfsq + R))
        return dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f)
    if k == 0:
        return f - s * (f - R)
    return dk * LN2_HI - ((s * (f - R) - dk * LN2_LO) - f)


def uniform(n, lo, hi, seed):
    rnd = Alea(str(seed))
    rng = hi - lo
    return np.array([lo + rng * rnd() for _ in range(n)], np.float64).astype(np.float32)


def normal(n, mean, std, seed, truncated):
    rnd = Alea(str(seed))
    upper, lower = mean + std * 2, mean - std * 2
    ok = lambda v: (not truncated) or (lower <= v <= upper)
    out, pending = [], None
    while len(out) < n:
        if pending is not None:
            out.append(pending)
            pending = None
            continue
        while True:
            while True:
                v1 = 2 * rnd() - 1
                v2 = 2 * rnd() - 1
                s = v1 * v1 + v2 * v2
                if not (s >= 1 or s == 0):
                    break
            mul = math.sqrt(-2.0 * fdlibm_log(s) / s)
            x = mean + std * v1 * mul
            y = mean + std * v2 * mul
            if ok(x):
                break
        if ok(y):
            pending = y
        out.append(x)
    return np.array(out[:n], np.float64).astype(np.float32)


VARIANCE_SCALING = {
    "GlorotUniform": (1.0, "fan_avg", "uniform"),
    "GlorotNormal": (1.0, "fan_avg", "normal"),
    "HeNormal": (2.0, "fan_in", "normal"),
    "HeUniform": (2.0, "fan_in", "uniform"),
    "LeCunNormal": (1.0, "fan_in", "normal"),
    "LeCunUniform": (1.0, "fan_in", "uniform"),
}


def _fans(shape):
    """tfjs computeFans (channels last): rank 2 [in, out]; rank 3..5 the last two dims times the
    receptive field; any other rank sqrt(size) for both."""
    if len(shape) == 2:
        return shape[0], shape[1]
    if 3 <= len(shape) <= 5:
        receptive = int(np.prod(shape[:-2]))
        return shape[-2] * receptive, shape[-1] * receptive
    root = math.sqrt(int(np.prod(shape)))
    return root, root


def initialize(init, shape):
    """float32 array of `shape` from a Keras initializer JSON {class_name, config}."""
    cls, cfg = init["class_name"], init.get("config") or {}
    n = int(np.prod(shape, dtype=np.int64))
    if cls == "Zeros":
        return np.zeros(shape, np.float32)
    if cls == "Ones":
        return np.ones(shape, np.float32)
    if cls == "Constant":
        return np.full(shape, np.float32(cfg["value"]), np.float32)
    seed = cfg["seed"]
    if cls == "RandomUniform":
        lo = cfg.get("minval") or -0.05
        hi = cfg.get("maxval") or 0.05
        return uniform(n, lo, hi, seed).reshape(shape)
    if cls in ("RandomNormal", "TruncatedNormal"):
        mean = cfg.get("mean") or 0.0
        std = cfg.get("stddev") or 0.05
        return normal(n, mean, std, seed, cls == "TruncatedNormal").reshape(shape)
    if cls in VARIANCE_SCALING:
        scale, mode, dist = VARIANCE_SCALING[cls]
    elif cls == "VarianceScaling":
        scale = cfg.get("scale", 1.0)
        scale = 1.0 if scale is None else scale
        mode = cfg.get("mode") or "fan_in"
        dist = cfg.get("distribution") or "normal"
    else:
        raise ValueError("unsupported initializer " + cls)
    fan_in, fan_out = _fans(list(shape))
    mode = {"fanIn": "fan_in", "fanOut": "fan_out", "fanAvg": "fan_avg"}.get(mode, mode)
    if mode == "fan_in":
        scale /= max(1, fan_in)
    elif mode == "fan_out":
        scale /= max(1, fan_out)
    else:
        scale /= max(1, (fan_in + fan_out) / 2)
    if dist == "normal":
        return normal(n, 0.0, math.sqrt(scale), seed, True).reshape(shape)
    limit = math.sqrt(3 * scale)
    return uniform(n, -limit, limit, seed).reshape(shape)
