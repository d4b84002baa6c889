/**
 * `pot explorer`'s HTTP server (node:http, read-only, no keys): one static page and a JSON API over the
 * chain and IPFS.
 *
 *   GET /            the page (src/explorer/page.html: inline CSS and JS, hand-drawn SVG charts)
 *   GET /api/state   the whole Snapshot (src/explorer/snapshot.ts) as JSON
 *
 * A loop follows the chain every `pollMs`; a new head, new ledger events or a new evaluated point rebuild
 * the snapshot, which the page polls (plain polling: a page loaded by a headless browser with a virtual
 * time budget never finishes loading while a server-sent event stream stays open).
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { sleep } from "../chain/retry";
import { PROJECT_ROOT } from "../config/load";
import type { ContentStore } from "../storage";
import { ChainReader, type ChainReaderOptions } from "./chain-reader";
import { DUMMY_JOB_ID } from "../chain/ledger-reads";
import { LossEvaluator, type JobCurve } from "./loss-evaluator";
import { buildSnapshot, type Snapshot } from "./snapshot";

/** Options of `startExplorer`. */
export interface ExplorerOptions extends ChainReaderOptions {
  readonly chainId: number;
  /** Content store the states and test sets are fetched from (the caller opens and closes it). */
  readonly store: ContentStore;
  /** Port (default 8080; 0 picks a free one). */
  readonly port?: number;
  /** Interface (default 127.0.0.1). */
  readonly host?: string;
  /** Chain polling interval in ms (default 1,000). */
  readonly pollMs?: number;
  /** Where evaluated loss points are kept across restarts (default: memory only). */
  readonly lossCacheFile?: string;
  /** Called with a line when a poll fails (it is retried on the next one). */
  readonly onError?: (message: string) => void;
}

/** A running explorer. */
export interface Explorer {
  /** The page's address, e.g. http://127.0.0.1:8080/. */
  readonly url: string;
  /** The latest snapshot (after the first successful poll). */
  snapshot(): Snapshot | undefined;
  /** Stops the server, the polling loop and the evaluator. */
  stop(): Promise<void>;
}

/** The dummy job has no job document nor test set: no curve. */
const DUMMY_CURVE: JobCurve = { points: [], pending: 0, note: "the dummy job has no test set" };

/** The page's source file (not compiled: served from src/ whether this module runs from src/ or dist/). */
const PAGE_FILE = join(PROJECT_ROOT, "src", "explorer", "page.html");

/** Starts the server and the polling loop; resolves once it listens and has read the chain once. */
export async function startExplorer(o: ExplorerOptions): Promise<Explorer> {
  const page = readFileSync(PAGE_FILE);
  const chain = new ChainReader(o);
  let current: Snapshot | undefined;
  let currentJson = "";
  let dirty = true;
  const evaluator = new LossEvaluator({
    store: o.store,
    cacheFile: o.lossCacheFile,
    onChange: () => (dirty = true),
  });
  const dialed = new Set<string>();
  const asked = new Set<string>();

  const refresh = async () => {
    const fresh = await chain.follow();
    const head = await chain.head();
    if (fresh === 0 && !dirty && current?.head.number === String(head.number)) return;
    dirty = false;
    const next = await buildSnapshot(
      chain,
      (e) => (e.jobId === DUMMY_JOB_ID ? DUMMY_CURVE : evaluator.curve(e)),
      {
        chainId: o.chainId,
        stages: o.handle.suite.stages.address,
      },
    );
    // The miners hold the states, the employers the job documents, S_0 and the test sets: dial every IPFS
    // node they announced in the staking contract's registry, once.
    const employers = [...new Set(next.jobs.map((j) => j.employer))].filter((e) => !asked.has(e));
    employers.forEach((e) => asked.add(e));
    const announced = await Promise.all(employers.map((e) => chain.peerOf(e).catch(() => "")));
    const peers = [...next.stakers.map((s) => s.peer), ...announced].filter(
      (p) => p.length > 0 && !dialed.has(p),
    );
    if (peers.length > 0) {
      peers.forEach((p) => dialed.add(p));
      void o.store.dial(peers).catch((error: unknown) => o.onError?.(`dial: ${(error as Error).message}`));
    }
    evaluator.update(chain.jobs().filter((e) => e.jobId !== DUMMY_JOB_ID));
    current = next;
    currentJson = JSON.stringify(next);
  };

  const server = createServer((req, res) => handle(req, res));
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end("read-only: GET only\n");
    } else if (path === "/" || path === "/index.html") {
      res
        .writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
        .end(page);
    } else if (path === "/api/state" && currentJson === "") {
      res.writeHead(503, { "retry-after": "1" }).end("reading the chain\n");
    } else if (path === "/api/state") {
      res
        .writeHead(200, { "content-type": "application/json", "cache-control": "no-store" })
        .end(currentJson);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end(`no such page: ${path}\n`);
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 8080, o.host ?? "127.0.0.1", () => resolve());
  });
  // The first read of the chain: a failure here (no node, wrong deployment) stops the start with its error.
  try {
    await refresh();
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  }
  const controller = new AbortController();
  const loop = (async () => {
    while (!controller.signal.aborted) {
      await sleep(o.pollMs ?? 1_000, controller.signal).catch(() => undefined);
      if (controller.signal.aborted) break;
      await refresh().catch((error: unknown) => o.onError?.(`poll: ${(error as Error).message}`));
    }
  })();
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;

  let stopped: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/`,
    snapshot: () => current,
    stop: () =>
      (stopped ??= (async () => {
        controller.abort();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await loop;
        await evaluator.close();
      })()),
  };
}
