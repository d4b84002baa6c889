"""Canonical state bytes (POTS), batch bytes (POTB) and the training secret rho
(docs/protocol/training.md "Canonical state bytes", "Batch format"; docs/PROTOCOL.md "Training secret")."""
import hashlib
import struct

import numpy as np

OPTIMIZER_CODES = {"sgd": 0, "momentum": 1, "adam": 2}
SLOTS = {"sgd": 0, "momentum": 1, "adam": 2}

# keccak256("PoT.RhoSalt(bytes32 domain,uint64 jobId,uint32 stage)")
RHO_SALT_TYPEHASH = bytes.fromhex("cca6cf4dcc5bf352063a8443502147367f545e777a5c30e66d37c2662573b667")


def encode_state(optimizer, step, weights, slots):
    """weights: float32 arrays in getWeights() order; slots: [slot][weight] float32 arrays."""
    for w in weights + [a for s in slots for a in s]:
        if not np.all(np.isfinite(w)):
            raise ValueError("non-finite weight or slot value: the state cannot be hashed")
    out = bytearray(b"POTS")
    out += bytes([1, 1, OPTIMIZER_CODES[optimizer], SLOTS[optimizer]])
    out += struct.pack("<QI", step, len(weights))
    for w in weights:
        out += struct.pack("<I", w.ndim) + b"".join(struct.pack("<I", d) for d in w.shape)
    for group in [weights] + list(slots):
        for w in group:
            out += np.ascontiguousarray(w, "<f4").tobytes()
    return bytes(out)


def decode_state(data, shapes, optimizer):
    if data[:4] != b"POTS" or data[4] != 1 or data[5] != 1:
        raise ValueError("not version-1 float32 POTS state bytes")
    if data[6] != OPTIMIZER_CODES[optimizer] or data[7] != SLOTS[optimizer]:
        raise ValueError("state optimizer does not match the job")
    step, count = struct.unpack_from("<QI", data, 8)
    if count != len(shapes):
        raise ValueError("weight count")
    o = 20
    for shape in shapes:
        (rank,) = struct.unpack_from("<I", data, o)
        dims = struct.unpack_from("<%dI" % rank, data, o + 4)
        if tuple(dims) != tuple(shape):
            raise ValueError("weight shape")
        o += 4 + 4 * rank
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    total = sum(sizes) * (1 + SLOTS[optimizer])
    if len(data) != o + 4 * total:
        raise ValueError("state length")
    values = np.frombuffer(data, "<f4", total, o).astype(np.float32)
    groups, at = [], 0
    for _ in range(1 + SLOTS[optimizer]):
        group = []
        for shape, n in zip(shapes, sizes):
            group.append(values[at : at + n].reshape(shape).copy())
            at += n
        groups.append(group)
    return step, groups[0], groups[1:]


def decode_batch(data):
    """Returns (features float32 [n, *shape], labels int32 [n] or float32 [n, *labelShape])."""
    if data[:4] != b"POTB" or data[4] != 1 or data[7] != 0:
        raise ValueError("not a version-1 POTB batch")
    dtype, label_kind = data[5], data[6]
    (n, rank) = struct.unpack_from("<II", data, 8)
    o = 16
    fshape = struct.unpack_from("<%dI" % rank, data, o)
    o += 4 * rank
    (lrank,) = struct.unpack_from("<I", data, o)
    o += 4
    lshape = struct.unpack_from("<%dI" % lrank, data, o)
    o += 4 * lrank
    fcount = n * int(np.prod(fshape, dtype=np.int64))
    if dtype == 1:
        features = np.frombuffer(data, "<f4", fcount, o).astype(np.float32)
        o += 4 * fcount
    elif dtype == 2:
        (p,) = struct.unpack_from("<I", data, o)
        palette = np.frombuffer(data, "<f4", p, o + 4).astype(np.float32)
        o += 4 + 4 * p
        features = palette[np.frombuffer(data, np.uint8, fcount, o)]
        o += fcount
    else:
        raise ValueError("feature dtype")
    lcount = n * int(np.prod(lshape, dtype=np.int64))
    if label_kind == 1:
        labels = np.frombuffer(data, "<i4", n, o).astype(np.int32)
        o += 4 * n
    elif label_kind == 2:
        labels = np.frombuffer(data, "<f4", lcount, o).astype(np.float32).reshape((n,) + tuple(lshape))
        o += 4 * lcount
    else:
        raise ValueError("label kind")
    if o != len(data):
        raise ValueError("batch length")
    return features.reshape((n,) + tuple(fshape)), labels


def sha256(data):
    return "0x" + hashlib.sha256(data).hexdigest()


class Rho:
    """rho = chain of sha256 links: salt, each step's losses, H(state before the last step), H(S_{i+1})."""

    def __init__(self, domain, job_id, stage):
        enc = RHO_SALT_TYPEHASH + bytes.fromhex(domain[2:]) + int(job_id).to_bytes(32, "big")
        enc += int(stage).to_bytes(32, "big")
        self.chain = hashlib.sha256(enc).digest()
        self.step = 0

    def absorb_losses(self, losses):
        losses = np.ascontiguousarray(losses, "<f4")
        if not np.all(np.isfinite(losses)):
            raise ValueError("non-finite loss")
        header = bytes([1]) + struct.pack(">II", self.step, losses.size)
        self.chain = hashlib.sha256(self.chain + header + losses.tobytes()).digest()
        self.step += 1

    def absorb_state(self, tag, state_hash):
        self.chain = hashlib.sha256(self.chain + bytes([tag]) + bytes.fromhex(state_hash[2:])).digest()

    def finish(self, final_hash):
        self.absorb_state(3, final_hash)
        return "0x" + self.chain.hex()
