/**
 * The executable spec: the Python reference (spec/reference) recomputes, from their inputs alone,
 * every committed training vector and a few random small jobs this engine trains here, bit for bit.
 * `npm run spec:check` is the full version (50 random jobs). Needs python3 with NumPy
 * (apt-get install python3-numpy; .ci/run installs it); without it the test is skipped.
 */
import { expect } from "chai";
import { referenceUnavailable, runSpecCheck } from "../../scripts/spec/run";

describe("spec: the Python reference reproduces the engine", function () {
  this.timeout(120_000);

  before(function () {
    const unavailable = referenceUnavailable();
    if (unavailable) {
      console.log(`      spec reference test skipped: ${unavailable}`);
      this.skip();
    }
  });

  it("matches rho and H(S_{i+1}) of every committed vector and of 8 random jobs, bit for bit", async function () {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const result = await runSpecCheck({ committed: true, random: 8, seed });
    expect(result.skipped).to.equal(undefined);
    expect(result.failed, `seed ${seed}:\n${result.output}`).to.equal(0);
    expect(result.total).to.be.at.least(15);
  });
});
