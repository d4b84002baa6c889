/**
 * Tolerating a chain that mines only on demand (`pot node --block-time 0`, a bare `hardhat node` or
 * `anvil`): such a node makes a block only when a transaction arrives, so once every agent waits for a
 * block-counted deadline (declaration close, builder ranks, jury windows, the next draw epoch) or a block
 * timestamp, nothing moves. An agent that waits on the chain calls `ChainNudger.waiting(head)` on every
 * poll; when the head has not moved for `idleMs` and the node is a development node, it mines one empty
 * block (`evm_mine`) and says once, readably, that the chain mines only on demand. On any other node it
 * never sends anything.
 *
 * A development node is one whose `web3_clientVersion` names Hardhat, anvil or Ganache (no public network
 * runs them), or any node when the configured network is a local one (`isLocal`). If the node refuses
 * `evm_mine`, the nudger says so once and stops trying.
 */

/** The JSON-RPC requests the nudger sends (a viem public client has it). */
export interface RpcRequester {
  request(args: { method: string; params?: unknown }): Promise<unknown>;
}

/** Options of a `ChainNudger`. */
export interface ChainNudgerOptions {
  readonly client: RpcRequester;
  /** The configured network is a local development network (PotConfig.isLocal). */
  readonly isLocal: boolean;
  /** How long the head may stand still while waiting before a block is mined, ms (default 2000). */
  readonly idleMs?: number;
  /** Receives the one-time notices (the chain mines only on demand; the node refused evm_mine). */
  readonly notice?: (message: string) => void;
  /** Clock (tests). */
  readonly now?: () => number;
}

/** Default `idleMs`: twice `pot node`'s default block time. */
export const DEFAULT_NUDGE_IDLE_MS = 2_000;

/** Client names of development nodes, as `web3_clientVersion` reports them. */
const DEVELOPMENT_CLIENTS = /hardhat|anvil|ganache/i;

/** Whether `web3_clientVersion` names a development node (Hardhat, anvil, Ganache). */
export function isDevelopmentClient(clientVersion: string): boolean {
  return DEVELOPMENT_CLIENTS.test(clientVersion);
}

/** Mines an empty block on a development node that stalls while an agent waits on it (see the file). */
export class ChainNudger {
  private readonly idleMs: number;
  private readonly now: () => number;
  private lastHead: bigint | undefined;
  private movedAt = 0;
  /** undefined: not asked yet. */
  private development: boolean | undefined;
  private disabled = false;
  private noticed = false;
  private mined = 0;

  constructor(private readonly o: ChainNudgerOptions) {
    this.idleMs = o.idleMs ?? DEFAULT_NUDGE_IDLE_MS;
    this.now = o.now ?? Date.now;
  }

  /** Empty blocks this nudger mined so far. */
  get blocksMined(): number {
    return this.mined;
  }

  /**
   * Call on every poll while waiting for the chain to move, with the head just read. Mines one empty
   * block when the head stood still for `idleMs` on a development node; resolves with whether it did.
   * With `target` (a known block the agent waits for), mines up to it at once. Never throws: a failed
   * request is reported once through `notice` and ends the nudging.
   */
  async waiting(head: bigint, target?: bigint): Promise<boolean> {
    const now = this.now();
    if (this.lastHead !== head) {
      this.lastHead = head;
      this.movedAt = now;
      return false;
    }
    if (this.disabled || now - this.movedAt < this.idleMs) return false;
    if (!(await this.onDevelopmentNode())) {
      this.disabled = true;
      return false;
    }
    try {
      await this.mine(target !== undefined && target > head + 1n ? target - head : 1n);
    } catch (error) {
      this.disabled = true;
      this.o.notice?.(
        `the chain has made no block for ${Math.round((now - this.movedAt) / 1000)} s and the node refused evm_mine (${firstLine(error)}): start it with interval mining (pot node --block-time 1)`,
      );
      return false;
    }
    this.movedAt = this.now();
    if (!this.noticed) {
      this.noticed = true;
      this.o.notice?.(
        `the chain mines only on demand (no block for ${Math.round(this.idleMs / 1000)} s at block ${head}): mining an empty block whenever it stands still for ${Math.round(this.idleMs / 1000)} s while waiting (development node only; pot node --block-time 1 mines on an interval instead)`,
      );
    }
    return true;
  }

  /**
   * Forgets the head seen (call when the agent stops waiting, so that a later wait starts its idle
   * period afresh).
   */
  reset(): void {
    this.lastHead = undefined;
  }

  /** Mines `blocks` empty blocks: hardhat_mine (Hardhat, and anvil's alias) for more than one. */
  private async mine(blocks: bigint): Promise<void> {
    if (blocks > 1n) {
      try {
        await this.o.client.request({ method: "hardhat_mine", params: [`0x${blocks.toString(16)}`] });
        this.mined += Number(blocks);
        return;
      } catch {
        // Not every development node has hardhat_mine: one block at a time then.
      }
    }
    await this.o.client.request({ method: "evm_mine", params: [] });
    this.mined++;
  }

  private async onDevelopmentNode(): Promise<boolean> {
    if (this.development !== undefined) return this.development;
    let version = "";
    try {
      version = String(await this.o.client.request({ method: "web3_clientVersion", params: [] }));
    } catch {
      // A node without web3_clientVersion is judged by the configuration alone.
    }
    this.development = this.o.isLocal || isDevelopmentClient(version);
    return this.development;
  }
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0];
}
