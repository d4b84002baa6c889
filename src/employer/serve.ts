/**
 * Keeping a job's data available while it runs: the content store (embedded IPFS node or Kubo) pins the
 * job document, manifest, every batch, S_0 and the test set, dials the miners of the on-chain peer
 * registry so they can fetch from it, and pins every stage result a header names as it appears.
 */
import type { PublicClient } from "viem";
import type { ContractRef } from "../chain/contracts";
import { EventWatcher } from "../chain/events";
import { cidFromBytesHex, fetchManifest, type ContentStore } from "../storage";
import { jobEventsFromLogs, readPeerRegistry, type LedgerHandle } from "./ledger";
import { loadJobRecord } from "./job-data";

/** Options of `serveJob`. */
export interface ServeOptions {
  /** Staking contract, for the peer registry (skip dialing without it). */
  readonly staking?: ContractRef;
  /** Poll interval of chain events and peer refreshes, ms (default 2000). */
  readonly pollingIntervalMs?: number;
  readonly onPinned?: (cid: string, what: string) => void;
  readonly onPeers?: (peers: string[]) => void;
  readonly onError?: (error: unknown) => void;
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
  h: LedgerHandle & { client: PublicClient },
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
  for (const b of manifest.batches) await pin(b.cid, `batch ${b.index} (stage ${b.stage})`);

  const dialPeers = async () => {
    if (options.staking === undefined) return;
    const peers = await readPeerRegistry(h.client, options.staking);
    if (peers.length > 0) await store.dial(peers).catch((error: unknown) => options.onError?.(error));
    options.onPeers?.(peers);
  };
  await dialPeers();

  // Results of the stages: pin what every header names (others serve it too; we keep a copy).
  const logs: Parameters<typeof jobEventsFromLogs>[1][number][] = [];
  const watcher = new EventWatcher({
    client: h.client,
    address: h.ledger.address,
    abi: h.ledger.abi,
    eventNames: ["JobCreated", "HeaderSubmitted", "BlockWrapped"],
    fromBlock: h.fromBlock ?? 0n,
    confirmations: 0,
    pollingIntervalMs: options.pollingIntervalMs ?? 2000,
  });
  let polls = 0;
  watcher.start({
    onLogs: async (fresh) => {
      logs.push(...fresh);
      const events = jobEventsFromLogs(jobId, logs);
      for (const s of events.stages) {
        for (const header of s.headers) {
          await pin(cidFromBytesHex(header.resultCid), `S_${s.stage}`).catch((error: unknown) =>
            options.onError?.(error),
          );
        }
      }
    },
    onCheckpoint: async () => {
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
