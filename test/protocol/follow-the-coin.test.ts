import { expect } from "chai";
import { keccak256, toBytes, type Address, type Hex } from "viem";
import * as p from "../../src/protocol";

const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const seed = (n: number) => keccak256(toBytes(`seed${n}`));
const stakes = (...values: bigint[]) => values.map((stake, i) => ({ staker: addr(i + 1), stake }));

describe("follow-the-coin", () => {
  it("nextDrawEpochStart: the first block of the following staking epoch, even from an epoch's first block", () => {
    expect(p.nextDrawEpochStart(0n, 32n)).to.equal(32n);
    expect(p.nextDrawEpochStart(31n, 32n)).to.equal(32n);
    expect(p.nextDrawEpochStart(32n, 32n)).to.equal(64n);
    expect(p.nextDrawEpochStart(1000n, 256n)).to.equal(1024n);
    expect(() => p.nextDrawEpochStart(5n, 0n)).to.throw(/epochBlocks/);
  });

  it("draws K distinct holders, deterministically, never a zero stake", () => {
    const list = stakes(5n, 0n, 7n, 1n, 0n, 3n);
    for (let s = 0; s < 200; s++) {
      const drawn = p.followTheCoin(seed(s), list, 4);
      expect(new Set(drawn).size).to.equal(4);
      expect(drawn).to.not.include(1);
      expect(drawn).to.not.include(4);
      expect(p.followTheCoin(seed(s), list, 4)).to.deep.equal(drawn);
    }
  });

  it("first draw is proportional to stake", () => {
    const list = stakes(1n, 3n, 6n);
    const counts = [0, 0, 0];
    const n = 3000;
    for (let s = 0; s < n; s++) counts[p.followTheCoin(seed(s), list, 1)[0]]++;
    expect(counts[0] / n).to.be.within(0.07, 0.13);
    expect(counts[1] / n).to.be.within(0.25, 0.35);
    expect(counts[2] / n).to.be.within(0.55, 0.65);
  });

  it("a huge staker is drawn once, then the others fill the committee (no rejection loop)", () => {
    const list = stakes(10n ** 30n, 1n, 1n);
    expect([...p.followTheCoin(seed(1), list, 3)].sort()).to.deep.equal([0, 1, 2]);
  });

  it("rejects empty lists, negative or NaN stakes, duplicates, K < 1 and K above the holders", () => {
    expect(() => p.followTheCoin(seed(0), [], 1)).to.throw(p.InvalidArgumentError, /empty/);
    expect(() => p.followTheCoin(seed(0), stakes(1n, -1n), 1)).to.throw(
      p.InvalidArgumentError,
      /stakes\[1\].stake/,
    );
    expect(() =>
      p.followTheCoin(seed(0), [{ staker: addr(1), stake: NaN as unknown as bigint }], 1),
    ).to.throw(p.InvalidArgumentError, /stake/);
    expect(() => p.followTheCoin(seed(0), [...stakes(1n), { staker: addr(1), stake: 2n }], 1)).to.throw(
      p.InvalidArgumentError,
      /twice/,
    );
    expect(() => p.followTheCoin(seed(0), stakes(1n, 2n), 0)).to.throw(p.InvalidArgumentError, /k/);
    expect(() => p.followTheCoin(seed(0), stakes(1n, 0n, 2n), 3)).to.throw(
      p.NotEnoughStakersError,
      /3 distinct.*only 2/,
    );
    expect(() => p.followTheCoin("0x01" as Hex, stakes(1n), 1)).to.throw(p.InvalidArgumentError, /seed/);
  });

  it("committee seeds change with the round and the randomness", () => {
    const d = seed(9);
    const a = p.committeeSeed(d, seed(1), seed(2), 0);
    expect(p.committeeSeed(d, seed(1), seed(2), 1)).to.not.equal(a);
    expect(p.committeeSeed(d, seed(1), seed(3), 0)).to.not.equal(a);
    expect(p.jurySeed(d, 1n, 1, seed(2))).to.not.equal(a);
  });
});
