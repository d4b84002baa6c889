import { expect } from "chai";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { computeVector, VECTOR_CASES, type TrainingVector } from "../support/ml-vectors";

const run = promisify(execFile);
const root = path.join(__dirname, "..", "..");

async function childVectors(names: string[]): Promise<TrainingVector[]> {
  const { stdout } = await run(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", path.join("test", "support", "ml-child-vector.ts"), ...names],
    { cwd: root, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" }, maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split("\n").pop()!) as TrainingVector[];
}

describe("ml: determinism", function () {
  const names = VECTOR_CASES.map((c) => c.name);

  it("two separate node processes give identical rho and H(S_{i+1}) (MLP and CNN)", async function () {
    const [a, b] = await Promise.all([childVectors(names), childVectors(names)]);
    expect(a.map((v) => v.name)).to.deep.equal(names);
    expect(a).to.deep.equal(b);
    for (const v of a) {
      for (const stage of v.stages) {
        expect(stage.expect.rho).to.match(/^0x[0-9a-f]{64}$/);
        expect(stage.expect.stateHash).to.not.equal(v.initialStateHash);
      }
    }
  });

  it("the committed vectors (test/vectors/training-vectors.json) are reproduced bit for bit here", async function () {
    const file = JSON.parse(
      readFileSync(path.join(root, "test", "vectors", "training-vectors.json"), "utf8"),
    ) as {
      vectors: TrainingVector[];
    };
    expect(file.vectors.map((v) => v.name)).to.deep.equal(names);
    for (const expected of file.vectors) {
      const actual = await computeVector(expected.name);
      expect(
        actual.job.engineId,
        `${expected.name}: engine id (different tfjs/wasm versions or kernels?)`,
      ).to.equal(expected.job.engineId);
      expect(actual.job, `${expected.name}: job spec`).to.deep.equal(expected.job);
      expect(actual.initialStateHash, `${expected.name}: H(S_0)`).to.equal(expected.initialStateHash);
      actual.stages.forEach((stage, i) => {
        const want = expected.stages[i];
        expect(stage.batches, `${expected.name} stage ${i + 1}: batches`).to.deep.equal(want.batches);
        for (const field of ["stepLossesSha256", "intermediateStateHash", "stateHash", "rho"] as const) {
          expect(stage.expect[field], `${expected.name} stage ${i + 1}: ${field}`).to.equal(
            want.expect[field],
          );
        }
      });
      expect(actual).to.deep.equal(expected);
    }
  });
});
