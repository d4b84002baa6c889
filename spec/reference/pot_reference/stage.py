"""S_0 from a job spec, and one stage S_i -> S_{i+1} with rho (docs/protocol/training.md)."""
import numpy as np

from .encoding import Rho, decode_batch, decode_state, encode_state, sha256, SLOTS
from .f32math import F32, exp32, log32, seq_sum, softmax32
from .init import initialize
from .model import backward, compile_layers, forward


class Job:
    def __init__(self, spec):
        if spec.get("format") != "pot-training-job/1":
            raise ValueError("not a pot-training-job/1 spec")
        self.spec = spec
        self.training = spec["training"]
        self.data = spec["data"]
        self.layers, self.shapes, self.inits = compile_layers(spec["model"])
        self.loss = self.training["loss"]
        self.opt = self.training["optimizer"]

    def initial_state(self):
        weights = [initialize(init, shape) for init, shape in zip(self.inits, self.shapes)]
        slots = [[np.zeros(s, F32) for s in self.shapes] for _ in range(SLOTS[self.opt["name"]])]
        return encode_state(self.opt["name"], 0, weights, slots)

    def targets(self, labels):
        lab = self.data["labels"]
        if lab["kind"] == "classIndex":
            y = np.zeros((labels.shape[0], lab["numClasses"]), F32)
            y[np.arange(labels.shape[0]), labels] = 1
            return y
        return labels.astype(F32)

    def step(self, params, slots, t, x, labels):
        """One training step: returns the per-sample losses; updates params and slots in place."""
        b = x.shape[0]
        y = self.targets(labels)
        logits = self.loss != "meanSquaredError"
        out, tape = forward(self.layers, params, x, logits)
        dl = F32(1) / F32(b)  # gradient of the batch mean
        if logits:
            shifted = (out - out.max(axis=1, keepdims=True)).astype(F32)
            lse = log32(seq_sum(exp32(shifted), 1))
            losses = (lse - seq_sum((y * shifted).astype(F32), 1)).astype(F32)
            dout = ((softmax32(out) - y) * dl).astype(F32)
        else:
            d = (out - y.reshape(out.shape)).astype(F32)
            k = int(np.prod(out.shape[1:]))
            sq = (d * d).astype(F32).reshape(b, k)
            losses = (seq_sum(sq, 1) / F32(k)).astype(F32)
            dsq = (dl / F32(k)).astype(F32)
            half = (dsq * d).astype(F32)
            dout = (half + half).astype(F32)
        grads = backward(tape, params, dout)
        self.update(params, slots, grads, t)
        return losses

    def update(self, params, slots, grads, t):
        o = self.opt
        lr = F32(o["learningRate"])
        for i, (w, g) in enumerate(zip(params, grads)):
            if o["name"] == "sgd":
                params[i] = (w - lr * g).astype(F32)
            elif o["name"] == "momentum":
                v = (F32(o["momentum"]) * slots[0][i] + g).astype(F32)
                slots[0][i] = v
                params[i] = (w - lr * v).astype(F32)
            else:
                b1, b2, eps = F32(o["beta1"]), F32(o["beta2"]), F32(o["epsilon"])
                p1, p2 = b1, b2
                for _ in range(1, t):
                    p1, p2 = F32(p1 * b1), F32(p2 * b2)
                c1, c2 = F32(F32(1) - p1), F32(F32(1) - p2)
                m = (b1 * slots[0][i] + F32(F32(1) - b1) * g).astype(F32)
                v = (b2 * slots[1][i] + F32(F32(1) - b2) * (g * g)).astype(F32)
                slots[0][i], slots[1][i] = m, v
                denom = (np.sqrt(v / c2).astype(F32) + eps).astype(F32)
                params[i] = (w - (lr * (m / c1)) / denom).astype(F32)

    def run_stage(self, state_bytes, batches, ctx):
        """ctx = {domain, jobId, stage}; batches = list of POTB bytes. Returns the results dict."""
        bs, steps = self.training["batchSize"], self.training["stepsPerStage"]
        decoded = [decode_batch(b) for b in batches]
        if len(decoded) == 1 and decoded[0][0].shape[0] == bs * steps:
            f, l = decoded[0]
            decoded = [(f[s * bs : (s + 1) * bs], l[s * bs : (s + 1) * bs]) for s in range(steps)]
        if len(decoded) != steps or any(f.shape[0] != bs for f, _ in decoded):
            raise ValueError("a stage needs stepsPerStage batches of batchSize samples")
        step, params, slots = decode_state(state_bytes, self.shapes, self.opt["name"])
        rho = Rho(ctx["domain"], int(ctx["jobId"]), ctx["stage"])
        all_losses, intermediate = [], None
        for s, (x, labels) in enumerate(decoded):
            if s == steps - 1:
                intermediate = sha256(encode_state(self.opt["name"], step, params, slots))
                rho.absorb_state(2, intermediate)
            step += 1
            losses = self.step(params, slots, step, x, labels)
            rho.absorb_losses(losses)
            all_losses.append(losses)
        state = encode_state(self.opt["name"], step, params, slots)
        final = sha256(state)
        return {
            "state": state,
            "stateHash": final,
            "intermediateStateHash": intermediate,
            "rho": rho.finish(final),
            "stepLossesSha256": sha256(b"".join(np.ascontiguousarray(l, "<f4").tobytes() for l in all_losses)),
        }
