/**
 * The job document: the one JSON object an employer publishes on IPFS for a job, and whose CID the
 * ledger records as the job's `specCid`. A miner reads everything it needs to train from it; the
 * ledger separately commits to the dataset (`manifestRoot`) and to S_0 (`initialStateHash`), so a
 * document that disagrees with the chain is rejected by the miner before it trains.
 */
import { InvalidArgumentError } from "./errors";

export const JOB_DOCUMENT_FORMAT = "pot-job/1";

export interface JobDocument {
  format: typeof JOB_DOCUMENT_FORMAT;
  /** Human-readable name, shown by `pot job status`. */
  name: string;
  /** The training job spec of src/ml (model JSON, optimizer, loss, batch size, steps, seed, engine id). */
  spec: unknown;
  /** CID of the dataset manifest (docs/protocol/manifest.md); its root is the job's on-chain manifestRoot. */
  manifestCid: string;
  /** CID of S_0's canonical bytes; their sha256 is the job's on-chain initialStateHash. */
  initialStateCid: string;
  /** Optional held-out test set (one batch in the batch format), for `pot job status` and `pot verify`. */
  testSetCid?: string;
}

const CID_LIKE = /^[a-zA-Z0-9]{8,200}$/;

/**
 * Parses and checks the shape of a job document (JSON text, bytes or object). The spec inside is
 * validated by src/ml (`validateJobSpec`), the CIDs against the chain by the miner.
 */
export function parseJobDocument(input: unknown): JobDocument {
  let doc: unknown = input;
  if (input instanceof Uint8Array) doc = new TextDecoder().decode(input);
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch {
      throw new InvalidArgumentError("job document", "is not valid JSON");
    }
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    throw new InvalidArgumentError("job document", "expected a JSON object");
  }
  const d = doc as Record<string, unknown>;
  if (d.format !== JOB_DOCUMENT_FORMAT) {
    throw new InvalidArgumentError(
      "job document.format",
      `expected "${JOB_DOCUMENT_FORMAT}", got ${JSON.stringify(d.format)}`,
    );
  }
  if (typeof d.name !== "string" || d.name.length === 0 || d.name.length > 200) {
    throw new InvalidArgumentError(
      "job document.name",
      "expected a non-empty string of at most 200 characters",
    );
  }
  if (!d.spec || typeof d.spec !== "object")
    throw new InvalidArgumentError("job document.spec", "expected an object");
  for (const field of ["manifestCid", "initialStateCid"] as const) {
    if (typeof d[field] !== "string" || !CID_LIKE.test(d[field] as string)) {
      throw new InvalidArgumentError(`job document.${field}`, "expected a CID string");
    }
  }
  if (d.testSetCid !== undefined && (typeof d.testSetCid !== "string" || !CID_LIKE.test(d.testSetCid))) {
    throw new InvalidArgumentError("job document.testSetCid", "expected a CID string when present");
  }
  return {
    format: JOB_DOCUMENT_FORMAT,
    name: d.name,
    spec: d.spec,
    manifestCid: d.manifestCid as string,
    initialStateCid: d.initialStateCid as string,
    ...(d.testSetCid !== undefined ? { testSetCid: d.testSetCid as string } : {}),
  };
}

/** Canonical JSON bytes of a job document (keys in a fixed order), as the employer uploads it. */
export function encodeJobDocument(doc: JobDocument): Uint8Array {
  const checked = parseJobDocument(doc);
  return new TextEncoder().encode(JSON.stringify(checked));
}
