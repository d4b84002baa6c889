/** The one error base (src/errors.ts): stable codes, hints, and how the CLI prints every kind of error. */
import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { codeOfClass, PotError } from "../../src/errors";
import { ContractRevertError, DeploymentNotFoundError } from "../../src/chain/errors";
import { ConfigError } from "../../src/config/errors";
import { InvalidArgumentError } from "../../src/protocol/errors";
import { InvalidModelSpecError } from "../../src/ml/errors";
import { ContentNotFoundError } from "../../src/storage/errors";
import { CliUsageError, formatCliError } from "../../src/cli/errors";
import { PreflightError } from "../../src/employer/preflight";
import { RefundNotPossibleError } from "../../src/employer/refund";
import { FetchRefusedError } from "../../src/employer/fetch-model";
import { DevnetTimeoutError } from "../../src/devnet/wait";

describe("errors: one base with a stable code and a hint", () => {
  it("derives codes from class names", () => {
    expect(codeOfClass("ContractRevertError")).to.equal("CONTRACT_REVERT");
    expect(codeOfClass("RpcUnavailableError")).to.equal("RPC_UNAVAILABLE");
    expect(codeOfClass("ABIMismatchError")).to.equal("ABI_MISMATCH");
  });

  it("every room's errors are PotErrors with a code", () => {
    const errors = [
      new DeploymentNotFoundError("/x.json", "the file does not exist"),
      new ConfigError("confirmations", "Invalid confirmations", "Give an integer"),
      new InvalidArgumentError("jobId", "negative"),
      new InvalidModelSpecError("layers", "empty"),
      new ContentNotFoundError("bafy", "no peer"),
      new CliUsageError("Invalid --fee", "Give ETH"),
      new PreflightError([{ check: "balance", level: "error", message: "Too poor", hint: "Fund it" }]),
      new RefundNotPossibleError("Job 3 does not exist"),
      new FetchRefusedError("Nothing trained yet", "Pass --allow-unfinished"),
      new DevnetTimeoutError("the miners", 1000, ""),
    ];
    for (const e of errors) {
      expect(e, e.name).to.be.instanceOf(PotError);
      expect(e.code, e.name).to.match(/^[A-Z][A-Z0-9_]*$/);
    }
    expect(errors.map((e) => e.code)).to.deep.equal([
      "DEPLOYMENT_NOT_FOUND",
      "CONFIG",
      "INVALID_ARGUMENT",
      "INVALID_MODEL_SPEC",
      "CONTENT_NOT_FOUND",
      "USAGE",
      "PREFLIGHT",
      "REFUND_NOT_POSSIBLE",
      "FETCH_REFUSED",
      "DEVNET_TIMEOUT",
    ]);
  });

  it("the agents' errors print with their hint and code", () => {
    const preflight = new PreflightError([
      { check: "balance", level: "error", message: "Too poor", hint: "Fund the account" },
    ]);
    expect(formatCliError(preflight, false)).to.equal(
      "pot: Job refused before anything was spent: Too poor. Fund the account. " +
        "pot job create --dry-run shows every check [PREFLIGHT]",
    );
    expect(formatCliError(new FetchRefusedError("No stage wrapped", "Wait"), false)).to.equal(
      "pot: No stage wrapped. Wait [FETCH_REFUSED]",
    );
    expect(formatCliError(new RefundNotPossibleError("Job 3 does not exist"), false)).to.equal(
      "pot: Job 3 does not exist [REFUND_NOT_POSSIBLE]",
    );
  });

  it("the CLI prints message, hint and code on one line; unknown errors point to --verbose", () => {
    const revert = new ContractRevertError(
      "declare",
      "NotEnoughBond",
      [1n, 2n],
      "NotEnoughBond(1, 2)",
      "Stake more",
    );
    const line = formatCliError(revert, false);
    expect(line.startsWith("pot: ")).to.equal(true);
    expect(line).to.contain(revert.hint);
    expect(line.endsWith(`[${revert.code}]`)).to.equal(true);
    expect(line).to.not.contain("\n");
    expect(formatCliError(new Error("boom\nsecond line"), false)).to.equal(
      "pot: boom (run again with --verbose for details)",
    );
    expect(formatCliError(new PotError("plain", { hint: "do this" }), false)).to.equal(
      "pot: plain. do this [POT]",
    );
  });

  it("outside src/errors.ts, no class in src extends Error directly", () => {
    const offenders: string[] = [];
    const src = join(__dirname, "..", "..", "src");
    // src/miner is being split into duties (issue 13); its three errors move onto the base with that split.
    const pending = [join(src, "miner")];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (path === join(src, "errors.ts") || pending.includes(path)) continue;
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith(".ts") && /class \w+ extends Error\b/.test(readFileSync(path, "utf8")))
          offenders.push(path);
      }
    };
    walk(src);
    expect(offenders).to.deep.equal([]);
  });
});
