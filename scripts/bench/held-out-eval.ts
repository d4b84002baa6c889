/**
 * The cost of the held-out metric a miner computes for every stage it trains (issue 16): evaluateWith of
 * the quickstart's model (MLP 784-64-10) on an MNIST test set, median of 7 runs.
 * Usage: node -r ts-node/register/transpile-only scripts/bench/held-out-eval.ts [testSize]
 */
import { loadDataset, presetModel } from "../../src/employer/dataset";
import { buildJobSpec, evaluateWith, initialState, prepareJob, Trainer } from "../../src/ml";
import { seedInitializers } from "../../src/ml/model-spec";

async function main(): Promise<void> {
  const testSize = Number(process.argv[2] ?? 2000);
  const ds = loadDataset({ kind: "mnist", trainSize: 640, testSize, seed: 3 });
  if (ds.test === undefined) throw new Error("no test set");
  const model = seedInitializers(await presetModel("mlp", [784], 10, 64), 7);
  const spec = await buildJobSpec({
    model,
    training: {
      optimizer: { name: "sgd", learningRate: 0.1 },
      loss: "sparseCategoricalCrossentropy",
      batchSize: 64,
      stepsPerStage: 12,
      seed: 7,
    },
    data: { featureShape: [784], labels: { kind: "classIndex", numClasses: 10 } },
  });
  const job = await prepareJob(spec);
  const trainer = new Trainer(job.spec, job.model);
  trainer.load(await initialState(spec));
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    evaluateWith(trainer, ds.test);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(
    `held-out evaluation of ${ds.test.count} samples: median ${times[3].toFixed(1)} ms, min ${times[0].toFixed(1)} ms`,
  );
  trainer.dispose();
}

void main();
