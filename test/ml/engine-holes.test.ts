/**
 * Holes a bit-exact engine must not have: an engine id that names a file on disk instead of the
 * binary actually running, a seed that TensorFlow.js silently replaces by Math.random, and a
 * diverged (non-finite) state whose bytes would differ between platforms.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import {
  decodeState,
  encodeState,
  engineDescriptor,
  engineId,
  initialState,
  InvalidModelSpecError,
  InvalidStateBytesError,
  NonFiniteWeightError,
  prepareJob,
  seedInitializers,
  Trainer,
  validateJobSpec,
  type JobSpec,
} from "../support/ml-exports";
import { irisSpec, SGD } from "../support/ml-fixtures";

const run = promisify(execFile);
const root = path.join(__dirname, "..", "..");

async function child(...args: string[]): Promise<Record<string, string | null>> {
  const { stdout } = await run(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", path.join("test", "support", "ml-child-engine-id.ts"), ...args],
    { cwd: root, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" } },
  );
  return JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, string | null>;
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error");
}

describe("ml: engine holes", function () {
  this.timeout(60_000);
  let spec: JobSpec;

  before(async function () {
    spec = await irisSpec(SGD, 2, 4);
  });

  it("the engine id hashes the wasm binary actually instantiated, not the file on disk", async function () {
    const file = require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm");
    const onDisk = createHash("sha256").update(readFileSync(file)).digest("hex");
    expect(engineDescriptor().wasmBinarySha256).to.equal(onDisk);
    const [patched, before] = await Promise.all([child("--patched"), child("--before-init")]);
    // The same file, but other bytes reached WebAssembly.instantiate: another engine.
    expect(patched.wasmBinarySha256).to.not.equal(onDisk);
    expect(patched.engineId).to.match(/^0x[0-9a-f]{64}$/);
    expect(patched.engineId).to.not.equal(engineId());
    expect(before.error).to.match(/BackendUnavailableError: .*await initEngine\(\) first/);
  });

  it("rejects seed 0 (TensorFlow.js would draw S_0 from Math.random), and seedInitializers never gives 0", function () {
    const zeroTraining = { ...spec, training: { ...spec.training, seed: 0 } };
    const a = thrown(() => validateJobSpec(zeroTraining));
    expect(a).to.be.instanceOf(InvalidModelSpecError);
    expect(a.message).to.match(
      /training\.seed: expected an integer in 1\.\.4294967295, got 0 \(.*Math\.random/,
    );
    const zeroInit = JSON.parse(JSON.stringify(spec)) as JobSpec & {
      model: { config: { layers: { config: { kernel_initializer: { config: { seed: number } } } }[] } };
    };
    zeroInit.model.config.layers[1].config.kernel_initializer.config.seed = 0;
    const b = thrown(() => validateJobSpec(zeroInit));
    expect(b).to.be.instanceOf(InvalidModelSpecError);
    expect(b.message).to.match(/layers\[1\]\.config\.kernel_initializer\.config\.seed: must not be 0/);
    const model = {
      class_name: "Sequential",
      config: {
        layers: [
          {
            class_name: "Dense",
            config: {
              kernel_initializer: { class_name: "GlorotUniform", config: {} },
              bias_initializer: { class_name: "RandomNormal", config: {} },
            },
          },
        ],
      },
    };
    const seeded = seedInitializers(model, 0xffffffff) as typeof model & {
      config: {
        layers: {
          config: {
            kernel_initializer: { config: { seed: number } };
            bias_initializer: { config: { seed: number } };
          };
        }[];
      };
    };
    expect(seeded.config.layers[0].config.kernel_initializer.config.seed).to.equal(0xffffffff);
    expect(seeded.config.layers[0].config.bias_initializer.config.seed).to.equal(1);
  });

  it("never hashes or encodes a non-finite weight or slot, and refuses state bytes holding one", async function () {
    const job = await prepareJob(spec);
    const s0 = await initialState(spec);
    const state = decodeState(s0, job.model.weights, "sgd");
    state.weights[2][3] = NaN;
    const e = thrown(() => encodeState(state, job.model.weights));
    expect(e).to.be.instanceOf(NonFiniteWeightError);
    expect(e.message).to.match(/training state out\/kernel\[3\] is NaN: training diverged/);
    const trainer = new Trainer(job.spec, job.model);
    try {
      trainer.setState({ ...state, weights: state.weights.map((w) => w.slice()) });
      expect(() => trainer.stateHash()).to.throw(NonFiniteWeightError, /out\/kernel\[3\] is NaN/);
      expect(() => trainer.stateBytes()).to.throw(NonFiniteWeightError);
    } finally {
      trainer.dispose();
    }
    const bytes = s0.slice();
    const view = new DataView(bytes.buffer);
    view.setFloat32(bytes.length - 4, Infinity, true);
    const d = thrown(() => decodeState(bytes, job.model.weights, "sgd"));
    expect(d).to.be.instanceOf(InvalidStateBytesError);
    expect(d.message).to.match(/values: out\/bias\[2\] is not finite/);
  });
});
