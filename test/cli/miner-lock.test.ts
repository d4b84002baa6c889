/**
 * One miner per data directory, and `pot miner status` telling a live miner from a dead one, with real
 * processes: a holder process takes the lock, a second `pot miner start` on the directory is refused
 * (naming the pid and the directory), and after `kill -9` of the holder the status says Exited and the
 * lock is taken over.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { PROJECT_ROOT } from "../../src/config/load";
import { minerStatusPath } from "../../src/miner/agent";
import { acquireMinerLock, minerLockPath, minerLiveness, pidAlive } from "../../src/miner/liveness";

const BIN = join(PROJECT_ROOT, "bin", "pot.js");
const DEV_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

const pot = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: PROJECT_ROOT, timeout: 60_000 });

/**
 * A process that takes the directory's lock (as `pot miner start` does first), stays alive and writes the
 * status file's heartbeat every second (the miner does every 5 s).
 */
function startHolder(dir: string): Promise<ChildProcess> {
  const status = JSON.stringify(minerStatusPath(dir));
  const script =
    `const { acquireMinerLock } = require(${JSON.stringify(join(PROJECT_ROOT, "src", "miner", "liveness.ts"))});` +
    `const { writeFileSync } = require("node:fs"); const startedAt = new Date().toISOString();` +
    `const beat = () => writeFileSync(${status}, JSON.stringify({ running: true, pid: process.pid, startedAt, at: new Date().toISOString(), jobs: 1 }));` +
    `acquireMinerLock(${JSON.stringify(dir)}); beat(); console.log("locked"); setInterval(beat, 1000);`;
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (c: Buffer) => {
      if (c.toString().includes("locked")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`the lock holder exited with ${code}`)));
  });
}

describe("miner: one miner per data directory, and its liveness", function () {
  this.timeout(120_000);

  it("a second start on a held directory is refused; a killed holder's lock is taken over", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pot-miner-lock-"));
    const holder = await startHolder(dir);
    try {
      expect(JSON.parse(readFileSync(minerLockPath(dir), "utf8")).pid).to.equal(holder.pid);
      const status = pot(["miner", "status", "--data-dir", dir]);
      expect(status.status, status.stderr).to.equal(0);
      expect(status.stdout).to.match(new RegExp(`^Up \\d+ (seconds?|minutes?) \\(pid ${holder.pid}\\)`));

      const second = pot(["miner", "start", "--data-dir", dir, "--private-key", DEV_KEY]);
      expect(second.status).to.equal(1);
      expect(second.stderr).to.include(
        `Another miner (pid ${holder.pid}) is running with the data directory ${dir}`,
      );
    } finally {
      holder.kill("SIGKILL");
      await new Promise((r) => holder.once("exit", r));
    }
    expect(pidAlive(holder.pid!)).to.equal(false);

    // kill -9: the status file still says running, the lock is left behind.
    const json = pot(["miner", "status", "--data-dir", dir, "--json"]);
    expect(json.status, json.stderr).to.equal(0);
    const s = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(s).to.include({ running: false, state: "exited", pid: holder.pid });
    expect(s.summary).to.match(/^Exited \d+ seconds? ago \(killed or crashed: it left its lock behind\)/);

    const lock = acquireMinerLock(dir);
    expect(lock.tookOverFrom).to.equal(holder.pid);
    expect(JSON.parse(readFileSync(minerLockPath(dir), "utf8")).pid).to.equal(process.pid);
    lock.release();
  });

  it("a clean stop reads Exited (stopped cleanly); a stale heartbeat of a live pid reads Unresponsive", () => {
    const dir = mkdtempSync(join(tmpdir(), "pot-miner-lock-"));
    const at = new Date(Date.now() - 125_000).toISOString();
    expect(minerLiveness(dir, { running: false, pid: 1234567, at }).summary).to.equal(
      "Exited 2 minutes ago (stopped cleanly)",
    );
    const lock = acquireMinerLock(dir); // this process: alive, but its heartbeat is 2 minutes old
    try {
      const live = minerLiveness(dir, { running: true, pid: process.pid, at });
      expect(live.state).to.equal("unresponsive");
      expect(live.summary).to.equal(
        `Unresponsive (pid ${process.pid} is alive; last heartbeat 2 minutes ago)`,
      );
    } finally {
      lock.release();
    }
  });
});
