/**
 * Step-checkpoint segments (src/verify/segments.ts) with real training (tfjs wasm, Iris MLP, Adam):
 * runStage's checkpoints chain up bit for bit, an honest stage passes every segment, a checkpoint list
 * that a cheater rewrote in one segment (root recomputed to match) is caught by re-executing that
 * segment, and a fetched start state that is not the listed one is reported as such.
 */
import { expect } from "chai";
import type { Hex } from "viem";
import { checkpointRoot } from "../../src/protocol/checkpoints";
import { chooseSample } from "../../src/verify/reexecute";
import { verifySegments, type SegmentInput } from "../../src/verify/segments";
import {
  initialState,
  loadIris,
  prepareJob,
  runSegment,
  runStage,
  stateHash,
  takeSamples,
  Trainer,
  type JobSpec,
  type StageResult,
} from "../support/ml-exports";
import { ADAM, irisSpec, RHO_CTX } from "../support/ml-fixtures";

const STEPS = 7;
const EVERY = 2; // checkpoints after steps 2, 4, 6, 7: four segments, the last one step long
const BATCH = 10;

describe("verify: step-checkpoint segments (real training)", function () {
  this.timeout(60_000);
  let spec: JobSpec;
  let s0: Uint8Array;
  let batches: ReturnType<typeof loadIris>;
  let result: StageResult;
  let states: Map<string, Uint8Array>;

  before(async () => {
    spec = await irisSpec(ADAM, STEPS, BATCH, EVERY);
    s0 = await initialState(spec);
    batches = takeSamples(loadIris(1), 0, STEPS * BATCH);
    result = await runStage(spec, s0, batches, RHO_CTX);
    states = new Map(result.checkpoints.map((h, j) => [h, result.checkpointStates[j]]));
  });

  const input = (over: Partial<SegmentInput> = {}): SegmentInput => ({
    spec,
    stage: 1,
    startState: s0,
    parentHash: stateHash(s0),
    stateHash: result.stateHash,
    batches,
    checkpoints: result.checkpoints,
    expectedRoot: checkpointRoot(result.checkpoints),
    fetchState: async (h) => {
      const bytes = states.get(h);
      if (bytes === undefined) throw new Error(`no state ${h}`);
      return bytes;
    },
    ...over,
  });

  it("runStage takes a checkpoint every 2 steps and at the end, without changing the training", async () => {
    expect(result.checkpoints).to.have.length(4);
    expect(result.checkpoints[3]).to.equal(result.stateHash);
    expect(result.checkpointStates[3]).to.equal(result.state);
    result.checkpointStates.forEach((bytes, j) => expect(stateHash(bytes)).to.equal(result.checkpoints[j]));
    const plain = await runStage(await irisSpec(ADAM, STEPS, BATCH, 0), s0, batches, RHO_CTX);
    expect(plain.checkpoints).to.deep.equal([]);
    expect(plain.checkpointStates).to.deep.equal([]);
    expect(plain.stateHash).to.equal(result.stateHash);
    expect(plain.rho).to.equal(result.rho);
    // every segment re-executed from its start reproduces its end bit for bit
    const job = await prepareJob(spec);
    const trainer = new Trainer(job.spec, job.model);
    try {
      const bounds = [0, 2, 4, 6, 7];
      for (let j = 0; j < 4; j++) {
        const start = j === 0 ? s0 : result.checkpointStates[j - 1];
        expect(runSegment(trainer, start, batches, bounds[j], bounds[j + 1]).stateHash).to.equal(
          result.checkpoints[j],
        );
      }
    } finally {
      trainer.dispose();
    }
  });

  it("an honest stage passes every segment; the detection probability is K / m", async () => {
    const all = await verifySegments(input(), { count: 4, seed: 1 });
    expect(all.checks.filter((c) => !c.ok)).to.deep.equal([]);
    expect(all.reexecuted).to.deep.equal([0, 1, 2, 3]);
    expect(all.checks.filter((c) => c.id === "segment-reexec")).to.have.length(4);
    expect(all.detection).to.equal(1);
    const one = await verifySegments(input(), { count: 1, seed: 5 });
    expect(one.reexecuted).to.have.length(1);
    expect(one.detection).to.equal(0.25);
    expect(one.checks.every((c) => c.ok)).to.equal(true);
  });

  it("a list rewritten in one segment (root recomputed) is caught when that segment is re-executed", async () => {
    // The cheater replaces checkpoint 1 (end of segment 1) by a state trained on other data, stores it
    // so it can be fetched, and commits to the root of the rewritten list.
    const job = await prepareJob(spec);
    const trainer = new Trainer(job.spec, job.model);
    let fake: { state: Uint8Array; stateHash: Hex };
    try {
      const other = takeSamples(loadIris(2), 0, STEPS * BATCH);
      fake = runSegment(trainer, result.checkpointStates[0], other, 2, 4);
    } finally {
      trainer.dispose();
    }
    expect(fake.stateHash).to.not.equal(result.checkpoints[1]);
    states.set(fake.stateHash, fake.state);
    const forged = [...result.checkpoints];
    forged[1] = fake.stateHash;
    const cheat = input({ checkpoints: forged, expectedRoot: checkpointRoot(forged) });

    // a seed that draws segment 1 catches it, and the check names the segment
    const seedOf = (j: number) =>
      [...Array(100).keys()].find((s) => chooseSample([0, 1, 2, 3], 1, s)[0] === j)!;
    const caught = await verifySegments(cheat, { count: 1, seed: seedOf(1) });
    expect(caught.reexecuted).to.deep.equal([1]);
    const bad = caught.checks.filter((c) => !c.ok);
    expect(bad).to.have.length(1);
    expect(bad[0].id).to.equal("segment-reexec");
    expect(bad[0].message).to.match(
      /stage 1 segment 1 \(steps 3\.\.4\) re-executed from checkpoint 0 gives 0x/,
    );
    expect(bad[0].message).to.include(`listed checkpoint 1 = ${fake.stateHash}`);
    // segment 2 starts from the forged state and does not reach the honest checkpoint 2 either
    const next = await verifySegments(cheat, { count: 1, seed: seedOf(2) });
    expect(next.checks.filter((c) => !c.ok).map((c) => c.message)).to.have.length(1);
    // segment 0 and segment 3's predecessors are honest: drawing 0 misses the lie
    const missed = await verifySegments(cheat, { count: 1, seed: seedOf(0) });
    expect(missed.checks.every((c) => c.ok)).to.equal(true);
    // re-executing everything catches it in segments 1 and 2
    const all = await verifySegments(cheat, { count: 4, seed: 0 });
    expect(all.checks.filter((c) => !c.ok).map((c) => c.message.slice(0, 17))).to.deep.equal([
      "stage 1 segment 1",
      "stage 1 segment 2",
    ]);
    // the same list against the honest root is refused before any training
    const wrongRoot = await verifySegments(input({ checkpoints: forged }), { count: 4, seed: 0 });
    expect(wrongRoot.checks).to.have.length(1);
    expect(wrongRoot.checks[0].message).to.match(
      /hash to root 0x[0-9a-f]{64}, but the declaration committed to/,
    );
  });

  it("a fetched start state that does not match its hash is reported with its own message", async () => {
    const swapped = input({
      fetchState: async (h) => (h === result.checkpoints[0] ? result.checkpointStates[1] : states.get(h)!),
    });
    const r = await verifySegments(swapped, { count: 4, seed: 0 });
    const bad = r.checks.filter((c) => !c.ok);
    expect(bad).to.have.length(1);
    expect(bad[0].id).to.equal("segment-start");
    expect(bad[0].message).to.equal(
      `stage 1 segment 1 (steps 3..4): the state fetched as its start (checkpoint 0) hashes to ${result.checkpoints[1]}, not to the listed ${result.checkpoints[0]}`,
    );
    const missing = await verifySegments(
      input({ fetchState: async () => Promise.reject(new Error("timeout")) }),
      {
        count: 4,
        seed: 0,
      },
    );
    expect(missing.checks.filter((c) => !c.ok).map((c) => c.id)).to.deep.equal([
      "segment-start",
      "segment-start",
      "segment-start",
    ]);
    const wrongS0 = await verifySegments(input({ parentHash: result.checkpoints[0] }), { count: 4, seed: 0 });
    expect(wrongS0.checks.filter((c) => !c.ok)[0].message).to.match(/start \(S_0\) hashes to/);
  });
});
