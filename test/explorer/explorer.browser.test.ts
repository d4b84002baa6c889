/**
 * `pot explorer` in a real headless browser, over the split contracts: a hardhat node with the suite
 * (test/support/employer-chain.ts), three staked miners driven through the contracts, the dummy job 0's
 * first stage wrapped, and a 2-stage MNIST job trained for real whose second stage is disputed (one
 * declaration names a wrong result) and decided by a jury. `pot explorer --port 0` runs as a child with its
 * own IPFS node; Debian's chromium loads the page, and the DOM it rendered must show (issue 14) the dummy
 * job, the job's stages with who declared, built and attested each (as the chain's events say), the faulty
 * declaration, the jury (reason, rounds, seats, revealed votes, decision), the stakers and the loss curve.
 * A screenshot lands in test-output/explorer/explorer.png (git-ignored).
 * Needs `chromium` (apt-get install chromium; .ci/run installs it); without it the test is skipped.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { keccak256, toHex } from "viem";
import { readJobEvents } from "../../src/chain/job-events";
import { wrappedHeader } from "../../src/chain/stage-rewards";
import { PROJECT_ROOT } from "../../src/config/load";
import { createJob } from "../../src/employer/create-job";
import type { Snapshot } from "../../src/explorer";
import { dumpDom, findChromium, screenshot } from "../support/headless-chromium";
import {
  employerContext,
  employerPotEnv,
  finalizeStage,
  finalizeStageByJury,
  smallJobInput,
  startEmployerNet,
  trainStages,
  type EmployerNet,
} from "../support/employer-chain";

const OUT_DIR = join(PROJECT_ROOT, "test-output", "explorer");
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Polls `probe` until it returns a value (or throws after `ms`). */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe("pot explorer in a headless browser", function () {
  this.timeout(300_000);
  const chromium = findChromium();
  let net: EmployerNet | undefined;
  let explorer: ChildProcess | undefined;

  before(function () {
    if (chromium === undefined) {
      console.log(
        "      explorer browser test skipped: install chromium (apt-get install chromium) to run it",
      );
      this.skip();
    }
  });

  after(async () => {
    explorer?.kill("SIGTERM");
    await net?.stop();
  });

  it("shows the dummy job, a job's stages, who trained, built and attested, a jury, stakes and the curve", async () => {
    const t0 = Date.now();
    net = await startEmployerNet(3);
    // The dummy job 0 trains nothing real: any agreeing declarations wrap its first stage.
    await finalizeStage(net, 0n, 1, {
      rho: keccak256(toHex("dummy rho")),
      stateHash: keccak256(toHex("dummy S_1")),
      resultCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
    });
    const job = await createJob(
      employerContext(net),
      await smallJobInput({ name: "explorer-mnist", maxStages: 2 }),
    );
    const [s1, s2] = await trainStages(net, job, 2);
    await finalizeStage(net, job.jobId, 1, s1);
    // stage 2: the second miner declares a wrong result; the stage closes disputed and a jury decides
    await finalizeStageByJury(net, job.jobId, 2, s2, keccak256(toHex("a wrong S_2")));
    // The explorer finds the states, the job document and the test set through the peer registry.
    await net.miners[0].adapter.setPeer((await net.store.addresses())[0]);

    let stdout = "";
    explorer = spawn(
      process.execPath,
      [join(PROJECT_ROOT, "bin", "pot.js"), "--json", "explorer", "--port", "0"],
      {
        cwd: PROJECT_ROOT,
        env: employerPotEnv(net, join(net.dir, "explorer-user")),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    explorer.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    const url = await waitFor(
      "pot explorer to print its URL",
      async () => /"url":\s*"(http:\/\/127\.0\.0\.1:\d+\/)"/.exec(stdout)?.[1],
      60_000,
    );
    const state2 = await waitFor(
      "the explorer to show the finished job with its loss curve",
      async () => {
        const s = (await (await fetch(`${url}api/state`)).json()) as Snapshot;
        const j = s.jobs.find((x) => x.id === String(job.jobId));
        return j?.status === "finished" && j.curve.length === 3 ? s : undefined;
      },
      120_000,
    );
    const shown = state2.jobs.find((x) => x.id === String(job.jobId))!;
    expect(shown.name).to.equal("explorer-mnist");
    expect(shown.curve.map((p) => p.stage)).to.deep.equal([0, 1, 2]);
    // the chain's held-out metric (each stage's outcome) is the explorer's own evaluation, as float32
    for (const st of shown.stages) expect(st.heldOut?.loss).to.equal(Math.fround(st.loss!.loss));
    const dummy = state2.jobs.find((x) => x.id === "0")!;
    expect(dummy.dummy).to.equal(true);
    expect(dummy.stages[0].phase).to.equal("wrapped");
    const jury = shown.stages[1].jury!;
    expect(jury.reason).to.equal("disputed");
    expect(jury.rounds).to.equal(1);
    expect(jury.seats).to.have.length(3);
    expect(jury.votes.length).to.be.greaterThan(0);
    expect(jury.decided?.resultHash).to.equal(
      wrappedHeader((await readJobEvents(net.handle, job.jobId)).stages[1])!.header.result,
    );
    expect(shown.stages[1].faulty).to.deep.equal([net.miners[1].account.address]);

    // What the chain says, to compare the page against.
    const events = await readJobEvents(net.handle, job.jobId);
    const html = (await dumpDom(chromium!, url, { settleMs: 5_000 })).toLowerCase();
    expect(html).to.include('data-ready="true"');
    expect(html).to.include(`data-job="${job.jobId}"`);
    expect(html).to.include("explorer-mnist");
    for (const s of events.stages) {
      const row = new RegExp(`<tr data-stage="${s.stage}">([\\s\\S]*?)</tr>`).exec(
        html.slice(html.indexOf(`data-job="${job.jobId}"`)),
      )?.[1];
      expect(row, `row of stage ${s.stage}`).to.not.equal(undefined);
      expect(row).to.include("wrapped");
      for (const d of s.declarations) expect(row).to.include(`data-address="${d.declarer.toLowerCase()}"`);
      expect(row).to.include(`data-address="${wrappedHeader(s)!.builder.toLowerCase()}"`);
      for (const a of [...s.wrapped!.attesters, s.wrapped!.wrapper])
        expect(row).to.include(`data-address="${a.toLowerCase()}"`);
      expect(html).to.include(`data-block="${s.wrapped!.index}"`);
    }
    // the dummy job's card, and the jury of stage 2 with its seats, votes and decision
    const dummyCard = /<article class="job dummy" data-job="0" data-dummy[^>]*>([\s\S]*?)<\/article>/.exec(
      html,
    )?.[1];
    expect(dummyCard, "the dummy job's card").to.not.equal(undefined);
    expect(dummyCard).to.include("dummy job");
    expect(dummyCard).to.match(/<tr data-stage="1">[\s\S]*?wrapped/);
    const juryRow = /<tr class="jury" data-jury="2">([\s\S]*?)<\/tr>/.exec(html)?.[1];
    expect(juryRow, "the jury of stage 2").to.not.equal(undefined);
    expect(juryRow).to.include("disputed");
    expect(juryRow).to.match(/1 round\b/);
    for (const seat of jury.seats) expect(juryRow).to.include(`data-address="${seat.toLowerCase()}"`);
    for (const v of jury.votes) expect(juryRow).to.include(`data-vote="${v.juror.toLowerCase()}"`);
    expect(juryRow).to.include(`decided result ${jury.decided!.resultHash.slice(0, 10)}`);
    expect(html).to.match(
      new RegExp(`data-faulty[^>]*>faulty:[\\s\\S]*?${net.miners[1].account.address.toLowerCase()}`),
    );
    for (const m of net.miners) expect(html).to.include(`data-staker="${m.account.address.toLowerCase()}"`);
    expect(html).to.include("test loss");
    expect(html).to.include(
      `<td class="num" data-chain-loss="">${shown.stages[0].heldOut!.loss!.toFixed(4)}</td>`,
    );
    expect(html).to.match(/<polyline[^>]+points="[^"]+"/); // the curve is drawn

    mkdirSync(OUT_DIR, { recursive: true });
    const png = join(OUT_DIR, "explorer.png");
    await screenshot(chromium!, url, png, { width: 1400, height: 1600, settleMs: 5_000 });
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE), "PNG signature").to.equal(true);
    expect(statSync(png).size).to.be.greaterThan(10_000);
    console.log(
      `      explorer page checked and captured in ${Math.round((Date.now() - t0) / 1000)} s: ${png}`,
    );
  });
});
