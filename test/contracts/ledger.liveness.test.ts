/**
 * Liveness of the ledger when a header is voided after the next stage has already moved on. The
 * pipelining benchmark hit this: a miner busy training missed its PoA windows, stage 5's header was
 * voided, and on ledger v3 no replacement header could ever be accepted (the ring record of stage 4,
 * which the check read, already held stage 6): the job was stuck until its deadline.
 */
import { expect } from "chai";
import { loadFixture, mine } from "@nomicfoundation/hardhat-network-helpers";
import {
  claimStage,
  createJob,
  declare,
  headerOf,
  ledgerFixture,
  mineUntilClosed,
  owedAndBalance,
  runStage,
  submitHeader,
  wrapStage,
  type DeclarationRecord,
} from "./helpers/ledger-fixtures";

describe("ledger: liveness after a voided header", function () {
  it("a voided header of stage 2 is replaced after stage 3 opened and was declared; the job completes", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f, { numStages: 3, c: 2, k: 2 });
    await runStage(f, jobId, 1, 2);

    // Stage 2: two declarations, a header whose S_2 nobody can fetch.
    const ds2: DeclarationRecord[] = [];
    for (const m of f.miners.slice(0, 2)) ds2.push(await declare(f, m, jobId, 2));
    await mineUntilClosed(f, jobId, 2);
    const withholder = f.byAddress.get(ds2[0].declarer.toLowerCase())!;
    await submitHeader(f, withholder, jobId, 2, ds2, { cid: "0x1234" });

    // The header fixed S_2, so stage 3 opened (over stage 1's ring record) and its miners declared.
    const ds3: DeclarationRecord[] = [];
    for (const m of f.miners.slice(0, 2)) ds3.push(await declare(f, m, jobId, 3));

    // Nobody could attest: every PoA round expires, anyone voids the header.
    await mine(f.params.ledger.poaWindowBlocks * f.params.ledger.poaMaxRounds + 2);
    await f.ledger.connect(f.outsider).voidHeader(jobId, 2, await headerOf(f, jobId, 2));

    // Another declarant of the same result builds stage 2 again, and the job goes on to the end.
    const builder = f.byAddress.get(ds2[1].declarer.toLowerCase())!;
    await submitHeader(f, builder, jobId, 2, ds2);
    await wrapStage(f, jobId, 2);
    await claimStage(f, jobId, 2, ds2);
    await mineUntilClosed(f, jobId, 3);
    await submitHeader(f, f.byAddress.get(ds3[0].declarer.toLowerCase())!, jobId, 3, ds3);
    await wrapStage(f, jobId, 3);
    await claimStage(f, jobId, 3, ds3);
    expect((await f.ledger.getJob(jobId)).status).to.equal(2n); // finished
    const [balance, owed] = await owedAndBalance(f);
    expect(balance).to.equal(owed);
  });
});
