#!/usr/bin/env node
/**
 * Entry point of the `pot` command. Runs the compiled CLI in dist/ (see bin/cli-source.js for when it
 * runs src/ through ts-node instead: a development checkout whose src/ changed since the last build).
 */
"use strict";
const path = require("node:path");
const { chooseCliSource } = require("./cli-source");

const root = path.join(__dirname, "..");
const source = chooseCliSource(root);
if (source.kind === "ts") {
  if (process.stderr.isTTY === true && process.env.POT_CLI_SOURCE !== "ts")
    process.stderr.write(
      `pot: ${source.reason}; running src/ through ts-node (slow start). npm run build:cli makes it fast.\n`,
    );
  let tsNode;
  try {
    tsNode = require("ts-node");
  } catch {
    process.stderr.write(`pot: ${source.reason} and ts-node is not installed: run npm run build:cli\n`);
    process.exit(1);
  }
  tsNode.register({ transpileOnly: true, project: path.join(root, "tsconfig.json") });
} else if (!require("node:fs").existsSync(source.entry)) {
  process.stderr.write(`pot: ${source.entry} is missing: run npm run build:cli in ${root}\n`);
  process.exit(1);
}

require(source.entry)
  .run(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
