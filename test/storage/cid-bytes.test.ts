/** The one conversion between CID strings and the binary CID bytes the ledger stores (src/storage/cid.ts). */
import { expect } from "chai";
import { toHex } from "viem";
import { cidFromBytesHex, cidToBytesHex, computeCid, InvalidCidError } from "../../src/storage";

describe("storage: CIDs as ledger bytes", () => {
  it("round-trips a CIDv1, reads a CID string stored as UTF-8, and rejects anything else", async () => {
    const cid = await computeCid(new TextEncoder().encode("pot"));
    const hex = cidToBytesHex(cid);
    expect(hex).to.match(/^0x01[0-9a-f]+$/); // CIDv1: the version byte comes first
    expect(cidFromBytesHex(hex)).to.equal(cid);
    expect(cidFromBytesHex(toHex(new TextEncoder().encode(cid)))).to.equal(cid);
    expect(() => cidFromBytesHex("0x1234")).to.throw(
      InvalidCidError,
      /neither a binary CID nor a CID string/,
    );
  });
});
