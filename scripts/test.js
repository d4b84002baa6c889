#!/usr/bin/env node
// Runs every test file (test/**/*.test.ts) through `hardhat test`, so contract tests get the
// in-process chain and everything else runs beside them in one mocha run. Hardhat on its own would
// load every .ts file under test/, including the child-process scripts in test/support/.
//
// Usage: node scripts/test.js [substring ...]   (only files whose path contains a substring)
//
// The whole suite (no substring) runs as two mocha processes side by side (POT_TEST_SHARDS=1 runs one):
// most of its time is spent waiting on chains, block intervals and child processes, not on the CPU. The
// second shard takes the files that each run a network of their own for minutes (NETWORK_FILES); the first
// everything else. Shard 1 prints as it runs, shard 2 after it; the closing "tests: ..." line sums both.
"use strict";
const { readdirSync, statSync, mkdtempSync, readFileSync, rmSync, openSync, closeSync } = require("node:fs");
const { join, relative } = require("node:path");
const { tmpdir } = require("node:os");
const { spawn, spawnSync } = require("node:child_process");

const root = join(__dirname, "..");
const filters = process.argv.slice(2);
/** Files of the second shard: multi-process networks that run for minutes each (about half the suite). */
const NETWORK_FILES = ["test/scenarios/", "test/netns/network", "test/cli/readme-quickstart"];

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith(".test.ts") ? [relative(root, path)] : [];
  });
}

const files = find(join(root, "test"))
  .sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`No test file matches ${filters.join(", ")}`);
  process.exit(2);
}

const shards = Number(process.env.POT_TEST_SHARDS ?? (filters.length === 0 ? 2 : 1));
if (shards <= 1) {
  const run = spawnSync("npx", ["hardhat", "test", ...files], { cwd: root, stdio: "inherit" });
  process.exit(run.status ?? 1);
}

// Build once before the shards start, so that neither compiles contracts or rebuilds dist/ under the other
// (test/cli/startup.test.ts rebuilds a stale dist/).
const step = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: "inherit" }).status === 0;
if (!step("npx", ["hardhat", "compile", "--quiet"])) process.exit(1);
if (
  require("../bin/cli-source").chooseCliSource(root).kind !== "dist" &&
  !step("npm", ["run", "--silent", "build:cli"])
)
  process.exit(1);

const network = files.filter((f) => NETWORK_FILES.some((p) => f.startsWith(p)));
const rest = files.filter((f) => !network.includes(f));
const dir = mkdtempSync(join(tmpdir(), "pot-test-shards-"));
const logPath = join(dir, "shard-2.log");
const t0 = Date.now();

function runShard(n, list, output) {
  return new Promise((resolve) => {
    const child = spawn("npx", ["hardhat", "test", "--no-compile", ...list], {
      cwd: root,
      env: { ...process.env, POT_TEST_SHARD: String(n), POT_TEST_SUMMARY: join(dir, `shard-${n}.json`) },
      stdio: ["ignore", output, output],
    });
    child.on("exit", (code, signal) =>
      resolve({ n, code: code ?? (signal ? 1 : 0), seconds: (Date.now() - t0) / 1000 }),
    );
  });
}

/** What a shard's reporter wrote (test/support/summary-reporter.js, POT_TEST_SUMMARY). */
function counts(n) {
  try {
    return JSON.parse(readFileSync(join(dir, `shard-${n}.json`), "utf8"));
  } catch {
    return undefined; // the shard died before mocha ended
  }
}

(async () => {
  console.log(
    `test shards: 1 runs ${rest.length} files (printed live), 2 runs ${network.length} network files (printed after it)`,
  );
  const fd = openSync(logPath, "w");
  const results = await Promise.all([runShard(1, rest, "inherit"), runShard(2, network, fd)]);
  closeSync(fd);
  process.stdout.write(
    `\n======== shard 2 (${network.length} network files) ========\n${readFileSync(logPath, "utf8")}`,
  );
  const summaries = [counts(1), counts(2)];
  rmSync(dir, { recursive: true, force: true });
  const total = { passed: 0, failed: 0, skipped: 0 };
  for (const c of summaries) for (const k of Object.keys(total)) total[k] += c?.[k] ?? 0;
  const died = summaries.filter((c) => c === undefined).length;
  console.log(
    `\nshards finished after ${results.map((r) => `${r.seconds.toFixed(0)} s (shard ${r.n})`).join(" and ")}`,
  );
  if (died > 0) console.log(`${died} shard(s) ended without a summary: counted as failed`);
  console.log(`tests: ${total.passed} passed, ${total.failed + died} failed, ${total.skipped} skipped`);
  process.exit(results.every((r) => r.code === 0) && died === 0 ? 0 : 1);
})();
