/**
 * Typed errors of the storage layer. Every error has a stable `code` and a message that says what went
 * wrong and what to do about it.
 */

import { PotError } from "../errors";

/** Base class of every storage error. */
export class StorageError extends PotError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, { code, cause: options?.cause });
  }
}

/** The content could not be obtained (no peer has it, or the daemon reported it missing). */
export class ContentNotFoundError extends StorageError {
  readonly cid: string;
  constructor(cid: string, detail: string, options?: { cause?: unknown; code?: string }) {
    super(
      options?.code ?? "CONTENT_NOT_FOUND",
      `content ${cid} could not be fetched: ${detail}. Connect to a peer that holds it (dial its address from the registry) or check that it was published.`,
      options,
    );
    this.cid = cid;
  }
}

/** No progress for `timeoutMs` while fetching `cid` (a block never arrived). */
export class FetchTimeoutError extends ContentNotFoundError {
  readonly timeoutMs: number;
  constructor(cid: string, timeoutMs: number, missingBlock?: string, options?: { cause?: unknown }) {
    super(
      cid,
      `no data arrived for ${timeoutMs} ms` +
        (missingBlock != null && missingBlock !== cid ? ` (waiting for block ${missingBlock})` : "") +
        "; raise fetchTimeoutMs if the network is slow",
      { ...options, code: "FETCH_TIMEOUT" },
    );
    this.timeoutMs = timeoutMs;
  }
}

/** Bytes received do not hash to the CID that named them (corruption or a lying peer). */
export class ContentVerificationError extends StorageError {
  readonly cid: string;
  constructor(cid: string, detail: string) {
    super(
      "CONTENT_MISMATCH",
      `bytes received for ${cid} do not match it: ${detail}. The data was corrupted or the peer is faulty; discard it and fetch from another peer.`,
    );
    this.cid = cid;
  }
}

/** A string that is not a usable CID. */
export class InvalidCidError extends StorageError {
  constructor(value: string, detail: string) {
    super("INVALID_CID", `"${value}" is not a usable CID: ${detail}.`);
  }
}

/** The object is bigger than the caller allowed (`maxBytes`). */
export class ObjectTooLargeError extends StorageError {
  constructor(cid: string, size: bigint, maxBytes: number) {
    super(
      "OBJECT_TOO_LARGE",
      `content ${cid} is ${size} bytes, above the limit of ${maxBytes}; raise maxBytes or use getStream().`,
    );
  }
}

/** Bad storage configuration. */
export class StorageConfigError extends StorageError {
  constructor(message: string) {
    super("STORAGE_CONFIG", message);
  }
}

/** Could not reach the Kubo RPC API, or it answered with an error. */
export class KuboRpcError extends StorageError {
  constructor(url: string, detail: string, options?: { cause?: unknown }) {
    super(
      "KUBO_RPC",
      `Kubo RPC at ${url} failed: ${detail}. Check that the daemon runs and the API URL is right.`,
      options,
    );
  }
}

/** Dataset manifest is malformed, does not match its committed root, or a batch lies outside it. */
export class DatasetManifestError extends StorageError {}
