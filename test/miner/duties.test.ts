/**
 * The pure duty logic on the split contracts: pipelining, stale speculative work, never declaring twice,
 * bonds, builders (declarants, after a jury decision anyone), committees, juries (requests, draws, the
 * commit and reveal windows, redraws, juror slashes), declaration slashes and releases, one claim per job.
 */
import { EMPTY_CHECKPOINT_ROOT } from "../../src/protocol/checkpoints";
import { NO_METRIC } from "../../src/protocol/outcome";
import { expect } from "chai";
import type { Address, Hex } from "viem";
import type { Committee, LedgerEvent } from "../../src/chain/pot-contracts";
import { commitmentHash } from "../../src/protocol/messages";
import {
  builderOrder,
  claimCandidates,
  computeDuties,
  doneKey,
  dutyId,
  headerStillWanted,
  juryStepNoLongerNeeded,
  lostHeaderRace,
  poaExpired,
  slashNoLongerNeeded,
  voidNoLongerNeeded,
  STAGE_PHASE,
  type Duty,
  type DutyInput,
  type Owed,
} from "../../src/miner/duties";
import { pruneState } from "../../src/miner/bookkeeping";
import { emptyState, resultKey, stageKey, voteKey, type MinerState } from "../../src/miner/state";
import { applyEvent, emptyView, pruneView, type ChainView } from "../../src/miner/view";

const ME = "0x00000000000000000000000000000000000000a1" as Address;
const B = "0x00000000000000000000000000000000000000b2" as Address;
const C = "0x00000000000000000000000000000000000000c3" as Address;
const D = "0x00000000000000000000000000000000000000d4" as Address;
const h = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const P0 = h(100);
const R1 = h(101);
const R2 = h(102);
const X1 = h(201);
const RHO = h(55);
const SEED = h(42);
const DOMAIN = h(777);
let logIndex = 0;
const pos = (blockNumber = 1n) => ({
  blockNumber,
  logIndex: logIndex++,
  blockHash: h(9999),
  txHash: h(8888),
});

function job(view: ChainView, jobId = 1n, numStages = 3, c = 2, k = 2): void {
  applyEvent(view, {
    ...pos(),
    kind: "JobCreated",
    jobId,
    employer: C,
    fee: 3000n,
    specCid: "0x01",
    manifestRoot: h(1),
    initialStateHash: P0,
    numStages,
    c,
    k,
    stageSeconds: 60,
    minDeclareSeconds: 0,
    deadline: 10_000n,
  });
}
const open = (view: ChainView, stage: number, parentHash: Hex, jobId = 1n, seed = SEED) =>
  applyEvent(view, {
    ...pos(),
    kind: "StageOpened",
    jobId,
    stage,
    parentHash,
    seed,
    deadline: 5_000n,
    notBefore: 0n,
  });
/** A declaration whose commitment opens against `rho` (in DOMAIN). */
const declared = (
  view: ChainView,
  stage: number,
  declarer: Address,
  resultHash: Hex,
  jobId = 1n,
  rho = RHO,
  rand = h(8),
) =>
  applyEvent(view, {
    ...pos(),
    kind: "Declared",
    jobId,
    stage,
    declarer,
    resultHash,
    commitment: commitmentHash({ domain: DOMAIN, rho, rand, declarer, jobId, stage }),
    rand,
    timestamp: 1n,
  });
const closing = (view: ChainView, stage: number, closeBlock: bigint, disputed = false, jobId = 1n) =>
  applyEvent(view, { ...pos(), kind: "DeclarationsClosing", jobId, stage, closeBlock, disputed });
const header = (
  view: ChainView,
  stage: number,
  result: Hex,
  builder: Address,
  o: { rho?: Hex; jobId?: bigint; openers?: Address[]; faulty?: Address[]; parent?: Hex } = {},
) =>
  applyEvent(view, {
    ...pos(10n),
    kind: "HeaderSubmitted",
    jobId: o.jobId ?? 1n,
    stage,
    builder,
    headerHash: h(4000 + stage),
    header: {
      builder,
      parent: o.parent ?? P0,
      seed: SEED,
      result,
      rho: o.rho ?? RHO,
      resultCidHash: h(3),
      timestamp: 1n,
    },
    resultCid: "0x01",
    openers: o.openers ?? [builder],
    weights: (o.openers ?? [builder]).map(() => 1n),
    faulty: o.faulty ?? [],
    randBlock: 11n,
  });
const wrapped = (view: ChainView, stage: number, jobId = 1n, blockNumber = 20n) =>
  applyEvent(view, {
    ...pos(blockNumber),
    kind: "BlockWrapped",
    index: BigInt(stage),
    blockHash: h(1),
    jobId,
    stage,
    parentBlockHash: h(0),
    headerHash: h(4000 + stage),
    attesters: [],
    wrapper: C,
    timestamp: 0n,
  });
const juryRequested = (view: ChainView, stage: number, round: number, randBlock: bigint) =>
  applyEvent(view, { ...pos(), kind: "JuryRequested", jobId: 1n, stage, round, randBlock });
const juryDrawn = (view: ChainView, stage: number, round: number, seats: Address[], commitEnd: bigint) =>
  applyEvent(view, {
    ...pos(),
    kind: "JuryDrawn",
    jobId: 1n,
    stage,
    round,
    seats,
    commitEnd,
    revealEnd: commitEnd + 10n,
  });
const juryCommitted = (view: ChainView, stage: number, round: number, juror: Address) =>
  applyEvent(view, { ...pos(), kind: "JuryCommitted", jobId: 1n, stage, juror, round, commitment: h(3) });
const juryVoted = (
  view: ChainView,
  stage: number,
  round: number,
  juror: Address,
  resultHash: Hex,
  rho = RHO,
) =>
  applyEvent(view, {
    ...pos(),
    kind: "JuryVoted",
    jobId: 1n,
    stage,
    juror,
    round,
    resultHash,
    rho,
    seats: 1,
  });
const decided = (view: ChainView, stage: number, resultHash: Hex, rho = RHO) =>
  applyEvent(view, { ...pos(30n), kind: "StageDecided", jobId: 1n, stage, resultHash, rho });

function result(
  state: MinerState,
  stage: number,
  parentHash: Hex,
  resultHash: Hex,
  speculative = false,
  jobId = 1n,
): void {
  // the record's state hash is its result hash here, so the next stage's parent is `resultHash` (the duty
  // logic under test compares results with results and parents with state hashes, never the two)
  state.results[resultKey(jobId, stage, parentHash)] = {
    jobId: jobId.toString(),
    stage,
    parentHash,
    resultHash,
    outcome: {
      stateHash: resultHash,
      checkpointRoot: EMPTY_CHECKPOINT_ROOT,
      heldOutLoss: NO_METRIC,
      heldOutAccuracy: NO_METRIC,
    },
    checkpoints: [],
    rho: RHO,
    resultCid: "bafk",
    meanLoss: 1,
    speculative,
  };
}
function declaration(
  state: MinerState,
  stage: number,
  parentHash: Hex,
  resultHash: Hex,
  status: "prepared" | "sent" | "confirmed",
  jobId = 1n,
): void {
  state.declarations[stageKey(jobId, stage)] = {
    jobId: jobId.toString(),
    stage,
    parentHash,
    seed: SEED,
    resultHash,
    rho: RHO,
    rand: h(8),
    commitment: h(7),
    resultCid: "bafk",
    status,
  };
}

function duties(view: ChainView, state: MinerState, over: Partial<DutyInput> = {}): Duty[] {
  return computeDuties({
    view,
    state,
    me: ME,
    blockNumber: 5n,
    now: 100n,
    committees: new Map(),
    accepts: () => true,
    speculationDepth: 1,
    builderGraceBlocks: 3n,
    claimableWei: 0n,
    withdrawMinWei: 1n,
    owed: new Map(),
    dummyClaimMinCoinbase: 10n,
    inFlight: new Set(),
    domain: DOMAIN,
    ...over,
  });
}
const kinds = (ds: Duty[]) => ds.map((d) => `${d.kind}${"stage" in d ? `:${d.stage}` : ""}`);
const ofKind = <K extends Duty["kind"]>(ds: Duty[], kind: K) =>
  ds.filter((d): d is Extract<Duty, { kind: K }> => d.kind === kind);

describe("miner duties (pure)", () => {
  let view: ChainView;
  let state: MinerState;
  beforeEach(() => {
    view = emptyView();
    state = emptyState(31337, B, ME);
    job(view);
  });

  it("trains an open stage, then declares it with the stage's (parent, seed) once a result is held", () => {
    open(view, 1, P0);
    expect(kinds(duties(view, state))).to.deep.equal(["train:1"]);
    result(state, 1, P0, R1);
    expect(ofKind(duties(view, state), "declare")).to.deep.equal([
      { kind: "declare", jobId: 1n, stage: 1, parentHash: P0, seed: SEED, resultKey: resultKey(1n, 1, P0) },
    ]);
  });

  it("never declares twice: not after a confirmed declaration, nor when the chain already has ours", () => {
    open(view, 1, P0);
    result(state, 1, P0, R1);
    declaration(state, 1, P0, R1, "confirmed");
    expect(kinds(duties(view, state))).to.not.include("declare:1");
    const fresh = emptyState(31337, B, ME);
    result(fresh, 1, P0, R1);
    declared(view, 1, ME, R1);
    expect(kinds(duties(view, fresh))).to.not.include("declare:1");
  });

  it("re-sends a prepared or sent declaration the chain does not show (the agent checks the chain first)", () => {
    open(view, 1, P0);
    declaration(state, 1, P0, R1, "sent");
    expect(kinds(duties(view, state))).to.include("declare:1");
  });

  it("does not declare into a closed stage, or one whose job the policy refuses", () => {
    open(view, 1, P0);
    result(state, 1, P0, R1);
    declared(view, 1, B, R1);
    declared(view, 1, C, R1);
    closing(view, 1, 6n);
    expect(kinds(duties(view, state, { blockNumber: 5n }))).to.not.include("declare:1");
    expect(kinds(duties(view, state, { blockNumber: 4n }))).to.include("declare:1");
    const v2 = emptyView();
    job(v2);
    open(v2, 1, P0);
    expect(duties(v2, emptyState(1, B, ME), { accepts: () => false })).to.deep.equal([]);
  });

  it("declares only while its bond covers another declaration, and not over its own unslashed faulty one", () => {
    open(view, 1, P0);
    result(state, 1, P0, R1);
    expect(kinds(duties(view, state, { bondRoom: 0 }))).to.not.include("declare:1");
    expect(kinds(duties(view, state, { bondRoom: 1 }))).to.include("declare:1");
    // Two open stages, room for one: one declaration.
    job(view, 2n);
    open(view, 1, P0, 2n);
    result(state, 1, P0, R1, false, 2n);
    expect(ofKind(duties(view, state, { bondRoom: 1 }), "declare")).to.have.length(1);
    expect(ofKind(duties(view, state, { bondRoom: 2 }), "declare")).to.have.length(2);
    // Our declaration of stage 1 was faulty and is still unslashed: stage 3 would revert UnsettledDeclaration.
    const v = emptyView();
    job(v);
    open(v, 1, P0);
    declared(v, 1, ME, R1, 1n, h(66));
    declared(v, 1, B, R1);
    header(v, 1, R1, B, { openers: [B], faulty: [ME] });
    wrapped(v, 1);
    open(v, 3, R2);
    const s = emptyState(31337, B, ME);
    result(s, 3, R2, h(103));
    const ds = duties(v, s);
    expect(kinds(ds)).to.not.include("declare:3");
    // ... so it slashes it itself (the reporter's bounty is better than another's), after which it declares.
    expect(ofKind(ds, "slash").map((d) => d.declarer)).to.deep.equal([ME]);
    applyEvent(v, { ...pos(), kind: "DeclarationSettled", jobId: 1n, stage: 1, declarer: ME, status: 3 });
    expect(kinds(duties(v, s))).to.include("declare:3");
  });

  it("pipelines: trains stage 2 from its own S_1 before stage 2 opens, and only one stage ahead", () => {
    open(view, 1, P0);
    result(state, 1, P0, R1);
    declaration(state, 1, P0, R1, "confirmed");
    declared(view, 1, ME, R1);
    const ds = duties(view, state);
    expect(ds).to.deep.include({
      kind: "train",
      jobId: 1n,
      stage: 2,
      parentHash: R1,
      speculative: true,
      reason: "pipeline",
    });
    result(state, 2, R1, R2, true);
    expect(kinds(duties(view, state))).to.not.include("train:3");
    expect(duties(view, state, { speculationDepth: 0 }).some((d) => d.kind === "train")).to.equal(false);
  });

  it("pipelines deeper: with depth 3 it trains each next link of its own chain, never past depth or the last stage", () => {
    view = emptyView();
    job(view, 1n, 4);
    open(view, 1, P0);
    result(state, 1, P0, R1);
    declared(view, 1, ME, R1);
    const trains = (depth: number) =>
      ofKind(duties(view, state, { speculationDepth: depth }), "train").map(
        (d) => `${d.stage}<-${d.parentHash}`,
      );
    expect(trains(3)).to.deep.equal([`2<-${R1}`]);
    result(state, 2, R1, R2, true);
    expect(trains(3)).to.deep.equal([`3<-${R2}`]);
    result(state, 3, R2, h(33), true);
    expect(trains(3)).to.deep.equal([`4<-${h(33)}`]);
    expect(trains(2)).to.deep.equal([]);
    result(state, 4, h(33), h(34), true);
    expect(trains(10)).to.deep.equal([]);
  });

  it("uses the speculative result when the chain opens the stage from the same parent", () => {
    open(view, 1, P0);
    result(state, 1, P0, R1);
    declaration(state, 1, P0, R1, "confirmed");
    result(state, 2, R1, R2, true);
    header(view, 1, R1, B);
    open(view, 2, R1);
    const ds = duties(view, state);
    expect(kinds(ds)).to.include("declare:2");
    expect(kinds(ds)).to.not.include("train:2");
    expect(ds.some((d) => d.kind === "drop")).to.equal(false);
  });

  it("drops speculative work when the chain opens the stage from another parent, and trains from that one", () => {
    open(view, 1, P0);
    result(state, 1, P0, R1);
    declaration(state, 1, P0, R1, "confirmed");
    result(state, 2, R1, R2, true);
    header(view, 1, X1, B);
    open(view, 2, X1);
    const ds = duties(view, state);
    expect(ds).to.deep.include({
      kind: "drop",
      key: resultKey(1n, 2, R1),
      reason: "the chain opened the stage from another parent",
    });
    expect(ds).to.deep.include({
      kind: "train",
      jobId: 1n,
      stage: 2,
      parentHash: X1,
      speculative: false,
      reason: "stage-open",
    });
  });

  it("builds the header only after close, with its own pair, in builder-rank order", () => {
    open(view, 1, P0);
    result(state, 1, P0, R1);
    declaration(state, 1, P0, R1, "confirmed");
    declared(view, 1, ME, R1);
    declared(view, 1, B, R1);
    closing(view, 1, 8n);
    expect(kinds(duties(view, state, { blockNumber: 5n }))).to.not.include("header:1");
    const rank = builderOrder(1n, 1, [ME, B]).findIndex((a) => a === ME);
    // Ranked `rank`: may build from closeBlock + rank * grace on.
    const from = 8n + BigInt(rank) * 3n;
    expect(kinds(duties(view, state, { blockNumber: from - 1n }))).to.not.include("header:1");
    expect(ofKind(duties(view, state, { blockNumber: from }), "header")).to.deep.equal([
      {
        kind: "header",
        jobId: 1n,
        stage: 1,
        pair: { result: R1, rho: RHO },
        resultKey: resultKey(1n, 1, P0),
      },
    ]);
    // Fewer than C declarations never close a stage: no header.
    const v = emptyView();
    job(v, 1n, 3, 3);
    open(v, 1, P0);
    declared(v, 1, ME, R1);
    declared(v, 1, B, R1);
    expect(kinds(duties(v, state, { blockNumber: 100n }))).to.not.include("header:1");
  });

  it("header race: sends only while PoTStages still takes a header, and a WrongPhase after a competing header is a benign loss", () => {
    expect(headerStillWanted(STAGE_PHASE.open)).to.equal(true);
    expect(headerStillWanted(STAGE_PHASE.decided)).to.equal(true);
    expect(headerStillWanted(STAGE_PHASE.headered)).to.equal(false);
    expect(headerStillWanted(STAGE_PHASE.wrapped)).to.equal(false);
    expect(headerStillWanted(STAGE_PHASE.jury)).to.equal(false);
    expect(headerStillWanted(STAGE_PHASE.none)).to.equal(false);
    expect(lostHeaderRace("WrongPhase", STAGE_PHASE.headered)).to.equal(true);
    expect(lostHeaderRace("WrongPhase", STAGE_PHASE.wrapped)).to.equal(true);
    expect(lostHeaderRace("NotClosed", STAGE_PHASE.headered)).to.equal(false);
    expect(lostHeaderRace("WrongPhase", STAGE_PHASE.jury)).to.equal(false);
    expect(lostHeaderRace(undefined, STAGE_PHASE.headered)).to.equal(false);
    open(view, 1, P0);
    result(state, 1, P0, R1);
    declaration(state, 1, P0, R1, "confirmed");
    declared(view, 1, ME, R1);
    declared(view, 1, B, R1);
    closing(view, 1, 8n);
    expect(kinds(duties(view, state, { blockNumber: 100n }))).to.include("header:1");
    header(view, 1, R1, B);
    expect(kinds(duties(view, state, { blockNumber: 100n }))).to.not.include("header:1");
  });

  it("a disputed closed stage gets no header but a jury request from its declarants; a stage whose predecessor is not wrapped gets no header", () => {
    open(view, 1, P0);
    declaration(state, 1, P0, X1, "confirmed");
    declared(view, 1, ME, X1);
    declared(view, 1, B, R1);
    declared(view, 1, C, R1);
    closing(view, 1, 4n, true);
    const ds = duties(view, state, { blockNumber: 20n });
    expect(kinds(ds)).to.not.include("header:1");
    expect(ofKind(ds, "request-jury")).to.deep.equal([
      { kind: "request-jury", jobId: 1n, stage: 1, reason: "disputed" },
    ]);
    // Not a declarant: leaves the request to those who declared.
    const outsider = duties(view, emptyState(1, B, D), { blockNumber: 20n, me: D });
    expect(kinds(outsider)).to.not.include("request-jury:1");
    // Once PoTStages sent it to the jury, no more requests.
    applyEvent(view, { ...pos(), kind: "StageToJury", jobId: 1n, stage: 1, reason: 1 });
    expect(kinds(duties(view, state, { blockNumber: 20n }))).to.not.include("request-jury:1");
    // Stage 2 closed but stage 1 not wrapped yet.
    const v = emptyView();
    job(v);
    open(v, 1, P0);
    open(v, 2, R1);
    const s = emptyState(1, B, ME);
    declaration(s, 2, R1, R2, "confirmed");
    result(s, 2, R1, R2);
    declared(v, 2, ME, R2);
    declared(v, 2, B, R2);
    closing(v, 2, 4n);
    expect(kinds(duties(v, s, { blockNumber: 50n }))).to.not.include("header:2");
    wrapped(v, 1, 1n, 30n);
    expect(kinds(duties(v, s, { blockNumber: 50n }))).to.include("header:2");
  });

  it("requests a jury for a stalled stage (closed, undisputed, no header headerTimeoutSeconds after its deadline), as anyone", () => {
    open(view, 1, P0); // deadline 5,000
    declared(view, 1, B, R1);
    declared(view, 1, C, R1);
    closing(view, 1, 4n);
    const other = emptyState(1, B, ME);
    const at = (now: bigint, over: Partial<DutyInput> = {}) =>
      ofKind(
        duties(view, other, { blockNumber: 20n, now, headerTimeoutSeconds: 120n, ...over }),
        "request-jury",
      );
    expect(at(5_119n)).to.deep.equal([]);
    expect(at(5_120n)).to.deep.equal([{ kind: "request-jury", jobId: 1n, stage: 1, reason: "stalled" }]);
    expect(at(9_000n, { headerTimeoutSeconds: undefined })).to.deep.equal([]);
    header(view, 1, R1, B);
    expect(at(9_000n)).to.deep.equal([]);
    // Voided, and nobody rebuilt it within the timeout after the void (voidedAt from PoTStages).
    applyEvent(view, {
      ...pos(),
      kind: "HeaderVoided",
      jobId: 1n,
      stage: 1,
      headerHash: h(4001),
      builder: B,
    });
    expect(at(9_000n)).to.deep.equal([]); // when it was voided is not known yet
    const voidedAt = new Map([[stageKey(1n, 1), 8_000n]]);
    expect(at(8_119n, { voidedAt })).to.deep.equal([]);
    expect(at(8_120n, { voidedAt })).to.deep.equal([
      { kind: "request-jury", jobId: 1n, stage: 1, reason: "stalled" },
    ]);
  });

  it("draws a requested round after its randomness block, and redraws one undrawn too long or past its reveal window undecided", () => {
    open(view, 1, P0);
    declared(view, 1, B, R1);
    declared(view, 1, C, X1);
    juryRequested(view, 1, 0, 10n);
    const jury = (blockNumber: bigint) =>
      duties(view, state, { blockNumber, drawWindowBlocks: 32n })
        .filter((d) => d.kind === "draw-jury" || d.kind === "redraw-jury")
        .map((d) => `${d.kind}:${"round" in d ? d.round : ""}`);
    expect(jury(10n)).to.deep.equal([]);
    expect(jury(11n)).to.deep.equal(["draw-jury:0"]);
    expect(jury(43n)).to.deep.equal(["redraw-jury:0"]);
    juryDrawn(view, 1, 0, [B, C, D], 20n); // reveal ends at 30
    expect(jury(30n)).to.deep.equal([]);
    expect(jury(31n)).to.deep.equal(["redraw-jury:0"]);
    juryRequested(view, 1, 1, 32n);
    expect(jury(33n)).to.deep.equal(["draw-jury:1"]);
    decided(view, 1, R1);
    expect(jury(100n)).to.deep.equal([]);
  });

  it("as a juror: trains, commits within the commit window, reveals in the reveal window (also after a decision)", () => {
    open(view, 1, P0);
    declared(view, 1, B, R1);
    declared(view, 1, C, X1);
    applyEvent(view, { ...pos(), kind: "StageToJury", jobId: 1n, stage: 1, reason: 1 });
    juryRequested(view, 1, 0, 6n);
    juryDrawn(view, 1, 0, [B, ME, ME], 20n); // two seats of three: drawn with replacement
    const jury = (blockNumber: bigint) =>
      duties(view, state, { blockNumber, speculationDepth: 0 }).filter((d) =>
        ["commit-vote", "reveal-vote", "train"].includes(d.kind),
      );
    expect(kinds(jury(10n))).to.deep.equal(["train:1"]);
    result(state, 1, P0, R1);
    expect(jury(19n)).to.deep.equal([
      { kind: "commit-vote", jobId: 1n, stage: 1, round: 0, resultKey: resultKey(1n, 1, P0) },
    ]);
    expect(jury(20n)).to.deep.equal([]); // the next block is past commitEnd
    juryCommitted(view, 1, 0, ME);
    expect(jury(20n)).to.deep.equal([]); // reveals only once the latest block is past commitEnd
    expect(jury(21n)).to.deep.equal([{ kind: "reveal-vote", jobId: 1n, stage: 1, round: 0 }]);
    expect(jury(30n)).to.deep.equal([]); // the next block is past revealEnd
    // A decision by the others does not excuse our reveal (an unrevealed seat is slashed as absent).
    decided(view, 1, R1);
    expect(jury(25n)).to.deep.equal([{ kind: "reveal-vote", jobId: 1n, stage: 1, round: 0 }]);
    // Confirmed in the state (the view lags): nothing more.
    state.votes[voteKey(1n, 1, 0)] = {
      jobId: "1",
      stage: 1,
      round: 0,
      resultHash: R1,
      rho: RHO,
      salt: h(5),
      commitStatus: "confirmed",
      status: "confirmed",
    };
    expect(jury(25n)).to.deep.equal([]);
  });

  it("slashes absent jurors and those who revealed against the decision after the reveal window, never itself, once", () => {
    open(view, 1, P0);
    juryRequested(view, 1, 0, 6n);
    juryDrawn(view, 1, 0, [B, C, C, D, ME], 20n); // reveal ends at 30
    juryVoted(view, 1, 0, B, R1);
    juryVoted(view, 1, 0, C, R1);
    juryVoted(view, 1, 0, D, X1);
    const slashes = (blockNumber: bigint) =>
      ofKind(duties(view, state, { blockNumber }), "slash-juror").map((d) => `${d.round}:${d.juror}`);
    expect(slashes(30n)).to.deep.equal([]);
    expect(slashes(31n)).to.deep.equal([]); // no decision: a vote is no fault yet; ME is absent but never self-reported
    decided(view, 1, R1);
    expect(slashes(31n)).to.deep.equal([`0:${D}`]);
    const v = emptyView();
    job(v);
    open(v, 1, P0);
    juryRequested(v, 1, 0, 6n);
    juryDrawn(v, 1, 0, [B, C, D], 20n);
    juryVoted(v, 1, 0, B, R1);
    const s = (blockNumber: bigint, st = state) =>
      ofKind(duties(v, st, { blockNumber }), "slash-juror").map((d) => d.juror);
    expect(s(31n)).to.deep.equal([C, D]);
    state.done[doneKey.slashJuror(1n, 1, 0, C)] = "reverted:NotAFault";
    expect(s(31n)).to.deep.equal([D]);
  });

  it("after a jury decision, any staker holding the decided result builds with the decided pair, never a barred builder", () => {
    open(view, 1, P0);
    declared(view, 1, B, R1);
    declared(view, 1, C, X1, 1n, h(66));
    juryRequested(view, 1, 0, 6n);
    juryDrawn(view, 1, 0, [ME, D, D], 20n);
    juryVoted(view, 1, 0, ME, R1);
    juryVoted(view, 1, 0, D, R1);
    decided(view, 1, R1); // decided at block 30
    // ME (a juror, no declaration) holds the result: it builds, after the declarant B's turn if B ranks first.
    result(state, 1, P0, R1);
    const order = builderOrder(1n, 1, [B, D, ME]);
    const from = 30n + BigInt(order.indexOf(ME)) * 3n;
    expect(kinds(duties(view, state, { blockNumber: from - 1n }))).to.not.include("header:1");
    expect(ofKind(duties(view, state, { blockNumber: from }), "header")).to.deep.equal([
      {
        kind: "header",
        jobId: 1n,
        stage: 1,
        pair: { result: R1, rho: RHO },
        resultKey: resultKey(1n, 1, P0),
      },
    ]);
    // Holding another rho for the result: not the decided pair, no header.
    const other = emptyState(1, B, ME);
    other.results[resultKey(1n, 1, P0)] = { ...state.results[resultKey(1n, 1, P0)], rho: h(66) };
    expect(kinds(duties(view, other, { blockNumber: 100n }))).to.not.include("header:1");
    // A builder whose header was voided is barred from rebuilding the stage.
    applyEvent(view, { ...pos(), kind: "HeaderVoided", jobId: 1n, stage: 1, headerHash: h(1), builder: ME });
    expect(kinds(duties(view, state, { blockNumber: 100n }))).to.not.include("header:1");
  });

  it("attests as a seat holder (seats with replacement), wraps once every other holder attested, and ignores committees it is not in", () => {
    open(view, 1, P0);
    header(view, 1, R1, B);
    const committee: Committee = { round: 0, members: [ME, C, C], lastBlock: 40n };
    const committees = new Map([[stageKey(1n, 1), committee]]);
    expect(kinds(duties(view, state, { committees }))).to.include("attest:1");
    applyEvent(view, { ...pos(12n), kind: "Attested", jobId: 1n, stage: 1, member: C, round: 0 });
    const ds = duties(view, state, { committees });
    expect(ofKind(ds, "wrap")).to.deep.equal([
      { kind: "wrap", jobId: 1n, stage: 1, round: 0, seats: [ME, C, C] },
    ]);
    expect(kinds(ds)).to.not.include("attest:1");
    const notMine = new Map([[stageKey(1n, 1), { round: 0, members: [D, C], lastBlock: 40n }]]);
    expect(
      duties(view, state, { committees: notMine }).some((d) => d.kind === "attest" || d.kind === "wrap"),
    ).to.equal(false);
    const solo = new Map([[stageKey(1n, 1), { round: 1, members: [ME], lastBlock: 60n }]]);
    expect(kinds(duties(view, state, { committees: solo }))).to.include("wrap:1");
  });

  it("contests a header carrying our result with another rho", () => {
    open(view, 1, P0);
    declaration(state, 1, P0, R1, "confirmed");
    declared(view, 1, ME, R1);
    header(view, 1, R1, B, { rho: h(66) });
    expect(kinds(duties(view, state))).to.include("contest:1");
    state.done[doneKey.contest(1n, 1)] = "0x1";
    expect(kinds(duties(view, state))).to.not.include("contest:1");
  });

  it("claims once per ended job, and the dummy job whenever its coinbase reaches the threshold", () => {
    const owed = (entries: [string, Owed][]) => new Map(entries);
    const claims = (over: Partial<DutyInput>) =>
      ofKind(duties(view, state, over), "claim").map((d) => d.jobId);
    const some: Owed = { amount: 5n, coinbase: 0n };
    // An open job: its earnings grow until it ends; no claim yet.
    expect(claims({ owed: owed([["1", some]]) })).to.deep.equal([]);
    expect(claimCandidates(view, state, ME)).to.deep.equal([]);
    applyEvent(view, { ...pos(), kind: "JobFinished", jobId: 1n });
    expect(claimCandidates(view, state, ME)).to.deep.equal([1n]);
    expect(claims({ owed: owed([["1", some]]) })).to.deep.equal([1n]);
    expect(claims({ owed: owed([["1", { amount: 0n, coinbase: 0n }]]) })).to.deep.equal([]);
    // Claimed (by us or anyone for us): never again, and no more reads.
    applyEvent(view, { ...pos(), kind: "Claimed", jobId: 1n, account: ME, amount: 5n, coinbase: 0n });
    expect(claims({ owed: owed([["1", some]]) })).to.deep.equal([]);
    expect(claimCandidates(view, state, ME)).to.deep.equal([]);
    // An expired job is claimed too; a done marker (sent, or nothing owed) stops it.
    job(view, 2n);
    applyEvent(view, { ...pos(), kind: "JobExpired", jobId: 2n });
    expect(claims({ owed: owed([["2", some]]) })).to.deep.equal([2n]);
    state.done[doneKey.claim(2n)] = "nothing-owed";
    expect(claims({ owed: owed([["2", some]]) })).to.deep.equal([]);
    // The dummy job never ends: claimed whenever its coinbase reaches the threshold (10 here).
    job(view, 0n, 2 ** 32 - 1, 2, 1);
    expect(claimCandidates(view, state, ME)).to.deep.equal([0n]);
    expect(claims({ owed: owed([["0", { amount: 0n, coinbase: 9n }]]) })).to.deep.equal([]);
    expect(claims({ owed: owed([["0", { amount: 0n, coinbase: 10n }]]) })).to.deep.equal([0n]);
  });

  it("the dummy job is trained only while no employer job is open", () => {
    job(view, 0n, 2 ** 32 - 1, 2, 1);
    open(view, 1, P0, 0n);
    open(view, 1, P0, 1n);
    expect(ofKind(duties(view, state), "train").map((d) => d.jobId)).to.deep.equal([1n]);
    applyEvent(view, { ...pos(), kind: "JobFinished", jobId: 1n });
    expect(ofKind(duties(view, state), "train").map((d) => d.jobId)).to.deep.equal([0n]);
  });

  it("withdraws when enough is claimable, and skips duties in flight", () => {
    expect(kinds(duties(view, state, { claimableWei: 5n }))).to.deep.equal(["withdraw"]);
    expect(duties(view, state, { claimableWei: 5n, withdrawMinWei: 10n })).to.deep.equal([]);
    open(view, 1, P0);
    expect(duties(view, state, { inFlight: new Set([`train:1:1:${P0}`]) })).to.deep.equal([]);
  });

  describe("declaration slashes and releases", () => {
    const slashes = (v: ChainView, st: MinerState, over: Partial<DutyInput> = {}) =>
      ofKind(duties(v, st, over), "slash").map((d) => d.declarer);

    beforeEach(() => {
      open(view, 1, P0);
      declared(view, 1, ME, R1);
      declared(view, 1, B, R1, 1n, RHO, h(81)); // opens: honest
      declared(view, 1, C, R2, 1n, h(66)); // a wrong result
      declared(view, 1, D, R1, 1n, h(67)); // the right result with a made-up rho (a lazy copy)
    });

    it("slashes the faulty declarations of a wrapped stage against the wrapped pair", () => {
      header(view, 1, R1, B, { openers: [ME, B], faulty: [C, D] });
      expect(slashes(view, state)).to.deep.equal([]); // not wrapped yet
      wrapped(view, 1);
      expect(ofKind(duties(view, state), "slash")).to.deep.equal([
        { kind: "slash", jobId: 1n, stage: 1, declarer: C, pair: { result: R1, rho: RHO } },
        { kind: "slash", jobId: 1n, stage: 1, declarer: D, pair: { result: R1, rho: RHO } },
      ]);
    });

    it("does not slash one already slashed (event), already reported (done, benign revert included) or in flight", () => {
      header(view, 1, R1, B, { openers: [ME, B], faulty: [C, D] });
      wrapped(view, 1);
      applyEvent(view, {
        ...pos(21n),
        kind: "Slashed",
        jobId: 1n,
        stage: 1,
        staker: C,
        fault: 1,
        amount: 10n,
        reporter: B,
      });
      expect(slashes(view, state)).to.deep.equal([D]);
      state.done[doneKey.slash(1n, 1, D)] = "reverted:DeclarationSettled";
      expect(slashes(view, state)).to.deep.equal([]);
      delete state.done[doneKey.slash(1n, 1, D)];
      expect(slashes(view, state, { inFlight: new Set([doneKey.slash(1n, 1, D)]) })).to.deep.equal([]);
      expect(slashNoLongerNeeded("DeclarationSettled")).to.equal(true);
      expect(slashNoLongerNeeded("NotDeclared")).to.equal(true);
      expect(slashNoLongerNeeded("NoFinalOutcome")).to.equal(false);
      expect(slashNoLongerNeeded(undefined)).to.equal(false);
    });

    it("slashes declarations that do not open against a jury's decision at once, before the header", () => {
      expect(slashes(view, state)).to.deep.equal([]); // no decision yet
      decided(view, 1, R1);
      // PoTOpenings lets the decided stage be headered listing slashed declarations: no need to wait.
      expect(slashes(view, state)).to.deep.equal([C, D]);
      expect(slashes(view, state, { domain: undefined })).to.deep.equal([]);
      applyEvent(view, { ...pos(), kind: "JobExpired", jobId: 1n });
      expect(slashes(view, state)).to.deep.equal([C, D]);
    });

    it("releases its own bonded declaration of an expired job's unwrapped stage, unless the jury decided against it", () => {
      declaration(state, 1, P0, R1, "confirmed");
      const releases = () => ofKind(duties(view, state), "release");
      expect(releases()).to.deep.equal([]); // the job is open
      applyEvent(view, { ...pos(), kind: "JobExpired", jobId: 1n });
      expect(releases()).to.deep.equal([
        { kind: "release", jobId: 1n, stage: 1, pair: { result: R1, rho: RHO } },
      ]);
      applyEvent(view, {
        ...pos(),
        kind: "DeclarationSettled",
        jobId: 1n,
        stage: 1,
        declarer: ME,
        status: 4,
      });
      expect(releases()).to.deep.equal([]);
      // A jury decided another pair: not releasable (it is slashed instead).
      const v = emptyView();
      job(v);
      open(v, 1, P0);
      declared(v, 1, ME, R1);
      decided(v, 1, X1);
      applyEvent(v, { ...pos(), kind: "JobExpired", jobId: 1n });
      expect(ofKind(duties(v, state), "release")).to.deep.equal([]);
      // A wrapped stage's bond was settled by the wrap: nothing to release.
      const w = emptyView();
      job(w);
      open(w, 1, P0);
      declared(w, 1, ME, R1);
      header(w, 1, R1, ME);
      wrapped(w, 1);
      applyEvent(w, { ...pos(), kind: "JobExpired", jobId: 1n });
      expect(ofKind(duties(w, state), "release")).to.deep.equal([]);
    });

    it("voids a headered stage only after its PoA expired, once per header", () => {
      const EXP = 3n * 20n; // poaMaxRounds * poaWindowBlocks
      header(view, 1, R1, B); // randBlock 11
      const voids = (blockNumber: bigint, over: Partial<DutyInput> = {}) =>
        ofKind(duties(view, state, { blockNumber, poaExpiryBlocks: EXP, ...over }), "void");
      expect(poaExpired({ randBlock: 11n }, 71n, EXP)).to.equal(false);
      expect(poaExpired({ randBlock: 11n }, 72n, EXP)).to.equal(true);
      expect(voids(71n)).to.deep.equal([]);
      expect(voids(72n)).to.deep.equal([{ kind: "void", jobId: 1n, stage: 1, headerHash: h(4001) }]);
      expect(voids(500n, { poaExpiryBlocks: undefined })).to.deep.equal([]);
      state.done[doneKey.void(1n, 1, h(4001))] = "0xabc";
      expect(voids(500n)).to.deep.equal([]);
      delete state.done[doneKey.void(1n, 1, h(4001))];
      applyEvent(view, {
        ...pos(80n),
        kind: "HeaderVoided",
        jobId: 1n,
        stage: 1,
        headerHash: h(4001),
        builder: B,
      });
      expect(voids(500n)).to.deep.equal([]);
      expect(voidNoLongerNeeded("WrongPhase")).to.equal(true);
      expect(voidNoLongerNeeded("PoaNotExpired")).to.equal(false);
      expect(juryStepNoLongerNeeded("JuryAlreadyDrawn")).to.equal(true);
      expect(juryStepNoLongerNeeded("RandomnessNotReady")).to.equal(false);
    });

    it("after a void, the other declarants of the voided pair rebuild; the voided builder does not", () => {
      declaration(state, 1, P0, R1, "confirmed");
      result(state, 1, P0, R1);
      const v = emptyView();
      job(v);
      open(v, 1, P0);
      declared(v, 1, ME, R1);
      declared(v, 1, B, R1);
      closing(v, 1, 3n);
      header(v, 1, R1, B);
      applyEvent(v, {
        ...pos(80n),
        kind: "HeaderVoided",
        jobId: 1n,
        stage: 1,
        headerHash: h(4001),
        builder: B,
      });
      expect(ofKind(duties(v, state, { blockNumber: 80n }), "header")).to.deep.equal([
        {
          kind: "header",
          jobId: 1n,
          stage: 1,
          pair: { result: R1, rho: RHO },
          resultKey: resultKey(1n, 1, P0),
        },
      ]);
      const asB = emptyState(1, B, B);
      asB.declarations[stageKey(1n, 1)] = { ...state.declarations[stageKey(1n, 1)] };
      asB.results = { ...state.results };
      expect(kinds(duties(v, asB, { blockNumber: 200n, me: B }))).to.not.include("header:1");
    });
  });

  it("folding the same events twice (a reorg re-delivery) changes nothing", () => {
    const events: LedgerEvent[] = [];
    const apply = (e: LedgerEvent) => {
      events.push(e);
      applyEvent(view, e);
    };
    apply({
      ...pos(),
      kind: "StageOpened",
      jobId: 1n,
      stage: 1,
      parentHash: P0,
      seed: SEED,
      deadline: 9n,
      notBefore: 0n,
    });
    for (const who of [B, C])
      apply({
        ...pos(),
        kind: "Declared",
        jobId: 1n,
        stage: 1,
        declarer: who,
        resultHash: R1,
        commitment: h(7),
        rand: h(8),
        timestamp: 1n,
      });
    apply({ ...pos(), kind: "DeclarationsClosing", jobId: 1n, stage: 1, closeBlock: 4n, disputed: false });
    apply({ ...pos(), kind: "JuryRequested", jobId: 1n, stage: 1, round: 0, randBlock: 6n });
    apply({
      ...pos(),
      kind: "JuryDrawn",
      jobId: 1n,
      stage: 1,
      round: 0,
      seats: [B, C, C],
      commitEnd: 9n,
      revealEnd: 19n,
    });
    apply({ ...pos(), kind: "JuryCommitted", jobId: 1n, stage: 1, juror: B, round: 0, commitment: h(3) });
    apply({
      ...pos(),
      kind: "JuryVoted",
      jobId: 1n,
      stage: 1,
      juror: B,
      round: 0,
      resultHash: R1,
      rho: RHO,
      seats: 1,
    });
    apply({ ...pos(), kind: "StageDecided", jobId: 1n, stage: 1, resultHash: R1, rho: RHO });
    apply({ ...pos(), kind: "Claimed", jobId: 1n, account: B, amount: 1n, coinbase: 0n });
    const snapshot = (v: ChainView) =>
      JSON.stringify(
        { stages: [...v.stages.values()], jobs: [...v.jobs.values()], claims: [...v.claims] },
        (_k, x) =>
          typeof x === "bigint" ? x.toString() : x instanceof Map ? [...x] : x instanceof Set ? [...x] : x,
      );
    const before = snapshot(view);
    for (const e of events) applyEvent(view, e);
    expect(snapshot(view)).to.equal(before);
    // at a new position (a reorg moved the blocks): still one record per declaration, round and juror
    for (const e of events) applyEvent(view, { ...e, blockHash: h(1234), blockNumber: e.blockNumber + 1n });
    expect(view.stages.get("1:1")!.declarations.size).to.equal(2);
  });

  it("prunes long-wrapped stages whose faults are settled, and ignores late events about them", () => {
    for (let s = 1; s <= 6; s++) {
      open(view, s, h(100 + s - 1));
      declared(view, s, B, h(100 + s));
      header(view, s, h(100 + s), B, s === 2 ? { faulty: [C] } : {});
      wrapped(view, s);
    }
    expect(pruneView(view, 3)).to.equal(2); // stages 1 and 3 (stage 2 has an unslashed fault)
    expect([...view.stages.keys()]).to.deep.equal(["1:2", "1:4", "1:5", "1:6"]);
    applyEvent(view, { ...pos(), kind: "DeclarationSettled", jobId: 1n, stage: 2, declarer: C, status: 3 });
    expect(pruneView(view, 3)).to.equal(1);
    expect(view.prunedBelow.get("1")).to.equal(4);
    declared(view, 1, D, R1); // a late re-delivery about a pruned stage
    expect(view.stages.has("1:1")).to.equal(false);
    // The state forgets what it kept for pruned stages, and nothing else.
    declaration(state, 2, h(101), h(102), "confirmed");
    declaration(state, 4, h(103), h(104), "confirmed");
    result(state, 3, h(102), h(103));
    result(state, 4, h(103), h(104));
    state.done[doneKey.header(1n, 3)] = "0x1";
    state.done[doneKey.header(1n, 4)] = "0x2";
    state.done[doneKey.claim(1n)] = "0x3";
    expect(pruneState(state, view)).to.deep.equal([h(103)]);
    expect(Object.keys(state.declarations)).to.deep.equal([stageKey(1n, 4)]);
    expect(Object.keys(state.results)).to.deep.equal([resultKey(1n, 4, h(103))]);
    expect(Object.keys(state.done).sort()).to.deep.equal([doneKey.claim(1n), doneKey.header(1n, 4)].sort());
    expect(dutyId({ kind: "claim", jobId: 3n })).to.equal(doneKey.claim(3n));
  });
});
