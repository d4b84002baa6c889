/**
 * The trained model as files: fetch the last wrapped S by its CID, check its hash against the chain, and
 * write `model.json` + `weights.bin` in the TensorFlow.js layers-model format (`tf.loadLayersModel` reads
 * them; with plain @tensorflow/tfjs in Node call `registerFileScheme()` first so `file://` URLs load).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import type { Hex } from "viem";
import { PotError } from "../errors";
import { decodeState, validateJobSpec, type OptimizerConfig } from "../ml";
import { encodeStateHeader } from "../ml/state";
import type { ContentStore, FetchOptions } from "../storage";
import type { LedgerHandle } from "./ledger";
import { fetchState, finalStage, lastWrappedStage, loadJobRecord, stateRef } from "./job-data";

/** The optimizer slots of S (momentum, adam) beside weights.bin: H(S) covers them, a layers model has none. */
export const OPTIMIZER_SLOTS_FILE = "optimizer-slots.bin";

/** Files written by `writeModelFiles`. */
export interface ModelFiles {
  readonly dir: string;
  readonly modelJson: string;
  readonly weightsBin: string;
  /** SGD steps the state had applied. */
  readonly step: number;
  readonly weights: { name: string; shape: number[] }[];
  /** The optimizer's slots of S (momentum, adam: part of H(S), not of a layers model), if any. */
  readonly optimizerSlots?: string;
  readonly optimizer: OptimizerConfig["name"];
}

/** The layers-model topology inside a spec's `model` (object, string, or `{ modelTopology }`). */
function topologyOf(model: unknown): unknown {
  const m = typeof model === "string" ? (JSON.parse(model) as unknown) : model;
  if (m !== null && typeof m === "object" && "modelTopology" in m)
    return (m as { modelTopology: unknown }).modelTopology;
  return m;
}

/**
 * Writes the weights of canonical training-state bytes as `model.json` + `weights.bin` in `dir`
 * (optimizer slots are not part of a layers model and are left out).
 */
export function writeModelFiles(spec: unknown, stateBytes: Uint8Array, dir: string): ModelFiles {
  const { spec: valid, model } = validateJobSpec(spec);
  const state = decodeState(stateBytes, model.weights, valid.training.optimizer.name);
  const total = state.weights.reduce((s, w) => s + w.length, 0);
  const data = new Float32Array(total);
  let o = 0;
  for (const w of state.weights) {
    data.set(w, o);
    o += w.length;
  }
  const weights = model.weights.map((w) => ({ name: w.name, shape: [...w.shape] }));
  const modelJson = {
    modelTopology: topologyOf(valid.model),
    format: "layers-model",
    generatedBy: "pot (Proof of Training)",
    convertedBy: null,
    weightsManifest: [{ paths: ["weights.bin"], weights: weights.map((w) => ({ ...w, dtype: "float32" })) }],
    userDefinedMetadata: { potStep: state.step, potEngineId: valid.engineId },
  };
  mkdirSync(dir, { recursive: true });
  const jsonPath = join(dir, "model.json");
  const binPath = join(dir, "weights.bin");
  writeFileSync(jsonPath, JSON.stringify(modelJson));
  writeFileSync(binPath, new Uint8Array(data.buffer));
  // the canonical bytes after the header and the weights are the optimizer slots (src/ml/state.ts)
  const optimizer = valid.training.optimizer.name;
  const slotsAt = encodeStateHeader(optimizer, state.step, model.weights).length + data.byteLength;
  let optimizerSlots: string | undefined;
  if (stateBytes.length > slotsAt) {
    optimizerSlots = join(dir, OPTIMIZER_SLOTS_FILE);
    writeFileSync(optimizerSlots, stateBytes.subarray(slotsAt));
  }
  return {
    dir,
    modelJson: jsonPath,
    weightsBin: binPath,
    step: state.step,
    weights,
    optimizerSlots,
    optimizer,
  };
}

/**
 * JavaScript that loads the model files in `dir` with plain @tensorflow/tfjs in Node (which has no
 * `file://` handler): statements for an async function or an ES module, leaving the model in `model`.
 * test/employer/preflight.test.ts runs exactly this text.
 */
export function loadModelSnippet(dir: string): string {
  const at = (f: string) => JSON.stringify(join(dir, f));
  return [
    'const fs = require("node:fs"), tf = require("@tensorflow/tfjs");',
    `const json = JSON.parse(fs.readFileSync(${at("model.json")}, "utf8"));`,
    `const bin = fs.readFileSync(${at("weights.bin")});`,
    "const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, " +
      "weightSpecs: json.weightsManifest[0].weights, " +
      "weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) }));",
  ].join("\n");
}

/** How to load the model files in `dir`: plain tfjs (the snippet), tfjs-node, and Keras via the converter. */
export function loadModelHint(dir: string): string[] {
  return [
    "Load it in Node with plain @tensorflow/tfjs (inside an async function):",
    ...loadModelSnippet(dir)
      .split("\n")
      .map((l) => `  ${l}`),
    `With @tensorflow/tfjs-node: tf.loadLayersModel("file://${join(dir, "model.json")}")`,
    `For Keras: tensorflowjs_converter --input_format=tfjs_layers_model --output_format=keras ${join(dir, "model.json")} model.h5`,
  ];
}

let fileSchemeRegistered = false;

/**
 * Lets `tf.loadLayersModel("file:///path/model.json")` work with plain @tensorflow/tfjs in Node (tfjs-node,
 * which cannot be installed here, registers the same scheme). Idempotent.
 */
export function registerFileScheme(): void {
  if (fileSchemeRegistered) return;
  fileSchemeRegistered = true;
  tf.io.registerLoadRouter(fileRouter);
}

/**
 * The `file://` load router. tfjs's `IORouter` type says a router returns a handler, but its registry skips
 * routers that return `null` (its own http and indexeddb routers do so for URLs they do not serve): the
 * overload states the registry's contract, the implementation says what really comes back.
 */
function fileRouter(url: string | string[]): tf.io.IOHandler;
function fileRouter(url: string | string[]): tf.io.IOHandler | null {
  if (typeof url !== "string" || !url.startsWith("file://")) return null;
  const path = fileURLToPath(url);
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = JSON.parse(readFileSync(path, "utf8")) as tf.io.ModelJSON;
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const p of group.paths) buffers.push(readFileSync(resolve(dirname(path), p)));
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
      };
    },
  };
}

/** `fetchModel` refused: nothing trained to fetch, or the output folder would be overwritten. */
export class FetchRefusedError extends PotError {
  declare readonly hint: string;
  constructor(message: string, hint: string) {
    super(`${message}. ${hint}`, { hint });
  }
}

/** Options of `fetchModel`. */
export interface FetchModelOptions extends FetchOptions {
  /** A given stage (0 = S_0) instead of the last wrapped one. */
  stage?: number;
  /** Write S_0 when no stage is wrapped (default: refuse, FetchRefusedError). */
  allowUnfinished?: boolean;
  /** Write into a folder that already holds files (default: refuse). */
  overwrite?: boolean;
}

/** What `fetchModel` did. */
export interface FetchedModel extends ModelFiles {
  readonly jobId: bigint;
  readonly stage: number;
  readonly cid: string;
  readonly stateHash: Hex;
  /** Whether this is the job's final state: its last stage, or the stage that reached its target. */
  readonly final: boolean;
  readonly numStages: number;
  readonly wrappedStages: number;
}

/**
 * Fetches S of `stage` (default: the last wrapped stage), checks its hash against the chain, and writes
 * the model files into `dir`. Refuses (FetchRefusedError) a job with no wrapped stage unless
 * `allowUnfinished` or an explicit stage, and a `dir` that already holds files unless `overwrite`.
 */
export async function fetchModel(
  h: LedgerHandle,
  store: ContentStore,
  jobId: bigint,
  dir: string,
  options: FetchModelOptions = {},
): Promise<FetchedModel> {
  if (options.overwrite !== true && existsSync(dir) && readdirSync(dir).length > 0) {
    throw new FetchRefusedError(
      `${dir} already holds files`,
      "Give another --out folder, or pass --force to overwrite it",
    );
  }
  const record = await loadJobRecord(h, store, jobId, options);
  const numStages = record.events.created.numStages;
  const wrappedStages = record.events.stages.filter((s) => s.wrapped !== undefined).length;
  if (options.stage === undefined && wrappedStages === 0 && options.allowUnfinished !== true) {
    throw new FetchRefusedError(
      `Job ${jobId} has 0 of ${numStages} stages wrapped: nothing is trained yet, only the untrained S_0 exists`,
      `Watch it with pot job status ${jobId}; pass --allow-unfinished to write S_0 anyway`,
    );
  }
  const stage = options.stage ?? lastWrappedStage(record);
  const ref = stateRef(record, stage);
  if (ref === undefined) {
    throw new Error(
      `Stage ${stage} of job ${jobId} is not wrapped yet (last wrapped: ${lastWrappedStage(record)})`,
    );
  }
  const bytes = await fetchState(store, ref, options);
  const files = writeModelFiles(record.document.spec, bytes, dir);
  return {
    ...files,
    jobId,
    stage,
    cid: ref.cid,
    stateHash: ref.expectedHash,
    final: stage === finalStage(record.events),
    numStages,
    wrappedStages,
  };
}
