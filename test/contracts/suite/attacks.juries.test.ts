/**
 * Issue 12's attacks on juries, committees and seals, each performed against the split contracts, with the
 * defence asserted. docs/SECURITY.md names each rule and points here.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  commitVote,
  createJob,
  declare,
  deploySuiteFixture,
  drawJury,
  drawJuryWhere,
  jurorsBySeats,
  E18,
  mineToReveal,
  mineUntilClosed,
  revealVote,
  rhoOf,
  runStage,
  stageOpened,
  stakeAs,
  outcomeOf,
  resultOf,
  submitHeader,
  committee,
  headerData,
  RESULT_CID,
  sorted,
  wrapStage,
  type SuiteFixture,
} from "../helpers/suite-fixtures";
import type { Hex } from "viem";
import { commitmentHash, SealKind, seededKernelHash } from "../../../src/protocol";
import { mineToNextEpoch } from "../helpers/staking-fixtures";

async function fixture(): Promise<SuiteFixture> {
  return deploySuiteFixture(8, (p) => {
    p.disputes.jurySize = 5;
  });
}

/** A disputed stage of a fresh job sent to its jury; returns the job id. */
async function disputedStage(f: SuiteFixture): Promise<bigint> {
  const jobId = await createJob(f, { numStages: 1, c: 2, k: 1 });
  await declare(f, f.miners[0], jobId, 1);
  await declare(f, f.miners[1], jobId, 1, { resultHash: resultOf(jobId, 1, "other") });
  await mineUntilClosed(f, jobId, 1);
  await (await f.stages.requestJury(jobId, 1)).wait();
  return jobId;
}

const honestVote = (jobId: bigint) => ({ result: resultOf(jobId, 1), rho: rhoOf(jobId, 1) });
/** At least two distinct jurors: then the one with the fewest seats holds at most floor(D/2) of the odd D
 * seats, and everyone else a strict majority. */
const twoJurors = (seats: string[]) => new Set(seats).size >= 2;

describe("split contracts: attacks on juries, committees and seals", () => {
  it("jury staller: reveals open only after a fixed commitment block, so an early reveal closes nothing; the honest majority decides; the absent seat is slashed", async () => {
    const f = await loadFixture(fixture);
    const jobId = await disputedStage(f);
    const jury = await drawJuryWhere(f, jobId, 1, twoJurors);
    const [staller, ...others] = jurorsBySeats(jury.seats);
    await (await commitVote(f, staller, jobId, 1, jury, honestVote(jobId))).wait();
    // the old stall: reveal as soon as a bare majority committed, closing the commitments
    await expect(revealVote(f, staller, jobId, 1, jury, honestVote(jobId))).to.be.revertedWithCustomError(
      f.disputes,
      "RevealNotOpen",
    );
    for (const j of others) await (await commitVote(f, j, jobId, 1, jury, honestVote(jobId))).wait();
    await mineToReveal(jury);
    // the staller withholds its reveal; the others decide without it
    for (const j of others) {
      if ((await f.disputes.juryOf(jobId, 1)).decided) break;
      await (await revealVote(f, j, jobId, 1, jury, honestVote(jobId))).wait();
    }
    const seatsOfStaller = jury.seats.filter((s) => s === staller).length;
    expect(seatsOfStaller * 2).to.be.lessThan(jury.seats.length);
    expect((await f.disputes.juryOf(jobId, 1)).decided).to.equal(true);
    // after the reveal window the staller's seats are slashed for not revealing
    await mine(Number(jury.revealEnd) - (await ethers.provider.getBlockNumber()) + 1);
    const before = await f.staking.stakeOf(staller);
    await (await f.disputes.connect(f.outsider).slashJuror(jobId, 1, jury.round, jury.seats, staller)).wait();
    expect(before - (await f.staking.stakeOf(staller))).to.equal(
      (f.params.disputes.jurorAbsentSlash as bigint) * BigInt(seatsOfStaller),
    );
    await expect(
      f.disputes.slashJuror(jobId, 1, jury.round, jury.seats, staller),
    ).to.be.revertedWithCustomError(f.disputes, "NotAFault");
  });

  it("a stalled round (no majority revealed) is redrawn, and every seat that did not commit is slashed", async () => {
    const f = await loadFixture(fixture);
    const jobId = await disputedStage(f);
    const jury = await drawJury(f, jobId, 1);
    await expect(f.disputes.redraw(jobId, 1)).to.be.revertedWithCustomError(f.disputes, "JuryNotStale");
    await mine(Number(jury.revealEnd) - (await ethers.provider.getBlockNumber()) + 1);
    await (await f.disputes.redraw(jobId, 1)).wait();
    for (const j of new Set(jury.seats)) {
      await (await f.disputes.slashJuror(jobId, 1, jury.round, jury.seats, j)).wait();
    }
    const next = await drawJury(f, jobId, 1);
    expect(next.round).to.equal(jury.round + 1);
  });

  it("copied reveal: a juror cannot commit after reveals open, and cannot reveal a vote it did not commit", async () => {
    const f = await loadFixture(fixture);
    const jobId = await disputedStage(f);
    const jury = await drawJuryWhere(f, jobId, 1, twoJurors);
    // the revealer holds the fewest seats, so its reveal alone does not decide the round (else the copier's
    // calls would meet JuryDecidedAlready first, depending on the draw)
    const [honest, copier] = jurorsBySeats(jury.seats);
    await (await commitVote(f, honest, jobId, 1, jury, honestVote(jobId))).wait();
    await mineToReveal(jury);
    await (await revealVote(f, honest, jobId, 1, jury, honestVote(jobId))).wait();
    // the copier saw the reveal: too late to commit, and a reveal without a commitment does not count
    await expect(commitVote(f, copier, jobId, 1, jury, honestVote(jobId))).to.be.revertedWithCustomError(
      f.disputes,
      "CommitmentsClosed",
    );
    await expect(revealVote(f, copier, jobId, 1, jury, honestVote(jobId))).to.be.revertedWithCustomError(
      f.disputes,
      "NotCommitted",
    );
  });

  it("a juror who reveals against the decision is slashed per seat; one who voted with it is not", async () => {
    const f = await loadFixture(fixture);
    const jobId = await disputedStage(f);
    const jury = await drawJuryWhere(f, jobId, 1, twoJurors);
    const jurors = jurorsBySeats(jury.seats);
    const wrong = { result: resultOf(jobId, 1, "other"), rho: rhoOf(jobId, 1, "other") };
    const liar = jurors[0]; // the fewest seats: the others hold a majority
    for (const j of jurors)
      await (await commitVote(f, j, jobId, 1, jury, j === liar ? wrong : honestVote(jobId))).wait();
    await mineToReveal(jury);
    for (const j of jurors)
      await (await revealVote(f, j, jobId, 1, jury, j === liar ? wrong : honestVote(jobId))).wait();
    const decided = await f.disputes.juryOf(jobId, 1);
    expect(decided.decided).to.equal(true);
    expect(decided.outcome).to.equal(
      ethers.keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(
          ["bytes32", "bytes32"],
          [honestVote(jobId).result, honestVote(jobId).rho],
        ),
      ),
    );
    const liarSeats = BigInt(jury.seats.filter((s) => s === liar).length);
    const before = await f.staking.stakeOf(liar);
    await (await f.disputes.slashJuror(jobId, 1, jury.round, jury.seats, liar)).wait();
    expect(before - (await f.staking.stakeOf(liar))).to.equal(
      (f.params.disputes.jurorSlash as bigint) * liarSeats,
    );
    await expect(
      f.disputes.slashJuror(jobId, 1, jury.round, jury.seats, jurors[1]),
    ).to.be.revertedWithCustomError(f.disputes, "NotAFault");
  });

  it("K=1 with a builder holding 99% of the draw weight: the builder is never its own committee", async () => {
    const f = await deploySuiteFixture(0);
    const [whale, small] = f.spare;
    await stakeAs(f, whale, 99_000n * E18);
    await stakeAs(f, small, 1_000n * E18);
    await mineToNextEpoch(f.staking);
    const jobId = await createJob(f, { numStages: 1, c: 2, k: 1 });
    const ds = [await declare(f, whale, jobId, 1), await declare(f, small, jobId, 1)];
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, whale, jobId, 1, ds);
    const { seats } = await committee(f, jobId, 1);
    expect(seats).to.deep.equal([small.address]);
    // over several rounds too
    for (let r = 0; r < 2; r++) {
      await mine(Number(f.params.stages.poaWindowBlocks));
      const c = await f.committee.committeeOf(jobId, 1);
      expect([...c.seats]).to.not.include(whale.address);
    }
  });

  it("committee seats are drawn with replacement and paid per seat: splitting a stake buys no extra seat or pay", async () => {
    const f = await loadFixture(fixture);
    const jobId = await createJob(f, { numStages: 1, c: 2, k: 16, fee: ethers.parseEther("1.6") });
    const { seats } = await runStage(f, jobId, 1, f.miners.slice(0, 2));
    expect(seats.length).to.equal(16);
    expect(new Set(seats).size).to.be.lessThan(16); // 16 seats over 7 eligible stakers: repeats
    expect(seats).to.not.include(f.miners[0].address); // the builder
    const perSeat = (ethers.parseEther("1.6") * 2000n) / 10_000n / 16n;
    for (const m of f.miners.slice(2)) {
      const n = BigInt(seats.filter((s) => s === m.address).length);
      expect((await f.escrow.owedOf(jobId, m.address)).amount).to.equal(perSeat * n);
    }
  });

  it("the PoS kernel covers the stage seed (the hash of the block before the stage opened): seals cannot be computed before the stage exists", async () => {
    const f = await loadFixture(fixture);
    const jobId = await createJob(f, { numStages: 1, c: 2, k: 1 });
    const { seed } = await stageOpened(f, jobId, 1);
    const ev = (await f.stages.queryFilter(f.stages.filters.StageOpened(jobId, 1)))[0];
    const prev = await ethers.provider.getBlock(ev.blockNumber - 1);
    expect(seed).to.equal(prev!.hash);
    // a declaration naming another seed is refused
    const { parent } = await stageOpened(f, jobId, 1);
    await expect(
      f.stages
        .connect(f.miners[0])
        .declare(
          jobId,
          1,
          parent,
          ethers.ZeroHash,
          resultOf(jobId, 1),
          ethers.id("c"),
          ethers.id("r"),
          await time.latest(),
        ),
    ).to.be.revertedWithCustomError(f.stages, "WrongParent");
  });

  it("an honest miner whose seal just landed is not starved: the seal target grows with stake, not coin age", async () => {
    // a finite difficulty: 1000 POT (1e12 gwei) passes a kernel with probability 1/2 per timestamp
    const targetPerGwei = ethers.MaxUint256 / 2_000_000_000_000n;
    const f = await deploySuiteFixture(4, (p) => {
      p.stages.targetPerGwei = targetPerGwei;
      p.stages.sealWindowSeconds = 600;
    });
    const jobId = await createJob(f, { numStages: 2, c: 2, k: 1 });
    /** The newest accepted timestamp whose seeded kernel passes for `who` (computed off-chain). */
    const sealAt = async (who: string, kind: SealKind, stage: number) => {
      const { seed } = await stageOpened(f, jobId, stage);
      const now = BigInt(await time.latest()) + 1n;
      const weight = (await f.staking.stakeOf(who)) / 1_000_000_000n;
      for (let t = now; t > now - 500n; t--) {
        const k = seededKernelHash({
          domain: f.domain,
          kind,
          staker: who as Hex,
          jobId,
          stage,
          stageSeed: seed,
          timestamp: t,
        });
        if (BigInt(k) <= weight * targetPerGwei) return t;
      }
      throw new Error("no timestamp passes");
    };
    const declareSealed = async (m: (typeof f.miners)[number], stage: number) => {
      const { parent, seed } = await stageOpened(f, jobId, stage);
      const t = await sealAt(m.address, SealKind.Declaration, stage);
      const rand = ethers.id(`r${m.address}${stage}`) as Hex;
      const commitment = commitmentHash({
        domain: f.domain,
        rho: rhoOf(jobId, stage),
        rand,
        declarer: m.address as Hex,
        jobId,
        stage,
      });
      await (
        await f.stages
          .connect(m)
          .declare(jobId, stage, parent, seed, resultOf(jobId, stage), commitment, rand, t)
      ).wait();
      return { declarer: m.address, resultHash: resultOf(jobId, stage), commitment, rand, timestamp: t };
    };
    const [a, b] = f.miners;
    const ds = [await declareSealed(a, 1), await declareSealed(b, 1)];
    await mineUntilClosed(f, jobId, 1);
    const h = await headerData(f, a.address, jobId, 1, {
      timestamp: await sealAt(a.address, SealKind.Header, 1),
    });
    await (
      await f.stages.connect(a).submitHeader(jobId, 1, h, RESULT_CID, sorted(ds), outcomeOf(jobId, 1), [])
    ).wait();
    await wrapStage(f, jobId, 1);
    // a's seal landed: its coin age restarted at the wrap
    const [, since] = await f.stages.sealOf(a.address);
    expect(since).to.equal(BigInt(await time.latest()));
    expect(await f.staking.coinAgeOf(a.address)).to.equal(0n);
    // with zero coin age it seals stage 2 at once, as often as a staker that never landed
    await declareSealed(a, 2);
    let passes = 0;
    const { seed } = await stageOpened(f, jobId, 2);
    for (let t = 1n; t <= 200n; t++) {
      const k = seededKernelHash({
        domain: f.domain,
        kind: SealKind.Declaration,
        staker: a.address as Hex,
        jobId,
        stage: 2,
        stageSeed: seed,
        timestamp: t,
      });
      if (BigInt(k) <= 1_000_000_000_000n * targetPerGwei) passes++;
    }
    expect(passes).to.be.within(70, 130); // about one timestamp in two, whatever the coin age
  });
});
