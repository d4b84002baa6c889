/**
 * Faults injected into real components (issue 7), on one chain: the chain's RPC endpoint dropping every
 * connection for a while (a node:net proxy in front of hardhat node; the honest agents' RPC URL is the
 * proxy; they recover through src/chain withRetry and finish), then a job whose deadline passes
 * unfinished (its employer gets back every unspent wei with `refundJob`, checked to the wei, gas included).
 */
import { expect } from "chai";
import type { Address } from "viem";
import { refundJob } from "../../src/employer/refund";
import { readJob } from "../../src/employer/ledger";
import { startRpcProxy, type RpcProxy } from "../support/scenario-proxy";
import {
  assertNetworkInvariants,
  ledgerEvents,
  publishJob,
  rawEvents,
  startHonestMiners,
  startScenarioNet,
  until,
  waitJobFinished,
  type ScenarioNet,
} from "../support/scenario-harness";
import { connectPot } from "../../src/chain/contracts";
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";

describe("scenarios: faults (RPC drops, an expired job)", function () {
  this.timeout(600_000);
  let sc: ScenarioNet;
  let proxy: RpcProxy;
  let honest: Address[] = [];

  before(async function () {
    this.timeout(240_000);
    sc = await startScenarioNet(500);
    proxy = await startRpcProxy(sc.net.node.url);
    const miners = await startHonestMiners(sc, [1, 2, 3], { rpcUrl: proxy.url });
    honest = miners.map((m) => m.address);
  });

  after(async () => {
    await sc?.stop();
    await proxy?.close();
  });

  it("RPC drop: the endpoint refuses every connection for 5 s mid-job; the agents retry and the job completes", async () => {
    const job = await publishJob(sc, 4, { numStages: 3 });
    await until(
      "stage 1 wrapped",
      async () => (await ledgerEvents(sc, job.jobId)).some((e) => e.kind === "BlockWrapped" && e.stage === 1),
      120_000,
    );
    await proxy.drop(5_000);
    expect(proxy.dropped).to.be.greaterThan(0);
    const ms = await waitJobFinished(sc, job.jobId, 180_000);
    await assertNetworkInvariants(sc, job, { honest });
    console.log(
      `      RPC drop: ${proxy.dropped} connections cut/refused; job finished ${ms} ms after stage 1`,
    );
  });

  it("job expiry: a job whose deadline passes unfinished refunds every unspent wei (to the wei, gas included)", async () => {
    const employer = 12;
    const job = await publishJob(sc, employer, { numStages: 3 });
    await until(
      "stage 1 wrapped",
      async () => (await ledgerEvents(sc, job.jobId)).some((e) => e.kind === "BlockWrapped" && e.stage === 1),
      120_000,
    );
    // The miners go away: the job stays unfinished (what they wrapped re-executes, checked before they go).
    await assertNetworkInvariants(sc, job, { honest, finished: false });
    for (const m of sc.honest.values()) await m.stop();
    sc.honest.clear();
    const h = await sc.handle();
    const before = await readJob(h, job.jobId);
    expect(before.statusName).to.equal("open");
    await sc.net.rpc("evm_increaseTime", [3_700]);
    await sc.net.rpc("evm_mine", []);

    const s = await connectPot(
      sc.config(employer),
      privateKeyToAccount(sc.net.node.accounts[employer].privateKey as Hex),
    );
    const addr = sc.net.node.accounts[employer].address as Address;
    const balance0 = await s.publicClient.getBalance({ address: addr });
    const onChain = (await sc.net.ledger(0).getJob(job.jobId)) as {
      escrow: bigint;
      wrappedStages: bigint;
      feePerStage: bigint;
      dust: bigint;
    };
    const unspent = onChain.escrow - onChain.wrappedStages * onChain.feePerStage + onChain.dust;
    expect(onChain.wrappedStages > 0n && onChain.wrappedStages < 3n).to.equal(true);
    const r = await refundJob(h, s.sender!, job.jobId);
    const balance1 = await s.publicClient.getBalance({ address: addr });
    expect(r.withdrawn).to.equal(unspent);
    expect(balance1 - balance0).to.equal(unspent - r.gasCost);
    const expired = (await rawEvents(sc, "JobExpired")).find((e) => e.args.jobId === job.jobId);
    expect(expired?.args.unspent).to.equal(unspent);
    // Nothing lost: the ledger's balance is what it owes, read at one block.
    const at = await sc.net.provider.getBlockNumber();
    expect(await sc.net.provider.getBalance(sc.net.addresses.ledger, at)).to.equal(
      await sc.net.ledger(0).totalOwed({ blockTag: at }),
    );
    console.log(
      `      job expiry: ${onChain.wrappedStages} of 3 stages wrapped; ${unspent} wei unspent refunded, gas ${r.gasCost} wei`,
    );
  });
});
