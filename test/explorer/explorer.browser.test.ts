/**
 * `pot explorer` in a real headless browser: a devnet (hardhat node, `pot deploy`, two `pot miner start`
 * children, an in-process employer) runs a 2-stage Iris job (C=2, K=1); `pot explorer --port 0` runs as a child over
 * the same chain with its own IPFS node; Debian's chromium loads the page, and the DOM it rendered must show
 * the job, its stages, who declared, built and attested each one (as the chain's events say), the stakers
 * and the loss curve. A screenshot lands in test-output/explorer/explorer.png (git-ignored).
 * Needs `chromium` (apt-get install chromium; .ci/run installs it); without it the test is skipped.
 */
import { expect } from "chai";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { readJobEvents, wrappedHeader } from "../../src/chain/job-events";
import { PROJECT_ROOT } from "../../src/config/load";
import {
  childEnv,
  irisJobInput,
  ManagedProcess,
  startDevnet,
  startEmployer,
  type Devnet,
} from "../../src/devnet";
import type { Snapshot } from "../../src/explorer";
import { dumpDom, findChromium, screenshot } from "../support/headless-chromium";

const OUT_DIR = join(PROJECT_ROOT, "test-output", "explorer");
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe("pot explorer in a headless browser", function () {
  this.timeout(300_000);
  const chromium = findChromium();
  let devnet: Devnet | undefined;

  before(function () {
    if (chromium === undefined) {
      console.log(
        "      explorer browser test skipped: install chromium (apt-get install chromium) to run it",
      );
      this.skip();
    }
  });

  after(async () => {
    if (devnet !== undefined && process.env.POT_DEVNET_KEEP)
      console.log(`      devnet kept in ${devnet.dir}`);
    await devnet?.stop();
  });

  it("shows a running job's stages, who trained, built and attested, stakes and the loss curve", async () => {
    const t0 = Date.now();
    devnet = await startDevnet({ keep: process.env.POT_DEVNET_KEEP !== undefined });
    // The explorer, through the real command line, on a free port; it starts while the miners do.
    const explorer = new ManagedProcess({
      name: "pot-explorer",
      command: process.execPath,
      args: [
        join(PROJECT_ROOT, "bin", "pot.js"),
        ...["--network", "localhost", "--rpc-url", devnet.url, "--deployments", devnet.deploymentsFile],
        ...["--data-dir", join(devnet.dir, "explorer-user"), "--json", "explorer", "--port", "0"],
      ],
      cwd: PROJECT_ROOT,
      env: childEnv({ POT_LOCAL_RPC_URL: devnet.url }),
      logFile: join(devnet.logsDir, "pot-explorer.log"),
    });
    devnet.processes.push(explorer);
    const miners = await devnet.startMiners(2);
    const employer = await startEmployer(devnet, 10);
    const job = await employer.createJob(await irisJobInput({ stages: 2, c: 2, k: 1 }));

    const url = await devnet.waitFor(
      "pot explorer to print its URL",
      async () => /"url":\s*"(http:\/\/127\.0\.0\.1:\d+\/)"/.exec(explorer.tail(50).join("\n"))?.[1],
      60_000,
    );

    // The job was created after the explorer started: it must appear and follow the chain live, until it is
    // finished and its curve (S_0, S_1, S_2) evaluated, as the JSON API says.
    const state = await devnet.waitFor(
      "the explorer to show the finished job with its loss curve",
      async () => {
        const s = (await (await fetch(`${url}api/state`)).json()) as Snapshot;
        const j = s.jobs.find((x) => x.id === String(job.jobId));
        return j?.status === "finished" && j.curve.length === 3 ? s : undefined;
      },
      100_000,
    );
    const shown = state.jobs.find((x) => x.id === String(job.jobId))!;
    expect(shown.name).to.equal("devnet-iris-2");
    expect(shown.curve.map((p) => p.stage)).to.deep.equal([0, 1, 2]);
    expect(shown.curve.every((p) => p.loss > 0 && p.accuracy >= 0 && p.accuracy <= 1)).to.equal(true);

    // What the chain says, to compare the page against.
    const events = await readJobEvents(employer.handle, job.jobId);
    const minerAddresses = miners.map((m) => m.account.address.toLowerCase());

    const html = (await dumpDom(chromium!, url, { settleMs: 5_000 })).toLowerCase();
    expect(html).to.include('data-ready="true"');
    expect(html).to.include(`data-job="${job.jobId}"`);
    expect(html).to.include("devnet-iris-2");
    for (const s of events.stages) {
      const row = new RegExp(`<tr data-stage="${s.stage}">([\\s\\S]*?)</tr>`).exec(html)?.[1];
      expect(row, `row of stage ${s.stage}`).to.not.equal(undefined);
      expect(row).to.include("wrapped");
      for (const d of s.declarations) expect(row).to.include(`data-address="${d.declarer.toLowerCase()}"`);
      expect(row).to.include(`data-address="${wrappedHeader(s)!.builder.toLowerCase()}"`);
      for (const a of [...s.wrapped!.attesters, s.wrapped!.wrapper])
        expect(row).to.include(`data-address="${a.toLowerCase()}"`);
      expect(html).to.include(`data-block="${s.wrapped!.index}"`);
    }
    for (const m of minerAddresses) expect(html).to.include(`data-staker="${m}"`);
    expect(html).to.include("test loss");
    expect(html).to.match(/<polyline[^>]+points="[^"]+"/); // the curve is drawn

    mkdirSync(OUT_DIR, { recursive: true });
    const png = join(OUT_DIR, "explorer.png");
    await screenshot(chromium!, url, png, { width: 1400, height: 1300, settleMs: 5_000 });
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE), "PNG signature").to.equal(true);
    expect(statSync(png).size).to.be.greaterThan(10_000);
    console.log(
      `      explorer page checked and captured in ${Math.round((Date.now() - t0) / 1000)} s: ${png}`,
    );
  });
});
