/** `pot miner status` as a user runs it: a child process of bin/pot.js. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { minerStatusPath } from "../../src/miner/agent";

const pot = (args: string[]) =>
  spawnSync(process.execPath, [join(__dirname, "..", "..", "bin", "pot.js"), ...args], { encoding: "utf8" });

describe("pot miner", () => {
  it("status without a running miner says what to do and exits 1", function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), "pot-miner-cli-"));
    const r = pot(["miner", "status", "--data-dir", dir]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/No miner status at .*miner-status\.json\. Start a miner/);
  });

  it("status prints what the miner last wrote, as JSON with --json, with running from the process", function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), "pot-miner-cli-"));
    const written = { address: "0x00000000000000000000000000000000000a11ce", wrappedBlocks: 7 };
    // The file says running, but no miner process holds the directory: it is reported exited.
    writeFileSync(minerStatusPath(dir), JSON.stringify({ ...written, running: true }));
    const r = pot(["miner", "status", "--data-dir", dir, "--json"]);
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.include({ ...written, running: false, state: "exited" });
  });

  it("status for people: one line per field, words instead of JSON", function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), "pot-miner-cli-"));
    writeFileSync(
      minerStatusPath(dir),
      JSON.stringify({
        address: "0x00000000000000000000000000000000000a11ce",
        wrappedBlocks: 7,
        ipfs: ["/ip4/10.0.0.2/tcp/4001"],
        counters: { trained: 3, declared: 2 },
      }),
    );
    const r = pot(["miner", "status", "--data-dir", dir]);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^Exited\b/);
    expect(r.stdout).to.match(/^ {2}wrapped blocks +7$/m);
    expect(r.stdout).to.match(/^ {2}ipfs +\/ip4\/10\.0\.0\.2\/tcp\/4001$/m);
    expect(r.stdout).to.match(/^ {2}counters +trained 3, declared 2$/m);
    expect(r.stdout).to.not.match(/[{"]/);
  });
});
