/**
 * Writes test/vectors/training-vectors.json: the training test vectors (test/support/ml-vectors.ts)
 * computed on this machine. Commit the file; test/ml/vectors.test.ts recomputes and compares, so
 * every machine running the tests re-proves bit-for-bit reproducibility.
 *
 *   node -r ts-node/register/transpile-only scripts/gen-training-vectors.ts
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { computeVector, VECTOR_CASES } from "../test/support/ml-vectors";

async function main(): Promise<void> {
  const vectors = [];
  for (const c of VECTOR_CASES) vectors.push(await computeVector(c.name));
  const file = path.join(__dirname, "..", "test", "vectors", "training-vectors.json");
  writeFileSync(
    file,
    JSON.stringify(
      {
        description: "PoT training-engine vectors: one stage from S_0 (see test/support/ml-vectors.ts)",
        vectors,
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`wrote ${vectors.length} vectors to ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
