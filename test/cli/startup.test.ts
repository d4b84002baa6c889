/**
 * `pot` starts from the compiled dist/ (bin/pot.js, bin/cli-source.js) and loads no heavy module to show
 * its help or parse a command; a development checkout whose src/ changed runs src/ through ts-node.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { PROJECT_ROOT } from "../../src/config/load";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { chooseCliSource } = require("../../bin/cli-source") as {
  chooseCliSource(
    root: string,
    env?: Record<string, string | undefined>,
  ): { kind: "dist" | "ts"; entry: string; reason?: string };
};

/** Modules `pot --help` must not load (each costs 0.3-2 s on a busy machine). */
const HEAVY =
  /node_modules\/(viem|ox|abitype|ethers|helia|@helia|libp2p|@libp2p|@tensorflow|hardhat|cli-progress)\//;

describe("cli: start-up from dist/", function () {
  this.timeout(400_000);

  describe("which code bin/pot.js runs", () => {
    /** A checkout with src/cli/main.ts and (optionally) dist/src/cli/main.js, with given mtimes (s). */
    const checkout = (o: { built?: number; edited: number }) => {
      const root = mkdtempSync(join(tmpdir(), "pot-source-"));
      mkdirSync(join(root, "src", "cli"), { recursive: true });
      mkdirSync(join(root, "src", "ml"), { recursive: true });
      writeFileSync(join(root, "src", "cli", "main.ts"), "");
      writeFileSync(join(root, "src", "ml", "stage.ts"), "");
      utimesSync(join(root, "src", "cli", "main.ts"), 1_000, 1_000);
      utimesSync(join(root, "src", "ml", "stage.ts"), o.edited, o.edited);
      if (o.built !== undefined) {
        mkdirSync(join(root, "dist", "src", "cli"), { recursive: true });
        writeFileSync(join(root, "dist", "src", "cli", "main.js"), "");
        utimesSync(join(root, "dist", "src", "cli", "main.js"), o.built, o.built);
      }
      return root;
    };

    it("runs dist/ when it is newer than every file of src/", () => {
      const s = chooseCliSource(checkout({ built: 3_000, edited: 2_000 }), {});
      expect(s.kind).to.equal("dist");
      expect(s.entry).to.match(/dist\/src\/cli\/main\.js$/);
    });

    it("runs src/ through ts-node when a file of src/ changed after the build, or dist/ is missing", () => {
      const stale = chooseCliSource(checkout({ built: 3_000, edited: 4_000 }), {});
      expect(stale).to.include({ kind: "ts", reason: "src/ changed since dist/ was built" });
      const missing = chooseCliSource(checkout({ edited: 2_000 }), {});
      expect(missing).to.include({ kind: "ts", reason: "dist/ is not built" });
    });

    it("obeys POT_CLI_SOURCE", () => {
      const root = checkout({ built: 3_000, edited: 4_000 });
      expect(chooseCliSource(root, { POT_CLI_SOURCE: "dist" }).kind).to.equal("dist");
      const fresh = checkout({ built: 3_000, edited: 2_000 });
      expect(chooseCliSource(fresh, { POT_CLI_SOURCE: "ts" }).kind).to.equal("ts");
    });
  });

  describe("the compiled CLI", () => {
    before(function () {
      // CI builds dist/ in `npm ci` (the prepare script); a development checkout may need a build first.
      if (chooseCliSource(PROJECT_ROOT, {}).kind === "dist") return;
      process.stderr.write("      (dist/ is stale: npm run build:cli)\n");
      execFileSync("npm", ["run", "--silent", "build:cli"], { cwd: PROJECT_ROOT, stdio: "inherit" });
      expect(chooseCliSource(PROJECT_ROOT, {}).kind).to.equal("dist");
    });

    it("pot --help and pot job status --help run from dist/ and load no heavy module", () => {
      const dir = mkdtempSync(join(tmpdir(), "pot-startup-"));
      // Preloaded into the pot process: writes the modules it loaded when it exits.
      const preload = join(dir, "record-modules.js");
      writeFileSync(
        preload,
        `process.on("exit", () => require("node:fs").writeFileSync(process.env.POT_TEST_MODULES, JSON.stringify(Object.keys(require.cache))));`,
      );
      for (const args of [["--help"], ["job", "status", "--help"], ["miner", "start", "--help"]]) {
        const record = join(dir, `${args.join("-")}.json`);
        const r = spawnSync(process.execPath, ["-r", preload, join(PROJECT_ROOT, "bin", "pot.js"), ...args], {
          encoding: "utf8",
          env: { ...process.env, POT_CLI_SOURCE: "dist", POT_TEST_MODULES: record },
        });
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.match(/^Usage: pot /);
        const loaded = JSON.parse(readFileSync(record, "utf8")) as string[];
        expect(
          loaded.filter((m) => HEAVY.test(m)),
          args.join(" "),
        ).to.deep.equal([]);
        expect(
          loaded.filter((m) => m.endsWith(".ts")),
          args.join(" "),
        ).to.deep.equal([]);
        expect(loaded.some((m) => m.endsWith(join("dist", "src", "cli", "main.js")))).to.equal(true);
      }
    });

    it("bin/pot.js prints the help from dist/, and the compiled code finds the project root", () => {
      const r = spawnSync(process.execPath, [join(PROJECT_ROOT, "bin", "pot.js"), "--help"], {
        encoding: "utf8",
        env: { ...process.env, POT_CLI_SOURCE: "dist" },
      });
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/Usage: pot/);
      expect(r.stdout).to.match(/miner\s+run a miner/);
      const root = execFileSync(
        process.execPath,
        [
          "-p",
          `require(${JSON.stringify(join(PROJECT_ROOT, "dist", "src", "config", "load.js"))}).PROJECT_ROOT`,
        ],
        { encoding: "utf8" },
      ).trim();
      // artifacts/ (the contract ABIs read at run time) and deployments/ are found from dist/ too
      expect(root).to.equal(PROJECT_ROOT);
    });
  });
});
