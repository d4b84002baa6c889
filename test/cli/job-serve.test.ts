/** `pot job serve <id> --announce --listen <multiaddr>` as its own process: the peer registry holds its address. */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { expect } from "chai";
import type { Address } from "viem";
import { PROJECT_ROOT } from "../../src/config/load";
import { createJob } from "../../src/employer/create-job";
import { smallJobInput, startEmployerNet, type EmployerNet } from "../support/employer-chain";

const BIN = join(PROJECT_ROOT, "bin", "pot.js");

describe("cli: pot job serve --announce as a separate process", function () {
  this.timeout(180_000);
  let net: EmployerNet;
  let child: ChildProcess | undefined;

  before(async () => {
    net = await startEmployerNet(1);
  });
  after(async () => {
    if (child !== undefined && child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 2_000));
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    await net?.stop();
  });

  it("registers the node's listen address with setPeer and serves the job", async () => {
    const job = await createJob(
      {
        client: net.handle.client,
        ledger: net.handle.ledger,
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
    const peerOf = () =>
      net.handle.client.readContract({
        ...staking,
        functionName: "peerOf",
        args: [me],
      } as never) as Promise<string>;
    expect(await peerOf()).to.equal("");

    child = spawn(
      process.execPath,
      [BIN, "--json", "job", "serve", job.jobId.toString(), "--announce", "--listen", "/ip4/127.0.0.1/tcp/0"],
      {
        cwd: PROJECT_ROOT,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: net.dir,
          POT_NETWORK: "localhost",
          POT_RPC_URL: net.node.url,
          POT_CHAIN_ID: "31337",
          POT_DEPLOYMENTS: net.deploymentsFile,
          POT_DATA_DIR: net.dir,
          POT_PRIVATE_KEY: net.node.accounts[1].privateKey,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setInterval(() => {
        const start = stdout.indexOf("{");
        if (start >= 0) {
          try {
            const v = JSON.parse(stdout.slice(start)) as Record<string, unknown>;
            clearInterval(timer);
            resolve(v);
          } catch {
            // not complete yet
          }
        }
        if (child!.exitCode !== null) {
          clearInterval(timer);
          reject(new Error(`pot job serve exited ${child!.exitCode}: ${stderr}`));
        }
      }, 200);
    });
    const announced = result.announced as string;
    expect(announced).to.match(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\w+$/);
    expect(result.addresses).to.include(announced);
    expect(await peerOf()).to.equal(announced);
    expect((result.pinned as string[]).length).to.be.greaterThan(3);
    expect(child.exitCode).to.equal(null); // still serving
  });
});
