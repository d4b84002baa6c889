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
});
