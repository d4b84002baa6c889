/**
 * A job as the chain and IPFS describe it: its events, its job document (fetched by the on-chain spec
 * CID) and the states of its stages. Shared by status, fetch-model, serve and the verifier.
 */
import type { Hex } from "viem";
import { parseJobDocument, stateHash, type JobDocument } from "../protocol";
import { cidFromBytesHex, type ContentStore, type FetchOptions } from "../storage";
import { readJobEvents, wrappedHeader, type JobEvents, type LedgerHandle } from "./ledger";

/** A job's events and its job document. */
export interface JobRecord {
  readonly events: JobEvents;
  readonly document: JobDocument;
  /** CID string of the job document (from the on-chain specCid). */
  readonly specCid: string;
}

/** The stored state S_s of a stage: its CID and the hash the chain recorded. */
export interface StateRef {
  readonly stage: number;
  readonly cid: string;
  readonly expectedHash: Hex;
}

/** Fetched bytes do not hash to what the chain recorded. */
export class StateHashMismatchError extends Error {
  constructor(
    readonly stage: number,
    readonly cid: string,
    readonly expected: Hex,
    readonly actual: Hex,
  ) {
    super(
      `S_${stage} fetched by CID ${cid} hashes to ${actual}, but the chain recorded H(S_${stage}) = ${expected}: ` +
        "the content under that CID is not the state the miners declared",
    );
    this.name = "StateHashMismatchError";
  }
}

/** Reads a job's events and fetches its job document by the on-chain spec CID. */
export async function loadJobRecord(
  h: LedgerHandle,
  store: ContentStore,
  jobId: bigint,
  options: FetchOptions = {},
): Promise<JobRecord> {
  const events = await readJobEvents(h, jobId);
  const specCid = cidFromBytesHex(events.created.specCid);
  const bytes = await store.get(specCid, { ...options, maxBytes: 16 * 1024 * 1024 });
  return { events, document: parseJobDocument(bytes), specCid };
}

/** S_s of a job: S_0 from the job document, else the wrapped header's result. Undefined if not wrapped. */
export function stateRef(record: JobRecord, stage: number): StateRef | undefined {
  if (stage === 0) {
    return {
      stage: 0,
      cid: record.document.initialStateCid,
      expectedHash: record.events.created.initialStateHash,
    };
  }
  const s = record.events.stages[stage - 1];
  const header = s === undefined ? undefined : wrappedHeader(s);
  if (header === undefined) return undefined;
  return { stage, cid: cidFromBytesHex(header.resultCid), expectedHash: header.resultHash };
}

/** The last wrapped stage (0 when none is). */
export function lastWrappedStage(record: JobRecord): number {
  let last = 0;
  for (const s of record.events.stages) if (s.wrapped !== undefined) last = Math.max(last, s.stage);
  return last;
}

/** Fetches S_s by CID and checks it against the hash the chain recorded (StateHashMismatchError). */
export async function fetchState(
  store: ContentStore,
  ref: StateRef,
  options: FetchOptions = {},
): Promise<Uint8Array> {
  const bytes = await store.get(ref.cid, options);
  const actual = stateHash(bytes);
  if (actual.toLowerCase() !== ref.expectedHash.toLowerCase()) {
    throw new StateHashMismatchError(ref.stage, ref.cid, ref.expectedHash, actual);
  }
  return bytes;
}
