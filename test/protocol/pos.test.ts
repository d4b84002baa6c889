import { expect } from "chai";
import { hexToBigInt, type Address } from "viem";
import * as p from "../../src/protocol";

const domain = p.domainSeparator({
  chainId: 31337n,
  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
});
const staker = "0x00000000000000000000000000000000000a11ce" as Address;
const base = { domain, kind: p.SealKind.Declaration, staker, jobId: 1n, stage: 1 };

describe("PoS kernel and coin age", () => {
  it("coin age is stake times age, the age capped", () => {
    expect(p.coinAge(10n, 100n, 150n, 1000n)).to.equal(500n);
    expect(p.coinAge(10n, 100n, 5000n, 1000n)).to.equal(10_000n);
    expect(p.coinAge(0n, 100n, 5000n, 1000n)).to.equal(0n);
    expect(() => p.coinAge(10n, 200n, 100n, 1000n)).to.throw(p.InvalidArgumentError, /before stakeSince/);
    expect(() => p.coinAge(-1n, 0n, 1n, 1n)).to.throw(p.InvalidArgumentError, /stake/);
  });

  it("target is proportional to weight and saturates instead of overflowing", () => {
    expect(p.posTarget(3n, 7n)).to.equal(21n);
    expect(p.posTarget(0n, 7n)).to.equal(0n);
    expect(p.posTarget(2n ** 200n, 2n ** 100n)).to.equal(p.MAX_UINT256);
  });

  it("a kernel passes exactly when its hash is at most the target", () => {
    const k = p.kernelHash({ ...base, timestamp: 1000n });
    const v = hexToBigInt(k);
    expect(p.kernelPasses(k, v, 1n)).to.equal(true);
    expect(p.kernelPasses(k, v - 1n, 1n)).to.equal(false);
    expect(p.kernelPasses(k, 1n, p.MAX_UINT256)).to.equal(true);
  });

  it("findSealTimestamp searches only the window, newest first, with the stage's seeded kernel", () => {
    // Target 2^255: about half the timestamps pass.
    const seeded = { ...base, stageSeed: `0x${"5e".repeat(32)}` as const };
    const kernel = (timestamp: bigint) => p.seededKernelHash({ ...seeded, timestamp });
    const t = p.findSealTimestamp(seeded, 1n, 2n ** 255n, 10_000n, 16n);
    expect(t === undefined).to.equal(false);
    expect(t! <= 10_000n && t! > 10_000n - 16n).to.equal(true);
    expect(p.kernelPasses(kernel(t!), 1n, 2n ** 255n)).to.equal(true);
    for (let s = 10_000n; s > t!; s--) expect(p.kernelPasses(kernel(s), 1n, 2n ** 255n)).to.equal(false);
    expect(p.findSealTimestamp(seeded, 0n, 2n ** 255n, 10_000n, 16n)).to.equal(undefined);
  });

  it("success rate follows the target (the difficulty parameter)", () => {
    let passed = 0;
    const n = 2000;
    for (let t = 0; t < n; t++)
      if (p.kernelPasses(p.kernelHash({ ...base, timestamp: BigInt(t) }), 1n, 2n ** 254n)) passed++;
    // Expected 1/4; 2000 trials give a standard deviation of ~1%.
    expect(passed / n).to.be.within(0.2, 0.3);
  });
});
