/**
 * Step checkpoints of a stage (docs/PROTOCOL.md, "Step checkpoints"). A stage S_i -> S_{i+1} of
 * T = stepsPerStage steps with e = checkpointEvery > 0 has m = ceil(T / e) checkpoints: the states after
 * steps min((j+1)e, T), j = 0..m-1 (the last one is S_{i+1}). Its declaration commits to
 *
 *   leaf_j         = keccak256(abi.encode(CHECKPOINT_TYPEHASH, uint256 j, bytes32 stateHash_j))
 *   checkpointRoot = merkleRoot(leaf_0..leaf_{m-1})   (src/protocol/merkle.ts), 32 zero bytes when m = 0
 *
 * Segment j re-executes steps (j*e, min((j+1)e, T)] from checkpoint j-1 (S_i for j = 0) and must end on
 * checkpoint j. Pure functions, no I/O.
 */
import { encodeAbiParameters, keccak256, stringToBytes, type Hex } from "viem";
import { assertBytes32, assertCount } from "./bytes";
import { InvalidArgumentError } from "./errors";
import { merkleProof, merkleRoot, type MerkleProof } from "./merkle";

/** keccak256 of the leaf type string; first word of every checkpoint leaf. */
export const CHECKPOINT_TYPEHASH: Hex = keccak256(
  stringToBytes("PoT.Checkpoint(uint256 index,bytes32 stateHash)"),
);

/** The checkpoint root of a stage without checkpoints (checkpointEvery = 0). */
export const EMPTY_CHECKPOINT_ROOT: Hex = `0x${"00".repeat(32)}`;

/** Number of checkpoints m = ceil(T / e) of a stage of T steps (0 when e = 0). */
export function checkpointCount(stepsPerStage: number, checkpointEvery: number): number {
  assertCount("stepsPerStage", stepsPerStage, 1);
  assertCount("checkpointEvery", checkpointEvery, 0);
  return checkpointEvery === 0 ? 0 : Math.ceil(stepsPerStage / checkpointEvery);
}

/**
 * Steps (counted from the stage's start) after which a checkpoint is taken: min(k e, T) for k = 1..m,
 * in order; empty when e = 0.
 */
export function checkpointSteps(stepsPerStage: number, checkpointEvery: number): number[] {
  const m = checkpointCount(stepsPerStage, checkpointEvery);
  return Array.from({ length: m }, (_, j) => Math.min((j + 1) * checkpointEvery, stepsPerStage));
}

/** Segment j of a stage: steps (fromStep, toStep] counted from the stage's start. */
export interface SegmentBounds {
  readonly index: number;
  /** Steps done before the segment (its start state is checkpoint index-1, or S_i when 0). */
  readonly fromStep: number;
  /** Steps done at its end (its end state is checkpoint index). */
  readonly toStep: number;
}

/** Bounds of segment j: (j e, min((j+1) e, T)]. Throws unless 0 <= j < m. */
export function segmentBounds(stepsPerStage: number, checkpointEvery: number, index: number): SegmentBounds {
  const m = checkpointCount(stepsPerStage, checkpointEvery);
  if (!Number.isSafeInteger(index) || index < 0 || index >= m) {
    throw new InvalidArgumentError(
      "segment",
      `segment ${String(index)} is outside the ${m} segments of a stage of ${stepsPerStage} steps checkpointed every ${checkpointEvery}`,
    );
  }
  return {
    index,
    fromStep: index * checkpointEvery,
    toStep: Math.min((index + 1) * checkpointEvery, stepsPerStage),
  };
}

/** leaf_j = keccak256(abi.encode(CHECKPOINT_TYPEHASH, uint256 j, bytes32 stateHash_j)). */
export function checkpointLeaf(index: number, stateHash: Hex): Hex {
  assertCount("index", index, 0);
  const hash = assertBytes32(`checkpoints[${index}]`, stateHash);
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "uint256" }, { type: "bytes32" }],
      [CHECKPOINT_TYPEHASH, BigInt(index), hash],
    ),
  );
}

/** The leaves of a checkpoint list, in order. */
export function checkpointLeaves(hashes: readonly Hex[]): Hex[] {
  return hashes.map((h, j) => checkpointLeaf(j, h));
}

/** Merkle root over the checkpoint leaves; EMPTY_CHECKPOINT_ROOT (32 zero bytes) for an empty list. */
export function checkpointRoot(hashes: readonly Hex[]): Hex {
  return hashes.length === 0 ? EMPTY_CHECKPOINT_ROOT : merkleRoot(checkpointLeaves(hashes));
}

/** Membership proof of checkpoint j (against checkpointRoot(hashes)), for a later bisection dispute. */
export function checkpointProof(hashes: readonly Hex[], index: number): MerkleProof {
  return merkleProof(checkpointLeaves(hashes), index);
}
