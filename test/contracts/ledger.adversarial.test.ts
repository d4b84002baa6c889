/**
 * Adversarial scenarios against the ledger (issue 3): each attack and the rule that stops it.
 */
import { expect } from "chai";
import { ethers, network } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import type { Hex } from "viem";
import * as P from "../../src/protocol";
import type { LedgerReentrantWithdrawer } from "../../typechain-types";
import {
  headerOf,
  committee,
  createJob,
  declare,
  deployLedger,
  jobRequest,
  ledgerFixture,
  mineUntilClosed,
  openedOf,
  openings,
  owedAndBalance,
  randOf,
  RESULT_CID,
  rhoOf,
  runStage,
  signAttestation,
  stateHashOf,
  submitHeader,
  wrapStage,
  type DeclarationRecord,
  type LedgerFixture,
  settlementOf,
  claimStage,
} from "./helpers/ledger-fixtures";

async function declareAll(f: LedgerFixture, jobId: bigint, stage: number, n: number) {
  const ds: DeclarationRecord[] = [];
  for (const m of f.miners.slice(0, n)) ds.push(await declare(f, m, jobId, stage));
  return ds;
}

/** A job whose stage 1 has three honest declarations and one copy of the first (by miner 5), closed. */
async function copiedDeclaration(f: LedgerFixture) {
  const jobId = await createJob(f);
  const honest = await declareAll(f, jobId, 1, 3);
  const copier = f.miners[5];
  const copied = await declare(f, copier, jobId, 1, {
    commitment: honest[0].commitment,
    rand: honest[0].rand as Hex,
  });
  await mineUntilClosed(f, jobId, 1);
  const builder = f.byAddress.get(honest[0].declarer.toLowerCase())!;
  return { jobId, honest, copier, copied, builder };
}

describe("ledger: adversarial", () => {
  it("a copied commitment is worthless: it opens only for its maker, and is slashable", async () => {
    const f = await loadFixture(ledgerFixture);
    const { jobId, honest, copier, copied, builder } = await copiedDeclaration(f);
    await expect(submitHeader(f, builder, jobId, 1, [...honest, copied]))
      .to.be.revertedWithCustomError(f.verifier, "DoesNotOpen")
      .withArgs(copier.address);
    await submitHeader(f, builder, jobId, 1, honest);
    await wrapStage(f, jobId, 1);
    await expect(
      f.ledger.claimDeclaration(jobId, 1, await settlementOf(f, jobId, 1), copied),
    ).to.be.revertedWithCustomError(f.ledger, "DoesNotOpen");
    await expect(
      f.ledger
        .connect(f.outsider)
        .slashDeclaration(jobId, 1, await settlementOf(f, jobId, 1), copied.resultHash, copied),
    )
      .to.emit(f.ledger, "Slashed")
      .withArgs(jobId, 1, copier.address, 1, f.params.ledger.declarationSlash, f.outsider.address);
    const [bal, owed] = await owedAndBalance(f);
    expect(bal).to.equal(owed);
  });

  it("slashing pays an offender reporting itself only the bounty (slashBountyBps); the rest is burned", async () => {
    const f = await loadFixture(ledgerFixture);
    const { jobId, honest, copier, copied, builder } = await copiedDeclaration(f);
    await submitHeader(f, builder, jobId, 1, honest);
    await wrapStage(f, jobId, 1);
    const slash = f.params.ledger.declarationSlash;
    const bounty = (slash * f.params.staking.slashBountyBps) / 10_000n;
    const stakeBefore = await f.staking.stakeOf(copier.address);
    const balanceBefore = await f.token.balanceOf(copier.address);
    const supplyBefore = await f.token.totalSupply();
    await expect(
      f.ledger
        .connect(copier)
        .slashDeclaration(jobId, 1, await settlementOf(f, jobId, 1), copied.resultHash, copied),
    )
      .to.emit(f.staking, "Slashed")
      .withArgs(copier.address, copier.address, slash, 0n, bounty, slash - bounty);
    expect(await f.staking.stakeOf(copier.address)).to.equal(stakeBefore - slash);
    expect(await f.token.balanceOf(copier.address)).to.equal(balanceBefore + bounty);
    expect(await f.token.totalSupply()).to.equal(supplyBefore - (slash - bounty));
  });

  it("a declaration after close is rejected", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    await declareAll(f, jobId, 1, 3);
    await mineUntilClosed(f, jobId, 1);
    await expect(declare(f, f.miners[4], jobId, 1)).to.be.revertedWithCustomError(
      f.ledger,
      "DeclarationsClosedAt",
    );
  });

  it("a header before close is rejected", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    const ds = await declareAll(f, jobId, 1, 2);
    await expect(submitHeader(f, f.miners[0], jobId, 1, ds)).to.be.revertedWithCustomError(
      f.ledger,
      "NotClosed",
    );
    ds.push(await declare(f, f.miners[2], jobId, 1));
    // C reached, but closeDelayBlocks have not passed yet.
    await expect(submitHeader(f, f.miners[0], jobId, 1, ds)).to.be.revertedWithCustomError(
      f.ledger,
      "NotClosed",
    );
  });

  it("a front-runner who copies rho from a pending header transaction gets nothing", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    const honest = await declareAll(f, jobId, 1, 3);
    // The attacker declared the copied result before close, with a commitment to a guessed secret.
    const attacker = f.miners[6];
    const attackerDecl = await declare(f, attacker, jobId, 1, { rho: rhoOf(jobId, 1, "guess") });
    await mineUntilClosed(f, jobId, 1);
    const builder = f.byAddress.get(honest[0].declarer.toLowerCase())!;
    const ts = BigInt(await time.latest());
    await network.provider.send("evm_setAutomine", [false]);
    try {
      const honestTx = await f.ledger
        .connect(builder)
        .submitHeader(jobId, 1, honest[0].resultHash, rhoOf(jobId, 1), RESULT_CID, ts, openings(honest), {
          gasLimit: 2_000_000,
          maxPriorityFeePerGas: 1_000_000_000n,
        });
      // The attacker reads rho from the mempool and races with a higher tip.
      const pending = await ethers.provider.getTransaction(honestTx.hash);
      const parsed = f.ledger.interface.parseTransaction({ data: pending!.data })!;
      const stolenRho = parsed.args.rho as Hex;
      const raceOpen = await f.ledger
        .connect(attacker)
        .submitHeader(
          jobId,
          1,
          honest[0].resultHash,
          stolenRho,
          RESULT_CID,
          ts,
          openings([...honest, attackerDecl]),
          {
            gasLimit: 2_000_000,
            maxPriorityFeePerGas: 50_000_000_000n,
          },
        );
      const raceDeclare = await f.ledger.connect(f.miners[7]).declare(
        jobId,
        1,
        honest[0].parentHash,
        honest[0].resultHash,
        P.commitmentHash({
          domain: f.domain,
          rho: stolenRho,
          rand: randOf(f.miners[7].address, 1),
          declarer: f.miners[7].address as Hex,
          jobId,
          stage: 1,
        }),
        randOf(f.miners[7].address, 1),
        ts,
        { gasLimit: 2_000_000, maxPriorityFeePerGas: 50_000_000_000n },
      );
      await mine(1);
      const r1 = await ethers.provider.getTransactionReceipt(raceOpen.hash);
      const r2 = await ethers.provider.getTransactionReceipt(raceDeclare.hash);
      const r3 = await ethers.provider.getTransactionReceipt(honestTx.hash);
      expect(r1!.status).to.equal(0); // its own declaration does not open against the stolen rho
      expect(r2!.status).to.equal(0); // declarations are closed
      expect(r3!.status).to.equal(1);
      expect(r1!.index).to.be.lessThan(r3!.index); // it really ran first
    } finally {
      await network.provider.send("evm_setAutomine", [true]);
    }
    expect((await headerOf(f, jobId, 1)).builder).to.equal(builder.address);
  });

  it("a header whose rho does not open one of its declarations is rejected", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    const ds = await declareAll(f, jobId, 1, 3);
    await mineUntilClosed(f, jobId, 1);
    await expect(
      submitHeader(f, f.miners[0], jobId, 1, ds, { rho: rhoOf(jobId, 1, "wrong") }),
    ).to.be.revertedWithCustomError(f.verifier, "DoesNotOpen");
    // The same rho that opens every declaration passes.
    await submitHeader(f, f.miners[0], jobId, 1, ds);
  });

  it("two declarations from one staker for one stage are rejected", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    await declare(f, f.miners[0], jobId, 1);
    await expect(
      declare(f, f.miners[0], jobId, 1, { resultHash: stateHashOf(jobId, 1, "other") }),
    ).to.be.revertedWithCustomError(f.ledger, "AlreadyDeclared");
  });

  it("a staker without enough stake cannot declare", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    await expect(declare(f, f.outsider, jobId, 1))
      .to.be.revertedWithCustomError(f.ledger, "NotEnoughStake")
      .withArgs(0n, f.params.ledger.minStake);
    // Unstaking below the minimum takes the right away too.
    await f.staking.connect(f.miners[0]).requestUnstake((await f.staking.stakeOf(f.miners[0].address)) - 1n);
    await expect(declare(f, f.miners[0], jobId, 1)).to.be.revertedWithCustomError(f.ledger, "NotEnoughStake");
  });

  it("a PoS kernel cannot be ground over rand: only the timestamp window matters", async () => {
    // Realistic difficulty: about half of the kernels pass.
    const f = await deployLedger(4, (p) => {
      p.ledger.targetPerCoinSecond = ethers.MaxUint256 / (2n * 1_000n * 10n ** 18n * 3600n);
    });
    const jobId = await createJob(f);
    const m = f.miners[0];
    const since = await f.staking.stakeSinceOf(m.address);
    const stakeNow = await f.staking.stakeOf(m.address);
    const T = BigInt(await time.latest()) + 10n;
    const target = P.posTarget(stakeNow * (T - since), f.params.ledger.targetPerCoinSecond);
    const kh = (t: bigint) =>
      BigInt(
        P.kernelHash({
          domain: f.domain,
          kind: P.SealKind.Declaration,
          staker: m.address as Hex,
          jobId,
          stage: 1,
          timestamp: t,
        }),
      );
    let bad = 0n;
    let good = 0n;
    for (let t = T; t > T - 50n; t--) {
      if (!bad && kh(t) > target + target / 4n) bad = t;
      if (!good && kh(t) < target / 2n) good = t;
    }
    expect(bad).to.not.equal(0n);
    expect(good).to.not.equal(0n);
    for (let i = 0; i < 5; i++) {
      await time.setNextBlockTimestamp(T + BigInt(i));
      await expect(
        declare(f, m, jobId, 1, {
          timestamp: bad,
          rand: ethers.keccak256(ethers.toUtf8Bytes(`grind${i}`)) as Hex,
        }),
      ).to.be.revertedWithCustomError(f.ledger, "KernelAboveTarget");
    }
    // Timestamps outside the window are refused whatever their kernel.
    await expect(declare(f, m, jobId, 1, { timestamp: T + 1000n })).to.be.revertedWithCustomError(
      f.ledger,
      "SealTimestampOutOfWindow",
    );
    await time.setNextBlockTimestamp(T + 20n);
    await declare(f, m, jobId, 1, { timestamp: good });
  });

  it("a builder cannot choose its committee: it comes from a block hash mined after the header", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    const ds = await declareAll(f, jobId, 1, 3);
    await mineUntilClosed(f, jobId, 1);
    const rcpt = await submitHeader(f, f.miners[0], jobId, 1, ds);
    const st = await f.ledger.getStage(jobId, 1);
    // The randomness block comes closeDelayBlocks after the header: the guaranteed contest window.
    expect(st.randBlock).to.equal(BigInt(rcpt!.blockNumber) + BigInt(f.params.ledger.closeDelayBlocks));
    await expect(f.ledger.committeeOf(jobId, 1)).to.be.revertedWithCustomError(
      f.ledger,
      "RandomnessNotReady",
    );
    const { members } = await committee(f, jobId, 1);
    const randomness = (await ethers.provider.getBlock(Number(st.randBlock)))!.hash as Hex;
    const seed = P.committeeSeed(f.domain, st.headerHash as Hex, randomness, 0);
    // over the draw weights (whole gwei of stake) as of the start of the randomness block's epoch
    const [stakers, weights] = await f.staking.drawWeightsPage(0, 100, st.randBlock);
    const idx = P.followTheCoin(
      seed,
      stakers.map((s, i) => ({ staker: s as Hex, stake: weights[i] })),
      3,
    );
    expect(members).to.deep.equal(idx.map((i) => stakers[i]));
    // A builder outside the committee cannot wrap its own header.
    const outsiderMiner = f.miners.find((m) => !members.includes(m.address))!;
    await expect(
      f.ledger
        .connect(outsiderMiner)
        .wrap(jobId, 1, await headerOf(f, jobId, 1), await openedOf(f, jobId, 1), members, [
          "0x",
          "0x",
          "0x",
        ]),
    ).to.be.revertedWithCustomError(f.ledger, "NotCommitteeMember");
  });

  it("attestations from outside the committee are refused (transaction and signature)", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    const ds = await declareAll(f, jobId, 1, 3);
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, f.miners[0], jobId, 1, ds);
    const { members } = await committee(f, jobId, 1);
    const stranger = f.miners.find((m) => !members.includes(m.address))!;
    await expect(f.ledger.connect(stranger).attest(jobId, 1)).to.be.revertedWithCustomError(
      f.ledger,
      "NotCommitteeMember",
    );
    const forged = await signAttestation(f, stranger, jobId, 1);
    const sig1 = await signAttestation(f, f.byAddress.get(members[1].toLowerCase())!, jobId, 1);
    await expect(
      f.ledger
        .connect(f.byAddress.get(members[2].toLowerCase())!)
        .wrap(jobId, 1, await headerOf(f, jobId, 1), await openedOf(f, jobId, 1), members, [
          forged,
          sig1,
          "0x",
        ]),
    )
      .to.be.revertedWithCustomError(f.verifier, "MissingAttestation")
      .withArgs(0);
  });

  it("wrapping before K-1 attestations is refused", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    const ds = await declareAll(f, jobId, 1, 3);
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, f.miners[0], jobId, 1, ds);
    await expect(wrapStage(f, jobId, 1, { skip: [1] }))
      .to.be.revertedWithCustomError(f.verifier, "MissingAttestation")
      .withArgs(1);
  });

  it("a committee that times out is redrawn; its members lose their share", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    const ds = await declareAll(f, jobId, 1, 3);
    await mineUntilClosed(f, jobId, 1);
    await submitHeader(f, f.miners[0], jobId, 1, ds);
    const first = await committee(f, jobId, 1);
    await f.ledger.connect(f.byAddress.get(first.members[0].toLowerCase())!).attest(jobId, 1);
    await mine(f.params.ledger.poaWindowBlocks);
    const second = await committee(f, jobId, 1);
    expect(second.round).to.equal(1n);
    const { receipt, members } = await wrapStage(f, jobId, 1);
    expect(members).to.deep.equal(second.members);
    // Pull payments: only the wrapping round's members can claim (the settlement names that committee).
    await claimStage(f, jobId, 1, ds);
    const st = await settlementOf(f, jobId, 1);
    const firstOnly = first.members.filter((m) => !second.members.includes(m));
    if (firstOnly.length > 0) {
      await expect(
        f.ledger.claimAttester(jobId, 1, st, first.members, first.members.indexOf(firstOnly[0])),
      ).to.be.revertedWithCustomError(f.ledger, "SettlementMismatch");
    }
    const paid = (await f.ledger.queryFilter(f.ledger.filters.RewardCredited(undefined, jobId, 1)))
      .filter((e) => e.args.role === 3n)
      .map((e) => e.args.account);
    expect(paid).to.deep.equal(second.members);
    expect(receipt!.status).to.equal(1);
  });

  it("a withheld S_{i+1}: the header is voided and another declarant builds", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    const ds = await declareAll(f, jobId, 1, 3);
    await mineUntilClosed(f, jobId, 1);
    const b0 = f.byAddress.get(ds[0].declarer.toLowerCase())!;
    await submitHeader(f, b0, jobId, 1, ds, { cid: "0x1234" }); // nobody can fetch this
    const voided = await headerOf(f, jobId, 1);
    await expect(f.ledger.voidHeader(jobId, 1, voided)).to.be.revertedWithCustomError(
      f.ledger,
      "PoaNotExpired",
    );
    await mine(f.params.ledger.poaWindowBlocks * f.params.ledger.poaMaxRounds + 2);
    await expect(f.ledger.committeeOf(jobId, 1)).to.be.revertedWithCustomError(f.ledger, "PoaExpired");
    await expect(
      f.ledger.connect(f.outsider).voidHeader(jobId, 1, { ...voided, rho: rhoOf(jobId, 1, "x") }),
    ).to.be.revertedWithCustomError(f.ledger, "HeaderMismatch");
    await expect(f.ledger.connect(f.outsider).voidHeader(jobId, 1, voided)).to.emit(f.ledger, "HeaderVoided");
    await expect(submitHeader(f, b0, jobId, 1, ds)).to.be.revertedWithCustomError(f.ledger, "VoidedBuilder");
    const b1 = f.byAddress.get(ds[1].declarer.toLowerCase())!;
    await expect(
      submitHeader(f, b1, jobId, 1, ds, { rho: rhoOf(jobId, 1, "x") }),
    ).to.be.revertedWithCustomError(f.ledger, "WrongRho");
    await submitHeader(f, b1, jobId, 1, ds);
    await wrapStage(f, jobId, 1);
    expect((await headerOf(f, jobId, 1)).builder).to.equal(b1.address);
  });

  it("a replayed rho from another job or another deployment does not open", async () => {
    const f = await loadFixture(ledgerFixture);
    const job1 = await createJob(f);
    const job2 = await createJob(f);
    const ds = await declareAll(f, job2, 1, 2);
    // Miner 2 reuses job 1's secret and commitment construction for job 2.
    const replayJob = await declare(f, f.miners[2], job2, 1, {
      commitment: P.commitmentHash({
        domain: f.domain,
        rho: rhoOf(job2, 1),
        rand: randOf(f.miners[2].address, 1),
        declarer: f.miners[2].address as Hex,
        jobId: job1,
        stage: 1,
      }),
    });
    const otherDomain = P.domainSeparator({
      chainId: f.chainId,
      ledger: "0x00000000000000000000000000000000000000aa",
    });
    const replayDeployment = await declare(f, f.miners[3], job2, 1, {
      commitment: P.commitmentHash({
        domain: otherDomain,
        rho: rhoOf(job2, 1),
        rand: randOf(f.miners[3].address, 1),
        declarer: f.miners[3].address as Hex,
        jobId: job2,
        stage: 1,
      }),
    });
    await mineUntilClosed(f, job2, 1);
    const b = f.byAddress.get(ds[0].declarer.toLowerCase())!;
    await expect(submitHeader(f, b, job2, 1, [...ds, replayJob]))
      .to.be.revertedWithCustomError(f.verifier, "DoesNotOpen")
      .withArgs(f.miners[2].address);
    await expect(submitHeader(f, b, job2, 1, [...ds, replayDeployment]))
      .to.be.revertedWithCustomError(f.verifier, "DoesNotOpen")
      .withArgs(f.miners[3].address);
    // C = 3 is not reached without them.
    await expect(submitHeader(f, b, job2, 1, ds)).to.be.revertedWithCustomError(f.ledger, "TooFewOpenings");
  });

  it("a reentrant withdrawal is paid once", async () => {
    const f = await loadFixture(ledgerFixture);
    const W = await ethers.getContractFactory("LedgerReentrantWithdrawer");
    const w = (await W.deploy(await f.ledger.getAddress())) as unknown as LedgerReentrantWithdrawer;
    const fee = ethers.parseEther("1");
    const req = jobRequest({ deadlineIn: 120 }, await time.latest());
    await w.createJob(req, { value: fee });
    // A second job so the ledger holds more ETH than the attacker is owed.
    await createJob(f, { fee: ethers.parseEther("5") });
    await time.increase(200);
    await f.ledger.expireJob(1);
    expect(await f.ledger.claimable(await w.getAddress())).to.equal(fee);
    await w.withdraw();
    expect(await w.received()).to.equal(fee);
    expect(await w.reentryAttempts()).to.equal(1n);
    expect(await w.reentrySucceeded()).to.equal(false);
    const [bal, owed] = await owedAndBalance(f);
    expect(bal).to.equal(owed);
    expect(bal).to.equal(ethers.parseEther("5"));
  });

  it("runs a second stage after adversarial noise in the first (sanity)", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    await runStage(f, jobId, 1, 3);
    await runStage(f, jobId, 2, 3);
  });
});
