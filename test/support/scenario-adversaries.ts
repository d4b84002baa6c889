/**
 * Miner variants that misbehave on purpose (issue 7). Each is a small, explicit program named for its
 * attack, acting on the chain only through src/chain/pot-contracts.ts (and src/protocol / src/ml for
 * what it computes). None of this behaviour exists in src/miner.
 */
import { randomBytes } from "node:crypto";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { bytesToHex, keccak256, toHex, type Address, type Hex } from "viem";
import {
  decodeLedgerLog,
  headerFieldsOf,
  type LedgerEvent,
  type PotContractsAdapter,
} from "../../src/chain/pot-contracts";
import type { EventWatcher } from "../../src/chain/events";
import { commitmentHash, juryVoteCommitment } from "../../src/protocol/messages";
import { E18, type ReferenceTrainer } from "./scenario-harness";

const rnd = (): Hex => bytesToHex(randomBytes(32));
const lower = (a: string) => a.toLowerCase();

/** The base of every adversary: stakes, then follows the ledger's events and reacts in `onEvent`. */
export abstract class Adversary {
  protected watcher!: EventWatcher;
  protected readonly seen: LedgerEvent[] = [];
  private loop: Promise<void> | undefined;
  private stopped = false;
  /** Errors the adversary's own transactions met (reverts are expected for some attacks). */
  readonly errors: string[] = [];
  /** What it did, for the test's assertions and the report. */
  readonly actions: string[] = [];

  constructor(
    readonly name: string,
    readonly chain: PotContractsAdapter,
    readonly jobId: bigint,
  ) {}

  get address(): Address {
    return this.chain.me;
  }

  /** Stakes `stakeWei` (faucet first) and starts following events from the current block. */
  async start(stakeWei: bigint = E18): Promise<this> {
    if (stakeWei > 0n) {
      if ((await this.chain.tokenBalance(this.address)) < stakeWei) await this.chain.faucet();
      const have = await this.chain.stakeOf(this.address);
      if (have < stakeWei) await this.chain.stake(stakeWei - have);
    }
    this.watcher = await this.chain.watcher({
      fromBlock: this.chain.deployBlock,
      confirmations: 0,
      pollingIntervalMs: 100,
    });
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          const logs = await this.watcher.poll();
          for (const l of logs) {
            const e = decodeLedgerLog(l);
            if (e === undefined) continue;
            this.seen.push(e);
            if ("jobId" in e && e.jobId !== this.jobId) continue;
            await this.onEvent(e).catch((err: unknown) => this.errors.push(String(err)));
          }
          await this.tick().catch((err: unknown) => this.errors.push(String(err)));
        } catch (err) {
          this.errors.push(String(err));
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  protected abstract onEvent(e: LedgerEvent): Promise<void>;
  protected async tick(): Promise<void> {}

  /** A seal timestamp (the local ledger's target passes every kernel). */
  protected async sealTime(): Promise<bigint> {
    return (await this.chain.latestBlock()).timestamp;
  }

  protected declaredBy(stage: number, who: Address): boolean {
    return this.seen.some(
      (e) =>
        e.kind === "Declared" &&
        e.jobId === this.jobId &&
        e.stage === stage &&
        lower(e.declarer) === lower(who),
    );
  }

  protected parentOf(stage: number): Hex | undefined {
    const e = this.seen.find((x) => x.kind === "StageOpened" && x.jobId === this.jobId && x.stage === stage);
    return e?.kind === "StageOpened" ? e.parentHash : undefined;
  }

  /** Declares (result, commitment to (rho, rand)) for `stage`. */
  protected async declareWith(stage: number, resultHash: Hex, rho: Hex, rand: Hex = rnd()): Promise<void> {
    const parentHash = this.parentOf(stage)!;
    const domain = await this.chain.domainSeparator();
    const commitment = commitmentHash({
      domain,
      rho,
      rand,
      declarer: this.address,
      jobId: this.jobId,
      stage,
    });
    await this.chain.declare({
      jobId: this.jobId,
      stage,
      parentHash,
      resultHash,
      commitment,
      rand,
      timestamp: await this.sealTime(),
    });
    this.actions.push(`declared stage ${stage} result ${resultHash.slice(0, 10)}`);
  }
}

/**
 * Lazy: declares a random weights hash and a commitment to a random rho without training, as soon as an
 * honest miner declared the stage (so its declaration lands before the close).
 */
export class LazyMiner extends Adversary {
  constructor(
    chain: PotContractsAdapter,
    jobId: bigint,
    private readonly stages: readonly number[],
  ) {
    super("lazy", chain, jobId);
  }

  protected async onEvent(e: LedgerEvent): Promise<void> {
    if (e.kind !== "StageOpened" || !this.stages.includes(e.stage)) return;
    if (this.declaredBy(e.stage, this.address) || this.actions.some((a) => a.includes(`stage ${e.stage} `)))
      return;
    await this.declareWith(e.stage, rnd(), rnd());
  }
}

/**
 * Copycat: copies another miner's declaration (result hash, commitment and rand) as its own. The
 * commitment is bound to the original declarer, so it opens for nobody else.
 */
export class CopycatMiner extends Adversary {
  constructor(
    chain: PotContractsAdapter,
    jobId: bigint,
    private readonly stages: readonly number[],
  ) {
    super("copycat", chain, jobId);
  }

  protected async onEvent(e: LedgerEvent): Promise<void> {
    if (e.kind !== "Declared" || !this.stages.includes(e.stage) || lower(e.declarer) === lower(this.address))
      return;
    if (this.actions.some((a) => a.includes(`stage ${e.stage} `))) return;
    this.actions.push(`copying stage ${e.stage} from ${e.declarer}`);
    await this.chain.declare({
      jobId: this.jobId,
      stage: e.stage,
      parentHash: e.parentHash,
      resultHash: e.resultHash,
      commitment: e.commitment,
      rand: e.rand,
      timestamp: await this.sealTime(),
    });
    this.actions.push(`declared stage ${e.stage} (copied)`);
  }

  /** Tries to claim a share for its copied declaration (must revert: it does not open). */
  async tryClaim(stage: number): Promise<boolean> {
    const settled = this.seen.find(
      (x) => x.kind === "StageSettled" && x.jobId === this.jobId && x.stage === stage,
    );
    const mine = this.seen.find(
      (x) =>
        x.kind === "Declared" &&
        x.jobId === this.jobId &&
        x.stage === stage &&
        lower(x.declarer) === lower(this.address),
    );
    if (settled?.kind !== "StageSettled" || mine?.kind !== "Declared") return false;
    try {
      await this.chain.claimDeclaration(this.jobId, stage, settled.settlement, {
        declarer: this.address,
        commitment: mine.commitment,
        rand: mine.rand,
        timestamp: mine.timestamp,
      });
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Forward-only: runs no backward pass, so it cannot know rho; it copies the weights hash an honest miner
 * published and commits to a made-up rho. Once a header reveals the real rho it contests it with its own
 * (the rho contest sends the stage to the jury, which fixes the honest rho).
 */
export class ForwardOnlyMiner extends Adversary {
  private readonly fakeRho = new Map<number, { rho: Hex; rand: Hex }>();

  constructor(
    chain: PotContractsAdapter,
    jobId: bigint,
    private readonly stages: readonly number[],
    private readonly contestHeaders = true,
  ) {
    super("forward-only", chain, jobId);
  }

  protected async onEvent(e: LedgerEvent): Promise<void> {
    if (e.kind === "Declared" && this.stages.includes(e.stage) && lower(e.declarer) !== lower(this.address)) {
      if (this.fakeRho.has(e.stage)) return;
      const secret = { rho: rnd(), rand: rnd() };
      this.fakeRho.set(e.stage, secret);
      await this.declareWith(e.stage, e.resultHash, secret.rho, secret.rand);
    } else if (e.kind === "HeaderSubmitted" && this.contestHeaders && this.fakeRho.has(e.stage)) {
      const secret = this.fakeRho.get(e.stage)!;
      const mine = this.seen.find(
        (x) =>
          x.kind === "Declared" &&
          x.jobId === this.jobId &&
          x.stage === e.stage &&
          lower(x.declarer) === lower(this.address),
      );
      if (mine?.kind !== "Declared") return;
      this.fakeRho.delete(e.stage);
      await this.chain.contest(this.jobId, e.stage, headerFieldsOf(e), secret.rho, {
        declarer: this.address,
        commitment: mine.commitment,
        rand: mine.rand,
        timestamp: mine.timestamp,
      });
      this.actions.push(`contested stage ${e.stage}`);
    }
  }
}

/**
 * Colluders: C miners declaring the same wrong result (one made-up rho) against the honest declarants;
 * if drawn as jurors, they vote for their own pair.
 */
export class ColludingGroup {
  readonly members: Adversary[];
  readonly wrongResult: Hex = rnd();
  readonly wrongRho: Hex = rnd();

  constructor(chains: PotContractsAdapter[], jobId: bigint, stages: readonly number[]) {
    this.members = chains.map((c) => new Colluder(c, jobId, stages, this));
  }

  async start(stakeWei: bigint = E18): Promise<void> {
    for (const m of this.members) await m.start(stakeWei);
  }

  async stop(): Promise<void> {
    for (const m of this.members) await m.stop();
  }
}

class Colluder extends Adversary {
  /** Juries this colluder sits on (stage:round): the jurors, its commitment's salt, whether revealed. */
  private readonly juries = new Map<string, { jurors: Address[]; salt: Hex; revealed: boolean }>();

  constructor(
    chain: PotContractsAdapter,
    jobId: bigint,
    private readonly stages: readonly number[],
    private readonly group: ColludingGroup,
  ) {
    super("colluder", chain, jobId);
  }

  protected async onEvent(e: LedgerEvent): Promise<void> {
    const opened = e.kind === "StageOpened" && this.stages.includes(e.stage);
    if (opened && !this.actions.some((a) => a.includes(`stage ${e.stage} `)))
      await this.declareWith(e.stage, this.group.wrongResult, this.group.wrongRho);
    // Commit-reveal jury: commit the wrong pair at once, reveal once more than half the jurors committed.
    if (e.kind === "JuryDrawn" && e.jurors.some((j) => lower(j) === lower(this.address))) {
      const salt = keccak256(toHex(`colluder-salt/${this.address}/${e.stage}/${e.round}`));
      this.juries.set(`${e.stage}:${e.round}`, { jurors: e.jurors, salt, revealed: false });
      await this.chain.commitVote({
        jobId: this.jobId,
        stage: e.stage,
        jurors: e.jurors,
        commitment: juryVoteCommitment({
          domain: await this.chain.domainSeparator(),
          jobId: this.jobId,
          stage: e.stage,
          round: e.round,
          juror: this.address,
          resultHash: this.group.wrongResult,
          rho: this.group.wrongRho,
          salt,
        }),
      });
      this.actions.push(`committed a vote for stage ${e.stage}`);
    }
    if (e.kind === "JuryCommitted" && e.jobId === this.jobId) {
      const jury = this.juries.get(`${e.stage}:${e.round}`);
      const commits = this.seen.filter(
        (x) =>
          x.kind === "JuryCommitted" && x.jobId === this.jobId && x.stage === e.stage && x.round === e.round,
      ).length;
      if (jury !== undefined && !jury.revealed && commits * 2 > jury.jurors.length) {
        jury.revealed = true;
        await this.chain.vote({
          jobId: this.jobId,
          stage: e.stage,
          jurors: jury.jurors,
          resultHash: this.group.wrongResult,
          rho: this.group.wrongRho,
          salt: jury.salt,
        });
        this.actions.push(`voted stage ${e.stage} for the wrong pair`);
      }
    }
  }
}

/**
 * Withholding builder: trains honestly (reference trainer), declares, and as soon as the declarations
 * close submits the header (revealing the true rho, opening every agreeing declaration) with the CID of
 * bytes it never publishes: S_{i+1} never becomes available under that CID.
 */
export class WithholdingBuilder extends Adversary {
  private closeBlock = new Map<number, bigint>();
  private done = new Set<number>();

  constructor(
    chain: PotContractsAdapter,
    jobId: bigint,
    private readonly stages: readonly number[],
    private readonly ref: ReferenceTrainer,
  ) {
    super("withholding-builder", chain, jobId);
  }

  protected async onEvent(e: LedgerEvent): Promise<void> {
    if (e.kind === "StageOpened" && this.stages.includes(e.stage)) {
      const r = await this.ref.stage(e.stage);
      if (r.hash !== e.parentHash && e.stage > 1 && (await this.ref.stage(e.stage - 1)).hash !== e.parentHash)
        return;
      await this.declareWith(e.stage, r.hash, r.rho, this.rand(e.stage));
    } else if (e.kind === "DeclarationsClosed" && this.stages.includes(e.stage)) {
      this.closeBlock.set(e.stage, e.closeBlock);
    }
  }

  private rands = new Map<number, Hex>();
  private rand(stage: number): Hex {
    let r = this.rands.get(stage);
    if (r === undefined) this.rands.set(stage, (r = rnd()));
    return r;
  }

  protected override async tick(): Promise<void> {
    for (const [stage, cb] of this.closeBlock) {
      if (this.done.has(stage)) continue;
      const head = await this.chain.blockNumber();
      if (head + 1n < cb) continue;
      const prevWrapped =
        stage === 1 ||
        this.seen.some((x) => x.kind === "BlockWrapped" && x.jobId === this.jobId && x.stage === stage - 1);
      if (!prevWrapped) continue;
      if (
        this.seen.some((x) => x.kind === "HeaderSubmitted" && x.jobId === this.jobId && x.stage === stage)
      ) {
        this.done.add(stage);
        continue;
      }
      const r = await this.ref.stage(stage);
      const domain = await this.chain.domainSeparator();
      const openings = this.seen
        .filter(
          (x): x is Extract<LedgerEvent, { kind: "Declared" }> =>
            x.kind === "Declared" && x.jobId === this.jobId && x.stage === stage && x.resultHash === r.hash,
        )
        .filter(
          (d) =>
            commitmentHash({
              domain,
              rho: r.rho,
              rand: d.rand,
              declarer: d.declarer,
              jobId: this.jobId,
              stage,
            }) === d.commitment,
        )
        .map((d) => ({
          declarer: d.declarer,
          commitment: d.commitment,
          rand: d.rand,
          timestamp: d.timestamp,
        }));
      // The CID of bytes nobody has: S_{i+1} is withheld.
      const bogus = CID.create(1, raw.code, await sha256.digest(randomBytes(64)));
      await this.chain.submitHeader({
        jobId: this.jobId,
        stage,
        resultHash: r.hash,
        rho: r.rho,
        resultCid: bytesToHex(bogus.bytes),
        timestamp: await this.sealTime(),
        openings,
      });
      this.done.add(stage);
      this.actions.push(`header stage ${stage} with a withheld CID`);
    }
  }
}

/** Absent committee member: stakes (so follow-the-coin draws it) and never attests, votes or builds. */
export class AbsentStaker extends Adversary {
  constructor(chain: PotContractsAdapter, jobId: bigint) {
    super("absent-committee", chain, jobId);
  }

  protected async onEvent(): Promise<void> {}
}
