/**
 * The toolchain works offline: solc is the npm solc-js (never a download) pinned to the configured
 * version, and the public testnet refuses to start without its environment.
 */
import { spawnSync } from "node:child_process";
import { expect } from "chai";
import hre from "hardhat";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import { SOLIDITY_VERSION } from "../hardhat.config";

describe("toolchain", () => {
  it("compiles with the npm solc-js of the pinned version, no download", async () => {
    const build = await hre.run(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, {
      quiet: true,
      solcVersion: SOLIDITY_VERSION,
    });
    expect(build.isSolcJs).to.equal(true);
    expect(build.compilerPath).to.equal(require.resolve("solc/soljson.js"));
    expect(build.version).to.equal(SOLIDITY_VERSION);
  });

  it("refuses any other compiler version with an error that says how to fix it", async () => {
    let error: Error | undefined;
    try {
      await hre.run(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, { quiet: true, solcVersion: "0.8.20" });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).to.match(/only with solc-js 0\.8\.28.*Pin "solc": "0\.8\.28"/s);
  });

  it("the testnet network stops with a clear message when POT_RPC_URL or POT_DEPLOYER_KEY is missing", function () {
    this.timeout(60_000);
    const env = { ...process.env, POT_RPC_URL: "", POT_DEPLOYER_KEY: "" };
    const run = spawnSync("npx", ["hardhat", "--network", "testnet", "accounts"], { env, encoding: "utf8" });
    expect(run.status).to.not.equal(0);
    expect(run.stderr + run.stdout).to.match(/POT_RPC_URL.*POT_DEPLOYER_KEY/s);
  });
});
