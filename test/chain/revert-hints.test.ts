/**
 * Every custom error the protocol's contracts can revert with (POT_ERRORS_ABI: token, staking, escrow,
 * stages and its openings library, committee, disputes, OpenZeppelin's errors included) has a hint in
 * src/chain/revert.ts, so `pot` never prints an error without saying what to do; and a revert decoded
 * through that ABI carries the hint.
 */
import { expect } from "chai";
import type { AbiError } from "abitype";
import { BaseError, ContractFunctionRevertedError, encodeErrorResult } from "viem";
import { POT_ERRORS_ABI } from "../../src/chain/contracts";
import { decodeRevert, ERROR_HINTS } from "../../src/chain/revert";

const errors = POT_ERRORS_ABI.filter((e): e is AbiError => e.type === "error");

/** A zero value of each ABI type, so a hint can be formatted with real-looking arguments. */
function zeroOf(type: string): unknown {
  if (type.endsWith("]")) return [];
  if (type === "address") return "0x0000000000000000000000000000000000000000";
  if (type === "bool") return false;
  if (type === "string") return "deadline";
  if (type.startsWith("bytes")) return `0x${"00".repeat(Number(type.slice(5)) || 0)}`;
  return 0n;
}

describe("chain: a hint for every custom error of the contracts", () => {
  it("covers every error of POT_ERRORS_ABI with a non-empty hint", () => {
    const names = errors.map((e) => e.name);
    expect(names.length).to.be.greaterThan(100);
    for (const n of ["InvalidJob", "NotEnoughBond", "UnsettledDeclaration", "NothingOwed", "WrongSeats"])
      expect(names).to.include(n);
    expect(names.filter((n) => ERROR_HINTS[n] === undefined)).to.deep.equal([]);
    for (const e of errors) {
      const args = e.inputs.map((i) => zeroOf(i.type));
      expect(ERROR_HINTS[e.name](args, "fn"), e.name).to.be.a("string").that.is.not.empty;
    }
  });

  it("decodes a revert of each error by name, with its hint", () => {
    for (const e of errors) {
      const args = e.inputs.map((i) => zeroOf(i.type));
      const data = encodeErrorResult({ abi: [e], errorName: e.name, args });
      const reverted = new ContractFunctionRevertedError({ abi: POT_ERRORS_ABI, data, functionName: "fn" });
      const decoded = decodeRevert(new BaseError("reverted", { cause: reverted }), "fn");
      expect(decoded?.message, e.name).to.include(e.name);
      expect(decoded?.hint).to.equal(ERROR_HINTS[e.name](decoded!.args, "fn"));
    }
  });

  it("names the job term that is out of range, minDeclareSeconds included", () => {
    expect(ERROR_HINTS.InvalidJob(["minDeclareSeconds"], "createJob")).to.match(/--min-declare-seconds/);
    expect(ERROR_HINTS.NothingOwed([], "claim")).to.match(/pot rewards/);
  });
});
