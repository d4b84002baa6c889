/**
 * The one backend the engine trains on: TensorFlow.js 4.22 on the wasm backend, SIMD binary,
 * one thread, with our deterministic kernels registered. Never falls back silently: if the wasm
 * backend cannot be the active backend, initialization throws.
 */
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
// Side-effect import: registers the 'wasm' backend (a type-only use would be elided by TypeScript).
import "@tensorflow/tfjs-backend-wasm";
import { setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { BackendUnavailableError } from "./errors";
import { deterministicKernelsRegistered, registerDeterministicKernels } from "./kernels";

export { tf };

let initialization: Promise<void> | undefined;

/** Folder holding the package's .wasm binaries (they ship in the npm package; nothing is downloaded). */
function wasmDistFolder(): string {
  return path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm"));
}

/**
 * Initializes the deterministic training backend once per process (later calls return the same
 * promise). Throws BackendUnavailableError if wasm, SIMD or our kernels cannot be set up.
 */
export function initEngine(): Promise<void> {
  initialization ??= (async () => {
    tf.enableProdMode();
    // One thread: XNNPACK's thread pool would only change speed, but keep the set-up minimal and pinned.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    setThreadsCount(1);
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    if (simd !== true) {
      throw new BackendUnavailableError(
        "this JavaScript runtime lacks WebAssembly SIMD, which the pinned engine needs (use Node >= 20.19)",
      );
    }
    setWasmPaths(wasmDistFolder() + path.sep);
    let ok: boolean;
    try {
      ok = await tf.setBackend("wasm");
      await tf.ready();
    } catch (err) {
      throw new BackendUnavailableError(`the wasm backend failed to start: ${(err as Error).message}`);
    }
    if (!ok) throw new BackendUnavailableError("tf.setBackend('wasm') returned false");
    registerDeterministicKernels();
    assertWasmBackend();
  })();
  return initialization;
}

/** Throws unless the active TensorFlow.js backend is wasm (a silent cpu fallback changes every hash). */
export function assertWasmBackend(): void {
  const active = tf.getBackend();
  if (active !== "wasm") {
    throw new BackendUnavailableError(
      `active TensorFlow.js backend is '${active}', not 'wasm': results would differ from every other miner`,
    );
  }
  if (!deterministicKernelsRegistered()) {
    throw new BackendUnavailableError("the deterministic kernels are not registered (call initEngine())");
  }
}
