#!/usr/bin/env node
// Runs every test file (test/**/*.test.ts) through `hardhat test`, so contract tests get the
// in-process chain and everything else runs beside them in one mocha run. Hardhat on its own would
// load every .ts file under test/, including the child-process scripts in test/support/.
// Usage: node scripts/test.js [substring ...]   (only files whose path contains a substring)
"use strict";
const { readdirSync, statSync } = require("node:fs");
const { join, relative } = require("node:path");
const { spawnSync } = require("node:child_process");

const root = join(__dirname, "..");
const filters = process.argv.slice(2);

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
const run = spawnSync("npx", ["hardhat", "test", ...files], { cwd: root, stdio: "inherit" });
process.exit(run.status ?? 1);
