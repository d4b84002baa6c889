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
  type DeclarationData,
  type HeaderData,
  type LedgerEvent,
  PotContractsAdapter,
} from "../../src/chain/pot-contracts";
import type { PotSession } from "../../src/chain/contracts";
import type { EventWatcher } from "../../src/chain/events";
import type { Batch } from "../../src/ml";
import { commitmentHash, juryVoteCommitment, stageAnchor } from "../../src/protocol/messages";
import { outcomeHash, PPM, type StageOutcome } from "../../src/protocol/outcome";
import { E18, type ReferenceTrainer } from "./scenario-harness";
import { sendAhead, watchPendingLedgerCalls, type PendingCall } from "./scenario-mempool";

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
    this.watcher = this.chain.watcher({
      fromBlock: this.chain.deployBlock,
      confirmations: 0,
      pollingIntervalMs: 100,
    });
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          const logs = await this.watcher.poll();
          for (const l of logs) {
            const e = decodeLedgerLog(this.chain.suite, l);
            if (e === undefined) continue;
            this.seen.push(e);
            if ("jobId" in e && e.jobId !== this.jobId) continue;
            await this.onEvent(e).catch((err: unknown) => this.errors.push(String(err)));
          }
          await this.revealDue().catch((err: unknown) => this.errors.push(String(err)));
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

  /** Juries this adversary sits on (stage:round): the seats, the windows, its salt, whether revealed. */
  private readonly juries = new Map<
    string,
    { stage: number; round: number; seats: Address[]; revealAfter: bigint; salt: Hex; revealed: boolean }
  >();
  /** The pair each jury it sits on gets from it, and whether it reveals at all (a staller does not). */
  private readonly ballots = new Map<string, { resultHash: Hex; rho: Hex; what: string; reveal: boolean }>();

  /**
   * The commit-reveal jury duty for a chosen (result, rho): on JuryDrawn naming it, commits at once (the
   * commit window is open until commitEnd); reveals from `tick` once the reveal window opened. `reveal`
   * false: commits and never reveals (a staller).
   */
  protected async juryVote(
    e: LedgerEvent,
    resultHash: Hex,
    rho: Hex,
    what: string,
    reveal = true,
  ): Promise<void> {
    if (e.kind !== "JuryDrawn" || e.jobId !== this.jobId) return;
    if (!e.seats.some((j) => lower(j) === lower(this.address))) return;
    const key = `${e.stage}:${e.round}`;
    if (this.juries.has(key)) return;
    const salt = keccak256(toHex(`${this.name}-salt/${this.address}/${e.stage}/${e.round}`));
    this.juries.set(key, {
      stage: e.stage,
      round: e.round,
      seats: e.seats,
      revealAfter: e.commitEnd,
      salt,
      revealed: false,
    });
    this.ballots.set(key, { resultHash, rho, what, reveal });
    await this.chain.commitVote({
      jobId: this.jobId,
      stage: e.stage,
      seats: e.seats,
      commitment: juryVoteCommitment({
        domain: await this.chain.domainSeparator(),
        jobId: this.jobId,
        stage: e.stage,
        round: e.round,
        juror: this.address,
        resultHash,
        rho,
        salt,
      }),
    });
    this.actions.push(`committed a vote for stage ${e.stage}`);
  }

  /** Reveals committed votes whose reveal window opened (called from every poll). */
  private async revealDue(): Promise<void> {
    if (this.juries.size === 0) return;
    const head = await this.chain.blockNumber();
    for (const [key, jury] of this.juries) {
      const ballot = this.ballots.get(key)!;
      if (jury.revealed || !ballot.reveal || head < jury.revealAfter) continue;
      jury.revealed = true;
      await this.chain.vote({
        jobId: this.jobId,
        stage: jury.stage,
        seats: jury.seats,
        resultHash: ballot.resultHash,
        rho: ballot.rho,
        salt: jury.salt,
      });
      this.actions.push(`voted stage ${jury.stage} for ${ballot.what}`);
    }
  }
  protected async tick(): Promise<void> {}

  /** A seal timestamp (the local ledger's target passes every kernel). */
  protected async sealTime(): Promise<bigint> {
    // a second below the latest block: the node's pending block can carry a lower timestamp (see the miner)
    return (await this.chain.latestBlock()).timestamp - 1n;
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

  /** The stage's parent and seed (StageOpened), undefined before it opened. */
  protected openedOf(stage: number): { parentHash: Hex; seed: Hex } | undefined {
    const e = this.seen.findLast(
      (x) => x.kind === "StageOpened" && x.jobId === this.jobId && x.stage === stage,
    );
    return e?.kind === "StageOpened" ? { parentHash: e.parentHash, seed: e.seed } : undefined;
  }

  /** The declarations of a stage seen so far, as a header, a slash or a release lists them. */
  protected declarationsOf(stage: number): DeclarationData[] {
    return this.seen
      .filter(
        (x): x is Extract<LedgerEvent, { kind: "Declared" }> =>
          x.kind === "Declared" && x.jobId === this.jobId && x.stage === stage,
      )
      .map((d) => ({
        declarer: d.declarer,
        resultHash: d.resultHash,
        commitment: d.commitment,
        rand: d.rand,
        timestamp: d.timestamp,
      }));
  }

  /** Its own declaration of a stage, if any. */
  protected myDeclaration(stage: number): DeclarationData | undefined {
    return this.declarationsOf(stage).find((d) => lower(d.declarer) === lower(this.address));
  }

  /** Declares (result, commitment to (rho, rand)) for `stage`. */
  protected async declareWith(stage: number, resultHash: Hex, rho: Hex, rand: Hex = rnd()): Promise<void> {
    const { parentHash, seed } = this.openedOf(stage)!;
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
      seed,
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
 * commitment is bound to the original declarer, so it opens for nobody else: the header lists it as faulty
 * and it is slashed once the stage is wrapped.
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
    const opened = this.openedOf(e.stage);
    if (opened === undefined) return;
    this.actions.push(`copying stage ${e.stage} from ${e.declarer}`);
    await this.chain.declare({
      jobId: this.jobId,
      stage: e.stage,
      ...opened,
      resultHash: e.resultHash,
      commitment: e.commitment,
      rand: e.rand,
      timestamp: await this.sealTime(),
    });
    this.actions.push(`declared stage ${e.stage} (copied)`);
  }

  /** What the escrow owes it in the job (its copies open for nobody: nothing). */
  async owed(): Promise<bigint> {
    return (await this.chain.owedOf(this.jobId, this.address)).amount;
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
      await this.chain.contest(this.jobId, e.stage, e.header, secret.rho, {
        declarer: this.address,
        resultHash: mine.resultHash,
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
    await this.juryVote(e, this.group.wrongResult, this.group.wrongRho, "the wrong pair");
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
    /** After a header of the stage is voided (and it was not its builder), build again, withholding again. */
    private readonly rebuild = false,
  ) {
    super("withholding-builder", chain, jobId);
  }

  /** Voids of the stage's headers seen when it last sent a header (rebuild mode). */
  private readonly sentAtVoids = new Map<number, number>();

  protected async onEvent(e: LedgerEvent): Promise<void> {
    if (e.kind === "StageOpened" && this.stages.includes(e.stage)) {
      const r = await this.ref.stage(e.stage);
      if (
        r.stateHash !== e.parentHash &&
        e.stage > 1 &&
        (await this.ref.stage(e.stage - 1)).stateHash !== e.parentHash
      )
        return;
      await this.declareWith(e.stage, r.hash, r.rho, this.rand(e.stage));
    } else if (e.kind === "DeclarationsClosing" && this.stages.includes(e.stage)) {
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
      const of = (kind: string) =>
        this.seen.filter(
          (x) => x.kind === kind && "stage" in x && x.jobId === this.jobId && x.stage === stage,
        );
      const headers = of("HeaderSubmitted");
      const voids = of("HeaderVoided");
      if (headers.length > 0 && !this.rebuild) {
        this.done.add(stage);
        continue;
      }
      if (headers.length > voids.length) continue; // a header is in its PoA rounds
      const last = voids.at(-1);
      if (last?.kind === "HeaderVoided" && lower(last.builder) === lower(this.address)) continue; // VoidedBuilder
      if (this.sentAtVoids.get(stage) === voids.length) continue;
      const r = await this.ref.stage(stage);
      const opened = this.openedOf(stage)!;
      // The CID of bytes nobody has: S_{i+1} is withheld. The header lists every declaration.
      const bogus = bytesToHex(CID.create(1, raw.code, await sha256.digest(randomBytes(64))).bytes);
      await this.chain.submitHeader({
        jobId: this.jobId,
        stage,
        header: {
          builder: this.address,
          parent: opened.parentHash,
          seed: opened.seed,
          result: r.hash,
          rho: r.rho,
          resultCidHash: keccak256(bogus),
          timestamp: await this.sealTime(),
        },
        resultCid: bogus,
        declarations: this.declarationsOf(stage),
        outcome: r.outcome,
        checkpoints: r.checkpoints,
      });
      if (!this.rebuild) this.done.add(stage);
      this.sentAtVoids.set(stage, voids.length);
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

/**
 * Poisoner (data injection, seed 002 section 2): fetches the stage's batches like an honest miner, alters
 * them (`poison`), trains the honest parent S_{i} on the altered batch with the real training code and
 * declares the result with a commitment to its real rho: an honest-looking declaration of a different
 * result. Poisoners sharing one `poison` reach the same (result, rho), so they collude naturally; drawn
 * as jurors, they vote their poisoned pair.
 */
export class PoisonerMiner extends Adversary {
  private readonly pairs = new Map<number, { hash: Hex; rho: Hex }>();

  constructor(
    chain: PotContractsAdapter,
    jobId: bigint,
    private readonly stages: readonly number[],
    private readonly ref: ReferenceTrainer,
    private readonly poison: (b: Batch, stage: number) => Batch,
  ) {
    super("poisoner", chain, jobId);
  }

  /** The poisoned (result, rho) it declared for `stage`. */
  pair(stage: number): { hash: Hex; rho: Hex } | undefined {
    return this.pairs.get(stage);
  }

  protected async onEvent(e: LedgerEvent): Promise<void> {
    if (e.kind === "StageOpened" && this.stages.includes(e.stage) && !this.pairs.has(e.stage)) {
      const r = await this.ref.train(e.stage, this.poison);
      this.pairs.set(e.stage, { hash: r.hash, rho: r.rho });
      await this.declareWith(e.stage, r.hash, r.rho);
    } else if ("stage" in e && this.pairs.has(e.stage)) {
      const p = this.pairs.get(e.stage)!;
      await this.juryVote(e, p.hash, p.rho, "the poisoned pair");
    }
  }
}

/**
 * Metric liar: trains honestly (the reference's state and rho) but declares a better held-out accuracy
 * than S_{i+1} has, as a miner would to stop a job early or to make a model look better. The lie changes
 * the declared result (outcomeHash covers the metric), so the honest declarations outvote it like a wrong
 * weights hash. It votes its own pair if drawn for the jury.
 */
export class MetricLiar extends Adversary {
  private readonly pairs = new Map<number, { hash: Hex; rho: Hex; outcome: StageOutcome }>();

  constructor(
    chain: PotContractsAdapter,
    jobId: bigint,
    private readonly stages: readonly number[],
    private readonly ref: ReferenceTrainer,
  ) {
    super("metric-liar", chain, jobId);
  }

  /** The lying (result, rho) it declared for `stage`, with the outcome it claims. */
  pair(stage: number): { hash: Hex; rho: Hex; outcome: StageOutcome } | undefined {
    return this.pairs.get(stage);
  }

  protected async onEvent(e: LedgerEvent): Promise<void> {
    if (e.kind === "StageOpened" && this.stages.includes(e.stage) && !this.pairs.has(e.stage)) {
      const r = await this.ref.stage(e.stage);
      const claimed = r.outcome.heldOutAccuracy === PPM ? PPM - 1 : PPM; // "100 %" (or just below, if true)
      const outcome = { ...r.outcome, heldOutAccuracy: claimed };
      const hash = outcomeHash(outcome);
      this.pairs.set(e.stage, { hash, rho: r.rho, outcome });
      await this.declareWith(e.stage, hash, r.rho);
    } else if ("stage" in e && this.pairs.has(e.stage)) {
      const p = this.pairs.get(e.stage)!;
      await this.juryVote(e, p.hash, p.rho, "the lying pair");
    }
  }
}

/** Label flipping: every class index c becomes (c + 1) mod numClasses. */
export function flipLabels(numClasses: number): (b: Batch) => Batch {
  return (b) => ({
    ...b,
    labels: Int32Array.from(b.labels as Int32Array, (c) => (c + 1) % numClasses),
  });
}

/**
 * Declares the honest result of `stages` (reference trainer) and does nothing else: the base of the
 * griefer, whose header attacks are sent by the test.
 */
export class ReferenceDeclarer extends Adversary {
  constructor(
    chain: PotContractsAdapter,
    jobId: bigint,
    private readonly stages: readonly number[],
    private readonly ref: ReferenceTrainer,
    name = "reference-declarer",
  ) {
    super(name, chain, jobId);
  }

  protected async onEvent(e: LedgerEvent): Promise<void> {
    if (e.kind !== "StageOpened" || !this.stages.includes(e.stage)) return;
    if (this.actions.some((a) => a.startsWith(`declared stage ${e.stage} `))) return;
    const r = await this.ref.stage(e.stage);
    await this.declareWith(e.stage, r.hash, r.rho);
  }
}

/**
 * Front-runner at the network level: reads the mempool (the pending block) and, when an honest header of
 * `stage` is pending, copies its rho (1) into a declaration of its own from `outsider` (a staker that did
 * not declare), (2) into a header of its own from `outsider` with the victim's openings, and (3) into a
 * header from `declarant`, a staker that declared the public result hash with a commitment to a made-up
 * rho (it cannot know rho: it did not train), listing its own opening too. Every transaction is sent with
 * a fixed gas limit and a higher tip than the victim's, so it is mined before the honest header.
 */
export class FrontRunner extends Adversary {
  private pending: { stop(): Promise<void>; readonly polls: number; readonly errors: string[] } | undefined;
  readonly attempts: { what: string; hash: Hex }[] = [];
  victim: PendingCall | undefined;
  private fake: { rho: Hex; rand: Hex } | undefined;

  constructor(
    declarant: PotContractsAdapter,
    private readonly declarantSession: PotSession,
    private readonly outsider: PotSession,
    jobId: bigint,
    private readonly stage: number,
  ) {
    super("front-runner", declarant, jobId);
  }

  override async start(stakeWei: bigint = E18): Promise<this> {
    await super.start(stakeWei);
    this.pending = watchPendingLedgerCalls(this.outsider, (c) => this.onPending(c));
    return this;
  }

  override async stop(): Promise<void> {
    await this.pending?.stop();
    await super.stop();
  }

  get mempoolPolls(): number {
    return this.pending?.polls ?? 0;
  }

  /** Declares the first honest result of the stage with a commitment to a made-up rho. */
  protected async onEvent(e: LedgerEvent): Promise<void> {
    if (e.kind !== "Declared" || e.stage !== this.stage || this.fake !== undefined) return;
    if (lower(e.declarer) === lower(this.address)) return;
    this.fake = { rho: rnd(), rand: rnd() };
    await this.declareWith(this.stage, e.resultHash, this.fake.rho, this.fake.rand);
  }

  private async onPending(c: PendingCall): Promise<void> {
    if (c.functionName !== "submitHeader" || this.victim !== undefined) return;
    // the victim's header with everything it reveals (its outcome and checkpoint list), copied as is
    const [jobId, stage, header, resultCid, declarations, outcome, checkpoints] = c.args as [
      bigint,
      number,
      HeaderData,
      Hex,
      readonly DeclarationData[],
      unknown,
      readonly Hex[],
    ];
    if (jobId !== this.jobId || Number(stage) !== this.stage) return;
    this.victim = c;
    const ts = (await this.chain.latestBlock()).timestamp;
    const domain = await this.chain.domainSeparator();
    const outsider = this.outsider.account!.address;
    const { parentHash, seed } = this.openedOf(this.stage)!;
    // (1) A declaration committing to the copied rho.
    const rand = rnd();
    const commitment = commitmentHash({
      domain,
      rho: header.rho,
      rand,
      declarer: outsider,
      jobId,
      stage: this.stage,
    });
    this.attempts.push({
      what: "declaration with the copied rho (outsider)",
      hash: await sendAhead(
        this.outsider,
        "declare",
        [jobId, this.stage, parentHash, seed, header.result, commitment, rand, ts],
        c,
      ),
    });
    // (2) The victim's header, sent by the outsider as its own (it declared nothing).
    this.attempts.push({
      what: "header with the copied rho (outsider, not a declarant)",
      hash: await sendAhead(
        this.outsider,
        "submitHeader",
        [
          jobId,
          this.stage,
          { ...header, builder: outsider, timestamp: ts },
          resultCid,
          declarations,
          outcome,
          checkpoints,
        ],
        c,
      ),
    });
    // (3) The victim's header as its own, sent by the declarant whose commitment is to a made-up rho.
    if (this.myDeclaration(this.stage) !== undefined) {
      this.attempts.push({
        what: "header with the copied rho (declarant whose commitment is to another rho)",
        hash: await sendAhead(
          this.declarantSession,
          "submitHeader",
          [
            jobId,
            this.stage,
            { ...header, builder: this.address, timestamp: ts },
            resultCid,
            declarations,
            outcome,
            checkpoints,
          ],
          c,
        ),
      });
    }
    this.actions.push(`front-ran header ${c.hash} with ${this.attempts.length} transactions`);
  }
}

/**
 * Sybil closer (issue 12, attack 3): `sybils` identities watch the mempool and, when the first declaration
 * of `stage` is pending, copy its result hash with commitments to made-up rhos ahead of it, so the stage
 * has C declarations in one block. The job's minimum declaration window keeps the stage open for the honest
 * miners; the header lists the copies as faulty and they are slashed.
 */
export class SybilCloser extends Adversary {
  private pending: { stop(): Promise<void>; readonly polls: number; readonly errors: string[] } | undefined;
  readonly sent: Hex[] = [];
  private readonly fired = new Set<number>();

  constructor(
    lead: PotContractsAdapter,
    private readonly sybils: readonly PotSession[],
    jobId: bigint,
    private readonly stages: readonly number[],
  ) {
    super("sybil-closer", lead, jobId);
  }

  override async start(stakeWei: bigint = E18): Promise<this> {
    await super.start(0n);
    for (const s of this.sybils) await stakeSession(s, stakeWei);
    this.pending = watchPendingLedgerCalls(this.sybils[0], (c) => this.onPending(c));
    return this;
  }

  override async stop(): Promise<void> {
    await this.pending?.stop();
    await super.stop();
  }

  protected async onEvent(): Promise<void> {}

  private async onPending(c: PendingCall): Promise<void> {
    if (c.functionName !== "declare") return;
    const [jobId, stage, parentHash, seed, resultHash] = c.args as [bigint, number, Hex, Hex, Hex];
    const s = Number(stage);
    if (jobId !== this.jobId || !this.stages.includes(s) || this.fired.has(s)) return;
    if (this.sybils.some((x) => lower(x.account!.address) === lower(c.from))) return;
    this.fired.add(s);
    const domain = await this.chain.domainSeparator();
    const ts = (await this.chain.latestBlock()).timestamp;
    for (const sybil of this.sybils) {
      const declarer = sybil.account!.address;
      const rand = rnd();
      const commitment = commitmentHash({ domain, rho: rnd(), rand, declarer, jobId, stage: s });
      this.sent.push(
        await sendAhead(sybil, "declare", [jobId, s, parentHash, seed, resultHash, commitment, rand, ts], c),
      );
    }
    this.actions.push(
      `copied pending declaration ${c.hash} of stage ${s} from ${this.sybils.length} identities`,
    );
  }
}

/** Stakes `amount` from a session's account (faucet first when short). */
async function stakeSession(s: PotSession, amount: bigint): Promise<void> {
  const a = new PotContractsAdapter(s, s.sender!);
  if ((await a.tokenBalance(a.me)) < amount) await a.faucet();
  const have = await a.stakeOf(a.me);
  if (have < amount) await a.stake(amount - have);
}

/**
 * Jury staller (issue 12, attack 5): a staker that, drawn on a jury of the job, commits the honest pair
 * (so its commitment is worth copying) and never reveals: it hopes to leave the round without a majority.
 * Reveals are accepted only after the commit window closes, so it cannot close commitments early; its seats
 * are slashed `jurorAbsentSlash` each once the reveal window ends.
 */
export class JuryStaller extends Adversary {
  constructor(
    chain: PotContractsAdapter,
    jobId: bigint,
    /** The honest results (or how to get them once the job exists). */
    private readonly ref: ReferenceTrainer | (() => Promise<ReferenceTrainer>),
  ) {
    super("jury-staller", chain, jobId);
  }

  protected async onEvent(e: LedgerEvent): Promise<void> {
    if (e.kind !== "JuryDrawn") return;
    const ref = typeof this.ref === "function" ? await this.ref() : this.ref;
    const r = await ref.stage(e.stage);
    await this.juryVote(e, r.hash, r.rho, "the honest pair (never revealed)", false);
  }
}

/**
 * Self-slasher (issue 12, attack 1): declares like the copycat (its copy opens for nobody) and, as soon
 * as the stage is wrapped and its declaration marked faulty, reports itself with `slashDeclaration` to
 * collect the bounty before an honest reporter does. It wins the race here by construction; what it keeps
 * is at most the 10% bounty of its own slash.
 */
export class SelfSlasher extends CopycatMiner {
  readonly selfReports: string[] = [];

  protected override async onEvent(e: LedgerEvent): Promise<void> {
    await super.onEvent(e);
    if (e.kind !== "HeaderSubmitted" || e.jobId !== this.jobId) return;
    if (!e.faulty.some((f) => lower(f) === lower(this.address))) return;
    const stage = e.stage;
    const header = e.header;
    const mine = this.myDeclaration(stage);
    if (mine === undefined) return;
    const anchor = stageAnchor(header.parent, header.seed);
    // The fault is provable once the stage is wrapped: try every poll until then (the wrap lands soon).
    for (let i = 0; i < 200; i++) {
      if (this.seen.some((x) => x.kind === "BlockWrapped" && x.jobId === this.jobId && x.stage === stage))
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      await this.chain.slashDeclaration({
        jobId: this.jobId,
        stage,
        anchor,
        declaration: mine,
        result: header.result,
        rho: header.rho,
      });
      this.selfReports.push(`reported itself on stage ${stage}`);
    } catch (error) {
      this.selfReports.push(`self-report of stage ${stage} failed: ${String(error).slice(0, 120)}`);
    }
  }
}
