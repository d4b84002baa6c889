/**
 * The engine id names the exact training engine a job needs: a different id means results
 * that may differ by a bit, so a miner refuses the job (assertEngineMatches).
 *
 * engineId = "0x" + sha256(UTF-8 of the JSON of engineDescriptor()), where the descriptor lists,
 * in this key order: engine revision, tfjs-core / tfjs-layers / tfjs-backend-wasm versions, the
 * wasm binary (simd), the sha256 of the bytes actually instantiated, the thread count, and our kernel set.
 */
import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import { version_wasm } from "@tensorflow/tfjs-backend-wasm";
import { instantiatedWasmBinarySha256 } from "./backend";
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

/**
 * What the engine id hashes (stable key order). The binary's hash is that of the bytes the backend
 * instantiated (backend.ts), so it needs initEngine() first (BackendUnavailableError otherwise).
 */
export function engineDescriptor(): EngineDescriptor {
  if (cached) return cached;
  cached = {
    engine: ENGINE_REVISION,
    tfjsCore: tf.version_core,
    tfjsLayers: tf.version_layers,
    tfjsBackendWasm: version_wasm,
    wasmBinary: "tfjs-backend-wasm-simd.wasm",
    wasmBinarySha256: instantiatedWasmBinarySha256(),
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
