/**
 * Child process of test/ml/engine-holes.test.ts: prints the engine id and the hash of the binary it
 * names, as one JSON line. With `--patched`, every .wasm file the process reads gets an empty custom
 * section appended (still a valid module, other bytes): the engine id must change with it.
 * With `--before-init`, prints the error engineId() throws before initEngine().
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require("node:fs") as typeof import("node:fs");

async function main(): Promise<void> {
  if (process.argv.includes("--patched")) {
    const original = fs.readFileSync;
    const emptyCustomSection = Buffer.from([0x00, 0x05, 0x04, 0x74, 0x65, 0x73, 0x74]);
    (fs as { readFileSync: unknown }).readFileSync = (file: unknown, ...rest: unknown[]) => {
      const out = (original as (...a: unknown[]) => Buffer)(file, ...rest);
      return String(file).endsWith(".wasm") ? Buffer.concat([out, emptyCustomSection]) : out;
    };
  }
  // Loaded only now, after the patch (an import statement would load it first).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ml = require("../../src/ml") as typeof import("../../src/ml");
  if (process.argv.includes("--before-init")) {
    try {
      ml.engineId();
      process.stdout.write(JSON.stringify({ error: null }) + "\n");
    } catch (err) {
      process.stdout.write(
        JSON.stringify({ error: `${(err as Error).name}: ${(err as Error).message}` }) + "\n",
      );
    }
    return;
  }
  await ml.initEngine();
  process.stdout.write(
    JSON.stringify({ engineId: ml.engineId(), wasmBinarySha256: ml.engineDescriptor().wasmBinarySha256 }) +
      "\n",
  );
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + "\n");
  process.exit(1);
});
