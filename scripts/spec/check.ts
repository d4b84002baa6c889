/**
 * npm run spec:check: the Python reference (spec/reference) against the training engine.
 *
 *   node -r ts-node/register/transpile-only scripts/spec/check.ts [--random N] [--seed S] [--no-committed]
 *
 * Runs the reference on every committed training vector (test/vectors/training-vectors.json) and on
 * N (default 50) random small jobs that this engine trains here first (test/support/ml-random-jobs.ts;
 * seed S, default random and printed, so a failing run can be repeated). Exits 1 on any mismatch.
 */
import { runSpecCheck } from "./run";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  const random = Number(option("--random") ?? 50);
  const seed =
    option("--seed") === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(option("--seed"));
  if (!Number.isSafeInteger(random) || random < 0)
    throw new Error(`--random: expected a count, got ${option("--random")}`);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new Error(`--seed: expected a non-negative integer, got ${option("--seed")}`);
  const result = await runSpecCheck({
    committed: !process.argv.includes("--no-committed"),
    random,
    seed,
    log: (line) => console.log(line),
  });
  if (result.skipped) {
    console.error(result.skipped);
    process.exit(2);
  }
  process.exit(result.failed === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
