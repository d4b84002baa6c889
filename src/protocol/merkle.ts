/**
 * The binary Merkle tree of the protocol (dataset manifest batches, step checkpoints):
 *
 *   parent = keccak256(left ++ right)            (= keccak256(abi.encode(bytes32 left, bytes32 right)))
 *   index-ordered (never sorted pairs); a node without a right sibling is promoted unchanged to the
 *   next level (never duplicated); the root of one leaf is the leaf.
 *
 * A proof lists the siblings from the leaf level upwards; a level where the node is promoted contributes
 * none. Specified in docs/protocol/manifest.md ("Proofs") and docs/PROTOCOL.md ("Step checkpoints").
 */
import { isHex, keccak256, type Hex } from "viem";
import { PotError } from "../errors";

/** Machine-readable reason of a MerkleTreeError. */
export type MerkleTreeErrorCode =
  | "MERKLE_EMPTY"
  | "MERKLE_BAD_BYTES32"
  | "MERKLE_BAD_INTEGER"
  | "MERKLE_INDEX_OUT_OF_RANGE"
  | "MERKLE_BAD_PROOF";

/** A tree over no leaves, a malformed leaf, an index outside the tree, or a proof of the wrong length. */
export class MerkleTreeError extends PotError {
  declare readonly code: MerkleTreeErrorCode;

  constructor(code: MerkleTreeErrorCode, message: string) {
    super(message, { code });
  }
}

/** A membership proof of one leaf. */
export interface MerkleProof {
  index: number;
  leafCount: number;
  /** Siblings from the leaf level upwards; levels where the node is promoted contribute nothing. */
  siblings: Hex[];
}

function assertIndex(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new MerkleTreeError(
      "MERKLE_BAD_INTEGER",
      `${field} must be a non-negative safe integer, got ${String(value)}.`,
    );
  }
}

function assertBytes32(value: Hex, field: string): void {
  if (!isHex(value, { strict: true }) || value.length !== 66) {
    throw new MerkleTreeError(
      "MERKLE_BAD_BYTES32",
      `${field} must be a 0x-prefixed 32-byte hex string, got ${String(value)}.`,
    );
  }
}

/** Hashes an ordered pair of nodes: keccak256(left ++ right). */
export function hashPair(left: Hex, right: Hex): Hex {
  // abi.encode of two bytes32 is their 64 bytes side by side; concatenating the hex is the same bytes
  // without the ABI encoder's per-call cost (a 4,000-batch tree is 4,000 of these).
  return keccak256(`0x${left.slice(2)}${right.slice(2)}`);
}

function nextLevel(level: readonly Hex[]): Hex[] {
  const parents: Hex[] = [];
  for (let i = 0; i < level.length; i += 2) {
    parents.push(i + 1 < level.length ? hashPair(level[i], level[i + 1]) : level[i]);
  }
  return parents;
}

/** Root of the index-ordered tree over `leaves` (odd nodes promoted). Throws MERKLE_EMPTY on no leaves. */
export function merkleRoot(leaves: readonly Hex[]): Hex {
  if (leaves.length === 0)
    throw new MerkleTreeError("MERKLE_EMPTY", "a Merkle tree needs at least one leaf.");
  leaves.forEach((leaf, i) => assertBytes32(leaf, `leaf ${i}`));
  let level: Hex[] = [...leaves];
  while (level.length > 1) level = nextLevel(level);
  return level[0];
}

/** Membership proof of leaf `index` in the tree over `leaves`. */
export function merkleProof(leaves: readonly Hex[], index: number): MerkleProof {
  return merkleProofs(leaves, [index])[0];
}

/**
 * Membership proofs of several leaves, building the tree once (one proof costs a whole tree of hashes,
 * so a stage's 200 batches must not build it 200 times).
 */
export function merkleProofs(leaves: readonly Hex[], indices: readonly number[]): MerkleProof[] {
  for (const index of indices) {
    assertIndex(index, "index");
    if (index >= leaves.length) {
      throw new MerkleTreeError(
        "MERKLE_INDEX_OUT_OF_RANGE",
        `proof index ${index} is outside the ${leaves.length} leaves of the tree.`,
      );
    }
  }
  const levels: Hex[][] = [[...leaves]];
  while (levels[levels.length - 1].length > 1) levels.push(nextLevel(levels[levels.length - 1]));
  return indices.map((index) => {
    const siblings: Hex[] = [];
    let i = index;
    for (const level of levels.slice(0, -1)) {
      const sibling = i % 2 === 1 ? i - 1 : i + 1;
      if (sibling < level.length) siblings.push(level[sibling]);
      i = Math.floor(i / 2);
    }
    return { index, leafCount: leaves.length, siblings };
  });
}

/** Recomputes the root from a leaf and its proof (the same walk a Solidity verifier does). */
export function rootFromProof(leaf: Hex, proof: MerkleProof): Hex {
  assertBytes32(leaf, "leaf");
  assertIndex(proof.index, "proof.index");
  assertIndex(proof.leafCount, "proof.leafCount");
  if (proof.leafCount === 0 || proof.index >= proof.leafCount) {
    throw new MerkleTreeError(
      "MERKLE_INDEX_OUT_OF_RANGE",
      `proof index ${proof.index} is outside a tree of ${proof.leafCount} leaves.`,
    );
  }
  let node = leaf;
  let i = proof.index;
  let count = proof.leafCount;
  let k = 0;
  while (count > 1) {
    if (i % 2 === 1) node = hashPair(proof.siblings[k++] ?? missing(), node);
    else if (i + 1 < count) node = hashPair(node, proof.siblings[k++] ?? missing());
    i = Math.floor(i / 2);
    count = Math.ceil(count / 2);
  }
  if (k !== proof.siblings.length) {
    throw new MerkleTreeError(
      "MERKLE_BAD_PROOF",
      `proof has ${proof.siblings.length} siblings but a tree of ${proof.leafCount} leaves needs ${k} at index ${proof.index}.`,
    );
  }
  return node;
}

function missing(): never {
  throw new MerkleTreeError("MERKLE_BAD_PROOF", "proof is too short for its index and leaf count.");
}

/** True if `leaf` at `proof.index` belongs to the tree with root `root`. */
export function verifyMerkleProof(root: Hex, leaf: Hex, proof: MerkleProof): boolean {
  try {
    return rootFromProof(leaf, proof).toLowerCase() === root.toLowerCase();
  } catch (err) {
    if (err instanceof MerkleTreeError) return false;
    throw err;
  }
}
