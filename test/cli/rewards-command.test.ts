/**
 * `pot rewards` and `pot withdraw` as a user runs them (child processes of bin/pot.js) against a
 * hardhat node with the full PoT deployment: the refund of an expired job is what the ledger owes.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { keccak256, toHex } from "viem";
import { PROJECT_ROOT } from "../../src/config/load";
import { sendCreateJob } from "../../src/employer/ledger";
import { employerPotEnv, startEmployerNet, type EmployerNet } from "../support/employer-chain";

const run = promisify(execFile);

describe("cli: pot rewards and pot withdraw", function () {
  this.timeout(120_000);
  let net: EmployerNet;
  const pot = async (...args: string[]) => {
    const env = employerPotEnv(net, join(net.dir, "cli"));
    try {
      const r = await run(process.execPath, [join(PROJECT_ROOT, "bin", "pot.js"), ...args], { env });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  before(async () => {
    net = await startEmployerNet(1);
  });
  after(async () => {
    await net?.stop();
  });

  it("shows the refund of an expired job as claimable, withdraws it to the wei, then has nothing left", async () => {
    const { session } = net.employer;
    const now = (await session.publicClient.getBlock()).timestamp;
    const fee = 123_456_789n;
    const { jobId } = await sendCreateJob(
      session.sender,
      session.contracts.ledger!,
      {
        specCid: toHex("pot-test-spec"),
        manifestRoot: keccak256(toHex("manifest")),
        initialStateHash: keccak256(toHex("S0")),
        numStages: 2,
        c: 2,
        k: 1,
        stageSeconds: 60,
        deadline: now + 600n,
      },
      fee,
    );
    await net.testClient.increaseTime({ seconds: 700 });
    await net.testClient.mine({ blocks: 1 });
    await session.sender.send({ ...session.contracts.ledger!, functionName: "expireJob", args: [jobId] });

    const me = net.employer.account.address;
    const owed = await pot("--json", "rewards");
    expect(owed.code, owed.stderr).to.equal(0);
    expect(JSON.parse(owed.stdout)).to.deep.include({ address: me, claimableWei: fee.toString() });

    const before = await session.publicClient.getBalance({ address: me });
    const out = await pot("--json", "withdraw");
    expect(out.code, out.stderr).to.equal(0);
    const result = JSON.parse(out.stdout) as { withdrawnWei: string; tx: `0x${string}` };
    expect(result.withdrawnWei).to.equal(fee.toString());
    const receipt = await session.publicClient.getTransactionReceipt({ hash: result.tx });
    const after = await session.publicClient.getBalance({ address: me });
    expect(after - before).to.equal(fee - receipt.gasUsed * receipt.effectiveGasPrice);

    const again = await pot("withdraw");
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/has nothing to withdraw from the ledger/);
  });
});
