import { expect } from "chai";
import { keccak256, toBytes, type Address, type Hex } from "viem";
import * as p from "../../src/protocol";

const h = (s: string) => keccak256(toBytes(s));
const alice = "0x00000000000000000000000000000000000a11ce" as Address;
const bob = "0x0000000000000000000000000000000000000b0b" as Address;
const domain = p.domainSeparator({
  chainId: 31337n,
  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
});

describe("protocol messages", () => {
  it("a copied commitment opens only for its maker", () => {
    const c = { domain, rho: h("rho"), rand: h("rand"), declarer: alice, jobId: 1n, stage: 2 };
    expect(p.commitmentHash({ ...c, declarer: bob })).to.not.equal(p.commitmentHash(c));
    expect(p.commitmentHash({ ...c, jobId: 2n })).to.not.equal(p.commitmentHash(c));
    expect(p.commitmentHash({ ...c, stage: 3 })).to.not.equal(p.commitmentHash(c));
  });

  it("the domain separates chains and deployments", () => {
    const other = p.domainSeparator({
      chainId: 1n,
      verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    });
    const c = { domain, rho: h("rho"), rand: h("rand"), declarer: alice, jobId: 1n, stage: 2 };
    expect(p.commitmentHash({ ...c, domain: other })).to.not.equal(p.commitmentHash(c));
  });

  it("addresses in any letter case hash alike", () => {
    const c = { domain, rho: h("rho"), rand: h("rand"), declarer: alice, jobId: 1n, stage: 2 };
    expect(p.commitmentHash({ ...c, declarer: alice.toUpperCase().replace("0X", "0x") as Address })).to.equal(
      p.commitmentHash(c),
    );
  });

  it("bad input throws InvalidArgumentError naming the field", () => {
    const c = { domain, rho: h("rho"), rand: h("rand"), declarer: alice, jobId: 1n, stage: 2 };
    expect(() => p.commitmentHash({ ...c, rho: "0x12" as Hex })).to.throw(
      p.InvalidArgumentError,
      /commitment.rho/,
    );
    expect(() => p.commitmentHash({ ...c, declarer: "0x123" as Address })).to.throw(
      p.InvalidArgumentError,
      /declarer/,
    );
    expect(() => p.commitmentHash({ ...c, jobId: 2n ** 64n })).to.throw(p.InvalidArgumentError, /jobId/);
    expect(() => p.commitmentHash({ ...c, stage: -1 })).to.throw(p.InvalidArgumentError, /stage/);
    expect(() => p.commitmentHash({ ...c, stage: 1.5 })).to.throw(p.InvalidArgumentError, /stage/);
    const hd: p.Header = {
      jobId: 1n,
      stage: 1,
      parentHash: h("a"),
      resultHash: h("b"),
      rho: h("r"),
      resultCid: "0x",
      timestamp: 1n,
      builder: alice,
    };
    expect(() => p.headerHash(domain, hd)).to.throw(p.InvalidArgumentError, /resultCid/);
    expect(() => p.headerHash(domain, { ...hd, resultCid: "0x0g" as Hex })).to.throw(
      p.InvalidArgumentError,
      /resultCid/,
    );
    expect(() => p.domainSeparator({ chainId: -1n, verifyingContract: alice })).to.throw(
      p.InvalidArgumentError,
      /chainId/,
    );
    expect(() =>
      p.blockHash(domain, {
        index: 1n,
        parentBlockHash: h("p"),
        jobId: 1n,
        stage: 1,
        headerHash: h("h"),
        attesters: ["nope" as Address],
        wrapper: alice,
        timestamp: 1n,
      }),
    ).to.throw(p.InvalidArgumentError, /attesters\[0\]/);
    expect(() =>
      p.kernelHash({ domain, kind: 3 as p.SealKind, staker: alice, jobId: 1n, stage: 1, timestamp: 1n }),
    ).to.throw(p.InvalidArgumentError, /kind/);
  });

  it("declaration and header seals have different kernels (one cannot stand for the other)", () => {
    const base = { domain, staker: alice, jobId: 1n, stage: 1, timestamp: 100n };
    expect(p.kernelHash({ ...base, kind: p.SealKind.Declaration })).to.not.equal(
      p.kernelHash({ ...base, kind: p.SealKind.Header }),
    );
  });
});
