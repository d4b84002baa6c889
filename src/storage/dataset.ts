/**
 * Datasets on the content store. The employer splits a dataset into per-stage batch objects and
 * publishes them with a manifest whose Merkle root the job commits to on-chain; a miner fetches the
 * batches of one stage and verifies them (bytes against CIDs, manifest against the root), rejecting any
 * batch outside the manifest. Batches are opaque bytes here (their format belongs to src/ml).
 *
 * The JSON and the root encoding are specified in docs/protocol/manifest.md.
 */
import type { Hex } from "viem";
import { computeManifestCommitment, type ManifestCommitment } from "../protocol/manifest";
import { merkleProofs, type MerkleProof } from "../protocol/merkle";
import { canonicalCid, computeCid, parseCid, sameCid } from "./cid";
import { DatasetManifestError } from "./errors";
import type { ContentStore, FetchOptions } from "./types";

/** Format tag of the manifest JSON. */
export const MANIFEST_FORMAT = "pot-dataset-manifest/1";

/**
 * How the employer cuts the dataset. Stages are numbered 1..numStages as in docs/PROTOCOL.md (stage s
 * computes S_s = f(S_{s-1}, B_s)); batch i (0-based) goes to stage floor(i / batchesPerStage) + 1.
 */
export interface DatasetPlan {
  name: string;
  /** Shape of one sample's features, e.g. [784] or [28, 28, 1]. */
  featureShape: number[];
  /** Shape of one sample's label, e.g. [10] (one-hot) or [] (scalar). */
  labelShape: number[];
  /** Number of classes (0 if not a classification task). */
  numClasses: number;
  numStages: number;
  batchesPerStage: number;
}

/** One batch to publish (opaque bytes, e.g. the src/ml batch encoding). */
export interface BatchInput {
  bytes: Uint8Array;
  sampleCount: number;
}

/** Stage (1-based) that batch `index` (0-based) belongs to. */
export function stageOfBatch(index: number, batchesPerStage: number): number {
  return Math.floor(index / batchesPerStage) + 1;
}

/** One batch as listed in the manifest. */
export interface ManifestBatch {
  /** Position in `batches` (0-based). */
  index: number;
  /** Stage that consumes the batch (1..numStages). */
  stage: number;
  /** CIDv1 (base32) of the batch object. */
  cid: string;
  byteLength: number;
  sampleCount: number;
}

/** The manifest JSON document (stored on IPFS; its root is committed on-chain). */
export interface DatasetManifest extends DatasetPlan {
  format: typeof MANIFEST_FORMAT;
  totalSamples: number;
  batches: ManifestBatch[];
  /** The root committed on-chain (bytes32). Informative: readers verify against the chain's value. */
  root: Hex;
}

/** Result of {@link publishDataset}. */
export interface PublishedDataset {
  manifest: DatasetManifest;
  /** CID of the manifest JSON (the job also records it so miners can find the manifest). */
  manifestCid: string;
  /** Merkle root to commit on-chain. */
  root: Hex;
}

/** A fetched, verified batch. */
export interface FetchedBatch extends ManifestBatch {
  bytes: Uint8Array;
  /** Membership proof of this batch in the manifest's batch tree (for on-chain checks). */
  proof: MerkleProof;
}

function fail(code: string, message: string): never {
  throw new DatasetManifestError(code, message);
}

function isUint(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function checkPlan(plan: DatasetPlan): void {
  if (typeof plan.name !== "string" || plan.name.length === 0)
    fail("MANIFEST_INVALID", "dataset name is empty.");
  for (const field of ["featureShape", "labelShape"] as const) {
    const shape = plan[field];
    if (!Array.isArray(shape) || !shape.every((d) => isUint(d) && d > 0)) {
      fail(
        "MANIFEST_INVALID",
        `${field} must be an array of positive integers, got ${JSON.stringify(shape)}.`,
      );
    }
  }
  if (!isUint(plan.numClasses)) fail("MANIFEST_INVALID", `numClasses must be an integer >= 0.`);
  if (!isUint(plan.numStages) || plan.numStages < 1) fail("MANIFEST_INVALID", "numStages must be >= 1.");
  if (!isUint(plan.batchesPerStage) || plan.batchesPerStage < 1) {
    fail("MANIFEST_INVALID", "batchesPerStage must be >= 1.");
  }
}

/** Computes the on-chain commitment of a manifest from its fields (ignores the `root` field). */
export function manifestCommitment(manifest: Omit<DatasetManifest, "root">): ManifestCommitment {
  return computeManifestCommitment(
    {
      name: manifest.name,
      featureShape: manifest.featureShape,
      labelShape: manifest.labelShape,
      numClasses: manifest.numClasses,
      totalSamples: manifest.totalSamples,
      numStages: manifest.numStages,
      batchesPerStage: manifest.batchesPerStage,
      batchCount: manifest.batches.length,
    },
    manifest.batches.map((b) => ({
      index: b.index,
      cidBytes: `0x${Buffer.from(parseCid(b.cid).toV1().bytes).toString("hex")}` as Hex,
      byteLength: b.byteLength,
      sampleCount: b.sampleCount,
      stage: b.stage,
    })),
  );
}

/**
 * Checks a manifest's structure and that it hashes to `expectedRoot` (the value committed on-chain).
 * Throws {@link DatasetManifestError} with code MANIFEST_INVALID or MANIFEST_ROOT_MISMATCH.
 */
export function verifyManifest(manifest: DatasetManifest, expectedRoot: Hex): ManifestCommitment {
  if (manifest == null || manifest.format !== MANIFEST_FORMAT) {
    fail("MANIFEST_INVALID", `not a ${MANIFEST_FORMAT} document (format: ${String(manifest?.format)}).`);
  }
  checkPlan(manifest);
  const { batches, numStages, batchesPerStage } = manifest;
  if (!Array.isArray(batches) || batches.length !== numStages * batchesPerStage) {
    fail(
      "MANIFEST_INVALID",
      `manifest lists ${batches?.length} batches but numStages x batchesPerStage = ${numStages * batchesPerStage}.`,
    );
  }
  let total = 0;
  batches.forEach((b, i) => {
    if (b.index !== i) fail("MANIFEST_INVALID", `batch at position ${i} has index ${b.index}.`);
    if (b.stage !== stageOfBatch(i, batchesPerStage)) {
      fail(
        "MANIFEST_INVALID",
        `batch ${i} has stage ${b.stage}, expected ${stageOfBatch(i, batchesPerStage)}.`,
      );
    }
    if (!isUint(b.byteLength) || !isUint(b.sampleCount) || b.sampleCount < 1) {
      fail("MANIFEST_INVALID", `batch ${i} has a bad byteLength or sampleCount.`);
    }
    if (parseCid(b.cid).version !== 1) fail("MANIFEST_INVALID", `batch ${i} CID ${b.cid} is not CIDv1.`);
    total += b.sampleCount;
  });
  if (manifest.totalSamples !== total) {
    fail("MANIFEST_INVALID", `totalSamples is ${manifest.totalSamples} but the batches hold ${total}.`);
  }
  const commitment = manifestCommitment(manifest);
  if (commitment.root.toLowerCase() !== String(expectedRoot).toLowerCase()) {
    fail(
      "MANIFEST_ROOT_MISMATCH",
      `manifest "${manifest.name}" hashes to ${commitment.root}, not the committed root ${expectedRoot}; ` +
        "it was altered or belongs to another job. Refuse it and fetch the manifest named by the job.",
    );
  }
  return commitment;
}

/** Serialises a manifest as the JSON bytes stored on IPFS (fixed key order, UTF-8). */
export function encodeManifest(manifest: DatasetManifest): Uint8Array {
  const ordered = {
    format: manifest.format,
    name: manifest.name,
    featureShape: manifest.featureShape,
    labelShape: manifest.labelShape,
    numClasses: manifest.numClasses,
    totalSamples: manifest.totalSamples,
    numStages: manifest.numStages,
    batchesPerStage: manifest.batchesPerStage,
    batches: manifest.batches.map((b) => ({
      index: b.index,
      stage: b.stage,
      cid: b.cid,
      byteLength: b.byteLength,
      sampleCount: b.sampleCount,
    })),
    root: manifest.root,
  };
  return new TextEncoder().encode(JSON.stringify(ordered, null, 1));
}

/**
 * Employer side: stores every batch (pinned), builds and stores the manifest, and returns the root to
 * commit on-chain. Batch i belongs to stage floor(i / plan.batchesPerStage) + 1; exactly
 * numStages x batchesPerStage batches are required.
 */
export async function publishDataset(
  store: ContentStore,
  batches: readonly BatchInput[],
  plan: DatasetPlan,
  options: { signal?: AbortSignal } = {},
): Promise<PublishedDataset> {
  checkPlan(plan);
  const expected = plan.numStages * plan.batchesPerStage;
  if (batches.length !== expected) {
    fail(
      "MANIFEST_INVALID",
      `plan needs ${plan.numStages} stages x ${plan.batchesPerStage} batches = ${expected}, got ${batches.length} batches.`,
    );
  }
  const listed: ManifestBatch[] = [];
  for (const [i, batch] of batches.entries()) {
    if (!isUint(batch.sampleCount) || batch.sampleCount < 1) {
      fail("MANIFEST_INVALID", `batch ${i} must hold at least one sample.`);
    }
    const cid = await store.put(batch.bytes, { pin: true, signal: options.signal });
    listed.push({
      index: i,
      stage: stageOfBatch(i, plan.batchesPerStage),
      cid: canonicalCid(cid),
      byteLength: batch.bytes.byteLength,
      sampleCount: batch.sampleCount,
    });
  }
  const unrooted: Omit<DatasetManifest, "root"> = {
    format: MANIFEST_FORMAT,
    name: plan.name,
    featureShape: [...plan.featureShape],
    labelShape: [...plan.labelShape],
    numClasses: plan.numClasses,
    totalSamples: listed.reduce((sum, b) => sum + b.sampleCount, 0),
    numStages: plan.numStages,
    batchesPerStage: plan.batchesPerStage,
    batches: listed,
  };
  const { root } = manifestCommitment(unrooted);
  const manifest: DatasetManifest = { ...unrooted, root };
  const manifestCid = await store.put(encodeManifest(manifest), { pin: true, signal: options.signal });
  return { manifest, manifestCid, root };
}

/** Fetches the manifest JSON by CID and verifies it against the committed root. */
export async function fetchManifest(
  store: ContentStore,
  manifestCid: string,
  expectedRoot: Hex,
  options: FetchOptions = {},
): Promise<DatasetManifest> {
  const bytes = await store.get(manifestCid, { ...options, maxBytes: 64 * 1024 * 1024 });
  let manifest: DatasetManifest;
  try {
    manifest = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as DatasetManifest;
  } catch (err) {
    fail("MANIFEST_INVALID", `manifest ${manifestCid} is not UTF-8 JSON: ${(err as Error).message}.`);
  }
  verifyManifest(manifest, expectedRoot);
  return manifest;
}

/**
 * Batches of one stage requested at once. Enough to keep a bitswap session busy; few enough that a
 * 200-batch stage (plus a prefetched one) does not put hundreds of wants on a peer at once, which
 * stalled fetches until their no-progress timeout in the pipelining benchmark.
 */
export const DEFAULT_BATCH_FETCH_CONCURRENCY = 16;

/** `fn` over `items` with at most `limit` calls in flight; results in input order; the first error wins. */
async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/**
 * Miner side: verifies the manifest against the on-chain root, then fetches every batch of `stage`
 * (`concurrency` at a time, default DEFAULT_BATCH_FETCH_CONCURRENCY), each verified against its CID and
 * its recorded length. Returns them in index order with proofs. A caller that fetches stage after stage
 * passes `verified`, what verifyManifest returned for this manifest and root, to skip re-hashing the
 * whole manifest each time (a quarter of a second for 4,000 batches).
 */
export async function fetchStageBatches(
  store: ContentStore,
  manifest: DatasetManifest,
  expectedRoot: Hex,
  stage: number,
  options: FetchOptions & { concurrency?: number; verified?: ManifestCommitment } = {},
): Promise<FetchedBatch[]> {
  const { concurrency = DEFAULT_BATCH_FETCH_CONCURRENCY, verified, ...fetchOptions } = options;
  const commitment =
    verified !== undefined && verified.root.toLowerCase() === String(expectedRoot).toLowerCase()
      ? verified
      : verifyManifest(manifest, expectedRoot);
  if (!isUint(stage) || stage < 1 || stage > manifest.numStages) {
    fail("STAGE_OUT_OF_RANGE", `stage ${stage} is outside the manifest's stages 1..${manifest.numStages}.`);
  }
  const wanted = manifest.batches.filter((b) => b.stage === stage);
  const proofs = merkleProofs(
    commitment.leaves,
    wanted.map((b) => b.index),
  );
  return mapWithLimit(wanted, concurrency, async (b, k) => {
    const bytes = await store.get(b.cid, { ...fetchOptions, maxBytes: b.byteLength });
    if (bytes.byteLength !== b.byteLength) {
      fail(
        "BATCH_LENGTH_MISMATCH",
        `batch ${b.index} (${b.cid}) is ${bytes.byteLength} bytes, manifest says ${b.byteLength}.`,
      );
    }
    return { ...b, bytes, proof: proofs[k] };
  });
}

/**
 * Checks a batch handed over out of band (e.g. pushed by a peer): its bytes must hash to a CID that the
 * verified manifest lists for `stage`. Throws BATCH_NOT_IN_MANIFEST otherwise; returns the entry.
 */
export async function assertBatchInManifest(
  manifest: DatasetManifest,
  expectedRoot: Hex,
  stage: number,
  bytes: Uint8Array,
): Promise<ManifestBatch> {
  verifyManifest(manifest, expectedRoot);
  const cid = await computeCid(bytes);
  const entry = manifest.batches.find((b) => b.stage === stage && sameCid(b.cid, cid));
  if (entry == null || entry.byteLength !== bytes.byteLength) {
    fail(
      "BATCH_NOT_IN_MANIFEST",
      `batch ${cid} (${bytes.byteLength} bytes) is not listed for stage ${stage} in manifest "${manifest.name}"; reject it.`,
    );
  }
  return entry;
}
