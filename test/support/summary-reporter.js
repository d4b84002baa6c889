// Mocha reporter: the usual "spec" output, then one plain closing line
// "tests: N passed, N failed[, N skipped]" that CI reads to count what ran.
"use strict";
const Mocha = require("mocha");

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    runner.on(Mocha.Runner.constants.EVENT_TEST_PASS, () => passed++);
    runner.on(Mocha.Runner.constants.EVENT_TEST_FAIL, () => failed++);
    runner.on(Mocha.Runner.constants.EVENT_TEST_PENDING, () => skipped++);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      // a shard of scripts/test.js: its counts go to the file the script sums ("tests:" is printed once, there)
      const shard = process.env.POT_TEST_SHARD;
      if (shard !== undefined && process.env.POT_TEST_SUMMARY !== undefined) {
        require("node:fs").writeFileSync(
          process.env.POT_TEST_SUMMARY,
          JSON.stringify({ passed, failed, skipped }),
        );
        process.stdout.write(`\nshard ${shard}: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
        return;
      }
      process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    });
  }
}

module.exports = SummaryReporter;
