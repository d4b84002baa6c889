import { expect } from "chai";
import { DUMMY_SPEC, DUMMY_STATE } from "../../deploy/deploy";
import { dummyJob, isBuiltinDummySpec } from "../../src/miner/dummy-job";

describe("built-in dummy job and the deployment parameters", () => {
  it("deployments commit to the dummy job's real S_0 hash and spec label", async () => {
    expect((await dummyJob()).s0Hash).to.equal(DUMMY_STATE);
    expect(isBuiltinDummySpec(DUMMY_SPEC as `0x${string}`)).to.equal(true);
  });
});
