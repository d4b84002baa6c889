/**
 * Step checkpoints (docs/PROTOCOL.md, "Step checkpoints"): re-computes the committed vectors
 * (test/vectors/protocol.json, `checkpoints`) with src/protocol/checkpoints.ts and with an independent
 * construction from the spec (ethers' AbiCoder and keccak256), so a bug shared by the generator and the
 * code would still be caught.
 */
import { expect } from "chai";
import { AbiCoder, concat, id, keccak256 as ethersKeccak } from "ethers";
import type { Hex } from "viem";
import * as p from "../../src/protocol";
import vectors from "../vectors/protocol.json";

const abi = AbiCoder.defaultAbiCoder();

/** The tree straight from the spec: pairs hashed left ++ right, an odd node promoted. */
function specRoot(leaves: string[]): string {
  if (leaves.length === 0) return `0x${"00".repeat(32)}`;
  let level = leaves;
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? ethersKeccak(concat([level[i], level[i + 1]])) : level[i]);
    level = next;
  }
  return level[0];
}

describe("protocol: step checkpoints (vectors and spec)", () => {
  const v = vectors.checkpoints;

  it("the typehash is keccak256 of its type string", () => {
    expect(v.typehash).to.equal(id("PoT.Checkpoint(uint256 index,bytes32 stateHash)"));
    expect(p.CHECKPOINT_TYPEHASH).to.equal(v.typehash);
  });

  it("re-computes steps, segments, leaves, root and proofs of every case, and the spec agrees", () => {
    for (const c of v.cases) {
      const T = c.stepsPerStage;
      const e = c.checkpointEvery;
      const hashes = c.stateHashes as Hex[];
      expect(p.checkpointSteps(T, e)).to.deep.equal(c.steps);
      expect(c.steps.map((_, j) => p.segmentBounds(T, e, j))).to.deep.equal(c.segments);
      expect(p.checkpointLeaves(hashes)).to.deep.equal(c.leaves);
      expect(p.checkpointRoot(hashes)).to.equal(c.root);
      hashes.forEach((_, j) => expect(p.checkpointProof(hashes, j)).to.deep.equal(c.proofs[j]));
      // from the spec: min(k e, T) for k = 1..ceil(T/e); leaf = keccak(abi.encode(typehash, j, hash))
      const m = e === 0 ? 0 : Math.ceil(T / e);
      expect(c.steps).to.deep.equal(Array.from({ length: m }, (_, k) => Math.min((k + 1) * e, T)));
      if (m > 0) expect(c.steps[m - 1]).to.equal(T);
      const leaves = hashes.map((h, j) =>
        ethersKeccak(abi.encode(["bytes32", "uint256", "bytes32"], [v.typehash, j, h])),
      );
      expect(leaves).to.deep.equal(c.leaves);
      expect(specRoot(leaves)).to.equal(c.root);
      c.proofs.forEach((proof, j) =>
        expect(p.verifyMerkleProof(c.root as Hex, c.leaves[j] as Hex, proof as p.MerkleProof)).to.equal(true),
      );
    }
  });

  it("segments tile the stage: each starts where the previous ended and the last ends at T", () => {
    for (const [T, e] of [
      [10, 3],
      [50, 7],
      [64, 64],
      [5, 9],
    ]) {
      const m = p.checkpointCount(T, e);
      let from = 0;
      for (let j = 0; j < m; j++) {
        const s = p.segmentBounds(T, e, j);
        expect(s.fromStep).to.equal(from);
        expect(s.toStep).to.be.greaterThan(s.fromStep);
        from = s.toStep;
      }
      expect(from).to.equal(T);
    }
  });

  it("an empty list has the zero root; one checkpoint's root is its leaf; any changed hash or order changes the root", () => {
    expect(p.checkpointRoot([])).to.equal(p.EMPTY_CHECKPOINT_ROOT);
    const a = id("a") as Hex;
    const b = id("b") as Hex;
    expect(p.checkpointRoot([a])).to.equal(p.checkpointLeaf(0, a));
    expect(p.checkpointRoot([a, b])).to.not.equal(p.checkpointRoot([b, a]));
    expect(p.checkpointRoot([a, b])).to.not.equal(p.checkpointRoot([a, a]));
  });

  it("refuses bad input with InvalidArgumentError naming the field", () => {
    expect(() => p.checkpointRoot(["0x12" as Hex])).to.throw(p.InvalidArgumentError, /checkpoints\[0\]/);
    expect(() => p.checkpointSteps(10, -1)).to.throw(p.InvalidArgumentError, /checkpointEvery/);
    expect(() => p.checkpointSteps(10, 1.5)).to.throw(p.InvalidArgumentError, /checkpointEvery/);
    expect(() => p.segmentBounds(10, 3, 4)).to.throw(
      p.InvalidArgumentError,
      /segment 4 is outside the 4 segments/,
    );
    expect(() => p.segmentBounds(10, 0, 0)).to.throw(p.InvalidArgumentError, /outside the 0 segments/);
  });
});
