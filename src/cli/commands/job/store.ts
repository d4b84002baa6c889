/**
 * The content store of the `pot job` commands and `pot verify`: opened on demand, with the miners' and the
 * employer's IPFS nodes dialed, and closed after use.
 */
import type { PotSession } from "../../../chain/contracts";
import type { ContentStore } from "../../../storage";
import type { CliContext } from "../../context";
import { employerLedger, storage, storageConfig } from "../../lazy";
import { silentProgress, type Progress } from "../../progress";
import { handleOf } from "../../args";

/**
 * Opens the configured content store; with a session, first dials the IPFS nodes announced in the staking
 * contract's peer registry (the miners hold the stage results and the data they fetched) and, with `jobId`,
 * the node of the job's employer (`pot job serve --announce`: the test set is only there).
 */
async function openDialedStore(
  ctx: CliContext,
  session: PotSession | undefined,
  progress: Progress,
  jobId: bigint | undefined,
): Promise<ContentStore> {
  progress.step("opening the IPFS node");
  const store = await storage().openContentStore(storageConfig().storageConfigOf(ctx.config));
  if (session === undefined) return store;
  progress.step("dialing the miners' IPFS nodes");
  const { readJob, readPeerRegistry } = employerLedger();
  const jobEmployer =
    jobId === undefined || session.contracts.suite === undefined
      ? undefined
      : await readJob(handleOf(session), jobId)
          .then((j) => j.employer)
          .catch(() => undefined);
  const peers = await readPeerRegistry(
    session.publicClient,
    session.contracts.staking,
    500,
    jobEmployer === undefined ? [] : [jobEmployer],
  ).catch(() => [] as string[]);
  if (peers.length > 0)
    await store.dial(peers).catch((error: unknown) => progress.log(`warning: ${(error as Error).message}`));
  return store;
}

/** Runs `fn` with the configured content store open (see `openDialedStore`), and closes it. */
export async function withStore<T>(
  ctx: CliContext,
  fn: (store: ContentStore) => Promise<T>,
  session?: PotSession,
  progress: Progress = silentProgress,
  jobId?: bigint,
): Promise<T> {
  const store = await openDialedStore(ctx, session, progress, jobId);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * Like `withStore`, but small documents read before come from the verified cache under the data directory
 * and the IPFS node is opened (and the peers dialed) only on a miss: `pot job status` of a job whose
 * document is cached starts no IPFS node.
 */
export async function withCachedStore<T>(
  ctx: CliContext,
  fn: (store: ContentStore) => Promise<T>,
  session: PotSession,
  progress: Progress,
  jobId: bigint,
): Promise<T> {
  const { CachedContentStore, ObjectCache, DEFAULT_FETCH_TIMEOUT_MS } = storage();
  const config = storageConfig().storageConfigOf(ctx.config);
  const store = new CachedContentStore(
    new ObjectCache(storageConfig().objectCacheDirOf(ctx.config)),
    () => openDialedStore(ctx, session, progress, jobId),
    config.kind,
    config.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
  );
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
