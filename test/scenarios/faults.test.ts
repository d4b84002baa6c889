/**
 * Faults injected into real components (issue 7), on one chain, in order: the chain's RPC endpoint
 * dropping every connection for a while (a node:net proxy in front of hardhat node; the honest agents' RPC
 * URL is the proxy; they recover through src/chain withRetry and finish); a miner process SIGKILLed while
 * it fetches and trains stage 1 (before declaring), restarted on its data directory; the employer's IPFS
 * node closing as a miner starts fetching a batch (a second provider, a pinning node, serves it); a job
 * whose deadline passes unfinished (its employer gets back every unspent wei with `refundJob`, checked to
 * the wei, gas included); and, with no honest miner running, a stage whose every declarant withholds
 * S_{i+1} (headers voided one after another; the job expires and refunds).
 */
import { expect } from "chai";
import type { Address } from "viem";
import { refundJob } from "../../src/employer/refund";
import { readJobEvents } from "../../src/chain/job-events";
import { readJob, readTotalOwed } from "../../src/chain/ledger-reads";
import { stageRewards } from "../../src/chain/stage-rewards";
import { startRpcProxy, type RpcProxy } from "../support/scenario-proxy";
import {
  HONEST_STAKE,
  ReferenceTrainer,
  assertNetworkInvariants,
  ledgerEvents,
  publishJob,
  slashedDeclarers,
  startHonestMiners,
  stakeAdversaries,
  startScenarioNet,
  startVoidWatchdog,
  until,
  waitJobFinished,
  type ScenarioNet,
} from "../support/scenario-harness";
import { connectPot } from "../../src/chain/contracts";
import { ContractRevertError } from "../../src/chain/errors";
import { STAGE_PHASE, type LedgerEvent } from "../../src/chain/pot-contracts";
import { startMiner } from "../../src/miner/agent";
import type { Logger } from "../../src/miner/log";
import { cidFromBytesHex } from "../../src/storage";
import { parseJobDocument } from "../../src/protocol/job-document";
import { fetchManifest, fetchStageBatches, openHeliaStore, type ContentStore } from "../../src/storage";
import { WithholdingBuilder } from "../support/scenario-adversaries";
import { minerProcessReady, spawnMinerProcess, type MinerProcess } from "../support/miner-process";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";

describe("scenarios: faults (RPC drops, a killed miner, a vanished IPFS peer, an expired job, all declarants withholding)", function () {
  this.timeout(600_000);
  let sc: ScenarioNet;
  let proxy: RpcProxy;
  let honest: Address[] = [];
  const procs: MinerProcess[] = [];
  let mirror: ContentStore | undefined;

  before(async function () {
    this.timeout(240_000);
    sc = await startScenarioNet(500);
    proxy = await startRpcProxy(sc.net.node.url);
    const miners = await startHonestMiners(sc, [1, 2, 3], { rpcUrl: proxy.url });
    honest = miners.map((m) => m.address);
    // The withholders stake now: a seal needs coin age.
    await stakeAdversaries(sc, [13, 14]);
  });

  // A miner process a test started never outlives it: left running, it would declare in the next scenario.
  const killProcs = async () => {
    for (const p of procs)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited()));
    procs.length = 0;
  };
  afterEach(killProcs);

  after(async () => {
    await killProcs();
    await mirror?.close().catch(() => undefined);
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

  it("miner SIGKILLed mid-stage (job loaded, training, not declared) and restarted: no double declaration, the job completes", async () => {
    // A fourth miner as its own process; C = 4, so every stage needs its declaration too.
    const index = 15;
    const addr = sc.net.node.accounts[index].address as Address;
    let run = spawnMinerProcess(sc.net, index);
    procs.push(run);
    await until("the miner process to start", async () => minerProcessReady(run), 120_000, 200);
    const job = await publishJob(sc, 4, { numStages: 3, c: 4 });
    const loaded = (l: string) => l.includes("job loaded") && l.includes(`"jobId":"${job.jobId}"`);
    await until(
      "the miner to load the job (it fetches and trains stage 1 next)",
      async () => run.lines.some(loaded),
      60_000,
      5,
    );
    run.child.kill("SIGKILL");
    await run.exited();
    const declaredAtKill = (await ledgerEvents(sc, job.jobId)).filter(
      (e) => e.kind === "Declared" && e.declarer.toLowerCase() === addr.toLowerCase(),
    ).length;
    const trainedBeforeKill = run.lines.some(
      (l) => l.includes("stage trained") && l.includes(`"jobId":"${job.jobId}"`),
    );
    run = spawnMinerProcess(sc.net, index);
    procs.push(run);
    const ms = await waitJobFinished(sc, job.jobId, 240_000);
    const events = await ledgerEvents(sc, job.jobId);
    for (let stage = 1; stage <= job.numStages; stage++) {
      const mine = events.filter(
        (e) => e.kind === "Declared" && e.stage === stage && e.declarer.toLowerCase() === addr.toLowerCase(),
      );
      expect(mine.length, `declarations of stage ${stage} by the restarted miner`).to.equal(1);
    }
    run.child.kill("SIGTERM");
    await run.exited();
    await assertNetworkInvariants(sc, job, { honest: [...honest, addr] });
    // The restarted miner was paid too (its declarations open: C = 4 needs them all).
    const credited = (await readJobEvents(await sc.handle(), job.jobId)).stages
      .flatMap((st) => stageRewards(st))
      .filter((r) => r.account.toLowerCase() === addr.toLowerCase());
    expect(credited.length, "the restarted miner credited").to.be.greaterThan(0);
    console.log(
      `      SIGKILL mid-stage: killed ${declaredAtKill === 0 ? "before declaring" : "after declaring"} stage 1 (trained before the kill: ${trainedBeforeKill}); restarted; job finished ${ms} ms after the restart, one declaration per stage`,
    );
  });

  it("IPFS peer disappearing mid-fetch: the employer's node goes away as a miner starts fetching a batch; the fetch moves on to another provider and the job completes", async () => {
    const employer = await publishJob(sc, 4, { numStages: 3 });
    // A second provider (a pinning service): fetches and pins the whole job from the employer now.
    mirror = await openHeliaStore({ kind: "embedded", repoPath: join(sc.dir, "mirror") });
    await mirror.dial(await employer.store.addresses(), { timeoutMs: 10_000 });
    const created = (await ledgerEvents(sc, employer.jobId)).find((e) => e.kind === "JobCreated")!;
    if (created.kind !== "JobCreated") throw new Error("no JobCreated");
    const doc = parseJobDocument(await mirror.get(cidFromBytesHex(created.specCid)));
    await mirror.pin(doc.initialStateCid);
    await mirror.pin(cidFromBytesHex(created.specCid));
    const manifest = await fetchManifest(mirror, doc.manifestCid, created.manifestRoot);
    await mirror.pin(doc.manifestCid);
    for (let stage = 1; stage <= employer.numStages; stage++) {
      for (const b of await fetchStageBatches(mirror, manifest, created.manifestRoot, stage))
        await mirror.pin(b.cid);
    }
    // A fifth, in-process miner, started now: the instant it logs "job loaded" (its next step is fetching
    // the stage-1 batch), its logger closes the employer's IPFS node, synchronously, before the miner's
    // next await: the employer disappears while the batch is being fetched.
    const lines: { msg: string; fields?: Record<string, unknown>; at: number }[] = [];
    let gone = 0;
    let closing: Promise<void> | undefined;
    const spy = (fields: Record<string, unknown> = {}): Logger => {
      const note = (msg: string, f?: Record<string, unknown>) => {
        const all = { ...fields, ...f };
        lines.push({ msg, fields: all, at: Date.now() });
        if (msg === "job loaded" && String(all.jobId) === String(employer.jobId) && closing === undefined) {
          gone = Date.now();
          closing = employer.store.close();
        }
      };
      return {
        error: note,
        warn: note,
        info: note,
        debug: () => undefined,
        child: (f) => spy({ ...fields, ...f }),
      };
    };
    const fetcher = await startMiner({
      config: sc.config(16, proxy.url),
      log: spy(),
      stakeWei: HONEST_STAKE,
      policy: { idleDummy: false },
      builderGraceBlocks: 2n,
      tickMs: 150,
      // Each stage's batch is fetched when the stage trains (no prefetch), so that stages 2 and 3 are
      // fetched after the employer's node is gone, from the other provider.
      prefetchStages: 0,
    });
    sc.honest.set(16, fetcher);
    await until("the miner to load the job", async () => closing !== undefined, 60_000, 20);
    await closing;
    // ... and the pinning service connects to the miners (as a provider would after its announcement).
    const minerAddrs = [...sc.honest.values()].flatMap((m) => m.status().ipfs);
    await mirror.dial(minerAddrs, { timeoutMs: 10_000 }).catch(() => undefined);
    const ms = await waitJobFinished(sc, employer.jobId, 240_000);
    const trained = lines.filter(
      (l) => l.msg === "stage trained" && String(l.fields?.jobId) === String(employer.jobId),
    );
    expect(trained.length, "the miner trained stages after the employer's node went away").to.be.greaterThan(
      0,
    );
    expect(trained.every((l) => l.at >= gone)).to.equal(true);
    const retries = lines.filter((l) => l.msg === "ipfs fetch failed, retrying").length;
    // The invariants re-execute every stage from the chain and the mirror alone (the employer is gone).
    await assertNetworkInvariants(
      sc,
      { ...employer, store: mirror },
      { honest: [...honest, fetcher.address] },
    );
    console.log(
      `      IPFS peer gone mid-fetch: ${trained.length} stage(s) trained by the watched miner after the employer's node closed (${retries} fetch retries); job finished ${ms} ms later`,
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
    // A stage headered before the deadline keeps its PoA window (poaMaxRounds x poaWindowBlocks blocks):
    // mine past it.
    const a0 = await sc.adapter(0);
    const p = await a0.ledgerParams();
    const window = p.closeDelayBlocks + p.poaMaxRounds * p.poaWindowBlocks + 2n; // randBlock is closeDelayBlocks after the header
    await sc.net.rpc("hardhat_mine", [`0x${window.toString(16)}`]);
    const next = (await readJob(h, job.jobId)).wrappedStages + 1;
    const st = await a0.client.readContract({
      ...h.suite.stages,
      functionName: "getStage",
      args: [job.jobId, next],
    });
    const head = await a0.latestBlock();
    expect(
      st.phase !== STAGE_PHASE.headered ||
        head.number > BigInt(st.closeOrRandBlock) + p.poaMaxRounds * p.poaWindowBlocks,
      `stage ${next} phase ${st.phase} randBlock ${st.closeOrRandBlock}, head ${head.number} at ${head.timestamp}, deadline ${before.deadline}`,
    ).to.equal(true);

    const s = await connectPot(
      sc.config(employer),
      privateKeyToAccount(sc.net.node.accounts[employer].privateKey as Hex),
    );
    const addr = sc.net.node.accounts[employer].address as Address;
    const balance0 = await s.publicClient.getBalance({ address: addr });
    const onChain = await readJob(h, job.jobId);
    // the fee not spent on wrapped stages, with the remainder of fee / numStages
    const unspent = onChain.fee - BigInt(onChain.wrappedStages) * onChain.feePerStage;
    expect(onChain.escrow).to.equal(unspent);
    expect(onChain.wrappedStages > 0 && onChain.wrappedStages < 3).to.equal(true);
    const r = await refundJob(h, s.sender!, job.jobId);
    const balance1 = await s.publicClient.getBalance({ address: addr });
    expect(r.withdrawn).to.equal(unspent);
    expect(balance1 - balance0).to.equal(unspent - r.gasCost);
    const events = await ledgerEvents(sc, job.jobId);
    expect(events.some((e) => e.kind === "JobExpired")).to.equal(true);
    expect(events.find((e) => e.kind === "Refunded")).to.deep.include({ amount: unspent });
    // Nothing lost: the escrow's balance is what it owes, read at one block.
    const at = await h.client.getBlockNumber();
    expect(await h.client.getBalance({ address: h.suite.escrow.address, blockNumber: at })).to.equal(
      await readTotalOwed(h, at),
    );
    console.log(
      `      job expiry: ${onChain.wrappedStages} of 3 stages wrapped; ${unspent} wei unspent refunded, gas ${r.gasCost} wei`,
    );
  });
  it("withholding builders, every declarant withholding: each header is voided, the stage reopens for another declarant's header, honest miners cannot join a closed stage, the job expires and refunds to the wei", async () => {
    // No honest miner is running (the expiry scenario stopped them): the two withholders are the only
    // declarants of stage 1.
    expect(sc.honest.size).to.equal(0);
    const employer = 12;
    const job = await publishJob(sc, employer, { numStages: 2 });
    const ref = await ReferenceTrainer.of(sc, job);
    const ws = [
      await new WithholdingBuilder(await sc.adapter(13), job.jobId, [1], ref, true).start(),
      await new WithholdingBuilder(await sc.adapter(14), job.jobId, [1], ref, true).start(),
    ];
    const watchdog = startVoidWatchdog(sc, job.jobId, 0);
    const p = await (await sc.adapter(0)).ledgerParams();
    const expiry = p.poaMaxRounds * p.poaWindowBlocks;
    const headersOf = async () =>
      (await ledgerEvents(sc, job.jobId)).filter(
        (e): e is Extract<LedgerEvent, { kind: "HeaderSubmitted" }> => e.kind === "HeaderSubmitted",
      );
    const voidsOf = async () => (await ledgerEvents(sc, job.jobId)).filter((e) => e.kind === "HeaderVoided");
    for (let n = 1; n <= 2; n++) {
      await until(`withheld header ${n}`, async () => (await headersOf()).length >= n, 60_000).catch((e) => {
        throw new Error(
          `${e}: ${ws.map((w) => `${w.actions.join(", ")} / ${w.errors.join("; ")}`).join(" | ")}`,
        );
      });
      // Nobody can fetch S_1 under the header's CID: no committee attests in any round. Skip the rounds.
      await sc.net.rpc("hardhat_mine", [`0x${(expiry + p.closeDelayBlocks + 2n).toString(16)}`]);
      await until(`header ${n} voided`, async () => (await voidsOf()).length >= n, 60_000);
      // The stage reopens (phase decided, rho fixed) for another declarant's header.
      expect(await (await sc.adapter(0)).stagePhase(job.jobId, 1)).to.be.oneOf([
        STAGE_PHASE.decided,
        STAGE_PHASE.headered,
      ]);
    }
    const headers = await headersOf();
    expect(
      new Set(headers.slice(0, 2).map((h) => h.builder.toLowerCase())).size,
      "two different builders",
    ).to.equal(2);
    expect(headers.every((h) => h.header.rho === headers[0].header.rho)).to.equal(true);
    for (const w of ws) await w.stop();
    await watchdog.stop();
    // An honest miner is around now, but the stage's declarations closed long ago.
    await startHonestMiners(sc, [1], { rpcUrl: proxy.url });
    const a1 = await sc.adapter(1);
    const r1 = await ref.stage(1);
    const opened = (await ledgerEvents(sc, job.jobId)).find(
      (e): e is Extract<LedgerEvent, { kind: "StageOpened" }> => e.kind === "StageOpened",
    )!;
    const late = await a1
      .declare({
        jobId: job.jobId,
        stage: 1,
        parentHash: opened.parentHash,
        seed: opened.seed,
        resultHash: r1.hash,
        commitment: r1.hash,
        rand: r1.rho,
        timestamp: (await a1.latestBlock()).timestamp,
      })
      .then(
        () => "sent",
        (e: unknown) => (e instanceof ContractRevertError ? e.errorName : String(e)),
      );
    // The stage is past its declaration phase (decided, rho fixed): WrongPhase.
    expect(late).to.be.oneOf(["WrongPhase", "DeclarationsClosed"]);
    await new Promise((r) => setTimeout(r, 3_000));
    const events = await ledgerEvents(sc, job.jobId);
    expect(events.filter((e) => e.kind === "BlockWrapped")).to.deep.equal([]);
    expect(events.filter((e) => e.kind === "Declared" && e.stage === 1).length).to.equal(2);
    // Stage 2 opened when the first withheld header fixed its parent: the honest miner, which trained S_1
    // itself, may declare stage 2, but no header of stage 2 is accepted while stage 1 is not wrapped.
    const stage2 = events.filter((e) => e.kind === "Declared" && e.stage === 2).length;
    expect(events.filter((e) => e.kind === "HeaderSubmitted" && e.stage === 2)).to.deep.equal([]);
    // Unavailability is not provable: nobody is slashed.
    expect(await slashedDeclarers(sc, job.jobId)).to.deep.equal([]);
    for (const m of sc.honest.values()) await m.stop();
    sc.honest.clear();
    // The job expires (after any header's PoA window): every wei of its escrow goes back to the employer.
    await sc.net.rpc("evm_increaseTime", [3_700]);
    await sc.net.rpc("hardhat_mine", [`0x${(expiry + p.closeDelayBlocks + 2n).toString(16)}`]);
    const h = await sc.handle();
    const s = await connectPot(
      sc.config(employer),
      privateKeyToAccount(sc.net.node.accounts[employer].privateKey as Hex),
    );
    const addr = sc.net.node.accounts[employer].address as Address;
    const onChain = await readJob(h, job.jobId);
    expect(onChain.wrappedStages).to.equal(0);
    const balance0 = await s.publicClient.getBalance({ address: addr });
    const r = await refundJob(h, s.sender!, job.jobId);
    const balance1 = await s.publicClient.getBalance({ address: addr });
    expect(r.withdrawn).to.equal(onChain.fee);
    expect(balance1 - balance0).to.equal(r.withdrawn - r.gasCost);
    const at = await h.client.getBlockNumber();
    expect(await h.client.getBalance({ address: h.suite.escrow.address, blockNumber: at })).to.equal(
      await readTotalOwed(h, at),
    );
    await assertNetworkInvariants(sc, job, { honest: [], finished: false });
    console.log(
      `      all declarants withholding: ${headers.length} withheld headers, ${(await voidsOf()).length} voided; a late honest declaration of stage 1: ${late}; stage-2 declarations ${stage2} (no header: stage 1 unwrapped); job expired, ${r.withdrawn} wei refunded (gas ${r.gasCost} wei)`,
    );
  });
});
