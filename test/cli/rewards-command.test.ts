/**
 * `pot rewards`, `pot rewards claim` and `pot withdraw` as a user runs them (child processes of bin/pot.js)
 * against a hardhat node with the split contracts: the refund of an expired job is claimable at once; a
 * miner's rewards of a wrapped stage are owed per job until `pot rewards claim <jobId>` credits them.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { keccak256, toHex } from "viem";
import { PROJECT_ROOT } from "../../src/config/load";
import { readOwed, sendCreateJob, sendExpireJob } from "../../src/employer/ledger";
import {
  employerPotEnv,
  finalizeStage,
  startEmployerNet,
  untrainedJobTerms,
  type EmployerNet,
} from "../support/employer-chain";

const run = promisify(execFile);

describe("cli: pot rewards and pot withdraw", function () {
  this.timeout(120_000);
  let net: EmployerNet;
  /** `pot ...args` as the employer (account 1), or as the account of `privateKey`. */
  const pot = async (...args: string[]) => potAs(net.node.accounts[1].privateKey, ...args);
  const potAs = async (privateKey: string, ...args: string[]) => {
    const env = { ...employerPotEnv(net, join(net.dir, "cli")), POT_PRIVATE_KEY: privateKey };
    try {
      const r = await run(process.execPath, [join(PROJECT_ROOT, "bin", "pot.js"), ...args], { env });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  before(async () => {
    net = await startEmployerNet(3);
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
      net.handle.suite,
      untrainedJobTerms(2, now + 600n),
      fee,
    );
    await net.testClient.increaseTime({ seconds: 700 });
    await net.testClient.mine({ blocks: 1 });
    await sendExpireJob(session.sender, net.handle.suite, jobId);

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
    expect(again.stderr).to.match(/has nothing to withdraw from the escrow/);
  });

  it("lists a miner's unclaimed rewards per job, claims them with pot rewards claim, then withdraws", async () => {
    const { session } = net.employer;
    const now = (await session.publicClient.getBlock()).timestamp;
    const { jobId } = await sendCreateJob(
      session.sender,
      net.handle.suite,
      untrainedJobTerms(1, now + 3600n),
      10n ** 15n,
    );
    const cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    await finalizeStage(net, jobId, 1, {
      rho: keccak256(toHex("rho")),
      stateHash: keccak256(toHex("S1")),
      resultCid: cid,
    });
    const builder = net.miners[0];
    const key = net.node.accounts[2].privateKey;
    const owed = await readOwed(net.handle, jobId, builder.account.address);
    expect(owed.amount > 0n).to.equal(true);

    const listed = await potAs(key, "--json", "rewards");
    expect(listed.code, listed.stderr).to.equal(0);
    const rewards = JSON.parse(listed.stdout) as {
      claimableWei: string;
      owed: { jobId: string; wei: string }[];
    };
    expect(rewards.claimableWei).to.equal("0");
    expect(rewards.owed).to.deep.include({
      jobId: jobId.toString(),
      wei: owed.amount.toString(),
      coinbase: owed.coinbase.toString(),
    });

    const claimed = await potAs(key, "--json", "rewards", "claim", jobId.toString());
    expect(claimed.code, claimed.stderr).to.equal(0);
    expect(JSON.parse(claimed.stdout)).to.deep.include({ claimedWei: owed.amount.toString() });
    expect((await readOwed(net.handle, jobId, builder.account.address)).amount).to.equal(0n);
    const again = await potAs(key, "rewards", "claim", jobId.toString());
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/has nothing to claim in job/);

    const out = await potAs(key, "--json", "withdraw");
    expect(out.code, out.stderr).to.equal(0);
    expect(JSON.parse(out.stdout)).to.deep.include({ withdrawnWei: owed.amount.toString() });
  });
});
