/**
 * A reference checkpoint Merkle root written from the spec, for the contract tests only:
 * leaves keccak256(abi.encode(keccak256("PoT.Checkpoint(uint256 index,bytes32 stateHash)"), index, stateHash)),
 * nodes keccak256(left || right) in index order, an odd last node promoted unchanged, no checkpoints -> 0.
 * TODO(merge): replace with src/protocol/checkpoints.ts's checkpointRoot (branch ckpt) and delete this file.
 */
import { concat, encodeAbiParameters, keccak256, toBytes, type Hex } from "viem";

export const CHECKPOINT_TYPEHASH: Hex = keccak256(toBytes("PoT.Checkpoint(uint256 index,bytes32 stateHash)"));

export function referenceCheckpointRoot(states: readonly Hex[]): Hex {
  if (states.length === 0) return `0x${"00".repeat(32)}`;
  let level = states.map((s, i) =>
    keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "uint256" }, { type: "bytes32" }],
        [CHECKPOINT_TYPEHASH, BigInt(i), s],
      ),
    ),
  );
  while (level.length > 1) {
    const next: Hex[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(keccak256(concat([level[i], level[i + 1]])));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    level = next;
  }
  return level[0];
}
