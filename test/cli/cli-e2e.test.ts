import { execFile } from "node:child_process";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { createPublicClient, http, parseUnits, type Address } from "viem";
import { loadPoTArtifact } from "../../src/chain/artifacts";
import { PROJECT_ROOT } from "../../src/config/load";
import {
  deployTokenAndStaking,
  startTestNode,
  writeTestDeployments,
  type TestDeployment,
  type TestNode,
} from "../support/chain-node";

const run = promisify(execFile);
const BIN = join(PROJECT_ROOT, "bin", "pot.js");
const tokenAbi = loadPoTArtifact(join(PROJECT_ROOT, "artifacts"), "PoTToken").abi;
const stakingAbi = loadPoTArtifact(join(PROJECT_ROOT, "artifacts"), "PoTStaking").abi;

describe("cli: pot end to end against a hardhat node", function () {
  this.timeout(60_000);
  let node: TestNode;
  let d: TestDeployment;
  const dir = mkdtempSync(join(tmpdir(), "pot-cli-"));
  const keystore = join(dir, "keys", "me.json");
  let env: Record<string, string>;

  /** Runs `pot <args>` as a child process; resolves with its exit code and output. */
  const pot = (...args: string[]) => potWith(env, ...args);
  const potWith = async (childEnv: Record<string, string>, ...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: childEnv, cwd: dir });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const json = async (...args: string[]) => {
    const r = await pot("--json", ...args);
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  before(async () => {
    node = await startTestNode();
    d = await deployTokenAndStaking(node.url, node.accounts[0].privateKey);
    writeTestDeployments(join(dir, "deployments.json"), d);
    env = {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      POT_NETWORK: "localhost",
      POT_RPC_URL: node.url,
      POT_DEPLOYMENTS: join(dir, "deployments.json"),
      POT_DATA_DIR: join(dir, "data"),
      POT_KEYSTORE_PASSWORD: "correct horse battery",
    };
  });
  after(async () => {
    await node?.stop();
  });

  it("wallet new -> faucet -> stake -> staking status --json -> unstake, checked on-chain", async () => {
    const created = await json("wallet", "new", "--out", keystore);
    const me = created.address as Address;
    expect(created.keystore).to.equal(keystore);
    expect(statSync(keystore).mode & 0o777).to.equal(0o600);
    env.POT_KEYSTORE = keystore;
    expect((await json("wallet", "address")).address).to.equal(me);

    const chain = createPublicClient({ transport: http(node.url), cacheTime: 0 });
    const read = (c: { address: string; abi: typeof tokenAbi }, functionName: string, args: unknown[]) =>
      chain.readContract({
        address: c.address as Address,
        abi: c.abi,
        functionName,
        args,
      }) as Promise<unknown>;
    const token = { address: d.token, abi: tokenAbi };
    const staking = { address: d.staking, abi: stakingAbi };

    const dripped = await json("faucet");
    expect(dripped.balance).to.equal(parseUnits("10000", 18).toString());
    expect(await read(token, "balanceOf", [me])).to.equal(parseUnits("10000", 18));

    const staked = await json("stake", "1234.5");
    expect(staked.stake).to.equal(parseUnits("1234.5", 18).toString());
    expect(await read(staking, "stakeOf", [me])).to.equal(parseUnits("1234.5", 18));
    expect(await read(token, "balanceOf", [me])).to.equal(parseUnits("8765.5", 18));

    const status = await json("staking", "status");
    expect(status).to.include({
      address: me,
      stake: parseUnits("1234.5", 18).toString(),
      unbonding: "0",
      peer: null,
      withdrawable: false,
    });
    expect(status.coinAge).to.equal(((await read(staking, "coinAgeOf", [me])) as bigint).toString());
    expect(status.unbondingDelay).to.equal((7 * 24 * 3600).toString());

    const unstaked = await json("unstake", "0.5");
    expect(unstaked.unbonding).to.equal(parseUnits("0.5", 18).toString());
    expect(await read(staking, "stakeOf", [me])).to.equal(parseUnits("1234", 18));
    const [unbonding, releaseAt] = (await read(staking, "unbondingOf", [me])) as [bigint, bigint];
    expect(unbonding).to.equal(parseUnits("0.5", 18));
    expect(unstaked.releaseAt).to.equal(releaseAt.toString());

    // Someone else's status, read-only (no wallet needed), and the peer registry.
    expect((await json("peer", "set", "/ip4/127.0.0.1/tcp/4001")).peer).to.equal("/ip4/127.0.0.1/tcp/4001");
    const { POT_KEYSTORE: _k, POT_KEYSTORE_PASSWORD: _p, ...noWallet } = env;
    const otherRun = await potWith(noWallet, "--json", "staking", "status", me);
    expect(otherRun.code, otherRun.stderr).to.equal(0);
    const other = JSON.parse(otherRun.stdout) as Record<string, unknown>;
    expect(other).to.include({
      address: me,
      peer: "/ip4/127.0.0.1/tcp/4001",
      unbonding: parseUnits("0.5", 18).toString(),
    });
  });

  it("fails with one line saying what to do and a non-zero exit code", async () => {
    const early = await pot("withdraw-unstaked");
    expect(early.code).to.equal(1);
    expect(early.stderr.trim().split("\n")).to.have.length(1);
    expect(early.stderr).to.match(/UnbondingNotFinished\(\d+\)\. Unbonding stake is locked until/);

    const tooMuch = await pot("unstake", "5000");
    expect(tooMuch.stderr).to.match(/InsufficientStake\(5000000000000000000000, 1234000000000000000000\)/);

    const cooldown = await pot("faucet");
    expect(cooldown.stderr).to.match(/FaucetCooldown\(\d+\)\. You used the faucet recently/);

    const badAmount = await pot("stake", "1.2.3");
    expect(badAmount.code).to.equal(1);
    expect(badAmount.stderr).to.match(/Invalid amount "1\.2\.3"/);

    const noDeploy = await pot("--deployments", join(dir, "missing.json"), "balance");
    expect(noDeploy.stderr).to.match(/run pot deploy first/i);

    const wrongPassword = await potWith({ ...env, POT_KEYSTORE_PASSWORD: "nope" }, "stake", "1");
    expect(wrongPassword.code).to.equal(1);
    expect(wrongPassword.stderr).to.match(/Cannot decrypt the keystore/);

    const verbose = await pot("--verbose", "unstake", "5000");
    expect(verbose.stderr.split("\n").length).to.be.greaterThan(3); // the stack follows
  });
});
