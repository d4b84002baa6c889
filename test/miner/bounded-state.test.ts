/**
 * Bounded miner state: 1,000 simulated dummy-job stages (plus a short employer job every 200 stages) go
 * through the code the agent runs each tick — `MinerBook.onEvent` (the fold of confirmed events, own
 * records confirmed), `MinerBook.prune` (pruneView, pruneJob, pruneState, unused state bytes dropped) and
 * `MinerStore.save` (the state file) — with the records the duty executors write per stage (result and its
 * bytes, declaration secret, done keys of header/attest/wrap/slash, jury votes). No chain: driving 1,000
 * real stages through a node would take far longer than a test may. The state file must stay under a
 * fixed bound (docs/miner.md states the measured size) and stop growing.
 */
import { EMPTY_CHECKPOINT_ROOT } from "../../src/protocol/checkpoints";
import { NO_METRIC } from "../../src/protocol/outcome";
import { expect } from "chai";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import type { Address, Hex } from "viem";
import type { LedgerEvent } from "../../src/chain/pot-contracts";
import { MinerBook } from "../../src/miner/bookkeeping";
import { doneKey, resultKey, stageKey, voteKey } from "../../src/miner/duties";
import { silentLogger } from "../../src/miner/log";
import { emptyState, encodeMinerState, MinerStore } from "../../src/miner/state";
import { emptyView } from "../../src/miner/view";

const ME = "0x00000000000000000000000000000000000000a1" as Address;
const B = "0x00000000000000000000000000000000000000b2" as Address;
const D = "0x00000000000000000000000000000000000000d4" as Address;
const STAGES = 1_000;
/** The bound docs/miner.md states (the measured maximum is well below it). */
const STATE_FILE_BOUND = 16 * 1024;

const hash = (label: string): Hex => `0x${createHash("sha256").update(label).digest("hex")}`;

describe("miner state stays bounded over 1,000 simulated dummy-job stages (MinerBook's real fold, prune and save)", function () {
  this.timeout(60_000);
  let dir: string;

  before(() => (dir = mkdtempSync(join(tmpdir(), "pot-miner-bounded-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps the state file under a fixed bound and its size flat, and the state bytes pruned", async () => {
    const store = new MinerStore(dir);
    const state = emptyState(31337, B, ME);
    const view = emptyView();
    const book = new MinerBook(state, store, view, ME, silentLogger);
    let block = 1n;
    let logIndex = 0;
    const emit = (e: Record<string, unknown> & { kind: LedgerEvent["kind"] }) =>
      book.onEvent({
        blockNumber: block,
        logIndex: logIndex++,
        blockHash: hash("b"),
        txHash: hash("t"),
        ...e,
      } as LedgerEvent);
    const job = (jobId: bigint, numStages: number) =>
      emit({
        kind: "JobCreated",
        jobId,
        employer: D,
        fee: 1n,
        specCid: "0x01",
        manifestRoot: hash("m"),
        initialStateHash: hash(`s0:${jobId}`),
        numStages,
        c: 2,
        k: 1,
        stageSeconds: 60,
        minDeclareSeconds: 0,
        deadline: 10n ** 12n,
      });
    /** One stage as the chain and this miner's executors leave it: trained, declared, headered, wrapped. */
    const stage = async (jobId: bigint, s: number, parent: Hex): Promise<Hex> => {
      const result = hash(`r:${jobId}:${s}`);
      const seed = hash(`seed:${jobId}:${s}`);
      const bytes = randomBytes(2_048); // a training state's bytes (the dummy job's are ~2 KB)
      const bytesHash = `0x${createHash("sha256").update(bytes).digest("hex")}` as Hex;
      store.putState(bytesHash, bytes);
      const outcome = {
        stateHash: bytesHash,
        checkpointRoot: EMPTY_CHECKPOINT_ROOT,
        heldOutLoss: NO_METRIC,
        heldOutAccuracy: NO_METRIC,
      };
      state.results[resultKey(jobId, s, parent)] = {
        jobId: jobId.toString(),
        stage: s,
        parentHash: parent,
        resultHash: result,
        outcome,
        checkpoints: [],
        rho: hash(`rho:${s}`),
        resultCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
        meanLoss: 0.5,
        speculative: false,
      };
      state.declarations[stageKey(jobId, s)] = {
        jobId: jobId.toString(),
        stage: s,
        parentHash: parent,
        seed,
        resultHash: result,
        rho: hash(`rho:${s}`),
        rand: hash(`rand:${s}`),
        commitment: hash(`c:${s}`),
        resultCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
        status: "sent",
        timestamp: "1700000000",
      };
      emit({
        kind: "StageOpened",
        jobId,
        stage: s,
        parentHash: parent,
        seed,
        deadline: 10n ** 12n,
        notBefore: 0n,
      });
      const faulty = s % 10 === 0; // now and then a wrong declaration, slashed by this miner
      for (const who of faulty ? [ME, B, D] : [ME, B])
        emit({
          kind: "Declared",
          jobId,
          stage: s,
          declarer: who,
          resultHash: who === D ? hash("wrong") : result,
          commitment: hash(`c:${s}:${who}`),
          rand: hash(`rand:${s}`),
          timestamp: 1n,
        });
      emit({ kind: "DeclarationsClosing", jobId, stage: s, closeBlock: block + 1n, disputed: faulty });
      block += 2n;
      const builder = s % 2 === 0 ? ME : B;
      if (builder === ME) await book.markDone(doneKey.header(jobId, s), hash(`tx:h:${s}`));
      if (s % 7 === 0) {
        // a jury round this miner sat on (commit and reveal records)
        state.votes[voteKey(jobId, s, 1)] = {
          jobId: jobId.toString(),
          stage: s,
          round: 1,
          resultHash: result,
          rho: hash(`rho:${s}`),
          salt: hash(`salt:${s}`),
          commitStatus: "confirmed",
          status: "confirmed",
          txHash: hash(`tx:v:${s}`),
        };
      }
      const header = {
        builder,
        parent,
        seed,
        result,
        rho: hash(`rho:${s}`),
        resultCidHash: hash("cid"),
        timestamp: 1n,
      };
      emit({
        kind: "HeaderSubmitted",
        jobId,
        stage: s,
        builder,
        headerHash: hash(`h:${jobId}:${s}`),
        header,
        resultCid: "0x01",
        openers: [ME, B],
        weights: [1n, 1n],
        faulty: faulty ? [D] : [],
        randBlock: block,
      });
      emit({ kind: "OutcomeRevealed", jobId, stage: s, resultHash: result, outcome, checkpoints: [] });
      await book.markDone(doneKey.attest(jobId, s, 0), hash(`tx:a:${s}`));
      block += 1n;
      emit({ kind: "Attested", jobId, stage: s, member: ME, round: 0 });
      await book.markDone(doneKey.wrap(jobId, s, 0), hash(`tx:w:${s}`));
      emit({
        kind: "BlockWrapped",
        index: BigInt(s),
        blockHash: hash(`blk:${s}`),
        jobId,
        stage: s,
        parentBlockHash: hash(`blk:${s - 1}`),
        headerHash: hash(`h:${jobId}:${s}`),
        attesters: [ME],
        wrapper: ME,
        timestamp: 0n,
      });
      if (faulty) {
        await book.markDone(doneKey.slash(jobId, s, D), hash(`tx:s:${s}`));
        emit({ kind: "Slashed", jobId, stage: s, staker: D, fault: 1, amount: 1n, reporter: ME });
      }
      block += 1n;
      return bytesHash;
    };

    job(0n, 2 ** 32 - 1);
    const sizes: number[] = [];
    let parent = hash("s0:0");
    let employerJob = 1n;
    for (let s = 1; s <= STAGES; s++) {
      parent = await stage(0n, s, parent);
      if (s % 200 === 0) {
        // a short employer job runs to its end, is claimed, and is forgotten after the retention window
        job(employerJob, 2);
        let p = hash(`s0:${employerJob}`);
        for (let e = 1; e <= 2; e++) p = await stage(employerJob, e, p);
        emit({ kind: "JobFinished", jobId: employerJob });
        await book.markDone(doneKey.claim(employerJob), hash("tx:claim"));
        employerJob++;
      }
      block += 1n;
      const ended = [...view.jobs.values()].filter((j) => j.status !== "open").map((j) => j.jobId.toString());
      book.prune(block, ended);
      sizes.push(Buffer.byteLength(encodeMinerState(state)));
    }
    await store.flush();
    await book.save();
    await store.flush();

    const onDisk = statSync(store.statePath).size;
    const max = Math.max(...sizes);
    const firstHalfMax = Math.max(...sizes.slice(0, STAGES / 2));
    const secondHalfMax = Math.max(...sizes.slice(STAGES / 2));
    console.log(
      `      state file after ${STAGES} stages: ${onDisk} bytes on disk; max over the run ${max} bytes (bound ${STATE_FILE_BOUND}); ` +
        `states/: ${readdirSync(store.statesDir).length} files; view: ${view.stages.size} stages`,
    );
    expect(onDisk).to.equal(sizes[sizes.length - 1]);
    expect(max).to.be.lessThan(STATE_FILE_BOUND);
    // flat: the second 500 stages never need more than the first 500 did (but one claim key per ended job)
    expect(secondHalfMax).to.be.at.most(firstHalfMax + 3 * 100);
    // Records of pruned stages are gone: only the 3 newest dummy stages and the last employer job (still
    // within its retention window) remain, plus one claim key per ended job.
    expect(Object.keys(state.declarations).length).to.be.at.most(5);
    expect(Object.keys(state.results).length).to.be.at.most(5);
    expect(Object.keys(state.done).filter((k) => k.startsWith("claim:"))).to.have.length(5);
    expect(Object.keys(state.done).length).to.be.at.most(20);
    expect(view.stages.size).to.be.at.most(5);
    expect(readdirSync(store.statesDir).length).to.be.at.most(5);
    // The employer jobs that ended more than ENDED_JOB_RETENTION_BLOCKS ago are gone from the view.
    for (const id of ["1", "2", "3", "4"]) expect(view.prunedBelow.get(id)).to.equal(Number.MAX_SAFE_INTEGER);
    expect([...view.stages.values()].every((st) => st.jobId === 0n || st.jobId === 5n)).to.equal(true);
    // What is on disk loads back.
    expect(store.load({ chainId: 31337, stages: B, account: ME }).declarations).to.deep.equal(
      state.declarations,
    );
  });
});
