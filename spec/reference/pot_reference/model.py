"""The layers of a Sequential model, forward and backward, as docs/protocol/training.md
("One training step") specifies them. All tensors are float32 NumPy arrays; every float32 sum is
accumulated one term at a time in the order the spec gives (`ordered_matmul`, `seq_sum`)."""
import math

import numpy as np

from .f32math import F32, seq_sum, sigmoid32, softmax32, tanh32

ZERO = F32(0)


def ordered_matmul(a, b, init=None):
    """C[i, j] = init[j] (or +0) + sum_k fround(a[i, k] * b[k, j]), added in increasing k."""
    a = np.asarray(a, F32)
    b = np.asarray(b, F32)
    if init is None:
        acc = np.zeros((a.shape[0], b.shape[1]), F32)
    else:
        acc = np.broadcast_to(np.asarray(init, F32), (a.shape[0], b.shape[1])).copy()
    for k in range(a.shape[1]):
        acc = acc + a[:, k : k + 1] * b[k : k + 1, :]
    return acc


def pair(v):
    return [v, v] if isinstance(v, (int, float)) else list(v)


def pads(size, k, stride, padding):
    """(out, before) of tfjs's computeConv2DInfo / computePool2DInfo for one dimension."""
    if padding == "valid":
        return (size - k) // stride + 1, 0
    out = -(-size // stride)
    total = max(0, (out - 1) * stride + k - size)
    return out, total // 2


def compile_layers(model):
    """The job's layer list [(kind, cfg)] and weight shapes, in getWeights() order."""
    topo = model.get("modelTopology", model)
    cfg = topo["config"]
    layers_json = cfg["layers"] if isinstance(cfg, dict) else cfg
    first = layers_json[0]["config"]
    shape = list((first.get("batch_input_shape") or first.get("batch_shape"))[1:])
    layers, weights, inits = [], [], []
    for lj in layers_json:
        cls, c = lj["class_name"], lj["config"]
        act = c.get("activation") or "linear"
        if cls == "InputLayer":
            continue
        if cls == "Dense":
            units = c["units"]
            bias = c.get("use_bias", True) is not False
            layers.append(dict(kind="dense", units=units, act=act, bias=bias, in_shape=shape))
            weights.append([shape[0], units])
            inits.append(c["kernel_initializer"])
            if bias:
                weights.append([units])
                inits.append(c["bias_initializer"])
            shape = [units]
        elif cls == "Conv2D":
            kh, kw = pair(c["kernel_size"])
            sh, sw = pair(c.get("strides") or 1)
            padding = c.get("padding") or "valid"
            filters = c["filters"]
            bias = c.get("use_bias", True) is not False
            oh, top = pads(shape[0], kh, sh, padding)
            ow, left = pads(shape[1], kw, sw, padding)
            layers.append(dict(kind="conv", k=(kh, kw), s=(sh, sw), pad=(top, left), out=(oh, ow),
                               act=act, bias=bias, in_shape=shape, filters=filters))
            weights.append([kh, kw, shape[2], filters])
            inits.append(c["kernel_initializer"])
            if bias:
                weights.append([filters])
                inits.append(c["bias_initializer"])
            shape = [oh, ow, filters]
        elif cls in ("MaxPooling2D", "AveragePooling2D"):
            ph, pw = pair(c.get("pool_size") or 2)
            strides = c.get("strides")
            sh, sw = pair(strides) if strides is not None else (ph, pw)
            padding = c.get("padding") or "valid"
            oh, top = pads(shape[0], ph, sh, padding)
            ow, left = pads(shape[1], pw, sw, padding)
            layers.append(dict(kind="maxpool" if cls == "MaxPooling2D" else "avgpool", k=(ph, pw),
                               s=(sh, sw), pad=(top, left), out=(oh, ow), in_shape=shape))
            shape = [oh, ow, shape[2]]
        elif cls == "Flatten":
            layers.append(dict(kind="reshape", in_shape=shape))
            shape = [int(np.prod(shape))]
        elif cls == "Reshape":
            layers.append(dict(kind="reshape", in_shape=shape))
            shape = list(c["target_shape"])
        elif cls == "Activation":
            layers.append(dict(kind="activation", act=act, in_shape=shape))
        else:
            raise ValueError("unsupported layer " + cls)
        layers[-1]["out_shape"] = shape
    return layers, weights, inits


def activate(x, act):
    if act == "relu":
        return np.maximum(x, ZERO).astype(F32)
    if act == "tanh":
        return tanh32(x)
    if act == "sigmoid":
        return sigmoid32(x)
    if act == "softmax":
        return softmax32(x)
    return x


def activation_grad(dy, y, act):
    """dL/dz from dL/dy and the activation's output y."""
    if act == "relu":
        return (dy * (y > 0).astype(F32)).astype(F32)
    if act == "tanh":
        return ((F32(1) - y * y) * dy).astype(F32)
    if act == "sigmoid":
        return (dy * (y * (F32(1) - y))).astype(F32)
    if act == "softmax":
        dyy = (dy * y).astype(F32)
        return (dyy - seq_sum(dyy, -1)[..., None] * y).astype(F32)
    return dy


def im2col(x, layer):
    """P [n*oh*ow, kh*kw*c]: rows (n, oy, ox), columns (ky, kx, c); zeros outside the input."""
    n, h, w, c = x.shape
    (kh, kw), (sh, sw), (top, left), (oh, ow) = layer["k"], layer["s"], layer["pad"], layer["out"]
    padded = np.zeros((n, h + kh + sh * oh, w + kw + sw * ow, c), F32)
    padded[:, top : top + h, left : left + w, :] = x
    cols = np.empty((n, oh, ow, kh, kw, c), F32)
    for ky in range(kh):
        for kx in range(kw):
            cols[:, :, :, ky, kx, :] = padded[:, ky : ky + sh * oh : sh, kx : kx + sw * ow : sw, :][:, :oh, :ow]
    return cols.reshape(n * oh * ow, kh * kw * c)


def conv_forward(x, w, b, layer):
    n = x.shape[0]
    oh, ow = layer["out"]
    p = im2col(x, layer)
    z = ordered_matmul(p, w.reshape(-1, w.shape[3]), b if b is not None else np.zeros(w.shape[3], F32))
    return z.reshape(n, oh, ow, w.shape[3])


def conv_input_grad(dz, w, layer):
    """dX as a stride-1 valid convolution of dY dilated by the stride and padded by k-1-pad, filter
    rotated 180 degrees with its channels swapped; each sum in (ky, kx, co) order from +0."""
    n, oh, ow, co = dz.shape
    h, wd, ci = layer["in_shape"]
    (kh, kw), (sh, sw), (top, left) = layer["k"], layer["s"], layer["pad"]
    zh, zw = h + kh - 1, wd + kw - 1
    offh, offw = top - kh + 1, left - kw + 1
    z = np.zeros((n, zh, zw, co), F32)
    for q in range(zh):
        py = q + offh
        if py < 0 or py % sh or py // sh >= oh:
            continue
        for r in range(zw):
            px = r + offw
            if px < 0 or px % sw or px // sw >= ow:
                continue
            z[:, q, r, :] = dz[:, py // sh, px // sw, :]
    wf = w[::-1, ::-1, :, :].transpose(0, 1, 3, 2)
    spec = dict(k=(kh, kw), s=(1, 1), pad=(0, 0), out=(h, wd))
    p = im2col(z, spec)
    return ordered_matmul(p, np.ascontiguousarray(wf).reshape(-1, ci)).reshape(n, h, wd, ci)


def pool_windows(layer, h, w):
    (kh, kw), (sh, sw), (top, left), (oh, ow) = layer["k"], layer["s"], layer["pad"], layer["out"]
    for oy in range(oh):
        y0 = max(oy * sh - top, 0)
        y1 = min(oy * sh - top + kh, h)
        for ox in range(ow):
            x0 = max(ox * sw - left, 0)
            x1 = min(ox * sw - left + kw, w)
            yield oy, ox, y0, y1, x0, x1


def pool_forward(x, layer):
    n, h, w, c = x.shape
    oh, ow = layer["out"]
    out = np.zeros((n, oh, ow, c), F32)
    for oy, ox, y0, y1, x0, x1 in pool_windows(layer, h, w):
        win = x[:, y0:y1, x0:x1, :].reshape(n, -1, c)
        if layer["kind"] == "maxpool":
            out[:, oy, ox, :] = win.max(axis=1)
        else:
            out[:, oy, ox, :] = seq_sum(win, 1) / F32(win.shape[1])
    return out


def pool_grad(dy, x, layer):
    n, h, w, c = x.shape
    dx = np.zeros_like(x)
    (kh, kw), (sh, sw) = layer["k"], layer["s"]
    overlapping = sh < kh or sw < kw
    bi = np.arange(n)[:, None]
    ci = np.arange(c)[None, :]
    for oy, ox, y0, y1, x0, x1 in pool_windows(layer, h, w):
        g = dy[:, oy, ox, :]
        if layer["kind"] == "maxpool":
            win = x[:, y0:y1, x0:x1, :].reshape(n, -1, c)
            first = win.argmax(axis=1)  # first maximum, rows then columns
            yy = y0 + first // (x1 - x0)
            xx = x0 + first % (x1 - x0)
            # Non-overlapping windows assign (keeping a -0), overlapping ones add in float32.
            dx[bi, yy, xx, ci] = dx[bi, yy, xx, ci] + g if overlapping else g
        else:
            share = (g / F32((y1 - y0) * (x1 - x0))).astype(F32)
            for yy in range(y0, y1):
                for xx in range(x0, x1):
                    dx[:, yy, xx, :] = dx[:, yy, xx, :] + share
    return dx


def forward(layers, params, x, logits):
    """Returns the output and the tape [(layer, input, output, weight index)]."""
    tape, p, h = [], 0, x
    last = len(layers) - 1
    for i, layer in enumerate(layers):
        kind = layer["kind"]
        skip_softmax = logits and i == last and layer.get("act") == "softmax"
        hin = h
        if kind in ("dense", "conv"):
            w = params[p]
            b = params[p + 1] if layer["bias"] else None
            if kind == "dense":
                m, units = h.shape[0], layer["units"]
                if 4 * m < 3 * units:
                    z = ordered_matmul(h, w)
                    if b is not None:
                        z = (z + b).astype(F32)
                else:
                    z = ordered_matmul(h, w, b if b is not None else np.zeros(units, F32))
            else:
                z = conv_forward(h, w, b, layer)
            act = layer["act"]
            if act == "relu":
                z = np.maximum(z, ZERO).astype(F32)
            elif act != "linear" and not skip_softmax:
                z = activate(z, act)
            h = z
        elif kind in ("maxpool", "avgpool"):
            h = pool_forward(h, layer)
        elif kind == "reshape":
            h = h.reshape((h.shape[0],) + tuple(layer["out_shape"]))
        elif kind == "activation" and not skip_softmax:
            h = activate(h, layer["act"])
        tape.append((layer, hin, h, p, skip_softmax))
        if kind in ("dense", "conv"):
            p += 2 if layer["bias"] else 1
    return h, tape


def backward(tape, params, dout):
    """Gradients of every weight, in getWeights() order."""
    grads = [None] * len(params)
    dy = dout
    for idx in range(len(tape) - 1, -1, -1):
        layer, x, y, p, skip_softmax = tape[idx]
        kind = layer["kind"]
        first = idx == 0
        if kind in ("dense", "conv"):
            act = layer["act"]
            if act in ("relu", "linear"):
                dz = activation_grad(dy, y, act)
            elif skip_softmax:
                dz = dy
            else:
                dz = activation_grad(dy, y, act)
            w = params[p]
            if kind == "dense":
                grads[p] = ordered_matmul(x.T, dz)
                if layer["bias"]:
                    grads[p + 1] = seq_sum(dz, 0)
                if not first:
                    dy = ordered_matmul(dz, w.T)
            else:
                n, oh, ow, co = dz.shape
                cols = im2col(x, layer)
                dzm = dz.reshape(-1, co)
                grads[p] = ordered_matmul(cols.T, dzm).reshape(w.shape)
                if layer["bias"]:
                    grads[p + 1] = seq_sum(dzm, 0)
                if not first:
                    dy = conv_input_grad(dz, w, layer)
        elif kind in ("maxpool", "avgpool"):
            dy = pool_grad(dy, x, layer)
        elif kind == "reshape":
            dy = dy.reshape(x.shape)
        elif kind == "activation" and not skip_softmax:
            dy = activation_grad(dy, y, layer["act"])
        if first:
            break
    return grads
