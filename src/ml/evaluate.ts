/**
 * Evaluation: loss and accuracy of a training state's weights on a held-out set.
 */
import * as tf from "@tensorflow/tfjs";
import { forward, perSampleLoss } from "./forward";
import { prepareJob } from "./stage";
import { assertBatch, type Batch } from "./data/batch-format";
import { assertBatchFits, targetsOf, Trainer } from "./trainer";

export interface Evaluation {
  /** Mean per-sample loss (the training loss function). */
  loss: number;
  /** Fraction of samples whose arg-max output is the label (class-index labels), else NaN. */
  accuracy: number;
  /**
   * Samples whose arg-max output is the label (class-index labels), else undefined: with `loss` and `count`
   * what protocol/outcome.ts heldOutMetric encodes into a stage outcome.
   */
  correct?: number;
  count: number;
}

/** Evaluates a Trainer's current weights on `data`, `chunk` samples per forward pass. */
export function evaluateWith(trainer: Trainer, data: Batch, chunk = 500): Evaluation {
  assertBatch(data, "data");
  assertBatchFits(trainer.spec, data, "data");
  const spec = trainer.spec;
  const logits = spec.training.loss !== "meanSquaredError";
  const fs = spec.data.featureShape.reduce((a, b) => a * b, 1);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < data.count; start += chunk) {
    const n = Math.min(chunk, data.count - start);
    const [losses, predicted] = tf.tidy(() => {
      const x = tf.tensor(
        data.features.subarray(start * fs, (start + n) * fs),
        [n, ...spec.data.featureShape],
        "float32",
      );
      const t = targetsOf(spec, data, start, n);
      const out = forward(trainer.model, trainer.weights(), x, logits);
      const l = perSampleLoss(spec.training.loss, out, tf.tensor(t.values, t.shape, "float32"));
      return [l.dataSync(), tf.argMax(tf.reshape(out, [n, -1]), 1).dataSync()];
    });
    for (let i = 0; i < n; i++) {
      lossSum += losses[i];
      if (spec.data.labels.kind === "classIndex" && predicted[i] === data.labels[start + i]) correct++;
    }
  }
  const classes = spec.data.labels.kind === "classIndex";
  return {
    // the float64 mean of the per-sample float32 losses, summed in sample order (docs/PROTOCOL.md "Stage outcome")
    loss: lossSum / data.count,
    accuracy: classes ? correct / data.count : NaN,
    ...(classes ? { correct } : {}),
    count: data.count,
  };
}

/** Loss and accuracy of the weights in canonical `stateBytes` on a held-out set. */
export async function evaluate(spec: unknown, stateBytes: Uint8Array, data: Batch): Promise<Evaluation> {
  const job = await prepareJob(spec);
  const trainer = new Trainer(job.spec, job.model);
  try {
    trainer.load(stateBytes);
    return evaluateWith(trainer, data);
  } finally {
    trainer.dispose();
  }
}
