/**
 * Peer dialing: before fetching a stage's data the miner dials the registered IPFS addresses of the job's
 * employer and of the declarants around the stage (PoTStaking's peer registry, cached 30 s), at most every
 * DIAL_REFRESH_MS per address: dialing a connected peer reuses the connection, a dropped one comes back.
 */
import { getAddress, type Address } from "viem";
import type { PotContractsAdapter } from "../chain/pot-contracts";
import type { ContentStore } from "../storage";
import type { Logger } from "./log";
import { skey, type ChainView } from "./view";

/** Re-dial a registered peer at most this often (ms). */
const DIAL_REFRESH_MS = 2_000;
/** A registered address read from the chain is reused this long (ms). */
const PEER_CACHE_MS = 30_000;

export class PeerDialer {
  private readonly peerCache = new Map<string, { addr: string; at: number }>();
  /** Address -> when we last dialed it (re-dialed after DIAL_REFRESH_MS: a dropped connection must come back). */
  private readonly dialed = new Map<string, number>();

  constructor(
    private readonly chain: PotContractsAdapter,
    private readonly ipfs: ContentStore,
    private readonly view: ChainView,
    private readonly me: Address,
    private readonly log: Logger,
  ) {}

  /** Dials the registered IPFS nodes of the job's employer and of the declarants around `stage`. */
  async dialFor(jobId: bigint, stage: number): Promise<void> {
    const who = new Set<string>();
    const job = this.view.jobs.get(jobId.toString());
    if (job !== undefined && job.jobId !== 0n) who.add(job.employer.toLowerCase());
    for (const s of [stage - 1, stage]) {
      const st = this.view.stages.get(skey(jobId, s));
      if (st === undefined) continue;
      for (const d of st.declarations.keys()) who.add(d);
      if (st.header) who.add(st.header.header.builder.toLowerCase());
    }
    who.delete(this.me.toLowerCase());
    const addrs: string[] = [];
    for (const a of who) {
      const cached = this.peerCache.get(a);
      let addr = cached !== undefined && Date.now() - cached.at < PEER_CACHE_MS ? cached.addr : undefined;
      if (addr === undefined) {
        addr = await this.chain.peerOf(getAddress(a)).catch(() => "");
        this.peerCache.set(a, { addr, at: Date.now() });
      }
      const last = this.dialed.get(addr);
      if (addr !== "" && (last === undefined || Date.now() - last >= DIAL_REFRESH_MS)) addrs.push(addr);
    }
    if (addrs.length === 0) return;
    // Dialing a connected peer returns the open connection (cheap); a dropped one is re-established. The
    // old rule (dial each address once, ever) left a miner whose connection to the employer dropped
    // without a source for the batches until the employer happened to dial back (the pipeline bench stall).
    for (const a of addrs) this.dialed.set(a, Date.now());
    await this.ipfs
      .dial(addrs, { timeoutMs: 5_000 })
      .catch((error) => this.log.debug("dial failed", { addrs, error }));
  }
}
