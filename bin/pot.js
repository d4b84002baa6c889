#!/usr/bin/env node
/**
 * Entry point of the `pot` command: runs the TypeScript CLI (src/cli/main.ts) through ts-node in
 * transpile-only mode, so `npx pot ...` works right after `npm ci` without a build step.
 */
const path = require("node:path");

require("ts-node").register({
  transpileOnly: true,
  project: path.join(__dirname, "..", "tsconfig.json"),
});

require("../src/cli/main.ts")
  .run(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
