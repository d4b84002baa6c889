/**
 * The engine id names the exact training engine a job needs: a different id means results
 * that may differ by a bit, so a miner refuses the job (assertEngineMatches).
 *
 * engineId = "0x" + sha256(UTF-8 of the JSON of engineDescriptor()), where the descriptor lists,
 * in this key order: engine revision, tfjs-core / tfjs-layers / tfjs-backend-wasm versions, the
 * wasm binary (simd), its sha256, the thread count, and our kernel set.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { version_wasm } from "@tensorflow/tfjs-backend-wasm";
import { EngineMismatchError } from "./errors";
import { KERNEL_SET } from "./kernels";

/** Revision of our own engine code (losses, optimizer arithmetic, layer execution). Bump on any change of bits. */
export const ENGINE_REVISION = "pot-ml/2";

export interface EngineDescriptor {
  engine: string;
  tfjsCore: string;
  tfjsLayers: string;
  tfjsBackendWasm: string;
  wasmBinary: "tfjs-backend-wasm-simd.wasm";
  wasmBinarySha256: string;
  threads: 1;
  kernels: string[];
}

let cached: EngineDescriptor | undefined;

/** What the engine id hashes (stable key order). */
export function engineDescriptor(): EngineDescriptor {
  if (cached) return cached;
  const wasmFile = require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm");
  cached = {
    engine: ENGINE_REVISION,
    tfjsCore: tf.version_core,
    tfjsLayers: tf.version_layers,
    tfjsBackendWasm: version_wasm,
    wasmBinary: "tfjs-backend-wasm-simd.wasm",
    wasmBinarySha256: createHash("sha256").update(readFileSync(wasmFile)).digest("hex"),
    threads: 1,
    kernels: [...KERNEL_SET],
  };
  return cached;
}

/** This node's engine id: 0x + 64 hex digits. */
export function engineId(): string {
  return `0x${createHash("sha256").update(JSON.stringify(engineDescriptor()), "utf8").digest("hex")}`;
}

/** Throws EngineMismatchError unless the job was made for this node's engine. */
export function assertEngineMatches(spec: { engineId: string }): void {
  const mine = engineId();
  if (spec.engineId !== mine) throw new EngineMismatchError(spec.engineId, mine);
}
