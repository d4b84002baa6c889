/**
 * The built-in dummy job (job 0 of every ledger; docs/protocol/dummy-job.md). Miners train it when no
 * employer job is open, so blocks keep coming. Its spec is fixed here (a tiny MLP on a synthetic task);
 * the data of stage s is derived from the stage's `StageOpened.seed` (the PoT chain head when it opened),
 * so no stage's data, and hence no rho, can be known before the stage opens or replayed across stages.
 */
import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import { toBytes, type Hex } from "viem";
import { buildJobSpec, initEngine, initialState, type Batch, type JobSpec } from "../ml";
import { stateHash } from "../protocol/rho";

/** The job id of the dummy job. */
export const DUMMY_JOB_ID = 0n;
/** The label the ledger's `dummySpecCid` carries (UTF-8) for this built-in spec. */
export const DUMMY_SPEC_LABEL = "pot-dummy-job-v1";
const FEATURES = 4;
const CLASSES = 3;
const BATCH = 8;
const STEPS = 2;

/** Whether a ledger's dummySpecCid (hex bytes) names the built-in dummy job v1. */
export function isBuiltinDummySpec(specCid: Hex): boolean {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(toBytes(specCid)) === DUMMY_SPEC_LABEL;
  } catch {
    return false;
  }
}

let cached: Promise<{ spec: JobSpec; s0: Uint8Array; s0Hash: Hex }> | undefined;

/** The dummy job's spec, S_0 and H(S_0) (what a ledger's `dummyInitialStateHash` must be). */
export function dummyJob(): Promise<{ spec: JobSpec; s0: Uint8Array; s0Hash: Hex }> {
  cached ??= (async () => {
    await initEngine();
    const m = tf.sequential({
      name: "pot_dummy",
      layers: [
        tf.layers.dense({
          name: "pot_dummy_hidden",
          inputShape: [FEATURES],
          units: 8,
          activation: "relu",
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.dense({
          name: "pot_dummy_out",
          units: CLASSES,
          activation: "softmax",
          kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        }),
      ],
    });
    const model = JSON.parse(m.toJSON() as string);
    m.dispose();
    const spec = await buildJobSpec({
      model,
      training: {
        optimizer: { name: "sgd", learningRate: 0.1 },
        loss: "sparseCategoricalCrossentropy",
        batchSize: BATCH,
        stepsPerStage: STEPS,
        seed: 1,
      },
      data: { featureShape: [FEATURES], labels: { kind: "classIndex", numClasses: CLASSES } },
    });
    const s0 = await initialState(spec);
    return { spec, s0, s0Hash: stateHash(s0) };
  })();
  return cached;
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/**
 * The data of dummy stage `stage` opened with `seed`: BATCH x STEPS samples whose features are uniform in
 * [-1, 1) from sha256(seed || "pot-dummy-data" || uint32be(stage) || uint32be(i)) and whose label is the argmax of
 * (x0 + x1, x2 - x0, x3 - x1): a learnable task, so the dummy model does train.
 */
export function dummyStageBatch(seed: Hex, stage: number): Batch {
  const count = BATCH * STEPS;
  const features = new Float32Array(count * FEATURES);
  const labels = new Int32Array(count);
  const seedBytes = Buffer.from(seed.slice(2), "hex");
  for (let i = 0; i < count; i++) {
    const h = createHash("sha256")
      .update(seedBytes)
      .update("pot-dummy-data")
      .update(u32be(stage))
      .update(u32be(i))
      .digest();
    const x: number[] = [];
    for (let f = 0; f < FEATURES; f++) x.push(h.readUInt32BE(f * 4) / 2 ** 31 - 1);
    features.set(x, i * FEATURES);
    const scores = [x[0] + x[1], x[2] - x[0], x[3] - x[1]];
    labels[i] = scores.indexOf(Math.max(...scores));
  }
  return { count, featureShape: [FEATURES], features, labelShape: [], labels };
}
