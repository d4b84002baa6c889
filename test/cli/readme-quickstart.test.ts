/**
 * The README's quickstart, run as written: every ```sh block of the section "Quickstart" is one terminal
 * (its own environment: `export` lines apply to the commands after them in the same block), its commands
 * run in order, each long-running one (`pot node`, `pot miner start`, `pot job serve`) as its own process
 * that the next commands run beside, until the job is finished, fetched and verified. If the README
 * changes, this test follows it.
 *
 * What the test substitutes, and only that:
 *  - it runs in a temporary folder (its own `.pot/` data dirs, keystores and `model/`) with HOME there;
 *  - `npx pot` is `node <this checkout>/bin/pot.js` (a wrapper `npx` first on PATH: the temp folder is
 *    not an npm project);
 *  - POT_LOCAL_RPC_URL names a free port (the default 8545 may be taken) and POT_DEPLOYMENTS a file in
 *    the temp folder (the default is inside the checkout): both are variables the CLI documents.
 * POT_README_KEEP=1 keeps the folder (logs in <dir>/logs).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { PROJECT_ROOT } from "../../src/config/load";
import { childEnv } from "../../src/devnet/devnet";
import { ManagedProcess, runToCompletion } from "../../src/devnet/process";
import { formatTails, waitFor } from "../../src/devnet/wait";
import { readmeSectionCommands, stripShellComment } from "../support/readme-commands";

/** Commands that keep running (a terminal of their own) and the output line that says they are ready. */
const LONG_RUNNING: readonly { command: RegExp; ready: RegExp }[] = [
  { command: /^npx pot node\b/, ready: /listening at http:\/\//i },
  { command: /^npx pot miner start\b/, ready: /Miner 0x[0-9a-fA-F]{40} running/ },
  { command: /^npx pot job serve\b/, ready: /Serving job \d+/ },
];

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** The environment after running `exportLine` in bash with `env`. */
function applyExport(exportLine: string, env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  const r = spawnSync("bash", ["-c", `${exportLine}\nenv -0`], { env, cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`"${exportLine}" failed: ${r.stderr}`);
  const next: NodeJS.ProcessEnv = {};
  for (const entry of r.stdout.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) next[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return next;
}

describe("README quickstart, run as written", function () {
  this.timeout(900_000);
  const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
  const terminals = readmeSectionCommands(readme, "## Quickstart");
  const dir = mkdtempSync(join(tmpdir(), "pot-readme-"));
  const logs = join(dir, "logs");
  const running: ManagedProcess[] = [];

  after(async () => {
    // Ctrl-C in each terminal, the chain last.
    for (const p of [...running].reverse()) await p.stop(5_000);
    if (process.env.POT_README_KEEP) console.log(`      kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });

  it("parses the section: terminals, comments stripped", () => {
    expect(stripShellComment("npx pot node   # 1: a chain")).to.equal("npx pot node");
    expect(stripShellComment("export P='a # b' # c")).to.equal("export P='a # b'");
    const all = terminals.flatMap((t) => t.commands);
    for (const needed of [
      /^npx pot node\b/,
      /^npx pot deploy\b/,
      /^npx pot job fetch 1\b/,
      /^npx pot verify 1\b/,
    ])
      expect(
        all.some((c) => needed.test(c)),
        `${needed} in the quickstart`,
      ).to.equal(true);
    expect(all.filter((c) => /^npx pot miner start\b/.test(c)).length, "miners for C=2").to.be.at.least(2);
  });

  it("a fresh user's terminals get a job finished, fetched and verified", async () => {
    mkdirSync(logs, { recursive: true });
    const bin = join(dir, "bin");
    mkdirSync(bin);
    const npx = join(bin, "npx");
    writeFileSync(
      npx,
      `#!/bin/sh\nif [ "$1" = pot ]; then shift; exec "${process.execPath}" "${join(PROJECT_ROOT, "bin", "pot.js")}" "$@"; fi\n` +
        `echo "this test runs only npx pot" >&2; exit 127\n`,
    );
    chmodSync(npx, 0o755);
    const port = await freePort();
    const base = childEnv({
      HOME: dir,
      PATH: `${bin}:${process.env.PATH ?? ""}`,
      POT_LOCAL_RPC_URL: `http://127.0.0.1:${port}`,
      POT_DEPLOYMENTS: join(dir, "deployments", "localhost-31337.json"),
    });
    const outputs: { command: string; stdout: string }[] = [];
    let n = 0;
    for (const [t, terminal] of terminals.entries()) {
      let env = { ...base };
      for (const command of terminal.commands) {
        n++;
        const name = `t${t + 1}-${String(n).padStart(2, "0")}-${command.replace(/[^a-z0-9]+/gi, "-").slice(0, 40)}`;
        if (/^export\s/.test(command)) {
          env = applyExport(command, env, dir);
          continue;
        }
        const long = LONG_RUNNING.find((l) => l.command.test(command));
        if (long !== undefined) {
          const p = new ManagedProcess({
            name,
            command: "bash",
            args: ["-c", `exec ${command}`],
            cwd: dir,
            env,
            logFile: join(logs, `${name}.log`),
            tailLines: 2_000,
          });
          running.push(p);
          await waitFor(
            `"${command}" (terminal ${t + 1}) to be ready`,
            async () => p.tail(2_000).some((l) => long.ready.test(l)),
            {
              timeoutMs: 180_000,
              logs: running,
              mustStayUp: running,
            },
          );
          continue;
        }
        let stdout: string[];
        try {
          stdout = await runToCompletion(
            {
              name,
              command: "bash",
              args: ["-c", command],
              cwd: dir,
              env,
              logFile: join(logs, `${name}.log`),
            },
            300_000,
          );
        } catch (error) {
          throw new Error(
            `README command "${command}" (terminal ${t + 1}) failed: ${(error as Error).message}\n${formatTails(running, 20)}`,
          );
        }
        outputs.push({ command, stdout: stdout.join("\n") });
        for (const p of running)
          expect(p.running, `${p.name} still running after "${command}"\n${formatTails([p], 30)}`).to.equal(
            true,
          );
      }
    }

    const out = (re: RegExp) =>
      outputs
        .filter((o) => re.test(o.command))
        .map((o) => o.stdout)
        .join("\n");
    expect(out(/^npx pot job create .*--dry-run/)).to.match(/Plan: \d+ stages x \d+ steps/);
    expect(out(/^npx pot job status 1 --loss/)).to.match(/Job 1 "[^"]*": finished, (\d+)\/\1 stages wrapped/);
    expect(out(/^npx pot verify 1/)).to.match(/^Job 1: VERIFIED/m);
    expect(out(/^npx pot miner status/)).to.match(/^Up /m);
    expect(existsSync(join(dir, "model", "model.json")), "model/model.json").to.equal(true);
    expect(existsSync(join(dir, "model", "weights.bin")), "model/weights.bin").to.equal(true);
  });
});
