/**
 * Keeping a job's data available while it runs: the content store (embedded IPFS node or Kubo) pins the
 * job document, manifest, every batch, S_0 and the test set, dials the miners of the on-chain peer
 * registry so they can fetch from it, and pins every stage result a header names as it appears. It reports
 * what it does through `onProgress` (inputs pinned, each stage wrapped, the job finished or expired) and
 * keeps serving after the job ends (auditors re-execute stages from this data) until stopped.
 */
import type { StakingRef } from "../chain/contracts";
import type { WatchedLog } from "../chain/events";
import { ChainNudger } from "../chain/on-demand-mining";
import { suiteWatcher } from "../chain/pot-contracts";
import { cidFromBytesHex, fetchManifest, type ContentStore } from "../storage";
import { jobEventsFromLogs, readPeerRegistry, wrappedHeader, type LedgerHandle } from "./ledger";
import { loadJobRecord } from "./job-data";

/** What `serveJob` reports as it goes (each stage and the end once). */
export type ServeEvent =
  /** A batch of the job's inputs was pinned (`pinned` of `total` batches). */
  | {
      readonly kind: "inputs";
      readonly pinned: number;
      readonly total: number;
      readonly numStages: number;
      /** The job has a held-out test set (pinned with the job document, manifest and S_0). */
      readonly testSet: boolean;
    }
  /** Stage `stage` was wrapped; its result is `resultCid` (`pinned`: this store holds a copy). */
  | {
      readonly kind: "stage-wrapped";
      readonly stage: number;
      readonly numStages: number;
      readonly resultCid: string;
      readonly pinned: boolean;
    }
  /**
   * The job finished (JobFinished): every stage is wrapped, or `targetReachedAt` met the job's
   * early-stopping target (TargetReached) and the stages after it are never trained.
   */
  | { readonly kind: "finished"; readonly numStages: number; readonly targetReachedAt?: number }
  /** The deadline passed unfinished (JobExpired); the unspent fee is refundable. */
  | { readonly kind: "expired"; readonly wrappedStages: number; readonly numStages: number };

/** Options of `serveJob`. */
export interface ServeOptions {
  /** Staking contract, for the peer registry (skip dialing without it). */
  readonly staking?: StakingRef;
  /** Poll interval of chain events and peer refreshes, ms (default 2000). */
  readonly pollingIntervalMs?: number;
  readonly onPinned?: (cid: string, what: string) => void;
  readonly onProgress?: (event: ServeEvent) => void;
  readonly onPeers?: (peers: string[]) => void;
  readonly onError?: (error: unknown) => void;
  /**
   * The network is a local development network: while the job is open on a chain that mines only on
   * demand, mine an empty block when it stands still (also on a node that says it is Hardhat or anvil;
   * see src/chain/on-demand-mining.ts).
   */
  readonly isLocal?: boolean;
  /** Receives the one-time note that the chain mines only on demand. */
  readonly onNotice?: (message: string) => void;
}

/** A running server; `stop()` stops watching (the store stays open: the caller closes it). */
export interface JobServer {
  /** CIDs pinned so far. */
  readonly pinned: ReadonlySet<string>;
  /** The store's dialable addresses (announce them with `pot peer set`). */
  readonly addresses: string[];
  stop(): Promise<void>;
}

/** Pins the job's inputs, dials registry peers, and pins new stage results until stopped. */
export async function serveJob(
  h: LedgerHandle,
  store: ContentStore,
  jobId: bigint,
  options: ServeOptions = {},
): Promise<JobServer> {
  const pinned = new Set<string>();
  const pin = async (cid: string, what: string) => {
    if (pinned.has(cid)) return;
    await store.pin(cid);
    pinned.add(cid);
    options.onPinned?.(cid, what);
  };
  const record = await loadJobRecord(h, store, jobId);
  const doc = record.document;
  await pin(record.specCid, "job document");
  await pin(doc.manifestCid, "manifest");
  await pin(doc.initialStateCid, "S_0");
  if (doc.testSetCid) await pin(doc.testSetCid, "test set");
  const manifest = await fetchManifest(store, doc.manifestCid, record.events.created.manifestRoot);
  const numStages = record.events.created.numStages;
  for (const [i, b] of manifest.batches.entries()) {
    await pin(b.cid, `batch ${b.index} (stage ${b.stage})`);
    options.onProgress?.({
      kind: "inputs",
      pinned: i + 1,
      total: manifest.batches.length,
      numStages,
      testSet: Boolean(doc.testSetCid),
    });
  }

  const dialPeers = async () => {
    if (options.staking === undefined) return;
    const peers = await readPeerRegistry(h.client, options.staking);
    if (peers.length > 0) await store.dial(peers).catch((error: unknown) => options.onError?.(error));
    options.onPeers?.(peers);
  };
  await dialPeers();

  // Results of the stages: pin what every header names (others serve it too; we keep a copy).
  const logs: WatchedLog[] = [];
  const watcher = suiteWatcher(h.client, h.suite, {
    fromBlock: h.fromBlock ?? 0n,
    confirmations: 0,
    pollingIntervalMs: options.pollingIntervalMs ?? 2000,
  });
  const nudger = new ChainNudger({
    client: h.client,
    isLocal: options.isLocal ?? false,
    notice: options.onNotice,
  });
  let polls = 0;
  const reportedStages = new Set<number>();
  let ended = false;
  watcher.start({
    onLogs: async (fresh) => {
      logs.push(...fresh);
      const events = jobEventsFromLogs(h.suite, jobId, logs);
      for (const s of events.stages) {
        for (const header of s.headers) {
          await pin(cidFromBytesHex(header.resultCid), `S_${s.stage}`).catch((error: unknown) =>
            options.onError?.(error),
          );
        }
        const wrapped = wrappedHeader(s);
        if (wrapped === undefined || reportedStages.has(s.stage)) continue;
        reportedStages.add(s.stage);
        const resultCid = cidFromBytesHex(wrapped.resultCid);
        options.onProgress?.({
          kind: "stage-wrapped",
          stage: s.stage,
          numStages,
          resultCid,
          pinned: pinned.has(resultCid),
        });
      }
      if (ended) return;
      if (events.finished !== undefined) {
        ended = true;
        const early = events.targetReached?.stage;
        options.onProgress?.({
          kind: "finished",
          numStages,
          ...(early !== undefined ? { targetReachedAt: early } : {}),
        });
      } else if (events.expired !== undefined) {
        ended = true;
        options.onProgress?.({ kind: "expired", wrappedStages: reportedStages.size, numStages });
      }
    },
    onCheckpoint: async (nextBlock) => {
      if (!ended) await nudger.waiting(nextBlock);
      if (++polls % 15 === 0) await dialPeers().catch((error: unknown) => options.onError?.(error));
    },
    onError: options.onError,
  });
  return {
    pinned,
    addresses: await store.addresses(),
    stop: () => watcher.stop(),
  };
}
