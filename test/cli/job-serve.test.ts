/** `pot job serve <id> --announce --listen <multiaddr>` as its own process: the peer registry holds its address. */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { expect } from "chai";
import { keccak256, toHex, type Address } from "viem";
import { PROJECT_ROOT } from "../../src/config/load";
import { createJob } from "../../src/employer/create-job";
import { openContentStore } from "../../src/storage";
import {
  employerPotEnv,
  finalizeStage,
  smallJobInput,
  startEmployerNet,
  type EmployerNet,
  type StageClaim,
} from "../support/employer-chain";

const BIN = join(PROJECT_ROOT, "bin", "pot.js");

describe("cli: pot job serve --announce as a separate process", function () {
  this.timeout(180_000);
  let net: EmployerNet;
  let child: ChildProcess | undefined;

  before(async () => {
    net = await startEmployerNet(2); // two declarants (C = 2) finalize the stages of the second test
  });
  const stopChild = async () => {
    if (child !== undefined && child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 2_000));
      if (child.exitCode === null) child.kill("SIGKILL");
      await new Promise((r) =>
        child!.exitCode !== null || child!.signalCode !== null ? r(0) : child!.once("exit", r),
      );
    }
  };
  /** Starts `pot <args>` as the employer; its output accumulates in the returned object. */
  const spawnPot = (args: string[]) => {
    const out = { stdout: "", stderr: "" };
    child = spawn(process.execPath, [BIN, ...args], {
      cwd: PROJECT_ROOT,
      env: employerPotEnv(net),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (c: Buffer) => (out.stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (out.stderr += c.toString()));
    return out;
  };
  after(async () => {
    await stopChild();
    await net?.stop();
  });

  it("registers the node's listen address with setPeer and serves the job", async () => {
    const job = await createJob(
      {
        client: net.handle.client,
        suite: net.handle.suite,
        staking: net.handle.staking,
        store: net.store,
        sender: net.employer.session.sender,
      },
      await smallJobInput(),
      undefined,
      // One staker cannot serve C = 2: the preflight would refuse the job; serving it is all this test needs.
      { force: true },
    );
    // The serving process opens the same IPFS repo (<data dir>/ipfs), which holds the uploaded job.
    await net.store.close();
    const staking = net.employer.session.contracts.staking;
    const me = net.employer.account.address as Address;
    const peerOf = () => net.handle.client.readContract({ ...staking, functionName: "peerOf", args: [me] });
    expect(await peerOf()).to.equal("");

    const out = spawnPot([
      "--json",
      "job",
      "serve",
      job.jobId.toString(),
      "--announce",
      "--listen",
      "/ip4/127.0.0.1/tcp/0",
    ]);
    const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setInterval(() => {
        const start = out.stdout.indexOf("{");
        if (start >= 0) {
          try {
            const v = JSON.parse(out.stdout.slice(start)) as Record<string, unknown>;
            clearInterval(timer);
            resolve(v);
          } catch {
            // not complete yet
          }
        }
        if (child!.exitCode !== null) {
          clearInterval(timer);
          reject(new Error(`pot job serve exited ${child!.exitCode}: ${out.stderr}`));
        }
      }, 200);
    });
    const announced = result.announced as string;
    expect(announced).to.match(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\w+$/);
    expect(result.addresses).to.include(announced);
    expect(await peerOf()).to.equal(announced);
    expect((result.pinned as string[]).length).to.be.greaterThan(3);
    expect(child!.exitCode).to.equal(null); // still serving
  });

  it("prints one line per wrapped stage (not per batch), says when the job finishes, and exits with --exit-when-finished", async () => {
    await stopChild();
    // The same IPFS repo the serving process opens: the job's inputs and (stand-in) stage results.
    const store = await openContentStore({
      kind: "embedded",
      repoPath: join(net.dir, "ipfs"),
      fetchTimeoutMs: 5_000,
    });
    const input = await smallJobInput({ maxStages: 2, fee: 2_000_000_000_000_000n });
    const job = await createJob({ ...net.handle, store, sender: net.employer.session.sender }, input);
    const claims: StageClaim[] = [];
    for (const stage of [1, 2]) {
      const bytes = new TextEncoder().encode(`S_${stage} of job ${job.jobId}`);
      const resultCid = await store.put(bytes, { pin: true });
      claims.push({ rho: keccak256(toHex(`rho ${stage}`)), stateHash: keccak256(bytes), resultCid });
    }
    await store.close();
    await finalizeStage(net, job.jobId, 1, claims[0]);

    const out = spawnPot(["job", "serve", job.jobId.toString(), "--exit-when-finished"]);
    const exited = new Promise<number | null>((r) => child!.once("exit", (code) => r(code)));
    for (let i = 0; !/stage 1\/2 wrapped/.test(out.stderr); i++) {
      if (child!.exitCode !== null || i > 600) throw new Error(`pot job serve: ${out.stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await finalizeStage(net, job.jobId, 2, claims[1]);
    expect(await exited, out.stderr).to.equal(0);

    const lines = out.stderr.trim().split("\n");
    expect(lines.filter((l) => /batch/.test(l) && !/batches of 2 stages/.test(l))).to.deep.equal([]);
    const at = "\\d\\d:\\d\\d:\\d\\d ";
    expect(lines[0]).to.match(
      new RegExp(
        `^${at}job ${job.jobId}: \\d+ objects pinned \\(job document, manifest, S_0, test set and \\d+ batches of 2 stages\\)$`,
      ),
    );
    const stageLines = lines.filter((l) => / wrapped: result /.test(l));
    expect(stageLines).to.have.length(2);
    for (const [i, line] of stageLines.entries())
      expect(line).to.equal(
        `${line.slice(0, 9)}stage ${i + 1}/2 wrapped: result S_${i + 1} ${claims[i].resultCid} (pinned here)`,
      );
    expect(lines[lines.length - 1]).to.match(
      new RegExp(
        `^${at}job ${job.jobId} finished: all 2 stages wrapped; stopping \\(--exit-when-finished\\)$`,
      ),
    );
    expect(out.stdout).to.match(new RegExp(`^Serving job ${job.jobId}: \\d+ objects pinned`));
  });
});
