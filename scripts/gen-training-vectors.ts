/**
 * Writes test/vectors/training-vectors.json: the self-contained training vectors
 * (test/support/ml-vectors.ts) computed on this machine. Commit the file; test/ml/determinism.test.ts
 * recomputes them with the engine and `npm run spec:check` with the Python reference.
 *
 *   node -r ts-node/register/transpile-only scripts/gen-training-vectors.ts
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import * as prettier from "prettier";
import { computeVector, VECTOR_CASES } from "../test/support/ml-vectors";

async function main(): Promise<void> {
  const vectors = [];
  for (const c of VECTOR_CASES) vectors.push(await computeVector(c.name));
  const file = path.join(__dirname, "..", "test", "vectors", "training-vectors.json");
  const text = JSON.stringify({
    description:
      "PoT training vectors (docs/protocol/training.md, 'Test vectors'): each holds its job spec, the bytes of " +
      "every batch (base64 POTB), the rho context and the results of consecutive stages from S_0",
    vectors,
  });
  // Written as Prettier formats it, so `npm run lint` passes on the regenerated file.
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(text, { ...options, filepath: file }));
  console.log(`wrote ${vectors.length} vectors to ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
