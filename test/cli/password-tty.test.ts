/**
 * The keystore password prompt works wherever a terminal is attached: here `pot wallet new` runs with
 * stdin from /dev/null and stdout into a pipe (as under `pot ... | tee log`) inside a pseudo-terminal made
 * by util-linux `script`, so the prompt must read the controlling terminal /dev/tty.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { PROJECT_ROOT } from "../../src/config/load";

const BIN = join(PROJECT_ROOT, "bin", "pot.js");
const hasScript = spawnSync("script", ["--version"]).status === 0;

describe("cli: the password prompt reads /dev/tty when stdin is not a terminal", function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), "pot-tty-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("pot wallet new < /dev/null | cat prompts on the terminal and writes the keystore", async function () {
    if (!hasScript) {
      console.log("    skipped: needs util-linux `script` (apt-get install bsdutils) for a pseudo-terminal");
      this.skip();
    }
    const out = join(dir, "k.json");
    const command = `"${process.execPath}" "${BIN}" --data-dir "${dir}" wallet new --out "${out}" < /dev/null | cat`;
    const { POT_KEYSTORE_PASSWORD: _p, ...env } = process.env;
    const child = spawn("script", ["-qec", command, "/dev/null"], { env: { ...env, HOME: dir } });
    let screen = "";
    let answered = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      screen += chunk.toString();
      const prompts = screen.split("password: ").length - 1;
      while (answered < prompts) {
        child.stdin.write("correct horse battery\n");
        answered++;
      }
    });
    const code = await new Promise<number | null>((done) => child.on("exit", done));
    expect(screen).to.match(/New keystore password: /);
    expect(screen).to.match(/Repeat the password: /);
    expect(screen).to.not.match(/not on a terminal|No keystore password/);
    expect(code, screen).to.equal(0);
    expect(existsSync(out), screen).to.equal(true);
    expect(JSON.parse(readFileSync(out, "utf8"))).to.have.property("address");
  });
});
