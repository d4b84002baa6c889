/**
 * CID helpers: parsing, canonical form, block verification, and the UnixFS import parameters that
 * reproduce `ipfs add --cid-version 1` (Kubo defaults) exactly.
 */
import { createHash } from "node:crypto";
import { CID } from "multiformats/cid";
import { create as createDigest } from "multiformats/hashes/digest";
import { importBytes, importByteStream, type ImporterOptions } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import { ContentVerificationError, InvalidCidError } from "./errors";
import type { ContentInput } from "./types";

/** A 0x-prefixed hex string (as viem types it). */
type HexString = `0x${string}`;

/** Kubo's default chunk size (`--chunker size-262144`). */
export const KUBO_CHUNK_SIZE = 262_144;
/** Kubo's balanced-layout fan-out. */
export const KUBO_MAX_CHILDREN = 174;
/** Multicodec of raw blocks. */
export const RAW_CODEC = 0x55;
/** Multicodec of dag-pb blocks. */
export const DAG_PB_CODEC = 0x70;
const SHA2_256 = 0x12;
const IDENTITY = 0x00;

/** The importer options that decide CIDs. */
export type KuboImportOptions = Pick<
  ImporterOptions,
  "cidVersion" | "rawLeaves" | "reduceSingleLeafToSelf" | "chunker" | "layout"
>;

/** Importer options giving the same CIDs as `ipfs add --cid-version 1` (raw leaves, 256 KiB, balanced 174). */
export function kuboCompatibleImportOptions(): KuboImportOptions {
  return {
    cidVersion: 1,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: KUBO_CHUNK_SIZE }),
    layout: balanced({ maxChildrenPerNode: KUBO_MAX_CHILDREN }),
  };
}

/** Parses any CID string; throws {@link InvalidCidError} with the reason. */
export function parseCid(value: string): CID {
  if (typeof value !== "string" || value.length === 0) throw new InvalidCidError(String(value), "empty");
  try {
    return CID.parse(value);
  } catch (err) {
    throw new InvalidCidError(value, (err as Error).message);
  }
}

/** Canonical string of a CID: CIDv1 in base32 (CIDv0 is converted). */
export function canonicalCid(value: string | CID): string {
  const cid = typeof value === "string" ? parseCid(value) : value;
  return cid.toV1().toString();
}

/** True if both strings name the same content (compares parsed CIDs, not strings). */
export function sameCid(a: string, b: string): boolean {
  return parseCid(a).toV1().equals(parseCid(b).toV1());
}

/** Checks that `bytes` hash to `cid`'s multihash (sha2-256 or identity); throws {@link ContentVerificationError}. */
export function verifyBlock(cid: CID, bytes: Uint8Array): void {
  const { code, digest } = cid.multihash;
  let actual: Uint8Array;
  if (code === SHA2_256) actual = createHash("sha256").update(bytes).digest();
  else if (code === IDENTITY) actual = bytes;
  else throw new ContentVerificationError(cid.toString(), `unsupported multihash 0x${code.toString(16)}`);
  if (!Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(digest)) {
    throw new ContentVerificationError(
      cid.toString(),
      `block of ${bytes.byteLength} bytes has a different sha2-256`,
    );
  }
}

/**
 * The CID of a training state stored as one raw block (docs/PROTOCOL.md, "Step checkpoints"):
 * CIDv1(raw 0x55, sha2-256 multihash of the state bytes). The state hash H(S) is that sha256, so the CID
 * follows from H(S) alone: no CID has to be published next to a checkpoint hash.
 */
export function cidOfStateHash(hash: HexString): string {
  if (typeof hash !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(hash)) {
    throw new InvalidCidError(String(hash), "a state hash is 0x and 32 bytes of hex");
  }
  return CID.createV1(RAW_CODEC, createDigest(SHA2_256, Buffer.from(hash.slice(2), "hex"))).toString();
}

/** The CID of `bytes` stored as one raw block: CIDv1(raw, sha2-256(bytes)). */
export function rawBlockCid(bytes: Uint8Array): CID {
  return CID.createV1(RAW_CODEC, createDigest(SHA2_256, createHash("sha256").update(bytes).digest()));
}

/** Parses a CID that must name one raw sha2-256 block (what putRawBlock stores); throws InvalidCidError. */
export function parseRawBlockCid(value: string): CID {
  const cid = parseCid(value);
  if (cid.version !== 1 || cid.code !== RAW_CODEC || cid.multihash.code !== SHA2_256) {
    throw new InvalidCidError(value, "not a raw block CID (CIDv1, raw codec 0x55, sha2-256)");
  }
  return cid;
}

/** A blockstore that only hashes: used to compute CIDs without storing anything. */
const discardingBlockstore = {
  put: async (cid: CID): Promise<CID> => cid,
};

function isUint8Array(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/**
 * Computes the CID that `ipfs add --cid-version 1` would print for this content, without storing it.
 * Objects up to 256 KiB are a single raw block: `CID.create(1, raw, sha256(bytes))`.
 */
export async function computeCid(content: ContentInput): Promise<string> {
  const options = kuboCompatibleImportOptions();
  const result = isUint8Array(content)
    ? await importBytes(content, discardingBlockstore, options)
    : await importByteStream(content, discardingBlockstore, options);
  return result.cid.toString();
}

/** A CID as the ledger stores it (job spec, state CIDs): its binary form, CIDv1, as 0x hex. */
export function cidToBytesHex(cid: string): HexString {
  return `0x${Buffer.from(CID.parse(cid).toV1().bytes).toString("hex")}`;
}

/**
 * The CID string of CID bytes read from the ledger. Accepts the binary CID (what the agents write) and,
 * for robustness, the UTF-8 bytes of a CID string; anything else throws InvalidCidError.
 */
export function cidFromBytesHex(hex: HexString): string {
  const bytes = Buffer.from(hex.slice(2), "hex");
  try {
    return CID.decode(bytes).toV1().toString();
  } catch {
    const text = bytes.toString("utf8");
    try {
      return CID.parse(text).toV1().toString();
    } catch {
      throw new InvalidCidError(hex, "neither a binary CID nor a CID string");
    }
  }
}
