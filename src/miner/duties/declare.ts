/**
 * Declare: train a stage that is open for declarations (from the parent the chain fixed) and declare the
 * result with the stage's (parent, seed) and a commitment to a fresh secret, never twice, while the stake
 * covers one more bond. The opening (rho, rand) is persisted before the transaction is sent.
 */
import { randomBytes } from "node:crypto";
import { toHex } from "viem";
import { commitmentHash, SealKind } from "../../protocol/messages";
import { ContractRevertError, TransactionDroppedError } from "../../chain/errors";
import { stageKey, resultKey } from "./keys";
import { acceptsDeclarations, heldResult, unsettled } from "./stages";
import type { DutyContext } from "./context";
import { lower, same, type DutyOf, type StageScope } from "./types";

/** Declarations the bond still covers this tick (shared by every stage's proposal). */
export interface BondBudget {
  room: number;
}

/** Train, then declare, an open stage we have not declared on-chain. */
export function proposeOpenStage(scope: StageScope, bond: BondBudget): void {
  const { input, st, mine, onChainMine, live, push, me } = scope;
  if (!live || !acceptsDeclarations(st, input.blockNumber, input.now) || onChainMine !== undefined) return;
  const parentHash = st.parentHash!;
  const seed = st.seed!;
  // our faulty declaration two stages back, unslashed, blocks this one (UnsettledDeclaration)
  const back = input.view.stages.get(stageKey(st.jobId, st.stage - 2));
  const blocked = back?.wrapped?.faulty.some((a) => lower(a) === me) === true && unsettled(back, me);
  const declare = () => {
    if (blocked || bond.room <= 0) return;
    bond.room--;
    push({
      kind: "declare",
      jobId: st.jobId,
      stage: st.stage,
      parentHash,
      seed,
      resultKey: resultKey(st.jobId, st.stage, parentHash),
    });
  };
  if (mine !== undefined) {
    // Prepared or sent but not seen on-chain: (re)send the same opening; the agent checks the chain first.
    if (mine.status !== "confirmed" && same(mine.parentHash, parentHash) && same(mine.seed, seed)) declare();
  } else if (scope.trainable) {
    if (heldResult(input.state, st.jobId, st.stage, parentHash) === undefined) {
      push({
        kind: "train",
        jobId: st.jobId,
        stage: st.stage,
        parentHash,
        speculative: false,
        reason: "stage-open",
      });
    } else declare();
  }
}

/** Sends our declaration of a stage: prepared (secret saved), sent (seal timestamp saved), confirmed. */
export async function performDeclare(ctx: DutyContext, d: DutyOf<"declare">): Promise<void> {
  const { book, chain, address } = ctx;
  const state = book.state;
  const key = stageKey(d.jobId, d.stage);
  let rec = state.declarations[key];
  if (rec !== undefined && rec.status === "confirmed") return;
  // Sent and on the chain now (mined, or a receipt lost in a crash): never send it again. It turns
  // "confirmed" only with its confirmed Declared event (Bookkeeping.onEvent); until then a reorg may drop
  // it, and then hasDeclared is false and the same opening is sent again.
  if (rec !== undefined && rec.status === "sent" && (await chain.hasDeclared(d.jobId, d.stage, address)))
    return;
  if (rec === undefined) {
    const result = state.results[d.resultKey];
    if (result === undefined) return;
    const rand = toHex(randomBytes(32));
    const commitment = commitmentHash({
      domain: ctx.domain,
      rho: result.rho,
      rand,
      declarer: address,
      jobId: d.jobId,
      stage: d.stage,
    });
    rec = {
      jobId: d.jobId.toString(),
      stage: d.stage,
      parentHash: result.parentHash,
      seed: d.seed,
      resultHash: result.resultHash,
      rho: result.rho,
      rand,
      commitment,
      resultCid: result.resultCid,
      status: "prepared",
    };
    state.declarations[key] = rec;
    await book.save(); // the reveal survives anything from here on
  }
  const timestamp = await ctx.seal.sealTimestamp(
    ctx.domain,
    SealKind.Declaration,
    d.jobId,
    d.stage,
    rec.seed,
  );
  if (timestamp === undefined) {
    ctx.log.debug("declaration kernel above target; trying next tick", { jobId: d.jobId, stage: d.stage });
    return;
  }
  rec.status = "sent";
  rec.timestamp = timestamp.toString();
  await book.save();
  try {
    const sent = await chain.declare({
      jobId: d.jobId,
      stage: d.stage,
      parentHash: rec.parentHash,
      seed: rec.seed,
      resultHash: rec.resultHash,
      commitment: rec.commitment,
      rand: rec.rand,
      timestamp,
    });
    ctx.seal.invalidate(); // one more bond
    rec.txHash = sent.hash; // still "sent": confirmed by its confirmed event (see above)
    await book.save();
    ctx.count("declared");
    ctx.log.info("declared", { jobId: d.jobId, stage: d.stage, resultHash: rec.resultHash, tx: sent.hash });
  } catch (error) {
    if (error instanceof ContractRevertError && error.errorName === "AlreadyDeclared") return;
    if (error instanceof TransactionDroppedError) {
      ctx.log.warn("declaration dropped by a chain reorganization; sending it again", {
        jobId: d.jobId,
        stage: d.stage,
        tx: error.hash,
      });
      ctx.count("declaration-dropped");
      return;
    }
    throw error;
  }
}
