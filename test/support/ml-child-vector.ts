/**
 * Child process of the cross-process determinism test: computes the named training vectors and
 * prints them as one JSON line. Usage: node -r ts-node/register/transpile-only test/support/ml-child-vector.ts <name>...
 */
import { computeVector } from "./ml-vectors";

async function main(): Promise<void> {
  const out = [];
  for (const name of process.argv.slice(2)) out.push(await computeVector(name));
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + "\n");
  process.exit(1);
});
