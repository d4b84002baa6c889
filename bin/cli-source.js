/**
 * Which code `pot` runs (bin/pot.js): the compiled JavaScript in dist/ (fast start), or the TypeScript in
 * src/ through ts-node (slow start: every file is transpiled on each run).
 *
 * - dist/ is built by `npm run build:cli` (tsc -p tsconfig.build.json); `npm ci` and `npm install` build it
 *   through the `prepare` script.
 * - In a development checkout, a file of src/ or deploy/ newer than the build means dist/ is stale: pot
 *   runs src/ through ts-node so that your edit takes effect at once, and says so on a terminal. Run
 *   `npm run build:cli` to get the fast start back.
 * - POT_CLI_SOURCE=dist or POT_CLI_SOURCE=ts forces one or the other.
 *
 * Plain JavaScript with no dependencies: it runs before anything is compiled.
 */
"use strict";
const { existsSync, readdirSync, statSync } = require("node:fs");
const { join } = require("node:path");

/** The compiled entry module (dist/src/cli/main.js); tsc rewrites every output file on each build. */
function distEntry(root) {
  return join(root, "dist", "src", "cli", "main.js");
}

/** The newest modification time (ms) of the .ts files under `dir`, or 0. */
function newestTs(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestTs(path));
    else if (e.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Decides what to run in checkout `root`: `{ kind: "dist" | "ts", entry, reason }`. `reason` says why
 * the slow path was taken (undefined for dist).
 */
function chooseCliSource(root, env = process.env) {
  const dist = distEntry(root);
  const ts = join(root, "src", "cli", "main.ts");
  const forced = env.POT_CLI_SOURCE;
  if (forced === "dist") return { kind: "dist", entry: dist, reason: undefined };
  if (forced === "ts") return { kind: "ts", entry: ts, reason: "POT_CLI_SOURCE=ts" };
  if (!existsSync(dist)) {
    if (!existsSync(ts)) return { kind: "dist", entry: dist, reason: undefined };
    return { kind: "ts", entry: ts, reason: "dist/ is not built" };
  }
  const built = statSync(dist).mtimeMs;
  const edited = Math.max(newestTs(join(root, "src")), newestTs(join(root, "deploy")));
  if (edited > built) return { kind: "ts", entry: ts, reason: "src/ changed since dist/ was built" };
  return { kind: "dist", entry: dist, reason: undefined };
}

module.exports = { chooseCliSource, distEntry };
