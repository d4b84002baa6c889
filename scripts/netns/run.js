#!/usr/bin/env node
// Entry of `sudo npm run netns` (scripts/netns/main.ts through ts-node): a PoT job on a multi-host network of
// Linux network namespaces, with a link-cut fault. README, "Multi-host network".
"use strict";
const { join } = require("node:path");

process.env.TS_NODE_PROJECT = join(__dirname, "..", "..", "tsconfig.json");
require("ts-node/register/transpile-only");
require("./main.ts");
