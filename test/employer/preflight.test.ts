/**
 * Jobs that can never succeed are refused before any wei is spent, against a real hardhat node with two
 * staked miners: every bad input gets its clear error, the employer's ETH balance stays the same and no
 * JobCreated is emitted. Then an unservable job (forced) is explained by `job status`, and a job with no
 * wrapped stage is never reported as a success by `job fetch` or `pot verify`.
 */
import { expect } from "chai";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Hex } from "viem";
import { ContractRevertError } from "../../src/chain/errors";
import { createJob, preflightJob, type JobInput } from "../../src/employer/create-job";
import { readNextJobId, sendCreateJob } from "../../src/employer/ledger";
import { checkAgainstNetwork, jobMinDeclareSeconds, PreflightError } from "../../src/employer/preflight";
import { jobStatus, formatStatus } from "../../src/employer/status";
import { fetchModel, FetchRefusedError, loadModelSnippet } from "../../src/employer/fetch-model";
import { presetModel } from "../../src/employer/dataset";
import {
  employerContext,
  netConfig,
  runPot,
  runPotProcess,
  smallJobInput,
  startEmployerNet,
  type EmployerNet,
} from "../support/employer-chain";
import type { Batch } from "../../src/ml";
import { privateKeyToAccount } from "viem/accounts";
import { connectPot } from "../../src/chain/contracts";
import { PotContractsAdapter } from "../../src/chain/pot-contracts";
import type { CreateProgress } from "../../src/employer/create-job";

const E18 = 10n ** 18n;

describe("employer preflight: refused before any wei is spent (hardhat node, 2 stakers)", function () {
  this.timeout(240_000);
  let net: EmployerNet;

  before(async () => {
    net = await startEmployerNet(2);
  });
  after(async () => {
    await net?.stop();
  });

  const ctx = () => employerContext(net);
  const pot = (...args: string[]) => runPot(net, ...args);
  const balance = () => net.handle.client.getBalance({ address: net.employer.account.address });

  /** Runs `fn`, expects a PreflightError naming `check`, and that no wei was spent and no job created. */
  async function refused(fn: () => Promise<unknown>, check: string, message: RegExp): Promise<void> {
    const [ethBefore, nextBefore] = [await balance(), await readNextJobId(net.handle)];
    let caught: unknown;
    try {
      await fn();
    } catch (error) {
      caught = error;
    }
    expect(caught, `expected the ${check} check to refuse`).to.be.instanceOf(PreflightError);
    const e = caught as PreflightError;
    expect(e.issues.map((i) => i.check)).to.include(check);
    expect(e.message, e.message).to.match(message);
    expect(await balance()).to.equal(ethBefore);
    expect(await readNextJobId(net.handle)).to.equal(nextBefore);
  }

  const create = async (overrides: Partial<JobInput>) => createJob(ctx(), await smallJobInput(overrides));

  it("C or K above the drawable stakers needs --force (the fee would stay locked)", async () => {
    await refused(
      () => create({ c: 3 }),
      "stakers",
      /C = 3 agreeing declarations but only 2 staker\(s\).*--force/,
    );
    await refused(() => create({ k: 3 }), "stakers", /committee of K = 3 but only 2 staker\(s\)/);
  });

  it("a fee above the wallet's balance says the balance is too low (not gas, not the faucet)", async () => {
    await refused(
      () => create({ fee: 20_000n * E18 }),
      "balance",
      /The wallet holds [\d.]+ ETH: too little for the fee of 20000 ETH plus ~[\d.]+ ETH gas\. Lower --fee/,
    );
  });

  it("deadlines below the ledger's minimum or the plan's expected time", async () => {
    await refused(() => create({ deadlineSeconds: 30 }), "deadline", /below this ledger's minimum of 60 s/);
    await refused(
      () => create({ deadlineSeconds: 61 }),
      "deadline",
      /The deadline \(61 s\) is shorter than the \d+ s the plan expects/,
    );
    await refused(() => create({ stageSeconds: 5 }), "stage-seconds", /below this ledger's minimum 10/);
    await refused(
      () => create({ deadlineSeconds: 8 * 24 * 3600 }),
      "deadline",
      /beyond this network's maximum job length of 604800 s.*--deadline 604800 or less/,
    );
  });

  it("a minimum declaration window outside [the network's minimum, --stage-seconds]", async () => {
    await refused(
      () => create({ minDeclareSeconds: 601, stageSeconds: 600 }),
      "min-declare-seconds",
      /--min-declare-seconds 601 is not a whole number of seconds from 0 to the stage window \(--stage-seconds 600\)/,
    );
    // a network whose minimum is 60 s (local parameters have 0): the planned window is raised to it, an
    // explicit shorter one is refused, and a stage window shorter than the minimum cannot hold it
    const input = await smallJobInput();
    const { plan, facts } = await preflightJob(input, { ...net.handle });
    const strict = { ...facts!, limits: { ...facts!.limits, minDeclareSeconds: 60 } };
    expect(jobMinDeclareSeconds(input, plan, strict.limits)).to.equal(60);
    expect(checkAgainstNetwork(input, plan, strict).map((i) => i.check)).to.not.include(
      "min-declare-seconds",
    );
    const tooShort = checkAgainstNetwork({ ...input, minDeclareSeconds: 30 }, plan, strict);
    expect(tooShort.find((i) => i.check === "min-declare-seconds")?.message).to.match(
      /\(30 s\) is below this network's minimum of 60 s/,
    );
    const narrow = checkAgainstNetwork({ ...input, stageSeconds: 40 }, plan, strict);
    const issue = narrow.find((i) => i.check === "min-declare-seconds");
    expect(issue?.message).to.match(/\(40 s\) is below this network's minimum of 60 s/);
    expect(issue?.hint).to.match(/--stage-seconds at least that/);
  });

  it("a test set shaped unlike the training set, and a model whose input does not match the data", async () => {
    const input = await smallJobInput();
    const test: Batch = {
      count: 4,
      featureShape: [28, 28, 1],
      features: new Float32Array(4 * 784),
      labelShape: [],
      labels: new Int32Array(4),
    };
    await refused(
      () => createJob(ctx(), { ...input, dataset: { ...input.dataset, test } }),
      "test-shape",
      /test set's samples have shape \[28,28,1\] but the training samples \[784\]/,
    );
    await refused(
      async () => createJob(ctx(), { ...input, model: await presetModel("mlp", [100], 10, 16) }),
      "model-shape",
      /The model does not fit the data \(samples \[784\], 10 classes\): .*model input \[100\] does not match/,
    );
  });

  it("an absurd class count (a label of 5,000,000) and a 100k-unit hidden layer", async () => {
    const input = await smallJobInput();
    const labels = Int32Array.from(input.dataset.train.labels as Int32Array);
    labels[0] = 5_000_000;
    await refused(
      () =>
        createJob(ctx(), {
          ...input,
          dataset: { ...input.dataset, train: { ...input.dataset.train, labels }, numClasses: 5_000_001 },
        }),
      "classes",
      /largest class label is 5000000: the model would need a 5000001-class output layer/,
    );
    const wide = JSON.parse(JSON.stringify(input.model)) as {
      config: { layers: { config: { units?: number } }[] };
    };
    wide.config.layers[0].config.units = 100_000;
    await refused(
      () => createJob(ctx(), { ...input, model: wide }),
      "model-size",
      /The model has 79,500,010 parameters: a 303 MiB training state.*--force/,
    );
  });

  it("pot job create: the CLI prints the checks in --dry-run and refuses with one clear error", async () => {
    const ethBefore = await balance();
    const args = ["job", "create", "--train-size", "200", "--test-size", "20", "--steps-per-stage", "4"];
    args.push("--batch-size", "10", "--max-stages", "2", "--hidden", "8");
    const dry = await pot("--json", ...args, "--dry-run", "--fee", "1000", "--c", "3", "--deadline", "30");
    expect(dry.exitCode).to.equal(1);
    const json = JSON.parse(dry.out) as { preflight: { check: string; level: string }[] };
    expect(json.preflight.map((i) => `${i.level}:${i.check}`)).to.include.members([
      "warning:stakers",
      "error:deadline",
    ]);
    const poor = await pot(...args, "--fee", "20000", "--c", "2", "--k", "1");
    expect(poor.error).to.match(/too little for the fee of 20000 ETH/);
    expect(poor.error).to.not.match(/gas\. Send it some ETH|faucet/);
    const stuck = await pot(...args, "--c", "3", "--k", "1");
    expect(stuck.error).to.match(/only 2 staker\(s\).*pass --force if you mean it/);
    expect(await balance()).to.equal(ethBefore);
  });

  it("a createJob that reaches the contract anyway is decoded by name, with a hint", async () => {
    const head = await net.handle.client.getBlock({ blockTag: "latest" });
    const nonce = await net.handle.client.getTransactionCount({ address: net.employer.account.address });
    try {
      await sendCreateJob(
        net.employer.session.sender,
        net.handle.suite,
        {
          specCid: "0x01",
          manifestRoot: `0x${"11".repeat(32)}` as Hex,
          initialStateHash: `0x${"22".repeat(32)}` as Hex,
          numStages: 1,
          c: 2,
          k: 1,
          stageSeconds: 60,
          minDeclareSeconds: 0,
          deadline: head.timestamp + 30n,
        },
        1000n,
      );
      expect.fail("createJob with a 30 s deadline went through");
    } catch (error) {
      expect(error).to.be.instanceOf(ContractRevertError);
      expect((error as Error).message).to.match(
        /createJob reverted: InvalidJob\("deadline"\)\. The deadline is closer than the network's minJobSeconds/,
      );
    }
    expect(await net.handle.client.getTransactionCount({ address: net.employer.account.address })).to.equal(
      nonce,
    );
  });

  it("job status says why a forced unservable job is stuck, and after the deadline that refund returns the fee", async () => {
    const job = await createJob(ctx(), await smallJobInput({ c: 3, deadlineSeconds: 600 }), undefined, {
      force: true,
    });
    expect(job.warnings.map((w) => w.check)).to.deep.equal(["stakers"]);
    const stuck = await jobStatus(net.handle, net.store, job.jobId);
    expect(stuck.status).to.equal("open");
    expect(stuck.advice.join(" ")).to.match(
      /Stuck: Each stage needs C = 3 agreeing declarations but only 2 staker\(s\).*pot job refund/,
    );
    await net.testClient.increaseTime({ seconds: 700 });
    await net.testClient.mine({ blocks: 1 });
    const expired = await jobStatus(net.handle, net.store, job.jobId);
    expect(formatStatus(expired).join("\n")).to.match(
      new RegExp(`deadline passed at .* with 0 of 3 stages wrapped.*pot job refund ${job.jobId}`),
    );
  });

  it("fetch and verify of a job with no wrapped stage say 0 of n and fail; the printed snippet loads S_0", async () => {
    const job = await createJob(ctx(), await smallJobInput({ name: "unfinished" }));
    const dir = join(net.dir, "unfinished-model");
    try {
      await fetchModel(net.handle, net.store, job.jobId, dir);
      expect.fail("fetched a job with no wrapped stage");
    } catch (error) {
      expect(error).to.be.instanceOf(FetchRefusedError);
      expect((error as Error).message).to.match(/has 0 of 3 stages wrapped.*--allow-unfinished/);
    }
    const s0 = await fetchModel(net.handle, net.store, job.jobId, dir, { allowUnfinished: true });
    expect([s0.stage, s0.wrappedStages, s0.numStages, s0.final]).to.deep.equal([0, 0, 3, false]);
    try {
      await fetchModel(net.handle, net.store, job.jobId, dir, { allowUnfinished: true });
      expect.fail("overwrote an existing folder");
    } catch (error) {
      expect((error as Error).message).to.match(/already holds files.*--force/);
    }
    await fetchModel(net.handle, net.store, job.jobId, dir, { allowUnfinished: true, overwrite: true });

    // The snippet `pot job fetch` prints, run as is with plain @tensorflow/tfjs.
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
      ...args: string[]
    ) => (req: NodeRequire) => Promise<{ getWeights(): { shape: number[] }[]; dispose(): void }>;
    const model = await new AsyncFunction("require", `${loadModelSnippet(dir)}\nreturn model;`)(require);
    expect(model.getWeights().map((w) => w.shape)).to.deep.equal([[784, 16], [16], [16, 10], [10]]);
    model.dispose();

    const cliDir = join(net.dir, "cli-fetch");
    mkdirSync(cliDir, { recursive: true });
    writeFileSync(join(cliDir, "keep.txt"), "mine");
    const fetched = await pot("job", "fetch", String(job.jobId), "--out", cliDir, "--allow-unfinished");
    expect(fetched.error).to.match(/already holds files/);
    // The CLI opens its own IPFS node and finds the job's data through the peer registry.
    await net.miners[0].adapter.setPeer((await net.store.addresses())[0]);
    const verified = await pot("verify", String(job.jobId));
    expect(verified.out, verified.error).to.match(/NOTHING TO VERIFY .*0 of 3 stages wrapped/);
    expect(verified.out).to.not.match(/VERIFIED|100\.0%/);
    expect(verified.exitCode).to.equal(1);
    const allowed = await pot("verify", String(job.jobId), "--allow-unfinished");
    expect(allowed.exitCode).to.equal(undefined);
    // The same as a user runs it: the exit code of the `pot` process.
    const child = await runPotProcess(net, "verify", String(job.jobId));
    expect(child.code, child.stderr).to.equal(1);
    expect(child.stdout).to.match(/NOTHING TO VERIFY/);
  });

  it("the dry run works offline from the chain: the model/data checks need no node", async () => {
    const { issues } = await preflightJob(await smallJobInput({ deadlineSeconds: 61 }));
    expect(issues.map((i) => i.check)).to.deep.equal(["deadline"]);
  });

  // Last: it stakes a third miner, which later checks here would count.
  it("a miner that staked in this draw epoch counts from the next: createJob waits for that block, then creates", async () => {
    const key = net.node.accounts[9].privateKey as Hex;
    const account = privateKeyToAccount(key);
    const s = await connectPot(netConfig(net.node.url, net.deploymentsFile, net.dir, key), account);
    const third = new PotContractsAdapter(s, s.sender!);
    await third.faucet();
    await third.stake(1_000n * E18);
    const dry = (await preflightJob(await smallJobInput({ c: 3 }), { ...net.handle })).issues;
    expect(
      dry.map((i) => i.check),
      "pending stakers are not a warning",
    ).to.not.include("stakers");
    const seen: CreateProgress[] = [];
    // The test chain mines on transactions only: mine a block a second so the next epoch comes.
    const miner = setInterval(() => void net.testClient.mine({ blocks: 1 }).catch(() => undefined), 100);
    try {
      const job = await createJob(ctx(), await smallJobInput({ c: 3 }), (p) => seen.push(p));
      expect(job.warnings.map((w) => w.check)).to.deep.equal([]);
      const waits = seen.filter(
        (p): p is Extract<CreateProgress, { phase: "stakers" }> => p.phase === "stakers",
      );
      expect(waits.length, "createJob reported its wait").to.be.greaterThan(0);
      const created = await net.handle.client.getBlockNumber();
      expect(created >= waits[0].untilBlock, "created at or after the next draw epoch").to.equal(true);
    } finally {
      clearInterval(miner);
    }
  });
});
