import { expect } from "chai";
import { AbiCoder, concat, keccak256 as ethersKeccak, toUtf8Bytes } from "ethers";
import type { Hex } from "viem";
import {
  combineManifestRoot,
  computeManifestCommitment,
  ManifestEncodingError,
  manifestLeafHash,
  MANIFEST_LEAF_TYPEHASH,
  MANIFEST_META_TYPEHASH,
  MANIFEST_ROOT_TYPEHASH,
  type ManifestLeafInput,
  type ManifestMetaInput,
} from "../../src/protocol/manifest";
import {
  hashPair,
  merkleProof,
  merkleProofs,
  merkleRoot,
  MerkleTreeError,
  rootFromProof,
  verifyMerkleProof,
  type MerkleProof,
} from "../../src/protocol/merkle";
import { computeCid, parseCid } from "../../src/storage/cid";
import { patternBytes } from "../support/pattern-bytes";
import vectors from "../vectors/manifest.json";

interface VectorCase {
  name: string;
  meta: ManifestMetaInput;
  batches: (ManifestLeafInput & { cid: string })[];
  expected: { leaves: Hex[]; batchRoot: Hex; metaHash: Hex; root: Hex; proofs: MerkleProof[] };
}
const cases = vectors.cases as unknown as VectorCase[];
const abi = AbiCoder.defaultAbiCoder();

/** Independent implementation with ethers (what a Solidity verifier computes). */
const ethersLeaf = (b: ManifestLeafInput): string =>
  ethersKeccak(
    abi.encode(
      ["bytes32", "uint256", "bytes32", "uint256", "uint256", "uint256"],
      [
        ethersKeccak(
          toUtf8Bytes(
            "PoT.DatasetManifestLeaf(uint256 index,bytes32 cidHash,uint256 byteLength,uint256 sampleCount,uint256 stage)",
          ),
        ),
        b.index,
        ethersKeccak(b.cidBytes),
        b.byteLength,
        b.sampleCount,
        b.stage,
      ],
    ),
  );
function ethersTree(leaves: string[]): string {
  let level = leaves;
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(i + 1 < level.length ? ethersKeccak(concat([level[i], level[i + 1]])) : level[i]);
    }
    level = next;
  }
  return level[0];
}
const ethersMeta = (m: ManifestMetaInput): string =>
  ethersKeccak(
    abi.encode(
      ["bytes32", "bytes32", "bytes32", "bytes32", "uint256", "uint256", "uint256", "uint256", "uint256"],
      [
        MANIFEST_META_TYPEHASH,
        ethersKeccak(toUtf8Bytes(m.name)),
        ethersKeccak(abi.encode(["uint256[]"], [m.featureShape])),
        ethersKeccak(abi.encode(["uint256[]"], [m.labelShape])),
        m.numClasses,
        m.totalSamples,
        m.numStages,
        m.batchesPerStage,
        m.batchCount,
      ],
    ),
  );

describe("protocol/manifest: dataset manifest commitment", () => {
  it("typehashes are keccak256 of their documented type strings", () => {
    expect(vectors.typehashes.leaf).to.equal(MANIFEST_LEAF_TYPEHASH);
    expect(vectors.typehashes.meta).to.equal(MANIFEST_META_TYPEHASH);
    expect(MANIFEST_ROOT_TYPEHASH).to.equal(
      ethersKeccak(toUtf8Bytes("PoT.DatasetManifestRoot(bytes32 metaHash,bytes32 batchRoot)")),
    );
  });

  for (const c of cases) {
    it(`vector ${c.name}: leaves, batch root, meta hash and root match the committed JSON and ethers`, () => {
      const got = computeManifestCommitment(c.meta, c.batches);
      expect(got.leaves).to.deep.equal(c.expected.leaves);
      expect(got.batchRoot).to.equal(c.expected.batchRoot);
      expect(got.metaHash).to.equal(c.expected.metaHash);
      expect(got.root).to.equal(c.expected.root);
      // independent implementation
      const leaves = c.batches.map(ethersLeaf);
      expect(leaves).to.deep.equal(c.expected.leaves);
      expect(ethersTree(leaves)).to.equal(c.expected.batchRoot);
      expect(ethersMeta(c.meta)).to.equal(c.expected.metaHash);
      expect(
        ethersKeccak(
          abi.encode(
            ["bytes32", "bytes32", "bytes32"],
            [MANIFEST_ROOT_TYPEHASH, c.expected.metaHash, c.expected.batchRoot],
          ),
        ),
      ).to.equal(c.expected.root);
      // the CID bytes in the vector are the binary form of the CID string
      for (const b of c.batches) {
        expect("0x" + Buffer.from(parseCid(b.cid).bytes).toString("hex")).to.equal(b.cidBytes);
      }
      // proofs
      c.expected.proofs.forEach((proof, i) => {
        expect(merkleProof(got.leaves, i)).to.deep.equal(proof);
        expect(verifyMerkleProof(got.batchRoot, got.leaves[i], proof)).to.equal(true);
      });
    });
  }

  it("vector CIDs are the Kubo-compatible CIDs of the documented batch bytes", async () => {
    for (const c of cases) {
      for (const b of c.batches) {
        const bytes = patternBytes(1000 + 37 * b.index, 100 + b.index);
        expect(b.byteLength).to.equal(bytes.length);
        expect(await computeCid(bytes)).to.equal(b.cid);
      }
    }
  });

  it("promotes the odd node instead of duplicating it (3 leaves)", () => {
    const [a, b, c] = cases[0].expected.leaves;
    expect(merkleRoot([a, b, c])).to.equal(hashPair(hashPair(a, b), c));
    expect(merkleRoot([a, b, c])).to.not.equal(hashPair(hashPair(a, b), hashPair(c, c)));
    expect(merkleRoot([a])).to.equal(a);
  });

  it("proves every index of trees with 1..17 leaves and rejects wrong leaves, indices and siblings", () => {
    for (let n = 1; n <= 17; n++) {
      const leaves = Array.from({ length: n }, (_, i) => ethersKeccak(toUtf8Bytes(`leaf ${i}`)) as Hex);
      const root = merkleRoot(leaves);
      for (let i = 0; i < n; i++) {
        const proof = merkleProof(leaves, i);
        expect(rootFromProof(leaves[i], proof)).to.equal(root);
        expect(verifyMerkleProof(root, leaves[(i + 1) % n], proof)).to.equal(n === 1);
        if (proof.siblings.length > 0) {
          const bad = { ...proof, siblings: [...proof.siblings] };
          bad.siblings[0] = leaves[i];
          expect(verifyMerkleProof(root, leaves[i], bad)).to.equal(false);
          expect(
            verifyMerkleProof(root, leaves[i], { ...proof, siblings: proof.siblings.slice(1) }),
          ).to.equal(false);
        }
      }
    }
  });

  it("merkleProofs builds the tree once and gives every index the same proof as merkleProof", () => {
    for (const n of [1, 2, 7, 16, 33]) {
      const leaves = Array.from({ length: n }, (_, i) => ethersKeccak(toUtf8Bytes(`leaf ${i}`)) as Hex);
      const all = Array.from({ length: n }, (_, i) => i);
      const proofs = merkleProofs(leaves, [...all].reverse());
      proofs.forEach((p, k) => expect(p).to.deep.equal(merkleProof(leaves, n - 1 - k)));
    }
    const leaves = [ethersKeccak(toUtf8Bytes("only")) as Hex];
    expect(() => merkleProofs(leaves, [0, 1])).to.throw(MerkleTreeError, /outside the 1 leaves/);
  });

  it("the root changes when any committed field changes", () => {
    const c = cases[1];
    const base = computeManifestCommitment(c.meta, c.batches).root;
    const variants: [ManifestMetaInput, ManifestLeafInput[]][] = [
      [{ ...c.meta, name: c.meta.name + "x" }, c.batches],
      [{ ...c.meta, featureShape: [2, 2] }, c.batches],
      [{ ...c.meta, numClasses: c.meta.numClasses + 1 }, c.batches],
      [c.meta, c.batches.map((b, i) => (i === 2 ? { ...b, sampleCount: b.sampleCount + 1 } : b))],
      [c.meta, c.batches.map((b, i) => (i === 2 ? { ...b, stage: b.stage + 1 } : b))],
      [c.meta, c.batches.map((b, i) => (i === 0 ? { ...b, byteLength: b.byteLength - 1 } : b))],
      [c.meta, c.batches.map((b, i) => (i === 0 ? { ...b, cidBytes: c.batches[1].cidBytes } : b))],
    ];
    for (const [meta, leaves] of variants) {
      expect(computeManifestCommitment(meta, leaves).root).to.not.equal(base);
    }
    expect(combineManifestRoot(base, base)).to.match(/^0x[0-9a-f]{64}$/);
  });

  it("throws typed errors for malformed input", () => {
    const c = cases[0];
    const codeOf = (
      fn: () => unknown,
      type: typeof ManifestEncodingError = ManifestEncodingError,
    ): string => {
      try {
        fn();
      } catch (err) {
        expect(err).to.be.instanceOf(type);
        return (err as ManifestEncodingError).code;
      }
      throw new Error("expected a throw");
    };
    expect(codeOf(() => computeManifestCommitment({ ...c.meta, batchCount: 0 }, []))).to.equal(
      "MANIFEST_EMPTY",
    );
    expect(codeOf(() => merkleRoot([]), MerkleTreeError)).to.equal("MERKLE_EMPTY");
    expect(codeOf(() => manifestLeafHash({ ...c.batches[0], sampleCount: -1 }))).to.equal(
      "MANIFEST_BAD_INTEGER",
    );
    expect(codeOf(() => manifestLeafHash({ ...c.batches[0], cidBytes: "0xzz" as Hex }))).to.equal(
      "MANIFEST_BAD_CID_BYTES",
    );
    expect(codeOf(() => computeManifestCommitment({ ...c.meta, batchCount: 4 }, c.batches))).to.equal(
      "MANIFEST_COUNT_MISMATCH",
    );
    expect(codeOf(() => computeManifestCommitment(c.meta, [...c.batches].reverse()))).to.equal(
      "MANIFEST_BAD_INDEX",
    );
    expect(codeOf(() => merkleProof(c.expected.leaves, 9), MerkleTreeError)).to.equal(
      "MERKLE_INDEX_OUT_OF_RANGE",
    );
  });
});
