/**
 * The miner's persisted state: what it trained, the secrets (rho, rand) of every declaration and jury vote
 * it prepared, and which duties it already sent. Written atomically (temp file, fsync, rename, fsync of the
 * directory) and checksummed, so a crash at any point leaves either the old or the new file, and a damaged
 * file is refused with a clear error instead of silently forgetting a reveal.
 *
 * Layout of the data directory (docs/miner.md):
 *   miner-state.json        this state (format "pot-miner-state", version 2)
 *   states/<sha256>.bin     canonical training-state bytes, named by their hash H(S)
 *   ipfs/                   the embedded IPFS repo
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Address, Hex } from "viem";
import { MinerStateError } from "./errors";

export { MinerStateError };
import { writeFileAtomic, writeFileAtomicAsync } from "../storage/atomic-file";

export { writeFileAtomic };

export const STATE_FORMAT = "pot-miner-state";
/** 2: the split contracts (the file names the PoTStages address; declarations keep their seed). */
export const STATE_FILE_VERSION = 2;

/** A training result held locally (S_{i+1} bytes are in states/<resultHash>.bin). */
export interface ResultRecord {
  readonly jobId: string;
  readonly stage: number;
  readonly parentHash: Hex;
  readonly resultHash: Hex;
  readonly rho: Hex;
  /** CID of S_{i+1} on this miner's IPFS node. */
  readonly resultCid: string;
  readonly meanLoss: number;
  /** Trained before its stage opened on-chain (pipelining); dropped if the chain fixes another parent. */
  readonly speculative: boolean;
  /**
   * Step-checkpoint hashes of the stage (docs/PROTOCOL.md, "Step checkpoints"; the last is resultHash),
   * empty for a job without checkpoints; absent in records written before checkpoints existed.
   */
  readonly checkpoints?: Hex[];
}

/** Lifecycle of a transaction the miner must not lose: persisted before sending, then after mining. */
export type SendStatus = "prepared" | "sent" | "confirmed";

/** A declaration: its secret opening is persisted BEFORE the transaction is sent. */
export interface DeclarationRecord {
  readonly jobId: string;
  readonly stage: number;
  readonly parentHash: Hex;
  /** The stage's seed (StageOpened): a declaration names (parent, seed). */
  readonly seed: Hex;
  readonly resultHash: Hex;
  readonly rho: Hex;
  readonly rand: Hex;
  readonly commitment: Hex;
  readonly resultCid: string;
  status: SendStatus;
  txHash?: Hex;
  /** Seal timestamp of the last send (decimal seconds). */
  timestamp?: string;
}

/** A jury vote (the (result, rho) pair the juror trained), persisted before sending like a declaration. */
export interface VoteRecord {
  readonly jobId: string;
  readonly stage: number;
  readonly round: number;
  readonly resultHash: Hex;
  readonly rho: Hex;
  /** The commitment's secret salt (commit-reveal): persisted before the commitment is sent. */
  readonly salt?: Hex;
  /** Status of the commitment (`commitVote`); `status` is the reveal's (`vote`). */
  commitStatus?: SendStatus;
  commitTxHash?: Hex;
  status: SendStatus;
  txHash?: Hex;
}

/** Everything the miner persists. */
export interface MinerState {
  readonly chainId: number;
  /** The deployment's PoTStages address. */
  readonly stages: Address;
  readonly account: Address;
  /**
   * Hash of the deployment's block: tells this chain from a restarted local node that redeployed the same
   * contracts at the same addresses (absent in files written before it was recorded).
   */
  deployBlockHash?: Hex;
  /** Key `${jobId}:${stage}:${parentHash}`. */
  results: Record<string, ResultRecord>;
  /** Key `${jobId}:${stage}`. */
  declarations: Record<string, DeclarationRecord>;
  /** Key `${jobId}:${stage}:${round}`. */
  votes: Record<string, VoteRecord>;
  /** Duties done once (keys from `doneKey` in duties/keys.ts) -> tx hash, or `reverted:<error>` when moot. */
  done: Record<string, string>;
}

/** The record keys (one place for every key: duties/keys.ts). */
export { resultKey, stageKey, voteKey } from "./duties/keys";

/** A fresh, empty state. */
export function emptyState(chainId: number, stages: Address, account: Address): MinerState {
  return { chainId, stages, account, results: {}, declarations: {}, votes: {}, done: {} };
}

const sha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex");

/** Serializes a state: `{ format, version, sha256, body }` with the checksum over the body's JSON. */
export function encodeMinerState(state: MinerState): string {
  const body = JSON.stringify(state);
  return `{"format":"${STATE_FORMAT}","version":${STATE_FILE_VERSION},"sha256":"${sha256(body)}","body":${body}}\n`;
}

/** Parses and checks a state file's text; throws `MinerStateError` for anything damaged or foreign. */
export function decodeMinerState(
  text: string,
  path: string,
  expect?: { chainId: number; stages: Address; account: Address },
): MinerState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MinerStateError(path, "it is not complete JSON (truncated or corrupted)");
  }
  const root = parsed as { format?: unknown; version?: unknown; sha256?: unknown; body?: unknown };
  if (root === null || typeof root !== "object" || root.format !== STATE_FORMAT)
    throw new MinerStateError(path, `it is not a ${STATE_FORMAT} file`);
  if (root.version !== STATE_FILE_VERSION)
    throw new MinerStateError(
      path,
      `version ${String(root.version)} is not supported (expected ${STATE_FILE_VERSION})`,
    );
  const body = root.body as MinerState | undefined;
  if (body === undefined || typeof body !== "object" || body === null)
    throw new MinerStateError(path, "it has no body");
  if (typeof root.sha256 !== "string" || sha256(JSON.stringify(body)) !== root.sha256) {
    throw new MinerStateError(path, "its checksum does not match its content (corrupted)");
  }
  for (const field of ["results", "declarations", "votes", "done"] as const) {
    if (typeof body[field] !== "object" || body[field] === null)
      throw new MinerStateError(path, `field ${field} is missing`);
  }
  if (expect !== undefined) {
    if (body.chainId !== expect.chainId || body.stages.toLowerCase() !== expect.stages.toLowerCase()) {
      throw new MinerStateError(
        path,
        `it belongs to the deployment with PoTStages ${body.stages} on chain ${body.chainId}, not ${expect.stages} on ${expect.chainId}; use another --data-dir`,
      );
    }
    if (body.account.toLowerCase() !== expect.account.toLowerCase()) {
      throw new MinerStateError(
        path,
        `it belongs to account ${body.account}, not ${expect.account}; use another --data-dir`,
      );
    }
  }
  return body;
}

/** The miner's data directory: the state file and the training-state bytes. */
export class MinerStore {
  readonly statePath: string;
  readonly statesDir: string;

  constructor(readonly dataDir: string) {
    this.statePath = join(dataDir, "miner-state.json");
    this.statesDir = join(dataDir, "states");
    mkdirSync(this.statesDir, { recursive: true });
  }

  /** Loads the state (or a fresh one when there is no file). Throws `MinerStateError` on a damaged file. */
  load(expect: { chainId: number; stages: Address; account: Address }): MinerState {
    if (!existsSync(this.statePath)) return emptyState(expect.chainId, expect.stages, expect.account);
    return decodeMinerState(readFileSync(this.statePath, "utf8"), this.statePath, expect);
  }

  /**
   * Moves the state file aside (`miner-state.forgotten-<time>.json`, kept: it holds secrets) and returns the
   * path it moved to; the next `load` starts afresh.
   */
  archive(): string {
    const to = join(
      this.dataDir,
      `miner-state.forgotten-${new Date().toISOString().replace(/[:.]/g, "-")}.json`,
    );
    renameSync(this.statePath, to);
    this.written = undefined;
    return to;
  }

  /** The snapshot waiting to be written after the write in flight, and who waits for it. */
  private next:
    { text: string; waiters: { resolve: () => void; reject: (e: unknown) => void }[] } | undefined;
  /** The text the state file holds (written by this store), to skip writing it again unchanged. */
  private written: string | undefined;
  /** The write loop while it runs (it ends when no snapshot waits). */
  private writing: Promise<void> | undefined;

  /**
   * Persists the state atomically and durably (temp file, fsync, rename, fsync of the directory), off the
   * event loop: the state is serialized now, written by the thread pool, and the promise resolves once it
   * is on disk. Callers await it before sending the transaction that depends on it. Writes happen in call
   * order; saves made while a write is in flight are coalesced into one write of the newest snapshot (on
   * this machine an fsync can take 100 ms, during which training would otherwise stand still). A save of
   * a state equal to the one on disk writes nothing.
   */
  save(state: MinerState): Promise<void> {
    const text = encodeMinerState(state);
    // Nothing changed since the last write and none is pending: the file already holds this state.
    if (this.next === undefined && this.writing === undefined && text === this.written)
      return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (this.next === undefined) this.next = { text, waiters: [] };
      this.next.text = text;
      this.next.waiters.push({ resolve, reject });
      this.writing ??= this.drain();
    });
  }

  /** Resolves when every save so far is on disk (or failed). */
  async flush(): Promise<void> {
    await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.next !== undefined) {
        const { text, waiters } = this.next;
        this.next = undefined;
        try {
          if (text !== this.written) await writeFileAtomicAsync(this.statePath, text);
          this.written = text;
          for (const w of waiters) w.resolve();
        } catch (error) {
          for (const w of waiters) w.reject(error);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private bytesPath(hash: Hex): string {
    return join(this.statesDir, `${hash.slice(2).toLowerCase()}.bin`);
  }

  /**
   * Stores training-state bytes under their hash (atomically). Not fsynced: `getState` checks the hash of
   * what it reads, so bytes lost to a power cut read as absent (the miner fetches or retrains them), and
   * an fsync of megabytes would stall the thread that trains.
   */
  putState(hash: Hex, bytes: Uint8Array): void {
    if (`0x${sha256(bytes)}` !== hash.toLowerCase()) throw new Error(`state bytes do not hash to ${hash}`);
    const path = this.bytesPath(hash);
    if (!existsSync(path)) writeFileAtomic(path, bytes, { durable: false });
  }

  /** The bytes of H(S) = `hash`, verified, or undefined when absent or damaged. */
  getState(hash: Hex): Uint8Array | undefined {
    const path = this.bytesPath(hash);
    if (!existsSync(path)) return undefined;
    const bytes = new Uint8Array(readFileSync(path));
    return `0x${sha256(bytes)}` === hash.toLowerCase() ? bytes : undefined;
  }

  /** Deletes the bytes of `hash` (best effort). */
  dropState(hash: Hex): void {
    try {
      unlinkSync(this.bytesPath(hash));
    } catch {
      /* absent */
    }
  }
}
