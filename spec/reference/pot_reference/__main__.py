"""python3 -m pot_reference VECTORS.json...: recomputes every training vector (H(S_0), then each
stage's losses, intermediate state hash, H(S_{i+1}) and rho) and compares with its expectations.
Prints one line per vector; exits 1 on any mismatch."""
import base64
import json
import sys
import time

from .encoding import sha256
from .stage import Job

FIELDS = ("stepLossesSha256", "intermediateStateHash", "stateHash", "rho")


def check_vector(v):
    """Returns a list of mismatch descriptions (empty when every output matches)."""
    job = Job(v["job"])
    state = job.initial_state()
    problems = []
    if sha256(state) != v["initialStateHash"]:
        problems.append("H(S_0) %s != %s" % (sha256(state), v["initialStateHash"]))
        return problems
    for i, st in enumerate(v["stages"]):
        got = job.run_stage(state, [base64.b64decode(b) for b in st["batches"]], st["context"])
        for f in FIELDS:
            if got[f] != st["expect"][f]:
                problems.append("stage %d %s: %s != %s" % (i + 1, f, got[f], st["expect"][f]))
        if problems:
            return problems
        state = got["state"]
    return problems


def main(paths):
    total = failed = 0
    for path in paths:
        with open(path) as fh:
            doc = json.load(fh)
        for v in doc["vectors"]:
            total += 1
            t0 = time.time()
            try:
                problems = check_vector(v)
            except Exception as err:  # a crash is a mismatch, reported with its vector
                problems = ["error: %r" % (err,)]
            stages = len(v["stages"])
            if problems:
                failed += 1
                print("MISMATCH %s: %s" % (v["name"], "; ".join(problems)))
            else:
                print("ok %s (%d stage%s, %.1fs)" % (v["name"], stages, "" if stages == 1 else "s", time.time() - t0))
    print("%d of %d vectors reproduced bit for bit" % (total - failed, total))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
