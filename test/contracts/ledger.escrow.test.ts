/**
 * Escrow accounting: job parameter checks (every createJob revert path), withdraw revert paths, and a
 * property test over random sequences of stake/unstake/create/declare/close/header/attest/wrap/expire/
 * refund/withdraw/slash asserting, after every step, that the ledger's balance equals what it still owes
 * and that total stake equals the sum of individual stakes.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import type { LedgerReentrantWithdrawer } from "../../typechain-types";
import { Rng } from "./helpers/staking-fixtures";
import {
  createJob,
  declare,
  deployLedger,
  jobRequest,
  ledgerFixture,
  mineUntilClosed,
  rhoOf,
  submitHeader,
  wrapStage,
  type DeclarationRecord,
  type LedgerFixture,
  settlementOf,
} from "./helpers/ledger-fixtures";

async function checkInvariants(f: LedgerFixture, stakers: string[]) {
  const bal = await ethers.provider.getBalance(await f.ledger.getAddress());
  expect(bal).to.equal(await f.ledger.totalOwed(), "escrow balance == owed");
  let sum = 0n;
  for (const s of stakers) sum += await f.staking.stakeOf(s);
  expect(await f.staking.totalStake()).to.equal(sum, "total stake == sum of stakes");
}

describe("ledger: escrow", () => {
  it("createJob checks every parameter", async () => {
    const f = await loadFixture(ledgerFixture);
    const now = await time.latest();
    const ok = jobRequest({}, now);
    const fee = { value: ethers.parseEther("1") };
    const bad: [string, object][] = [
      ["specCid", { specCid: "0x" }],
      ["initialStateHash", { initialStateHash: ethers.ZeroHash }],
      ["numStages", { numStages: 0 }],
      ["c", { c: 1 }],
      ["c", { c: 17 }],
      ["k", { k: 0 }],
      ["k", { k: 17 }],
      ["stageSeconds", { stageSeconds: 1 }],
      ["deadline", { deadline: now + 5 }],
    ];
    for (const [what, patch] of bad) {
      await expect(f.ledger.connect(f.employer).createJob({ ...ok, ...patch }, fee))
        .to.be.revertedWithCustomError(f.verifier, "InvalidJob")
        .withArgs(what);
    }
    await expect(f.ledger.connect(f.employer).createJob(ok, { value: 2 }))
      .to.be.revertedWithCustomError(f.verifier, "InvalidJob")
      .withArgs("fee");
    await expect(f.ledger.connect(f.employer).createJob(ok)).to.be.revertedWithCustomError(
      f.verifier,
      "ZeroFee",
    );
  });

  it("withdraw, expire and job lookups revert where they must", async () => {
    const f = await loadFixture(ledgerFixture);
    await expect(f.ledger.connect(f.outsider).withdraw()).to.be.revertedWithCustomError(
      f.ledger,
      "NothingToWithdraw",
    );
    await expect(f.ledger.expireJob(42)).to.be.revertedWithCustomError(f.ledger, "UnknownJob");
    await expect(declare(f, f.miners[0], 42n, 1, { parent: ethers.ZeroHash })).to.be.revertedWithCustomError(
      f.ledger,
      "UnknownJob",
    );
    // A recipient that refuses ETH: TransferFailed, and nothing is lost.
    const W = await ethers.getContractFactory("LedgerReentrantWithdrawer");
    const w = (await W.deploy(await f.ledger.getAddress())) as unknown as LedgerReentrantWithdrawer;
    await w.createJob(jobRequest({ deadlineIn: 120 }, await time.latest()), { value: 1000n });
    await time.increase(200);
    await expect(declare(f, f.miners[0], 1n, 1)).to.be.revertedWithCustomError(f.ledger, "JobNotOpen");
    await f.ledger.expireJob(1);
    await w.setRejectPayments(true);
    await expect(w.withdraw()).to.be.revertedWithCustomError(f.ledger, "TransferFailed");
    expect(await f.ledger.claimable(await w.getAddress())).to.equal(1000n);
  });

  it("constructor rejects bad parameters", async () => {
    const f = await loadFixture(ledgerFixture);
    const L = await ethers.getContractFactory("PoTLedger");
    const base = f.params.ledger;
    const cases: [string, object][] = [
      ["sealWindowSeconds", { sealWindowSeconds: 0 }],
      ["closeDelayBlocks", { closeDelayBlocks: 0 }],
      ["poaWindowBlocks", { poaWindowBlocks: 256 }],
      ["poaMaxRounds", { poaMaxRounds: 0 }],
      ["juryWindowSeconds", { juryWindowSeconds: 0 }],
      ["minStageSeconds", { minStageSeconds: 0 }],
      ["jurySize", { jurySize: 0 }],
      ["bps", { builderBps: 9000, attesterBps: 2000 }],
      ["maxC", { maxC: 1 }],
      ["maxK", { maxK: 33 }],
      ["dummy", { dummyC: 1 }],
      ["dummy", { dummyInitialStateHash: ethers.ZeroHash }],
    ];
    for (const [what, patch] of cases) {
      await expect(L.deploy(await f.token.getAddress(), await f.staking.getAddress(), { ...base, ...patch }))
        .to.be.revertedWithCustomError(L, "InvalidParams")
        .withArgs(what);
    }
    await expect(
      L.deploy(ethers.ZeroAddress, await f.staking.getAddress(), base),
    ).to.be.revertedWithCustomError(L, "ZeroAddress");
  });

  for (const seed of [1, 2, 3]) {
    it(`property: balance == owed and total stake == sum of stakes (random sequence ${seed})`, async () => {
      const f = await deployLedger(8, (p) => {
        p.ledger.minJobSeconds = 60;
      });
      const rng = new Rng(seed);
      const stakers = f.miners.map((m) => m.address);
      const accounts = [f.employer, f.outsider, ...f.miners];
      const jobs: bigint[] = [];
      // Per (job, stage): declarations made, faulty ones.
      const decls = new Map<string, DeclarationRecord[]>();
      const key = (j: bigint, s: number) => `${j}/${s}`;
      const faultyDecls = new Set<DeclarationRecord>();
      const pick = <T>(xs: T[]): T => xs[Number(rng.next() % BigInt(xs.length))];
      await checkInvariants(f, stakers);
      for (let step = 0; step < 60; step++) {
        const op =
          Number(rng.next() % 13n) % 11 === 10
            ? 10
            : [0, 1, 2, 3, 4, 5, 6, 7, 6, 7, 8, 9, 10][Number(rng.next() % 13n)];
        try {
          if (op === 0) {
            await f.staking.connect(pick(f.miners)).stake(ethers.parseEther("10"));
          } else if (op === 1) {
            await f.staking.connect(pick(f.miners)).requestUnstake(ethers.parseEther("1"));
          } else if (op === 2 || jobs.length === 0) {
            const fee = BigInt(1 + Number(rng.next() % 1_000_000n)) * 1_000_003n;
            jobs.push(
              await createJob(f, {
                fee,
                numStages: 2,
                c: 2,
                k: 2,
                deadlineIn: 300 + Number(rng.next() % 600n),
              }),
            );
          } else if (op === 3 || op === 4) {
            const j = pick(jobs);
            const job = await f.ledger.getJob(j);
            const s = Number(job.wrappedStages) + (rng.next() % 2n === 0n ? 1 : 2);
            const faulty = rng.next() % 4n === 0n;
            const d = await declare(f, pick(f.miners), j, s, faulty ? { rho: rhoOf(j, s, "lazy") } : {});
            if (faulty) faultyDecls.add(d);
            decls.set(key(j, s), [...(decls.get(key(j, s)) ?? []), d]);
          } else if (op === 5) {
            await mine(3);
          } else if (op === 6) {
            const j = pick(jobs);
            const s = Number((await f.ledger.getJob(j)).wrappedStages) + 1;
            const ds = decls.get(key(j, s)) ?? [];
            const honest = ds.filter((d) => !faultyDecls.has(d));
            for (const m of f.miners) {
              if (honest.length >= 2) break;
              if (ds.some((d) => d.declarer === m.address)) continue;
              const d = await declare(f, m, j, s);
              ds.push(d);
              honest.push(d);
            }
            decls.set(key(j, s), ds);
            await mineUntilClosed(f, j, s);
            await submitHeader(f, f.byAddress.get(honest[0].declarer.toLowerCase())!, j, s, honest);
          } else if (op === 7) {
            const j = pick(jobs);
            const s = Number((await f.ledger.getJob(j)).wrappedStages) + 1;
            await wrapStage(f, j, s);
          } else if (op === 8) {
            await time.increase(200);
            await f.ledger.expireJob(pick(jobs));
          } else if (op === 9) {
            await f.ledger.connect(pick(accounts)).withdraw();
          } else {
            for (const [k, ds] of decls) {
              const [j, s] = k.split("/").map(BigInt);
              for (const d of ds) {
                try {
                  await f.ledger.slashDeclaration(
                    j,
                    Number(s),
                    await settlementOf(f, j, Number(s)),
                    d.resultHash,
                    d,
                  );
                } catch {
                  try {
                    await f.ledger.claimDeclaration(j, Number(s), await settlementOf(f, j, Number(s)), d);
                  } catch {
                    /* not settleable now */
                  }
                }
              }
            }
          }
        } catch {
          // Invalid moves revert; the invariants must hold either way.
        }
        await checkInvariants(f, stakers);
      }
      if (process.env.POT_DEBUG) console.log("blocks", await f.ledger.blockCount(), "jobs", jobs.length);
      // Drain: expire everything and withdraw everyone; the ledger then owes only reserved shares.
      await time.increase(2000);
      for (const j of jobs) {
        try {
          await f.ledger.expireJob(j);
        } catch {
          /* finished or expired */
        }
      }
      for (const a of accounts) {
        if ((await f.ledger.claimable(a.address)) > 0n) await f.ledger.connect(a).withdraw();
      }
      await checkInvariants(f, stakers);
      expect(await ethers.provider.getBalance(await f.ledger.getAddress())).to.equal(
        await f.ledger.totalEscrow(),
      );
    });
  }
});
