/**
 * A job as the chain and IPFS describe it: its events, its job document (fetched by the on-chain spec
 * CID), the states of its stages and each stage's status (who declared, built, attested, was rewarded).
 * Shared by the employer (status, fetch-model, serve), the verifier and the explorer; moved here from
 * src/employer (job-data.ts, status.ts), which re-exports it.
 */
import type { Address, Hex } from "viem";
import { ChainError } from "./errors";
import { parseJobDocument, readMetric, stateHash, type JobDocument, type StageOutcome } from "../protocol";
import { cidFromBytesHex, type ContentStore, type FetchOptions } from "../storage";
import { readJobEvents, type JobEvents } from "./job-events";
import { type LedgerHandle } from "./ledger-reads";
import { stageRewards, wrappedHeader, wrappedOutcome, type StageReward } from "./stage-rewards";

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
export class StateHashMismatchError extends ChainError {
  constructor(
    readonly stage: number,
    readonly cid: string,
    readonly expected: Hex,
    readonly actual: Hex,
  ) {
    super(
      `S_${stage} fetched by CID ${cid} hashes to ${actual}, but the chain recorded H(S_${stage}) = ${expected}: ` +
        "the content under that CID is not the state the miners declared",
      "Do not use these bytes; fetch again from another peer (the verifier reports who published them)",
    );
  }
}

/** Reads a job's events and fetches its job document by the on-chain spec CID. */
export async function loadJobRecord(
  h: LedgerHandle,
  store: ContentStore,
  jobId: bigint,
  options: FetchOptions = {},
): Promise<JobRecord> {
  return jobRecordOf(await readJobEvents(h, jobId), store, options);
}

/** A job's record from events already read: fetches its job document by the on-chain spec CID. */
export async function jobRecordOf(
  events: JobEvents,
  store: ContentStore,
  options: FetchOptions = {},
): Promise<JobRecord> {
  const specCid = cidFromBytesHex(events.created.specCid);
  const bytes = await store.get(specCid, { ...options, maxBytes: 16 * 1024 * 1024 });
  return { events, document: parseJobDocument(bytes), specCid };
}

/**
 * S_s of a job: S_0 from the job document, else the wrapped header's CID and the state hash its result
 * opens to (OutcomeRevealed). Undefined if not wrapped.
 */
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
  const outcome = s === undefined ? undefined : wrappedOutcome(s);
  if (header === undefined || outcome === undefined) return undefined;
  return { stage, cid: cidFromBytesHex(header.resultCid), expectedHash: outcome.stateHash };
}

/** The last wrapped stage (0 when none is). */
export function lastWrappedStage(record: JobRecord): number {
  let last = 0;
  for (const s of record.events.stages) if (s.wrapped !== undefined) last = Math.max(last, s.stage);
  return last;
}

/**
 * The stage a job finishes at: the wrapped stage that met its early-stopping target (TargetReached), else
 * its last stage. A job that finished early is complete there: stages after it are never trained.
 */
export function finalStage(events: Pick<JobEvents, "targetReached" | "created">): number {
  return events.targetReached?.stage ?? events.created.numStages;
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

/** One point of the loss curve: S_stage evaluated on the test set. */
export interface LossPoint {
  stage: number;
  loss: number;
  accuracy: number;
  samples: number;
}

/** One stage as the chain recorded it. */
export interface StageStatus {
  stage: number;
  phase: "waiting" | "open" | "closed" | "disputed" | "jury" | "decided" | "headered" | "wrapped";
  parentHash?: Hex;
  declarants: Address[];
  resultHash?: Hex;
  builder?: Address;
  /** Declarers whose declaration opened against the header (paid), and those that did not (slashable). */
  opened?: Address[];
  faulty?: Address[];
  resultCid?: string;
  attesters?: Address[];
  wrapper?: Address;
  blockIndex?: bigint;
  rewards: StageReward[];
  /** What the wrapped header's result opens to (OutcomeRevealed): H(S), checkpoint root, held-out metric. */
  outcome?: StageOutcome;
  /**
   * The held-out metric as the chain recorded it for a wrapped stage (the outcome's fields in human units;
   * a field is absent where the outcome says NO_METRIC).
   */
  heldOut?: { loss?: number; accuracy?: number };
  /** S_stage evaluated here on the job's test set (`pot job status --loss`), not read from the chain. */
  loss?: LossPoint;
}

/** Per-stage status from a job's events (pure). */
export function stageStatuses(events: JobEvents): StageStatus[] {
  return events.stages.map((s) => {
    const header = wrappedHeader(s) ?? s.headers.filter((h) => !s.voidedHeaders.includes(h.headerHash)).pop();
    const phase: StageStatus["phase"] = s.wrapped
      ? "wrapped"
      : header
        ? "headered"
        : s.jury?.decided
          ? "decided"
          : s.jury
            ? "jury"
            : s.closing?.disputed
              ? "disputed"
              : s.closing
                ? "closed"
                : s.opened
                  ? "open"
                  : "waiting";
    const outcome = wrappedOutcome(s);
    const results = new Set(s.declarations.map((d) => d.resultHash.toLowerCase()));
    const lead = results.size === 1 ? s.declarations[0]?.resultHash : undefined;
    return {
      stage: s.stage,
      phase,
      parentHash: s.opened?.parentHash,
      declarants: s.declarations.map((d) => d.declarer),
      resultHash: header?.header.result ?? s.jury?.decided?.resultHash ?? lead,
      builder: header?.builder,
      opened: header?.openers,
      faulty: header?.faulty,
      resultCid: header ? cidFromBytesHex(header.resultCid) : undefined,
      attesters: s.wrapped?.attesters,
      wrapper: s.wrapped?.wrapper,
      blockIndex: s.wrapped?.index,
      rewards: stageRewards(s),
      ...(outcome !== undefined ? { outcome, heldOut: readMetric(outcome) } : {}),
    };
  });
}
