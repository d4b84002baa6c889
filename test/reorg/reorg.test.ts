/**
 * Reorgs under running miners, on anvil (`anvil_reorg`): three `pot miner start` children with
 * POT_CONFIRMATIONS=4 and an in-process employer run a 2-stage Iris job while this test watches every new
 * block and, the first time a declaration, a header and a wrap of the job appear, replaces the blocks from
 * that one to the head by empty ones (depth 1 to 3: deeper than zero, shallower than the confirmations).
 * The job still finishes, and on the final chain nothing is declared twice, and every header opens only
 * declarations on the chain, confirmed before it (no rho revealed for a declaration a reorg dropped).
 * Logs: POT_DEVNET_KEEP=1 keeps the devnet directory (printed) with logs/<process>.log.
 */
import { expect } from "chai";
import type { Hex, PublicClient } from "viem";
import { irisJobInput, jobSummary, startDevnet, startEmployer, type Devnet } from "../../src/devnet";
import { decodeLedgerLog, type LedgerEvent } from "../../src/chain/ledger-events";
import type { LedgerHandle } from "../../src/chain/ledger-reads";
import { nodeRpc } from "../../src/devnet/node-impl";

const CONFIRMATIONS = 4;
const TARGETS = ["Declared", "HeaderSubmitted", "BlockWrapped"] as const;
type Target = (typeof TARGETS)[number];

/** A reorg this test made: the event it dropped and how deep. */
interface DroppedEvent {
  readonly kind: Target;
  readonly stage: number;
  readonly txHash: Hex;
  readonly depth: number;
}

/** The protocol events of blocks `from`..`to` on the current chain, decoded. */
async function eventsIn(h: LedgerHandle, from: bigint, to: bigint): Promise<LedgerEvent[]> {
  const s = h.suite;
  const logs = await h.client.getLogs({
    address: [s.stages.address, s.escrow.address, s.committee.address, s.disputes.address],
    fromBlock: from,
    toBlock: to,
  });
  return logs.flatMap((l) => decodeLedgerLog(s, l as never) ?? []);
}

/**
 * Watches the head every 25 ms and drops the first event of each target kind of `jobId` with a reorg of
 * depth head - its block + 1 (taken only when below CONFIRMATIONS; else the next such event is tried).
 */
class Reorganizer {
  readonly dropped: DroppedEvent[] = [];
  private cursor: bigint;
  private running = true;
  private loop: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly h: LedgerHandle,
    private readonly jobId: bigint,
    from: bigint,
  ) {
    this.cursor = from;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running && this.dropped.length < TARGETS.length) {
      await new Promise((r) => setTimeout(r, 25));
      const head = await this.h.client.getBlockNumber({ cacheTime: 0 });
      if (head < this.cursor) continue;
      const events = await eventsIn(this.h, this.cursor, head);
      const target = events.find(
        (e): e is LedgerEvent & { kind: Target; jobId: bigint; stage: number } =>
          (TARGETS as readonly string[]).includes(e.kind) &&
          (e as { jobId?: bigint }).jobId === this.jobId &&
          !this.dropped.some((d) => d.kind === e.kind),
      );
      if (target === undefined) {
        this.cursor = head + 1n;
        continue;
      }
      const depth = Number(head - target.blockNumber) + 1;
      if (depth >= CONFIRMATIONS) {
        this.cursor = target.blockNumber + 1n; // too deep already: wait for the next one
        continue;
      }
      await nodeRpc(this.url, "anvil_reorg", [depth, []]);
      // A block mined between reading the head and the reorg leaves the event on chain: try again.
      if (await txOnChain(this.h.client, target.txHash)) continue;
      this.dropped.push({ kind: target.kind, stage: target.stage, txHash: target.txHash, depth });
      this.cursor = target.blockNumber;
    }
  }
}

async function txOnChain(client: PublicClient, hash: Hex): Promise<boolean> {
  return (await client.getTransactionReceipt({ hash }).catch(() => undefined)) !== undefined;
}

describe("reorgs under running miners (anvil): a declaration, a header and a wrap dropped", function () {
  this.timeout(300_000);
  let devnet: Devnet | undefined;
  let reorganizer: Reorganizer | undefined;

  after(async () => {
    await reorganizer?.stop();
    if (devnet !== undefined && process.env.POT_DEVNET_KEEP)
      console.log(`      devnet kept in ${devnet.dir}`);
    await devnet?.stop();
  });

  it(`the job finishes; nothing declared twice; headers open only confirmed declarations`, async () => {
    const t0 = Date.now();
    devnet = await startDevnet({ impl: "anvil", keep: process.env.POT_DEVNET_KEEP !== undefined });
    const miners = await devnet.startMiners(3, { confirmations: CONFIRMATIONS });
    const employer = await startEmployer(devnet, 10);
    const stages = 2;
    const job = await employer.createJob(
      await irisJobInput({ stages, c: 2, k: 2, feeWei: 4_000_000_000_000_000n }),
    );
    const h = employer.handle;
    const start = await h.client.getBlockNumber({ cacheTime: 0 });
    reorganizer = new Reorganizer(devnet.url, h, job.jobId, start);

    await devnet.waitFor(
      `job ${job.jobId} to finish after the reorgs`,
      async () => (await jobSummary(h, job.jobId)).status === "finished",
      200_000,
    );
    await reorganizer.stop();
    const dropped = reorganizer.dropped;
    console.log(
      `      dropped by reorgs: ${dropped.map((d) => `${d.kind} of stage ${d.stage} (depth ${d.depth})`).join(", ")}`,
    );
    expect(dropped.map((d) => d.kind).sort()).to.deep.equal([...TARGETS].sort());
    for (const d of dropped) {
      expect(d.depth).to.be.within(1, CONFIRMATIONS - 1);
      expect(await txOnChain(h.client, d.txHash), `${d.kind} ${d.txHash} off the chain`).to.equal(false);
    }
    expect((await jobSummary(h, job.jobId)).wrappedStages).to.deep.equal([1, 2]);

    // The final chain: every declaration once; every header opens declarations confirmed before it.
    const head = await h.client.getBlockNumber({ cacheTime: 0 });
    const events = (await eventsIn(h, h.fromBlock ?? 0n, head)).filter(
      (e) => (e as { jobId?: bigint }).jobId === job.jobId,
    );
    const declared = new Map<string, bigint>();
    for (const e of events)
      if (e.kind === "Declared") {
        const key = `${e.stage}:${e.declarer.toLowerCase()}`;
        expect(declared.has(key), `declared twice: ${key}`).to.equal(false);
        declared.set(key, e.blockNumber);
      }
    const headers = events.filter((e) => e.kind === "HeaderSubmitted");
    expect(headers.length).to.be.greaterThanOrEqual(stages);
    for (const hdr of headers)
      for (const who of [hdr.builder, ...hdr.openers]) {
        const at = declared.get(`${hdr.stage}:${who.toLowerCase()}`);
        const where = `stage ${hdr.stage}: ${who} opened in a header`;
        expect(at !== undefined, `${where} without a declaration on chain`).to.equal(true);
        expect(hdr.blockNumber - at! >= BigInt(CONFIRMATIONS), `${where} before it was confirmed`).to.equal(
          true,
        );
      }
    // The miners saw a declaration of theirs dropped, or another's, and went on.
    const resent = miners
      .flatMap((m) => m.records())
      .filter((r) => /dropped by a chain reorganization/.test(String(r.msg)));
    console.log(
      `      2-stage job through ${dropped.length} reorgs finished in ${Math.round((Date.now() - t0) / 1000)} s (setup included); ${resent.length} dropped-transaction notices in the miners' logs`,
    );
  });
});
