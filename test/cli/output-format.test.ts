/** What people read and what programs parse: amounts with units, miner log lines as text or JSON. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { Writable } from "node:stream";
import { expect } from "chai";
import { formatEth, formatPot } from "../../src/cli/amounts";
import { silentProgress, terminalProgress } from "../../src/cli/progress";
import { PROJECT_ROOT } from "../../src/config/load";
import { createLogger, ethAmount, potAmount } from "../../src/miner/log";

/** A logger in `format` whose lines are collected. */
function collect(format: "text" | "json") {
  const lines: string[] = [];
  const log = createLogger("info", { agent: "miner" }, (l) => lines.push(l), format).child({
    miner: "0x00000000000000000000000000000000000a11ce",
  });
  return { log, lines };
}

describe("cli: output for people and for programs", () => {
  it("prints wei as ETH or POT with the unit", () => {
    expect(formatEth(10n ** 16n)).to.equal("0.01 ETH");
    expect(formatEth(0n)).to.equal("0 ETH");
    expect(formatPot(1_234_500_000_000_000_000_000n)).to.equal("1234.5 POT");
    expect(formatPot(1n)).to.equal("0.000000000000000001 POT");
  });

  it("miner logs: text lines for people, amounts in their unit, no repeated fields", () => {
    const { log, lines } = collect("text");
    log.info("staked", {
      amount: potAmount(10n ** 20n),
      active: potAmount(10n ** 20n),
      drawableFromBlock: 40n,
    });
    log.warn("duty failed", { kind: "declare", jobId: 1n, error: new Error("nonce too low\nstack") });
    log.info("rewards withdrawn", { amount: ethAmount(25n * 10n ** 14n), tx: "0xabc" });
    log.debug("not shown at info");
    expect(lines).to.have.length(3);
    expect(lines[0]).to.match(/^\d\d:\d\d:\d\d staked amount=100 POT active=100 POT drawableFromBlock=40\n$/);
    expect(lines[1]).to.match(
      /^\d\d:\d\d:\d\d WARN duty failed kind=declare jobId=1 error="nonce too low"\n$/,
    );
    expect(lines[2]).to.match(/^\d\d:\d\d:\d\d rewards withdrawn amount=0.0025 ETH tx=0xabc\n$/);
    expect(lines.join("")).not.to.include("0x00000000000000000000000000000000000a11ce");
  });

  it("miner logs: JSON lines for programs keep every field and amounts in wei", () => {
    const { log, lines } = collect("json");
    log.info("staked", { amount: potAmount(10n ** 20n), drawableFromBlock: 40n });
    const record = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(record).to.include({
      level: "info",
      msg: "staked",
      agent: "miner",
      miner: "0x00000000000000000000000000000000000a11ce",
      amount: "100000000000000000000",
      drawableFromBlock: "40",
    });
    expect(Date.parse(record.ts as string)).to.be.greaterThan(0);
  });

  it("pot miner start takes --log-format text|json and rejects anything else before connecting", function () {
    this.timeout(60_000);
    const bin = join(PROJECT_ROOT, "bin", "pot.js");
    const help = spawnSync(process.execPath, [bin, "miner", "start", "--help"], { encoding: "utf8" });
    expect(help.stdout).to.match(/--log-format <format>[\s\S]*choices: "text", "json"/);
    const bad = spawnSync(process.execPath, [bin, "miner", "start", "--log-format", "yaml"], {
      encoding: "utf8",
    });
    expect(bad.status).to.not.equal(0);
    expect(bad.stderr).to.match(/--log-format <format>' argument 'yaml' is invalid/);
  });

  it("progress: a spinner then a bar on a terminal, nothing on a pipe or with --json", async () => {
    /** A stream that records what is written, as a terminal (`tty`) or a pipe. */
    const stream = (tty: boolean) => {
      const chunks: string[] = [];
      const w = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c.toString()), done()) });
      Object.assign(w, {
        isTTY: tty,
        columns: 100,
        cursorTo: () => true,
        clearLine: () => true,
        moveCursor: () => true,
      });
      return { w: w as unknown as NodeJS.WriteStream, text: () => chunks.join("") };
    };
    const tty = stream(true);
    const p = terminalProgress(true, tty.w);
    p.step("reading the job from the chain and IPFS");
    await new Promise((r) => setTimeout(r, 300));
    p.count("re-execute", 1, 3, "stage 2");
    p.log("warning: a peer did not answer");
    await new Promise((r) => setTimeout(r, 200));
    p.stop();
    expect(tty.text()).to.include("reading the job from the chain and IPFS");
    expect(tty.text()).to.match(/re-execute \[[^\]]*\] 1\/3 stage 2/);
    expect(tty.text()).to.include("warning: a peer did not answer");

    const pipe = stream(false);
    expect(terminalProgress(true, pipe.w)).to.equal(silentProgress);
    expect(terminalProgress(false, tty.w)).to.equal(silentProgress);
  });
});
