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

  it("drawWeight: whole gwei, capped at MAX_STAKER_DRAW_WEIGHT", () => {
    expect(p.drawWeight(10n ** 9n - 1n)).to.equal(0n);
    expect(p.drawWeight(5n * 10n ** 18n + 7n)).to.equal(5n * 10n ** 9n);
    const cap = p.MAX_STAKER_DRAW_WEIGHT;
    expect(cap).to.equal(2n ** 56n);
    expect(p.drawWeight(cap * p.DRAW_WEIGHT_UNIT)).to.equal(cap);
    expect(p.drawWeight(cap * p.DRAW_WEIGHT_UNIT - 1n)).to.equal(cap - 1n);
    expect(p.drawWeight(2n ** 128n)).to.equal(cap);
  });

  describe("drawSeats (with replacement, one account excluded)", () => {
    it("gives K seats, repeats allowed, never to a zero stake or the excluded account, deterministically", () => {
      const list = stakes(5n, 0n, 7n, 1n);
      let repeats = 0;
      for (let s = 0; s < 200; s++) {
        const seats = p.drawSeats(seed(s), list, 5, addr(3));
        expect(seats).to.have.length(5);
        expect(seats).to.not.include(1); // zero stake
        expect(seats).to.not.include(2); // excluded
        if (new Set(seats).size < 5) repeats++;
        expect(p.drawSeats(seed(s), list, 5, addr(3))).to.deep.equal(seats);
      }
      expect(repeats).to.equal(200); // only two eligible holders for five seats
    });

    it("each seat is proportional to stake among the others; K = 1 never seats an excluded majority holder", () => {
      const list = stakes(90n, 1n, 3n, 6n);
      const counts = [0, 0, 0, 0];
      const n = 3000;
      for (let s = 0; s < n; s++) counts[p.drawSeats(seed(s), list, 1, addr(1))[0]]++;
      expect(counts[0]).to.equal(0);
      expect(counts[1] / n).to.be.within(0.07, 0.13);
      expect(counts[2] / n).to.be.within(0.25, 0.35);
      expect(counts[3] / n).to.be.within(0.55, 0.65);
      // excluded = nobody (omitted, or an address that holds nothing): the whole list draws
      expect(p.drawSeats(seed(1), list, 4)).to.deep.equal(p.drawSeats(seed(1), list, 4, addr(99)));
    });

    it("splitting a stake over identities buys no seats (a 50% staker's K = 3 majority stays ~50%)", () => {
      const whole = stakes(50n, 25n, 25n);
      const split = [
        ...stakes(50n, 25n, 25n).slice(1),
        ...[17n, 17n, 16n].map((stake, i) => ({ staker: addr(10 + i), stake })),
      ];
      const majority = (list: typeof whole, mine: (i: number) => boolean) => {
        let wins = 0;
        for (let s = 0; s < 2000; s++) if (p.drawSeats(seed(s), list, 3).filter(mine).length >= 2) wins++;
        return wins / 2000;
      };
      expect(majority(whole, (i) => i === 0)).to.be.within(0.45, 0.55);
      expect(majority(split, (i) => i >= 2)).to.be.within(0.45, 0.55);
    });

    it("rejects K < 1, bad stakes, and a pool that only the excluded account holds (NotEnoughStakers)", () => {
      expect(() => p.drawSeats(seed(0), stakes(1n), 0)).to.throw(p.InvalidArgumentError, /k/);
      expect(() => p.drawSeats(seed(0), stakes(1n, -1n), 1)).to.throw(p.InvalidArgumentError, /stakes\[1\]/);
      expect(() => p.drawSeats(seed(0), stakes(0n, 0n), 1)).to.throw(p.NotEnoughStakersError);
      expect(() => p.drawSeats(seed(0), stakes(0n, 4n), 2, addr(2))).to.throw(
        p.NotEnoughStakersError,
        /only 0/,
      );
      expect(() => p.drawSeats(seed(0), stakes(1n), 1, "0x12" as Address)).to.throw(
        p.InvalidArgumentError,
        /excluded/,
      );
    });
  });

  it("committee seeds change with the round and the randomness", () => {
    const d = seed(9);
    const a = p.committeeSeed(d, seed(1), seed(2), 0);
    expect(p.committeeSeed(d, seed(1), seed(2), 1)).to.not.equal(a);
    expect(p.committeeSeed(d, seed(1), seed(3), 0)).to.not.equal(a);
    expect(p.jurySeed(d, 1n, 1, seed(2))).to.not.equal(a);
  });
});
