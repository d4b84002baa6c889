/**
 * Header and openings: build the header of a closed, undisputed stage whose predecessor is wrapped, when
 * this miner declared its result (declarants take turns by a deterministic rank, `builderGraceBlocks`
 * apart); after a jury decision any staker holding the decided result builds with the decided pair; after
 * a void the other declarants of the voided pair rebuild. The header lists every declaration: the contract
 * opens each. Contest: a header carrying our result with another rho goes to the jury.
 */
import { keccak256, toBytes, type Address, type Hex } from "viem";
import { STAGE_PHASE, type HeaderData } from "../../chain/pot-contracts";
import { commitmentHash, SealKind } from "../../protocol/messages";
import { cidToBytesHex } from "../../storage";
import { declarationData, isDisputed, type Pair, type StageView } from "../view";
import { doneKey, isDone, resultKey, stageKey } from "./keys";
import { declarationsClosed } from "./stages";
import { revertName, type DutyContext } from "./context";
import { lower, same, samePair, type DutyOf, type StageScope } from "./types";

/** After losing a header race: do not propose the header again for this long (the view catches up). */
export const HEADER_LOST_PAUSE_MS = 5_000;

/**
 * Whether a header may still be sent for a stage PoTStages shows in `phase` at the latest block: only an
 * open (declarations closed) or decided stage takes one. The agent checks this right before sending,
 * because its view lags the chain by its confirmations and a lower builder rank may have just headered it.
 */
export function headerStillWanted(phase: number): boolean {
  return phase === STAGE_PHASE.open || phase === STAGE_PHASE.decided;
}

/**
 * Whether a failed header submission only lost the race to another builder: it reverted `WrongPhase` and
 * the stage is now headered (or already wrapped). Benign: logged at info, not retried.
 */
export function lostHeaderRace(revert: string | undefined, phaseAfter: number): boolean {
  return (
    revert === "WrongPhase" && (phaseAfter === STAGE_PHASE.headered || phaseAfter === STAGE_PHASE.wrapped)
  );
}

/** The order in which candidates may build the header (rank 0 first). */
export function builderOrder(jobId: bigint, stage: number, declarers: readonly Address[]): Address[] {
  const rank = (a: Address) => BigInt(keccak256(toBytes(`pot-builder:${jobId}:${stage}:${lower(a)}`)));
  return [...declarers].sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0));
}

/** The result every declaration of an undisputed stage names (undefined when disputed or none). */
export function winningResult(st: StageView): Hex | undefined {
  if (isDisputed(st)) return undefined;
  return [...st.declarations.values()][0]?.resultHash;
}

/** The header this miner may build now for a stage, with the pair, the candidates and the rank clock. */
function headerPlan(
  scope: StageScope,
): { pair: Pair; resultKey: string; candidates: Address[]; from: bigint } | undefined {
  const { input, st, job, me, mine, onChainMine } = scope;
  const { view, state, blockNumber, now } = input;
  if (st.parentHash === undefined || st.seed === undefined) return undefined;
  if (st.header !== undefined || st.wrappedBlock !== undefined || st.barredBuilders.has(me)) return undefined;
  if (isDone(state, doneKey.header(st.jobId, st.stage))) return undefined;
  const prev = st.stage === 1 ? undefined : view.stages.get(stageKey(st.jobId, st.stage - 1));
  const prevWrapped = st.stage === 1 || prev?.wrappedBlock !== undefined || prev === undefined;
  if (!prevWrapped) return undefined;
  const key = resultKey(st.jobId, st.stage, st.parentHash);
  const held = state.results[key];
  const notBarred = (a: Address) => !st.barredBuilders.has(lower(a));
  const declarersOf = (result: Hex) =>
    [...st.declarations.values()].filter((d) => same(d.resultHash, result) && notBarred(d.declarer));
  const max = (...xs: (bigint | undefined)[]) =>
    xs.reduce<bigint>((a, b) => (b !== undefined && b > a ? b : a), 0n);

  if (st.decided !== undefined) {
    // A jury decided: any staker holding the decided result builds with the decided pair.
    if (held === undefined || !samePair({ result: held.resultHash, rho: held.rho }, st.decided))
      return undefined;
    const voters = new Set<string>();
    for (const r of st.rounds.values())
      for (const [juror, v] of r.votes) if (samePair(v, st.decided)) voters.add(juror);
    const candidates = [
      ...declarersOf(st.decided.result).map((d) => d.declarer),
      ...[...voters]
        .filter((v) => !st.declarations.has(v) && !st.barredBuilders.has(v))
        .map((v) => v as Address),
    ];
    return { pair: st.decided, resultKey: key, candidates, from: max(st.decidedBlock, prev?.wrappedBlock) };
  }
  if (st.juryReason !== undefined) return undefined; // at the jury
  if (mine === undefined || onChainMine === undefined || !same(onChainMine.resultHash, mine.resultHash))
    return undefined;
  const minePair = { result: mine.resultHash, rho: mine.rho };
  if (st.voided !== undefined) {
    // A voided header's pair: its other declarants rebuild on it (C openings still needed).
    if (!samePair(minePair, st.voided)) return undefined;
    const candidates = declarersOf(st.voided.result).map((d) => d.declarer);
    return { pair: st.voided, resultKey: key, candidates, from: max(st.voidedBlock, prev?.wrappedBlock) };
  }
  const winner = winningResult(st);
  if (winner === undefined || !same(winner, mine.resultHash)) return undefined;
  if (st.declarations.size < job.c || !declarationsClosed(st, blockNumber, now)) return undefined;
  const candidates = declarersOf(winner).map((d) => d.declarer);
  return { pair: minePair, resultKey: key, candidates, from: max(st.closeBlock, prev?.wrappedBlock) };
}

/** Proposes the header once this miner's builder rank is due. */
export function proposeHeader(scope: StageScope): void {
  const { input, st, me } = scope;
  if (!scope.live) return;
  const plan = headerPlan(scope);
  if (plan === undefined) return;
  const order = builderOrder(st.jobId, st.stage, plan.candidates);
  const index = order.findIndex((a) => lower(a) === me);
  const rank = BigInt(index < 0 ? order.length : index);
  if (input.blockNumber >= plan.from + rank * input.builderGraceBlocks)
    scope.push({
      kind: "header",
      jobId: st.jobId,
      stage: st.stage,
      pair: plan.pair,
      resultKey: plan.resultKey,
    });
}

/** Proposes a contest of a header that carries our result with another rho (a copied result). */
export function proposeContest(scope: StageScope): void {
  const { input, st, mine, onChainMine } = scope;
  if (
    scope.live &&
    st.header !== undefined &&
    st.wrappedBlock === undefined &&
    !st.contested &&
    st.decided === undefined &&
    st.juryReason === undefined &&
    mine !== undefined &&
    onChainMine !== undefined &&
    same(onChainMine.resultHash, st.header.header.result) &&
    !same(mine.rho, st.header.header.rho) &&
    !isDone(input.state, doneKey.contest(st.jobId, st.stage))
  )
    scope.push({ kind: "contest", jobId: st.jobId, stage: st.stage });
}

/**
 * Builds the header with the duty's pair, listing every declaration of the stage (the contract opens
 * each: the openers are paid, the others are faulty). Without a jury decision at least C must open
 * against our rho, ours among them: checked here before any gas is spent.
 */
export async function performHeader(ctx: DutyContext, d: DutyOf<"header">): Promise<number | void> {
  const { chain, view, log } = ctx;
  const st = view.stages.get(stageKey(d.jobId, d.stage));
  const job = view.jobs.get(d.jobId.toString());
  const result = ctx.book.state.results[d.resultKey];
  if (st?.parentHash === undefined || st.seed === undefined || job === undefined || result === undefined)
    return;
  const declarations = [...st.declarations.values()];
  const opening = declarations.filter(
    (decl) =>
      decl.resultHash.toLowerCase() === d.pair.result.toLowerCase() &&
      commitmentHash({
        domain: ctx.domain,
        rho: d.pair.rho,
        rand: decl.rand,
        declarer: decl.declarer,
        jobId: d.jobId,
        stage: d.stage,
      }).toLowerCase() === decl.commitment.toLowerCase(),
  );
  const juried = st.decided !== undefined;
  if (!juried && opening.length < job.c)
    throw new Error(`only ${opening.length} declarations open against our rho, ${job.c} needed`);
  if (opening.length < declarations.length)
    log.warn("declarations that do not open against our rho are listed as faulty", {
      jobId: d.jobId,
      stage: d.stage,
      faulty: declarations.length - opening.length,
    });
  const timestamp = await ctx.seal.sealTimestamp(ctx.domain, SealKind.Header, d.jobId, d.stage, st.seed);
  if (timestamp === undefined) return;
  // Our view lags the chain by `confirmations` blocks: another builder rank may have headered the stage
  // already, or a last declaration landed that the header must list too. Ask PoTStages (latest block)
  // right before sending.
  const { phase, declarations: onChain } = await chain.stageSnapshot(d.jobId, d.stage);
  if (onChain !== declarations.length) {
    log.debug("header waits: the view has not seen every declaration yet", {
      jobId: d.jobId,
      stage: d.stage,
      seen: declarations.length,
      onChain,
    });
    return 1_000;
  }
  if (!headerStillWanted(phase)) {
    log.info("header not sent: the stage already has one (another builder)", {
      jobId: d.jobId,
      stage: d.stage,
      phase,
    });
    ctx.count("headersLost");
    return HEADER_LOST_PAUSE_MS;
  }
  const resultCid = cidToBytesHex(result.resultCid);
  const header: HeaderData = {
    builder: ctx.address,
    parent: st.parentHash,
    seed: st.seed,
    result: d.pair.result,
    rho: d.pair.rho,
    resultCidHash: keccak256(resultCid),
    timestamp,
  };
  let sent;
  try {
    sent = await chain.submitHeader({
      jobId: d.jobId,
      stage: d.stage,
      header,
      resultCid,
      declarations: declarations.map(declarationData),
      outcome: result.outcome,
      checkpoints: result.checkpoints,
    });
  } catch (error) {
    const revert = revertName(error);
    const after = revert === "WrongPhase" ? await chain.stagePhase(d.jobId, d.stage) : -1;
    if (lostHeaderRace(revert, after)) {
      // A competing header landed between our check and our transaction: a benign loss, no retry (the
      // next ticks see the header in the view and stop proposing this duty).
      log.info("header lost the race to another builder", { jobId: d.jobId, stage: d.stage, phase: after });
      ctx.count("headersLost");
      return HEADER_LOST_PAUSE_MS;
    }
    throw error;
  }
  await ctx.book.markDone(doneKey.header(d.jobId, d.stage), sent.hash);
  ctx.count("headers");
  log.info("header submitted", {
    jobId: d.jobId,
    stage: d.stage,
    declarations: declarations.length,
    openings: opening.length,
    juried,
    tx: sent.hash,
  });
}

/** Contests the header's rho with our own declaration's opening (the stage goes to the jury). */
export async function performContest(ctx: DutyContext, d: DutyOf<"contest">): Promise<void> {
  const key = stageKey(d.jobId, d.stage);
  const mine = ctx.book.state.declarations[key];
  const st = ctx.view.stages.get(key);
  const decl = st?.declarations.get(ctx.address.toLowerCase());
  if (mine === undefined || decl === undefined || st?.header === undefined) return;
  const sent = await ctx.chain.contest(d.jobId, d.stage, st.header.header, mine.rho, declarationData(decl));
  await ctx.book.markDone(doneKey.contest(d.jobId, d.stage), sent.hash);
  ctx.count("contests");
  ctx.log.warn("header contested: its rho is not ours for the same result", {
    jobId: d.jobId,
    stage: d.stage,
  });
}
