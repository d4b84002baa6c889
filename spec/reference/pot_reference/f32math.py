"""exp, log, tanh, sigmoid and softmax of float32 values, as docs/protocol/training.md
("Transcendental functions") specifies them: binary64 +, -, *, / in a fixed order (NumPy float64
arrays, element by element, never fused), then one rounding to float32."""
import numpy as np

F32 = np.float32
F64 = np.float64

LN2_HI = 6.93147180369123816490e-1
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.4426950408889634
LN2 = 0.6931471805599453
SQRT2 = 1.4142135623730951


def _inv_factorials():
    c, fact = [1.0], 1.0
    for k in range(1, 18):
        fact *= k
        c.append(1.0 / fact)
    return c


INV_FACTORIAL = _inv_factorials()


def exp64(x):
    """e^x in binary64 for |x| <= 700 (float64 array in, float64 array out)."""
    x = np.asarray(x, F64)
    n = np.floor(x * INV_LN2 + 0.5)
    r = x - n * LN2_HI - n * LN2_LO
    p = np.full_like(r, INV_FACTORIAL[13])
    for k in range(12, -1, -1):
        p = p * r + INV_FACTORIAL[k]
    return p * np.ldexp(1.0, n.astype(np.int64))


def expm164(y):
    """e^y - 1 in binary64 for 0 <= y <= 700."""
    y = np.asarray(y, F64)
    p = np.full_like(y, INV_FACTORIAL[17])
    for k in range(16, 0, -1):
        p = p * y + INV_FACTORIAL[k]
    small = p * y
    big = exp64(np.where(y >= 0.5, y, 0.0)) - 1.0
    return np.where(y >= 0.5, big, small)


def exp32(x):
    x = np.asarray(x, F32)
    xd = x.astype(F64)
    inner = np.clip(xd, -104.0, 89.0)
    out = exp64(inner).astype(F32)
    out = np.where(xd > 89, F32(np.inf), out)
    out = np.where(xd < -104, F32(0), out)
    return np.where(np.isnan(x), F32(np.nan), out).astype(F32)


def log32(x):
    x = np.asarray(x, F32)
    with np.errstate(all="ignore"):
        v = x.copy()
        e = np.zeros(x.shape, np.int64)
        sub = (v > 0) & (v < F32(1.1754943508222875e-38))
        v = np.where(sub, v * F32(16777216), v).astype(F32)
        e = np.where(sub, -24, 0)
        bits = v.view(np.uint32).astype(np.int64)
        e = e + (bits >> 23) - 127
        m = ((bits & 0x7FFFFF) | 0x3F800000).astype(np.uint32).view(F32).astype(F64)
        big = m > SQRT2
        m = np.where(big, m / 2, m)
        e = e + big
        s = (m - 1) / (m + 1)
        z = s * s
        q = np.full_like(z, 1 / 25)
        for k in range(11, 0, -1):
            q = q * z + 1 / (2 * k + 1)
        log_m = 2 * s + 2 * s * z * q
        out = (e.astype(F64) * LN2 + log_m).astype(F32)
    out = np.where(x == np.inf, F32(np.inf), out)
    out = np.where(x == 0, F32(-np.inf), out)
    out = np.where(np.isnan(x) | (x < 0), F32(np.nan), out)
    return out.astype(F32)


def tanh32(x):
    x = np.asarray(x, F32)
    a = np.abs(x.astype(F64))
    u = expm164(2 * np.minimum(a, 20.0))
    t = np.where(a > 20, 1.0, u / (u + 2))
    return np.where(x < 0, -t, t).astype(F32)


def sigmoid32(x):
    x = np.asarray(x, F32)
    xd = np.clip(x.astype(F64), -104.0, 104.0)
    pos = 1 / (1 + exp64(-np.abs(xd)))
    e = exp64(-np.abs(xd))
    neg = e / (1 + e)
    out = np.where(xd >= 0, pos, neg).astype(F32)
    out = np.where(x > 104, F32(1), out)
    return np.where(x < -104, F32(0), out).astype(F32)


def seq_sum(x, axis):
    """float32 sum from +0 along `axis`, in index order (one rounding per addition)."""
    x = np.moveaxis(np.asarray(x, F32), axis, -1)
    acc = np.zeros(x.shape[:-1], F32)
    for j in range(x.shape[-1]):
        acc = acc + x[..., j]
    return acc


def softmax32(z):
    """Softmax over the last axis: exp32(z - max), float32 sum in order, division."""
    z = np.asarray(z, F32)
    shifted = (z - z.max(axis=-1, keepdims=True)).astype(F32)
    e = exp32(shifted)
    s = seq_sum(e, -1)
    return (e / s[..., None]).astype(F32)
