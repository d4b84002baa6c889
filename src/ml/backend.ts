/**
 * The one backend the engine trains on: TensorFlow.js 4.22 on the wasm backend, SIMD binary,
 * one thread, with our deterministic kernels registered. Never falls back silently: if the wasm
 * backend cannot be the active backend, initialization throws.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
// Side-effect import: registers the 'wasm' backend (a type-only use would be elided by TypeScript).
import "@tensorflow/tfjs-backend-wasm";
import { setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { BackendUnavailableError } from "./errors";
import { deterministicKernelsRegistered, registerDeterministicKernels } from "./kernels";

export { tf };

let initialization: Promise<void> | undefined;
let instantiatedWasmSha256: string | undefined;

/**
 * sha256 (hex) of the WebAssembly binary the backend instantiated (not a file re-read from disk),
 * for the engine id. Throws BackendUnavailableError before initEngine() has finished.
 */
export function instantiatedWasmBinarySha256(): string {
  if (instantiatedWasmSha256 === undefined) {
    throw new BackendUnavailableError(
      "the engine id needs the instantiated wasm binary: await initEngine() first",
    );
  }
  return instantiatedWasmSha256;
}

/**
 * Runs `start` while recording the bytes every WebAssembly.instantiate call compiles; returns their
 * sha256. Throws if the backend instantiated no binary, or more than one, or a precompiled module
 * whose bytes cannot be seen.
 */
/** The global WebAssembly object, typed structurally (the project's lib has no WebAssembly types). */
interface WebAssemblyGlobal {
  instantiate: (source: unknown, imports?: unknown) => Promise<unknown>;
  Module: new () => object;
}

function webAssemblyGlobal(): WebAssemblyGlobal {
  const wasm: unknown = Reflect.get(globalThis, "WebAssembly");
  const isWebAssembly = (v: unknown): v is WebAssemblyGlobal =>
    typeof v === "object" &&
    v !== null &&
    "instantiate" in v &&
    typeof v.instantiate === "function" &&
    "Module" in v &&
    typeof v.Module === "function";
  if (!isWebAssembly(wasm)) throw new BackendUnavailableError("this JavaScript runtime has no WebAssembly");
  return wasm;
}

async function observingWasmInstantiation(start: () => Promise<void>): Promise<string> {
  const wasm = webAssemblyGlobal();
  const original = wasm.instantiate;
  const hashes: string[] = [];
  let opaque = false;
  wasm.instantiate = (source, imports) => {
    if (source instanceof wasm.Module) opaque = true;
    else {
      const bytes = ArrayBuffer.isView(source)
        ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
        : new Uint8Array(source as ArrayBuffer);
      hashes.push(createHash("sha256").update(bytes).digest("hex"));
    }
    return original.call(wasm, source, imports);
  };
  try {
    await start();
  } finally {
    wasm.instantiate = original;
  }
  if (opaque || hashes.length !== 1) {
    throw new BackendUnavailableError(
      `expected the wasm backend to instantiate one binary from its bytes, saw ${hashes.length}` +
        (opaque ? " and a precompiled module" : ""),
    );
  }
  return hashes[0];
}

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
    let ok = false;
    let binarySha256: string;
    try {
      binarySha256 = await observingWasmInstantiation(async () => {
        ok = await tf.setBackend("wasm");
        await tf.ready();
      });
    } catch (err) {
      if (err instanceof BackendUnavailableError) throw err;
      throw new BackendUnavailableError(`the wasm backend failed to start: ${(err as Error).message}`);
    }
    if (!ok) throw new BackendUnavailableError("tf.setBackend('wasm') returned false");
    instantiatedWasmSha256 = binarySha256;
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
