/**
 * Step-checkpoint overhead on the training benchmark (scripts/bench/training.ts: MNIST MLP 784-128-10 and
 * the small CNN, batch 64, 50 steps per stage), at several values of training.checkpointEvery:
 *
 *   node -r ts-node/register/transpile-only scripts/bench/checkpoints.ts [--repeats N] [--every 0,1,5,10,25,50]
 *
 * For each model and value: the CPU time (this process) and wall time of one stage (runStageWith, rho
 * and checkpoints included), median over N interleaved repeats, and the overhead against
 * checkpointEvery = 0. Also the cost of one checkpoint timed directly (state bytes out of wasm + sha256),
 * which predicts the overhead as (m - 1) x cost / stage (the last checkpoint is S_{i+1}, hashed anyway).
 * Prints a Markdown table; nothing is written.
 */
import * as os from "node:os";
import {
  initialState,
  loadMnist,
  prepareJob,
  runStageWith,
  takeSamples,
  Trainer,
  type JobSpec,
  type OptimizerConfig,
} from "../../src/ml";
import { stateHash } from "../../src/protocol/rho";
import { checkpointCount } from "../../src/protocol/checkpoints";
import { cnnSpec, mlpSpec, RHO_CTX } from "../../test/support/ml-fixtures";

const BATCH = 64;
const STEPS = 50;
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const REPEATS = Number(arg("--repeats") ?? 7);
const EVERY = (arg("--every") ?? "0,1,5,10,25,50").split(",").map(Number);
const MODELS = (arg("--models") ?? "mlp-sgd,mlp-adam,cnn-sgd").split(",");

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const withEvery = (spec: JobSpec, e: number): JobSpec => ({
  ...spec,
  training: { ...spec.training, checkpointEvery: e },
});

async function specOf(name: string): Promise<JobSpec> {
  const sgd: OptimizerConfig = { name: "sgd", learningRate: 0.1 };
  const adam: OptimizerConfig = {
    name: "adam",
    learningRate: 0.001,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
  };
  if (name === "mlp-sgd") return mlpSpec(sgd, STEPS, BATCH);
  if (name === "mlp-adam") return mlpSpec(adam, STEPS, BATCH);
  if (name === "cnn-sgd") return cnnSpec({ name: "sgd", learningRate: 0.05 }, STEPS, BATCH);
  throw new Error(`unknown model ${name}`);
}

async function bench(name: string): Promise<string[]> {
  const base = await specOf(name);
  const { train } = loadMnist({
    featureShape: base.data.featureShape,
    trainSize: STEPS * BATCH,
    testSize: 0,
  });
  const data = takeSamples(train, 0, STEPS * BATCH);
  const s0 = await initialState(base);
  const trainers = new Map<number, Trainer>();
  for (const e of EVERY) {
    const job = await prepareJob(withEvery(base, e));
    trainers.set(e, new Trainer(job.spec, job.model));
  }
  const stage = (e: number) => runStageWith(trainers.get(e)!, s0, data, { ...RHO_CTX, stage: 1 });
  for (const e of EVERY) stage(e); // warm-up
  const cpu = new Map<number, number[]>(EVERY.map((e) => [e, []]));
  const wall = new Map<number, number[]>(EVERY.map((e) => [e, []]));
  for (let r = 0; r < REPEATS; r++) {
    for (const e of EVERY) {
      const c0 = cpuMs();
      const t0 = performance.now();
      stage(e);
      wall.get(e)!.push(performance.now() - t0);
      cpu.get(e)!.push(cpuMs() - c0);
    }
  }
  // One checkpoint, timed directly: the state's bytes copied out of wasm memory, and their sha256. Median
  // of single timings: a time slice lost to the other tenants of the machine spoils one sample, not all.
  const t = trainers.get(EVERY[0])!;
  t.load(s0);
  let size = 0;
  const samples: number[] = [];
  for (let i = 0; i < 101; i++) {
    const c0 = cpuMs();
    const bytes = t.stateBytes();
    stateHash(bytes);
    samples.push(cpuMs() - c0);
    size = bytes.length;
  }
  const perCheckpoint = median(samples);
  for (const tr of trainers.values()) tr.dispose();
  const base0 = median(cpu.get(0) ?? cpu.get(EVERY[0])!);
  return EVERY.map((e) => {
    const c = median(cpu.get(e)!);
    const m = checkpointCount(STEPS, e);
    const predicted = (Math.max(0, m - 1) * perCheckpoint) / base0;
    return `| ${name} | ${(size / 1e6).toFixed(2)} MB, ${perCheckpoint.toFixed(2)} ms | ${e} | ${m} | ${c.toFixed(0)} | ${median(wall.get(e)!).toFixed(0)} | ${(((c - base0) / base0) * 100).toFixed(1)}% | ${(predicted * 100).toFixed(1)}% |`;
  });
}

async function main(): Promise<void> {
  const load0 = os.loadavg()[0];
  const rows: string[] = [];
  for (const name of MODELS) {
    rows.push(...(await bench(name)));
    console.error(`done ${name} (load ${os.loadavg()[0].toFixed(2)})`);
  }
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown"}), Node ${process.version}`;
  console.log(
    [
      `${new Date().toISOString()}, ${machine}, 1-minute load average ${load0.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at the end; ${STEPS} steps per stage, batch ${BATCH}, median of ${REPEATS} interleaved repeats`,
      "",
      "| model | state, one checkpoint | checkpointEvery | checkpoints m | CPU ms per stage | wall ms per stage | overhead (CPU, vs 0) | predicted from one checkpoint's cost |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      ...rows,
    ].join("\n"),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
