/** The pure duty logic: pipelining, stale speculative work, never declaring twice, builders, committees. */
import { expect } from "chai";
import type { Address, Hex } from "viem";
import type { LedgerEvent } from "../../src/chain/pot-contracts";
import { commitmentHash } from "../../src/protocol/messages";
import {
  builderOrder,
  computeDuties,
  dutyId,
  headerStillWanted,
  lostHeaderRace,
  poaExpired,
  slashDoneKey,
  slashNoLongerNeeded,
  voidDoneKey,
  voidNoLongerNeeded,
  STAGE_PHASE,
  type Duty,
  type DutyInput,
} from "../../src/miner/duties";
import { emptyState, resultKey, stageKey, type MinerState } from "../../src/miner/state";
import { applyEvent, emptyView, type ChainView } from "../../src/miner/view";
import type { Committee } from "../../src/chain/pot-contracts";

const ME = "0x00000000000000000000000000000000000000a1" as Address;
const B = "0x00000000000000000000000000000000000000b2" as Address;
const C = "0x00000000000000000000000000000000000000c3" as Address;
const h = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const P0 = h(100);
const R1 = h(101);
const R2 = h(102);
const X1 = h(201);
let logIndex = 0;
const pos = (blockNumber = 1n) => ({
  blockNumber,
  logIndex: logIndex++,
  blockHash: h(9999),
  txHash: h(8888),
});

function job(view: ChainView, jobId = 1n, numStages = 3, c = 2, k = 2): void {
  const e: LedgerEvent = {
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
    deadline: 10_000n,
  };
  applyEvent(view, e);
}
const open = (view: ChainView, stage: number, parentHash: Hex, jobId = 1n, seed = h(0)) =>
  applyEvent(view, { ...pos(), kind: "StageOpened", jobId, stage, parentHash, deadline: 5_000n, seed });
const declared = (
  view: ChainView,
  stage: number,
  declarer: Address,
  resultHash: Hex,
  parentHash = P0,
  jobId = 1n,
) =>
  applyEvent(view, {
    ...pos(),
    kind: "Declared",
    jobId,
    stage,
    declarer,
    parentHash,
    resultHash,
    commitment: h(7),
    rand: h(8),
    timestamp: 1n,
  });
const closed = (view: ChainView, stage: number, closeBlock: bigint, lead: Hex, jobId = 1n) =>
  applyEvent(view, {
    ...pos(),
    kind: "DeclarationsClosed",
    jobId,
    stage,
    closeBlock,
    leadResult: lead,
    disputed: false,
  });
const header = (view: ChainView, stage: number, resultHash: Hex, builder: Address, rho = h(55), jobId = 1n) =>
  applyEvent(view, {
    ...pos(10n),
    kind: "HeaderSubmitted",
    jobId,
    stage,
    builder,
    headerHash: h(4000 + stage),
    parentHash: P0,
    resultHash,
    rho,
    resultCid: "0x01",
    timestamp: 1n,
    opened: [builder],
    randBlock: 11n,
  });

function result(
  state: MinerState,
  stage: number,
  parentHash: Hex,
  resultHash: Hex,
  speculative = false,
  jobId = 1n,
): void {
  state.results[resultKey(jobId, stage, parentHash)] = {
    jobId: jobId.toString(),
    stage,
    parentHash,
    resultHash,
    rho: h(55),
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
    resultHash,
    rho: h(55),
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
    inFlight: new Set(),
    ...over,
  });
}
const dutyIdsOf = (ds: Duty[]) => ds.map(dutyId);
const kinds = (ds: Duty[]) => ds.map((d) => `${d.kind}${"stage" in d ? `:${d.stage}` : ""}`);

describe("miner duties (pure)", () => {
  let view: ChainView;
  let state: MinerState;
  beforeEach(() => {
    view = emptyView();
    state = emptyState(31337, B, ME);
    job(view);
  });

  it("trains an open stage, then declares it once a result is held", () => {
    open(view, 1, P0);
    expect(kinds(duties(view, state))).to.deep.equal(["train:1"]);
    result(state, 1, P0, R1);
    expect(kinds(duties(view, state))).to.include("declare:1");
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
    closed(view, 1, 6n, R1);
    expect(kinds(duties(view, state, { blockNumber: 5n }))).to.not.include("declare:1");
    const v2 = emptyView();
    job(v2);
    open(v2, 1, P0);
    expect(duties(v2, emptyState(1, B, ME), { accepts: () => false })).to.deep.equal([]);
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
      duties(view, state, { speculationDepth: depth })
        .filter((d) => d.kind === "train")
        .map((d) => (d.kind === "train" ? `${d.stage}<-${d.parentHash}` : ""));
    expect(trains(3)).to.deep.equal([`2<-${R1}`]);
    result(state, 2, R1, R2, true);
    expect(trains(3)).to.deep.equal([`3<-${R2}`]);
    result(state, 3, R2, h(33), true);
    expect(trains(3)).to.deep.equal([`4<-${h(33)}`]);
    expect(trains(2)).to.deep.equal([]);
    result(state, 4, h(33), h(34), true);
    expect(trains(10)).to.deep.equal([]);
    // a speculative result built on another parent is not a link of my chain
    const other = emptyState(31337, B, ME);
    result(other, 1, P0, R1);
    result(other, 2, h(99), R2, true);
    expect(
      duties(view, other, { speculationDepth: 3 })
        .filter((d) => d.kind === "train")
        .map((d) => (d.kind === "train" ? d.stage : 0)),
    ).to.deep.equal([2]);
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

  it("does not speculate past a header that finalized another result", () => {
    open(view, 1, P0);
    result(state, 1, P0, R1);
    declaration(state, 1, P0, R1, "confirmed");
    header(view, 1, X1, B);
    expect(duties(view, state).some((d) => d.kind === "train" && d.speculative)).to.equal(false);
  });

  it("builds the header only after close, with the winning result, in builder-rank order", () => {
    open(view, 1, P0);
    result(state, 1, P0, R1);
    declaration(state, 1, P0, R1, "confirmed");
    declared(view, 1, ME, R1);
    declared(view, 1, B, R1);
    closed(view, 1, 8n, R1);
    expect(kinds(duties(view, state, { blockNumber: 5n }))).to.not.include("header:1");
    const order = builderOrder(1n, 1, [ME, B]);
    const rank = order.findIndex((a) => a === ME);
    // Ranked `rank`: may build from closeBlock + rank * grace on.
    const from = 8n + BigInt(rank) * 3n;
    expect(kinds(duties(view, state, { blockNumber: from - 1n }))).to.not.include("header:1");
    expect(kinds(duties(view, state, { blockNumber: from }))).to.include("header:1");
  });

  it("header race: sends only while the ledger still takes a header, and a WrongPhase after a competing header is a benign loss", () => {
    // Right before sending, the ledger's phase (latest block) decides: open (closed declarations) or decided.
    expect(headerStillWanted(STAGE_PHASE.open)).to.equal(true);
    expect(headerStillWanted(STAGE_PHASE.decided)).to.equal(true);
    expect(headerStillWanted(STAGE_PHASE.headered)).to.equal(false);
    expect(headerStillWanted(STAGE_PHASE.wrapped)).to.equal(false);
    expect(headerStillWanted(STAGE_PHASE.jury)).to.equal(false);
    expect(headerStillWanted(STAGE_PHASE.none)).to.equal(false);
    // WrongPhase(4) because another rank's header landed first: lost, not an error to retry.
    expect(lostHeaderRace("WrongPhase", STAGE_PHASE.headered)).to.equal(true);
    expect(lostHeaderRace("WrongPhase", STAGE_PHASE.wrapped)).to.equal(true);
    // Anything else is a real failure (retried with backoff): another revert, or WrongPhase without a header.
    expect(lostHeaderRace("NotClosed", STAGE_PHASE.headered)).to.equal(false);
    expect(lostHeaderRace("WrongPhase", STAGE_PHASE.jury)).to.equal(false);
    expect(lostHeaderRace(undefined, STAGE_PHASE.headered)).to.equal(false);
    // Once the view shows the competing header, the header duty is no longer proposed to anyone.
    open(view, 1, P0);
    result(state, 1, P0, R1);
    declaration(state, 1, P0, R1, "confirmed");
    declared(view, 1, ME, R1);
    declared(view, 1, B, R1);
    closed(view, 1, 8n, R1);
    expect(kinds(duties(view, state, { blockNumber: 100n }))).to.include("header:1");
    header(view, 1, R1, B);
    expect(kinds(duties(view, state, { blockNumber: 100n }))).to.not.include("header:1");
  });

  it("does not build with a losing result, nor when the previous stage is not wrapped", () => {
    open(view, 1, P0);
    declaration(state, 1, P0, X1, "confirmed");
    declared(view, 1, ME, X1);
    declared(view, 1, B, R1);
    declared(view, 1, C, R1);
    closed(view, 1, 4n, R1);
    // Disputed (X1 vs R1): no header, the jury is asked instead.
    const ds = kinds(duties(view, state, { blockNumber: 20n }));
    expect(ds).to.not.include("header:1");
    expect(ds).to.include("request-jury:1");
    // Stage 2 closed but stage 1 not wrapped yet.
    const v = emptyView();
    job(v);
    open(v, 2, R1);
    const s = emptyState(1, B, ME);
    declaration(s, 2, R1, R2, "confirmed");
    declared(v, 2, ME, R2, R1);
    declared(v, 2, B, R2, R1);
    closed(v, 2, 4n, R2);
    expect(kinds(duties(v, s, { blockNumber: 50n }))).to.not.include("header:2");
  });

  it("jury duty is commit-reveal: commit until a vote is revealed, reveal once more than half committed", () => {
    const D = "0x00000000000000000000000000000000000000d4" as Address;
    open(view, 1, P0);
    result(state, 1, P0, R1);
    declaration(state, 1, P0, R1, "confirmed");
    declared(view, 1, ME, R1);
    declared(view, 1, B, X1);
    applyEvent(view, { ...pos(), kind: "JuryRequested", jobId: 1n, stage: 1, round: 0, randBlock: 6n });
    applyEvent(view, {
      ...pos(),
      kind: "JuryDrawn",
      jobId: 1n,
      stage: 1,
      round: 0,
      jurors: [ME, B, D],
      deadline: 10_000n,
    });
    const voting = () => kinds(duties(view, state, { blockNumber: 20n })).includes("vote:1");
    const committed = (juror: Address) =>
      applyEvent(view, {
        ...pos(),
        kind: "JuryCommitted",
        jobId: 1n,
        stage: 1,
        juror,
        round: 0,
        commitment: h(3),
      });
    // Not committed, nothing revealed: commit.
    expect(voting()).to.equal(true);
    // Committed alone (1 of 3): wait, the jury would refuse the reveal.
    committed(ME);
    expect(voting()).to.equal(false);
    // A majority committed: reveal.
    committed(B);
    expect(voting()).to.equal(true);
    // A juror who has not committed when a vote is revealed has no duty left (commitments are closed).
    const v2 = emptyView();
    job(v2);
    open(v2, 1, P0);
    declared(v2, 1, ME, R1);
    declared(v2, 1, B, X1);
    applyEvent(v2, { ...pos(), kind: "JuryRequested", jobId: 1n, stage: 1, round: 0, randBlock: 6n });
    applyEvent(v2, {
      ...pos(),
      kind: "JuryDrawn",
      jobId: 1n,
      stage: 1,
      round: 0,
      jurors: [ME, B, D],
      deadline: 10_000n,
    });
    for (const j of [B, D])
      applyEvent(v2, {
        ...pos(),
        kind: "JuryCommitted",
        jobId: 1n,
        stage: 1,
        juror: j,
        round: 0,
        commitment: h(3),
      });
    applyEvent(v2, {
      ...pos(),
      kind: "JuryVoted",
      jobId: 1n,
      stage: 1,
      juror: B,
      round: 0,
      resultHash: X1,
      rho: h(5),
    });
    expect(kinds(duties(v2, state, { blockNumber: 20n }))).to.not.include("vote:1");
  });

  it("attests as a committee member, wraps once every other member attested, and ignores committees it is not in", () => {
    open(view, 1, P0);
    header(view, 1, R1, B);
    const committee: Committee = { round: 0, members: [ME, C], lastBlock: 40n };
    const committees = new Map([[stageKey(1n, 1), committee]]);
    expect(kinds(duties(view, state, { committees }))).to.include("attest:1");
    applyEvent(view, { ...pos(12n), kind: "Attested", jobId: 1n, stage: 1, member: C, round: 0 });
    const ds = duties(view, state, { committees });
    expect(kinds(ds)).to.include("wrap:1");
    expect(kinds(ds)).to.not.include("attest:1");
    const notMine = new Map([[stageKey(1n, 1), { round: 0, members: [B, C], lastBlock: 40n }]]);
    expect(
      duties(view, state, { committees: notMine }).some((d) => d.kind === "attest" || d.kind === "wrap"),
    ).to.equal(false);
    // K = 1: the only member wraps directly.
    const solo = new Map([[stageKey(1n, 1), { round: 1, members: [ME], lastBlock: 60n }]]);
    expect(kinds(duties(view, state, { committees: solo }))).to.include("wrap:1");
  });

  it("contests a header carrying our result with another rho, and claims a share the header did not open", () => {
    open(view, 1, P0);
    declaration(state, 1, P0, R1, "confirmed");
    declared(view, 1, ME, R1);
    header(view, 1, R1, B, h(66));
    expect(kinds(duties(view, state))).to.include("contest:1");
    const v = emptyView();
    job(v);
    open(v, 1, P0);
    declared(v, 1, ME, R1);
    header(v, 1, R1, B, h(55));
    applyEvent(v, {
      ...pos(20n),
      kind: "BlockWrapped",
      index: 0n,
      blockHash: h(1),
      jobId: 1n,
      stage: 1,
      parentBlockHash: h(0),
      headerHash: h(4001),
      attesters: [],
      timestamp: 0n,
      wrapper: C,
    });
    // Pull payments: the claim waits for the stage's settlement.
    expect(kinds(duties(v, state))).to.not.include("claim:1");
    applyEvent(v, {
      ...pos(20n),
      kind: "StageSettled",
      jobId: 1n,
      stage: 1,
      settlement: {
        parent: P0,
        result: R1,
        rho: h(55),
        perDeclaration: 1n,
        builder: B,
        builderPart: 1n,
        perMember: 1n,
        committeeHash: h(9),
        opened: [],
        openedCoinbase: [],
      },
    });
    expect(kinds(duties(v, state))).to.include("claim:1");
    expect(duties(v, state).filter((d) => d.kind === "claim")).to.deep.equal([
      { kind: "claim", jobId: 1n, stage: 1, share: "declaration" },
    ]);
  });

  it("the dummy job is trained only while no employer job is open", () => {
    job(view, 0n, 2 ** 32 - 1, 2, 1);
    open(view, 1, P0, 0n);
    open(view, 1, P0, 1n);
    expect(
      duties(view, state)
        .filter((d) => d.kind === "train")
        .map((d) => (d as { jobId: bigint }).jobId),
    ).to.deep.equal([1n]);
    applyEvent(view, { ...pos(), kind: "JobFinished", jobId: 1n });
    expect(
      duties(view, state)
        .filter((d) => d.kind === "train")
        .map((d) => (d as { jobId: bigint }).jobId),
    ).to.deep.equal([0n]);
  });

  it("withdraws when enough is claimable, and skips duties in flight", () => {
    expect(kinds(duties(view, state, { claimableWei: 5n }))).to.deep.equal(["withdraw"]);
    expect(duties(view, state, { claimableWei: 5n, withdrawMinWei: 10n })).to.deep.equal([]);
    open(view, 1, P0);
    expect(duties(view, state, { inFlight: new Set([`train:1:1:${P0}`]) })).to.deep.equal([]);
  });

  describe("slash and void (duties the harness used to play)", () => {
    const DOMAIN = h(777);
    const RHO = h(55);
    const D = "0x00000000000000000000000000000000000000d4" as Address;
    /** A declaration whose commitment is made for `rho` (opens against it when it is the settled rho). */
    const declaredFor = (v: ChainView, declarer: Address, resultHash: Hex, rho: Hex, rand = h(8)) =>
      applyEvent(v, {
        ...pos(),
        kind: "Declared",
        jobId: 1n,
        stage: 1,
        declarer,
        parentHash: P0,
        resultHash,
        commitment: commitmentHash({ domain: DOMAIN, rho, rand, declarer, jobId: 1n, stage: 1 }),
        rand,
        timestamp: 1n,
      });
    const settle = (v: ChainView) =>
      applyEvent(v, {
        ...pos(20n),
        kind: "StageSettled",
        jobId: 1n,
        stage: 1,
        settlement: {
          parent: P0,
          result: R1,
          rho: RHO,
          perDeclaration: 1n,
          builder: ME,
          builderPart: 1n,
          perMember: 1n,
          committeeHash: h(9),
          opened: [ME],
          openedCoinbase: [0n],
        },
      });
    const slashes = (v: ChainView, st: MinerState, over: Partial<DutyInput> = {}) =>
      duties(v, st, { domain: DOMAIN, ...over })
        .filter((d): d is Extract<Duty, { kind: "slash" }> => d.kind === "slash")
        .map((d) => d.declarer);

    beforeEach(() => {
      open(view, 1, P0);
      declaredFor(view, ME, R1, RHO);
      declaredFor(view, B, R1, RHO, h(81)); // opens: honest
      declaredFor(view, C, R2, h(66)); // a wrong result (lazy / colluder)
      declaredFor(view, D, R1, h(67)); // the right result with a made-up rho (copycat / forward-only)
    });

    it("slashes every declaration that does not open against the settled (result, rho), once the stage is settled", () => {
      expect(slashes(view, state)).to.deep.equal([]); // not settled yet
      settle(view);
      expect(slashes(view, state)).to.deep.equal([C, D]);
      expect(dutyIdsOf(duties(view, state, { domain: DOMAIN }))).to.include(slashDoneKey(1n, 1, C));
      // Without the domain the agent cannot recompute commitments: no slash at all.
      expect(slashes(view, state, { domain: undefined })).to.deep.equal([]);
    });

    it("never slashes a declaration that opens, nor its own", () => {
      settle(view);
      const got = slashes(view, state).map((a) => a.toLowerCase());
      expect(got).to.not.include(B.toLowerCase());
      expect(got).to.not.include(ME.toLowerCase());
    });

    it("does not slash one already slashed (event), already reported (done, benign revert included) or in flight", () => {
      settle(view);
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
      state.done[slashDoneKey(1n, 1, D)] = "reverted:NotDeclared";
      expect(slashes(view, state)).to.deep.equal([]);
      delete state.done[slashDoneKey(1n, 1, D)];
      expect(slashes(view, state, { inFlight: new Set([slashDoneKey(1n, 1, D)]) })).to.deep.equal([]);
      // A juror's slash (fault 2) is not a declaration's.
      const v = emptyView();
      job(v);
      open(v, 1, P0);
      declaredFor(v, C, R2, h(66));
      settle(v);
      applyEvent(v, {
        ...pos(),
        kind: "Slashed",
        jobId: 1n,
        stage: 1,
        staker: C,
        fault: 2,
        amount: 1n,
        reporter: B,
      });
      expect(slashes(v, state)).to.deep.equal([C]);
    });

    it("a slash revert is benign when the declaration is settled or slashed already", () => {
      expect(slashNoLongerNeeded("NotDeclared")).to.equal(true);
      expect(slashNoLongerNeeded("DeclarationMismatch")).to.equal(true);
      expect(slashNoLongerNeeded("SettlementMismatch")).to.equal(false);
      expect(slashNoLongerNeeded(undefined)).to.equal(false);
    });

    it("voids a headered stage only after its PoA expired, once per header", () => {
      const EXP = 3n * 20n; // poaMaxRounds * poaWindowBlocks
      closed(view, 1, 3n, R1);
      header(view, 1, R1, B); // randBlock 11
      const voids = (blockNumber: bigint, over: Partial<DutyInput> = {}) =>
        duties(view, state, { blockNumber, poaExpiryBlocks: EXP, ...over }).filter((d) => d.kind === "void");
      expect(poaExpired({ randBlock: 11n }, 71n, EXP)).to.equal(false);
      expect(poaExpired({ randBlock: 11n }, 72n, EXP)).to.equal(true);
      expect(voids(71n)).to.deep.equal([]);
      expect(voids(72n)).to.deep.equal([{ kind: "void", jobId: 1n, stage: 1, headerHash: h(4001) }]);
      expect(voids(500n, { poaExpiryBlocks: undefined })).to.deep.equal([]);
      // Once sent (or lost to another miner's void), never again for this header.
      state.done[voidDoneKey(1n, 1, h(4001))] = "0xabc";
      expect(voids(500n)).to.deep.equal([]);
      delete state.done[voidDoneKey(1n, 1, h(4001))];
      expect(voids(500n, { inFlight: new Set([voidDoneKey(1n, 1, h(4001))]) })).to.deep.equal([]);
      // Voided: the stage has no header any more; nothing to void.
      applyEvent(view, {
        ...pos(80n),
        kind: "HeaderVoided",
        jobId: 1n,
        stage: 1,
        headerHash: h(4001),
        builder: B,
      });
      expect(voids(500n)).to.deep.equal([]);
      // A wrapped stage or an ended job is never voided.
      const v = emptyView();
      job(v);
      open(v, 1, P0);
      header(v, 1, R1, B);
      applyEvent(v, { ...pos(), kind: "JobExpired", jobId: 1n, unspent: 0n });
      expect(
        duties(v, state, { blockNumber: 500n, poaExpiryBlocks: EXP }).filter((d) => d.kind === "void"),
      ).to.deep.equal([]);
    });

    it("a void revert is benign when someone else voided (or the stage wrapped) first", () => {
      expect(voidNoLongerNeeded("WrongPhase")).to.equal(true);
      expect(voidNoLongerNeeded("JobNotOpen")).to.equal(true);
      expect(voidNoLongerNeeded("PoaNotExpired")).to.equal(false);
    });
  });

  it("folding the same event twice (a reorg re-delivery) changes nothing", () => {
    const e: LedgerEvent = {
      ...pos(),
      kind: "Declared",
      jobId: 1n,
      stage: 1,
      declarer: B,
      parentHash: P0,
      resultHash: R1,
      commitment: h(7),
      rand: h(8),
      timestamp: 1n,
    };
    open(view, 1, P0);
    applyEvent(view, e);
    applyEvent(view, { ...e, blockHash: h(1234), blockNumber: 2n });
    expect(view.stages.get("1:1")!.declarations.size).to.equal(1);
  });
});
