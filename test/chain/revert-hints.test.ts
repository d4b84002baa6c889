/**
 * Every custom error the PoT contracts can revert with (every compiled contract and interface under
 * contracts/ but the test mocks, OpenZeppelin's errors included) has a hint in src/chain/revert.ts, so
 * `pot` never prints an error without saying what to do.
 */
import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Abi } from "viem";
import { errorsAbi } from "../../src/chain/artifacts";
import { ERROR_HINTS } from "../../src/chain/revert";
import { PROJECT_ROOT } from "../../src/config/load";

/** ABIs of the compiled artifacts below `dir`, skipping test contracts and mocks. */
function abisUnder(dir: string): Abi[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "test" || name === "mocks" ? [] : abisUnder(path);
    if (!name.endsWith(".json") || name.endsWith(".dbg.json")) return [];
    return [(JSON.parse(readFileSync(path, "utf8")) as { abi: Abi }).abi];
  });
}

describe("chain: a hint for every custom error of the contracts", () => {
  it("covers the errors of every compiled PoT contract", () => {
    const names = errorsAbi(...abisUnder(join(PROJECT_ROOT, "artifacts", "contracts"))).map(
      (e) => (e as { name: string }).name,
    );
    expect(names.length).to.be.greaterThan(80);
    expect(names.filter((n) => ERROR_HINTS[n] === undefined)).to.deep.equal([]);
    for (const n of names) expect(ERROR_HINTS[n]([0n, 0n, 0n], "fn")).to.be.a("string").that.is.not.empty;
  });
});
