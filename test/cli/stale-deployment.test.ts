/**
 * A deployments file the chain no longer holds (the local node was restarted: here its state is reverted
 * to before the deployment, which forgets the contracts the same way) is detected when it is loaded, with
 * the command that fixes it, instead of misleading reverts and empty reads later.
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { createPublicClient, http } from "viem";
import { StaleDeploymentError } from "../../src/chain/errors";
import { assertDeploymentLive, readDeployment } from "../../src/chain/deployments";
import { PROJECT_ROOT } from "../../src/config/load";
import {
  deployTokenAndStaking,
  startTestNode,
  writeTestDeployments,
  type TestNode,
} from "../support/chain-node";

const run = promisify(execFile);
const BIN = join(PROJECT_ROOT, "bin", "pot.js");

describe("stale deployments: detected when loaded", function () {
  this.timeout(90_000);
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(async () => {
    await node?.stop();
  });

  it("a forgotten deployment stops every command with 'npx pot deploy'", async () => {
    const rpc = async (method: string, params: unknown[] = []) => {
      const res = await fetch(node.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      });
      return ((await res.json()) as { result: unknown }).result;
    };
    const dir = mkdtempSync(join(tmpdir(), "pot-stale-"));
    const file = join(dir, "deployments.json");
    const snapshot = await rpc("evm_snapshot");
    const d = await deployTokenAndStaking(node.url, node.accounts[0].privateKey);
    writeTestDeployments(file, d);
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      POT_LOCAL_RPC_URL: node.url,
      POT_DEPLOYMENTS: file,
      POT_DATA_DIR: join(dir, "data"),
    };
    const pot = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env, cwd: dir });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    const client = createPublicClient({ transport: http(node.url) });
    const deployment = readDeployment(file, 31337);
    await assertDeploymentLive(client as never, deployment);
    const address = node.accounts[1].address;
    const live = await pot("balance", address);
    expect(live.code, live.stderr).to.equal(0);

    expect(await rpc("evm_revert", [snapshot])).to.equal(true); // as after a restart of pot node

    let thrown: unknown;
    await assertDeploymentLive(client as never, deployment).catch((e: unknown) => (thrown = e));
    expect(thrown).to.be.instanceOf(StaleDeploymentError);
    const stale = await pot("balance", address);
    expect(stale.code).to.equal(1);
    expect(stale.stderr.trim()).to.equal(
      `pot: The deployment ${file} is not on this chain: no contract code at PoTToken ${d.token}, ` +
        `PoTStaking ${d.staking} (was the node restarted?). Deploy again: npx pot deploy [STALE_DEPLOYMENT]`,
    );
  });
});
