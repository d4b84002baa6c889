/**
 * Dataset manifest commitment: the pure encoding that a job commits to on-chain (as bytes32).
 *
 * The exact bytes are specified in docs/protocol/manifest.md. Summary:
 *
 *   leaf_i    = keccak256(abi.encode(MANIFEST_LEAF_TYPEHASH, uint256 index, bytes32 keccak256(cidBytes),
 *                                    uint256 byteLength, uint256 sampleCount, uint256 stage))
 *   batchRoot = merkleRoot(leaf_0..leaf_{n-1}), the protocol's binary Merkle tree (src/protocol/merkle.ts:
 *               parent = keccak256(left ++ right), index-ordered, a node without a right sibling promoted).
 *   metaHash  = keccak256(abi.encode(MANIFEST_META_TYPEHASH, bytes32 keccak256(bytes(name)),
 *                                    bytes32 keccak256(abi.encode(uint256[] featureShape)),
 *                                    bytes32 keccak256(abi.encode(uint256[] labelShape)),
 *                                    uint256 numClasses, uint256 totalSamples, uint256 numStages,
 *                                    uint256 batchesPerStage, uint256 batchCount))
 *   root      = keccak256(abi.encode(MANIFEST_ROOT_TYPEHASH, bytes32 metaHash, bytes32 batchRoot))
 *
 * No I/O here; CIDs enter as their binary form (CIDv1 bytes), so the string base never matters.
 */
import { PotError } from "../errors";
import { encodeAbiParameters, isHex, keccak256, stringToBytes, toHex, type Hex } from "viem";
import { merkleRoot } from "./merkle";

/** keccak256 of the leaf type string; first word of every leaf. */
export const MANIFEST_LEAF_TYPEHASH: Hex = keccak256(
  stringToBytes(
    "PoT.DatasetManifestLeaf(uint256 index,bytes32 cidHash,uint256 byteLength,uint256 sampleCount,uint256 stage)",
  ),
);

/** keccak256 of the dataset-level metadata type string. */
export const MANIFEST_META_TYPEHASH: Hex = keccak256(
  stringToBytes(
    "PoT.DatasetManifestMeta(bytes32 nameHash,bytes32 featureShapeHash,bytes32 labelShapeHash,uint256 numClasses,uint256 totalSamples,uint256 numStages,uint256 batchesPerStage,uint256 batchCount)",
  ),
);

/** keccak256 of the root type string. */
export const MANIFEST_ROOT_TYPEHASH: Hex = keccak256(
  stringToBytes("PoT.DatasetManifestRoot(bytes32 metaHash,bytes32 batchRoot)"),
);

/** Error thrown for any malformed manifest input or root (the tree itself throws MerkleTreeError). */
export class ManifestEncodingError extends PotError {
  constructor(code: string, message: string) {
    super(message, { code });
  }
}

/** One batch as committed in the manifest tree. */
export interface ManifestLeafInput {
  /** Position of the batch in the manifest's `batches` array (0-based). */
  index: number;
  /** Binary CIDv1 of the batch object (`CID.bytes`), as hex. */
  cidBytes: Hex;
  /** Exact length of the batch object in bytes. */
  byteLength: number;
  /** Number of training samples in the batch (>= 1). */
  sampleCount: number;
  /** Stage (1..numStages, as in docs/PROTOCOL.md) that consumes this batch. */
  stage: number;
}

/** Dataset-level fields covered by the root. */
export interface ManifestMetaInput {
  name: string;
  featureShape: readonly number[];
  labelShape: readonly number[];
  /** Number of label classes, 0 for regression / not applicable. */
  numClasses: number;
  totalSamples: number;
  numStages: number;
  batchesPerStage: number;
  batchCount: number;
}

function assertUint(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ManifestEncodingError(
      "MANIFEST_BAD_INTEGER",
      `${field} must be a non-negative safe integer, got ${String(value)}; fix the manifest field.`,
    );
  }
}

function assertBytes32(value: Hex, field: string): void {
  if (!isHex(value, { strict: true }) || value.length !== 66) {
    throw new ManifestEncodingError(
      "MANIFEST_BAD_BYTES32",
      `${field} must be a 0x-prefixed 32-byte hex string, got ${String(value)}.`,
    );
  }
}

/** Hashes one batch leaf: keccak256(abi.encode(TYPEHASH, index, keccak256(cidBytes), byteLength, sampleCount, stage)). */
export function manifestLeafHash(leaf: ManifestLeafInput): Hex {
  assertUint(leaf.index, "index");
  assertUint(leaf.byteLength, "byteLength");
  assertUint(leaf.sampleCount, "sampleCount");
  assertUint(leaf.stage, "stage");
  if (!isHex(leaf.cidBytes, { strict: true }) || leaf.cidBytes.length < 4 || leaf.cidBytes.length % 2 !== 0) {
    throw new ManifestEncodingError(
      "MANIFEST_BAD_CID_BYTES",
      `cidBytes of batch ${leaf.index} must be the binary CID as 0x-hex, got ${String(leaf.cidBytes)}.`,
    );
  }
  return keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "uint256" },
        { type: "bytes32" },
        { type: "uint256" },
        { type: "uint256" },
        { type: "uint256" },
      ],
      [
        MANIFEST_LEAF_TYPEHASH,
        BigInt(leaf.index),
        keccak256(leaf.cidBytes),
        BigInt(leaf.byteLength),
        BigInt(leaf.sampleCount),
        BigInt(leaf.stage),
      ],
    ),
  );
}

function shapeHash(shape: readonly number[], field: string): Hex {
  shape.forEach((d, i) => assertUint(d, `${field}[${i}]`));
  return keccak256(encodeAbiParameters([{ type: "uint256[]" }], [shape.map((d) => BigInt(d))]));
}

/** Hash of the dataset-level fields (see module doc for the encoding). */
export function manifestMetaHash(meta: ManifestMetaInput): Hex {
  for (const f of ["numClasses", "totalSamples", "numStages", "batchesPerStage", "batchCount"] as const) {
    assertUint(meta[f], f);
  }
  return keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "uint256" },
        { type: "uint256" },
        { type: "uint256" },
        { type: "uint256" },
        { type: "uint256" },
      ],
      [
        MANIFEST_META_TYPEHASH,
        keccak256(stringToBytes(meta.name)),
        shapeHash(meta.featureShape, "featureShape"),
        shapeHash(meta.labelShape, "labelShape"),
        BigInt(meta.numClasses),
        BigInt(meta.totalSamples),
        BigInt(meta.numStages),
        BigInt(meta.batchesPerStage),
        BigInt(meta.batchCount),
      ],
    ),
  );
}

/** Final manifest root: keccak256(abi.encode(MANIFEST_ROOT_TYPEHASH, metaHash, batchRoot)). */
export function combineManifestRoot(metaHash: Hex, batchRoot: Hex): Hex {
  assertBytes32(metaHash, "metaHash");
  assertBytes32(batchRoot, "batchRoot");
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }],
      [MANIFEST_ROOT_TYPEHASH, metaHash, batchRoot],
    ),
  );
}

/** Everything needed to commit to a manifest and prove its batches. */
export interface ManifestCommitment {
  root: Hex;
  metaHash: Hex;
  batchRoot: Hex;
  leaves: Hex[];
}

/**
 * Computes the manifest commitment. Leaves must be given in index order (leaf.index === position),
 * and `meta.batchCount` must equal the number of leaves.
 */
export function computeManifestCommitment(
  meta: ManifestMetaInput,
  leaves: readonly ManifestLeafInput[],
): ManifestCommitment {
  if (meta.batchCount !== leaves.length) {
    throw new ManifestEncodingError(
      "MANIFEST_COUNT_MISMATCH",
      `batchCount says ${meta.batchCount} but ${leaves.length} batches were given.`,
    );
  }
  if (leaves.length === 0) {
    throw new ManifestEncodingError("MANIFEST_EMPTY", "a manifest needs at least one batch; add batches.");
  }
  const hashes = leaves.map((leaf, i) => {
    if (leaf.index !== i) {
      throw new ManifestEncodingError(
        "MANIFEST_BAD_INDEX",
        `batch at position ${i} has index ${leaf.index}; batches must be listed in index order.`,
      );
    }
    return manifestLeafHash(leaf);
  });
  const batchRoot = merkleRoot(hashes);
  const metaHash = manifestMetaHash(meta);
  return { root: combineManifestRoot(metaHash, batchRoot), metaHash, batchRoot, leaves: hashes };
}

/** Normalises any bytes to 0x-hex (helper for callers holding a Uint8Array CID). */
export function cidBytesToHex(bytes: Uint8Array): Hex {
  return toHex(bytes);
}
