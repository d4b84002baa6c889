/**
 * Every custom error the PoT contracts can revert with (their compiled ABIs, OpenZeppelin's included)
 * has a hint in src/chain/revert.ts, so `pot` never prints an error without saying what to do.
 */
import { expect } from "chai";
import { join } from "node:path";
import { loadArtifact, loadPoTArtifact, errorsAbi } from "../../src/chain/artifacts";
import { ERROR_HINTS } from "../../src/chain/revert";
import { PROJECT_ROOT } from "../../src/config/load";

describe("chain: a hint for every custom error of the contracts", () => {
  it("covers the errors of the token, staking, ledger, verifier and jury", () => {
    const dir = join(PROJECT_ROOT, "artifacts");
    const abis = [
      ...(["PoTToken", "PoTStaking", "PoTLedger"] as const).map((n) => loadPoTArtifact(dir, n).abi),
      ...(["PoTVerifier", "PoTJury"] as const).map((n) => loadArtifact(dir, n, `ledger/${n}.sol`).abi),
    ];
    const names = errorsAbi(...abis).map((e) => (e as { name: string }).name);
    expect(names.length).to.be.greaterThan(60);
    expect(names.filter((n) => ERROR_HINTS[n] === undefined)).to.deep.equal([]);
    for (const n of names) expect(ERROR_HINTS[n]([0n, 0n, 0n], "fn")).to.be.a("string").that.is.not.empty;
  });
});
