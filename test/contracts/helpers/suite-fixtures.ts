/**
 * Fixtures and drivers for the split contracts (deploy/suite.ts): a deployment with funded, staked miners
 * and helpers that play miners, builders, committees and jurors, with the TypeScript protocol core
 * computing commitments and EIP-712 attestations on the test side.
 */
import { ethers } from "hardhat";
import { mine, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Hex } from "viem";
import { deploySuite, localParams, type SuiteDeployment, type SuiteParams } from "../../../deploy/suite";
import { mineToNextEpoch } from "./staking-fixtures";
import {
  ATTESTATION_TYPES,
  commitmentHash,
  DOMAIN_NAME,
  juryVoteCommitment,
  EMPTY_CHECKPOINT_ROOT,
  NO_METRIC,
  outcomeHash,
  TargetKind,
  type JobTarget,
  type StageOutcome,
} from "../../../src/protocol";

export const E18 = 10n ** 18n;
export const STAKE = 1_000n * E18;
export const SPEC_CID = ethers.hexlify(ethers.toUtf8Bytes("bafy-test-spec"));
export const MANIFEST_ROOT = ethers.keccak256(ethers.toUtf8Bytes("manifest"));
export const S0 = ethers.keccak256(ethers.toUtf8Bytes("S0"));
export const RESULT_CID = ethers.hexlify(ethers.toUtf8Bytes("bafy-result"));
/** The protocol domain version of the split contracts (PoTStages' EIP-712 domain). */
export const SUITE_DOMAIN_VERSION = "2";

export interface SuiteFixture extends SuiteDeployment {
  params: SuiteParams;
  deployer: HardhatEthersSigner;
  employer: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
  /** Staked miners (STAKE each unless `stakes` says otherwise). */
  miners: HardhatEthersSigner[];
  /** Funded signers that have not staked (attackers' spare identities). */
  spare: HardhatEthersSigner[];
  byAddress: Map<string, HardhatEthersSigner>;
  domain: Hex;
}

/** Deploys with local parameters (changed by `tweak`) and stakes `nMiners` miners. */
export async function deploySuiteFixture(
  nMiners = 6,
  tweak: (p: SuiteParams) => void = () => {},
  stakes?: bigint[],
): Promise<SuiteFixture> {
  const signers = await ethers.getSigners();
  const [deployer, employer, outsider, ...rest] = signers;
  const params = localParams(rest.map((s) => ({ holder: s.address, amount: 1_000_000n * E18 })));
  tweak(params);
  const d = await deploySuite(deployer, params);
  const miners = rest.slice(0, nMiners);
  for (let i = 0; i < miners.length; i++) await stakeAs(d, miners[i], stakes ? stakes[i] : STAKE);
  await time.increase(3600);
  await mineToNextEpoch(d.staking);
  return {
    ...d,
    params,
    deployer,
    employer,
    outsider,
    miners,
    spare: rest.slice(nMiners),
    byAddress: new Map(signers.map((s) => [s.address.toLowerCase(), s])),
    domain: (await d.stages.domainSeparator()) as Hex,
  };
}

export async function stakeAs(d: SuiteDeployment, who: HardhatEthersSigner, amount: bigint) {
  await (await d.token.connect(who).approve(await d.staking.getAddress(), ethers.MaxUint256)).wait();
  await (await d.staking.connect(who).stake(amount)).wait();
}

export interface JobOptions {
  numStages?: number;
  c?: number;
  k?: number;
  stageSeconds?: number;
  minDeclareSeconds?: number;
  deadlineIn?: number;
  fee?: bigint;
  /** Early-stopping target (JobTerms.targetKind, targetValue); none by default. */
  target?: JobTarget;
}

export function jobTerms(o: JobOptions, now: number) {
  return {
    specCid: SPEC_CID,
    manifestRoot: MANIFEST_ROOT,
    initialStateHash: S0,
    numStages: o.numStages ?? 3,
    c: o.c ?? 3,
    k: o.k ?? 3,
    stageSeconds: o.stageSeconds ?? 600,
    minDeclareSeconds: o.minDeclareSeconds ?? 0,
    deadline: now + (o.deadlineIn ?? 24 * 3600),
    targetKind: o.target?.kind ?? TargetKind.None,
    targetValue: o.target?.value ?? 0,
  };
}

/** Creates a job from the employer; returns its id. */
export async function createJob(f: SuiteFixture, o: JobOptions = {}): Promise<bigint> {
  const jobId = await f.escrow.nextJobId();
  const terms = jobTerms(o, (await time.latest()) + 1);
  await (
    await f.escrow.connect(f.employer).createJob(terms, { value: o.fee ?? ethers.parseEther("3") })
  ).wait();
  return jobId;
}

/** Deterministic stand-ins for training outputs: H(S_stage) and rho. */
export function stateHashOf(jobId: bigint, stage: number, variant = "honest"): Hex {
  return ethers.keccak256(ethers.toUtf8Bytes(`S/${jobId}/${stage}/${variant}`)) as Hex;
}

/** The held-out metric fields of an outcome (NO_METRIC where absent). */
export type Metric = Partial<Pick<StageOutcome, "heldOutLoss" | "heldOutAccuracy">>;

/** The stand-in outcome of a stage: H(S_stage) of `variant`, no checkpoints, the metric given (else none). */
export function outcomeOf(
  jobId: bigint,
  stage: number,
  variant = "honest",
  metric: Metric = {},
): StageOutcome {
  return {
    stateHash: stateHashOf(jobId, stage, variant),
    checkpointRoot: EMPTY_CHECKPOINT_ROOT,
    heldOutLoss: metric.heldOutLoss ?? NO_METRIC,
    heldOutAccuracy: metric.heldOutAccuracy ?? NO_METRIC,
  };
}

/** Every outcome whose hash a test built here, by hash: a header or a wrap reveals it from its result. */
const outcomesByResult = new Map<string, StageOutcome>();

/** A declaration's resultHash for `o` (outcomeHash), remembered so a header can reveal `o` later. */
export function resultFor(o: StageOutcome): Hex {
  const r = outcomeHash(o);
  outcomesByResult.set(r.toLowerCase(), o);
  return r;
}

/** The resultHash of outcomeOf(jobId, stage, variant, metric): what a declaration of that stage commits to. */
export function resultOf(jobId: bigint, stage: number, variant = "honest", metric: Metric = {}): Hex {
  return resultFor(outcomeOf(jobId, stage, variant, metric));
}

/** The outcome a result built by resultFor/resultOf opens to. */
export function outcomeFor(result: string): StageOutcome {
  const o = outcomesByResult.get(result.toLowerCase());
  if (o === undefined) throw new Error(`no outcome known for result ${result}: build it with resultFor`);
  return o;
}
export function rhoOf(jobId: bigint, stage: number, variant = "honest"): Hex {
  return ethers.keccak256(ethers.toUtf8Bytes(`rho/${jobId}/${stage}/${variant}`)) as Hex;
}
export function randOf(who: string, stage: number): Hex {
  return ethers.keccak256(ethers.toUtf8Bytes(`rand/${who}/${stage}`)) as Hex;
}

/** The stage's parent and seed, from its StageOpened event. */
export async function stageOpened(f: SuiteFixture, jobId: bigint, stage: number) {
  const evs = await f.stages.queryFilter(f.stages.filters.StageOpened(jobId, stage));
  const e = evs[evs.length - 1];
  if (e === undefined) throw new Error(`stage ${jobId}/${stage} never opened`);
  const anchor = ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [e.args.parentHash, e.args.seed]),
  ) as Hex;
  return { parent: e.args.parentHash as Hex, seed: e.args.seed as Hex, anchor, notBefore: e.args.notBefore };
}

export interface Decl {
  declarer: string;
  resultHash: string;
  commitment: string;
  rand: string;
  timestamp: bigint;
}

/** Declares (jobId, stage) as `miner` (defaults: honest result and rho). */
export async function declare(
  f: SuiteFixture,
  miner: HardhatEthersSigner,
  jobId: bigint,
  stage: number,
  opts: { rho?: Hex; resultHash?: string; commitment?: string } = {},
): Promise<Decl> {
  const { parent, seed } = await stageOpened(f, jobId, stage);
  const rho = opts.rho ?? rhoOf(jobId, stage);
  const rand = randOf(miner.address, stage);
  const commitment =
    opts.commitment ??
    commitmentHash({ domain: f.domain, rho, rand, declarer: miner.address as Hex, jobId, stage });
  const resultHash = opts.resultHash ?? resultOf(jobId, stage);
  const timestamp = BigInt(await time.latest());
  await (
    await f.stages.connect(miner).declare(jobId, stage, parent, seed, resultHash, commitment, rand, timestamp)
  ).wait();
  return { declarer: miner.address, resultHash, commitment, rand, timestamp };
}

/** Declarations sorted by declarer, as a header lists them. */
export function sorted(decls: Decl[]): Decl[] {
  return [...decls].sort((a, b) => (BigInt(a.declarer) < BigInt(b.declarer) ? -1 : 1));
}

/** Mines (and lets time pass) until the stage's declarations are closed. */
export async function mineUntilClosed(f: SuiteFixture, jobId: bigint, stage: number): Promise<void> {
  for (let i = 0; i < 100 && !(await f.stages.declarationsClosed(jobId, stage)); i++) {
    await time.increase(5);
  }
  if (!(await f.stages.declarationsClosed(jobId, stage))) throw new Error("declarations did not close");
}

export async function headerData(
  f: SuiteFixture,
  builder: string,
  jobId: bigint,
  stage: number,
  o: { result?: string; rho?: string; cid?: string; timestamp?: bigint } = {},
) {
  const { parent, seed } = await stageOpened(f, jobId, stage);
  return {
    builder,
    parent,
    seed,
    result: o.result ?? resultOf(jobId, stage),
    rho: o.rho ?? rhoOf(jobId, stage),
    resultCidHash: ethers.keccak256(o.cid ?? RESULT_CID),
    timestamp: o.timestamp ?? BigInt(await time.latest()),
  };
}

export interface HeaderOptions {
  /** The header's result (default: the outcome's hash, else the honest result). */
  result?: string;
  rho?: string;
  cid?: string;
  /** The outcome revealed (default: the one `result` was built from with resultFor). */
  outcome?: StageOutcome;
  /** The stage's checkpoint state hashes (default: none). */
  checkpoints?: string[];
}

/** The transaction submitting a header from `builder` listing `decls` (all the stage's declarations). */
export async function sendHeader(
  f: SuiteFixture,
  builder: HardhatEthersSigner,
  jobId: bigint,
  stage: number,
  decls: Decl[],
  o: HeaderOptions = {},
) {
  const result = o.result ?? (o.outcome ? outcomeHash(o.outcome) : resultOf(jobId, stage));
  const h = await headerData(f, builder.address, jobId, stage, { ...o, result });
  const outcome = o.outcome ?? outcomeFor(result);
  return f.stages
    .connect(builder)
    .submitHeader(jobId, stage, h, o.cid ?? RESULT_CID, sorted(decls), outcome, o.checkpoints ?? []);
}

/** Submits a header (sendHeader) and waits for its receipt. */
export async function submitHeader(
  f: SuiteFixture,
  builder: HardhatEthersSigner,
  jobId: bigint,
  stage: number,
  decls: Decl[],
  o: HeaderOptions = {},
) {
  return (await sendHeader(f, builder, jobId, stage, decls, o)).wait();
}

/** The outcome the stage's last header revealed (its last OutcomeRevealed event), as a wrapper reads it. */
export async function revealedOutcome(f: SuiteFixture, jobId: bigint, stage: number): Promise<StageOutcome> {
  const evs = await f.stages.queryFilter(f.stages.filters.OutcomeRevealed(jobId, stage));
  const e = evs[evs.length - 1];
  if (e === undefined) throw new Error(`no outcome revealed for ${jobId}/${stage}`);
  const o = e.args.outcome;
  return {
    stateHash: o.stateHash as Hex,
    checkpointRoot: o.checkpointRoot as Hex,
    heldOutLoss: Number(o.heldOutLoss),
    heldOutAccuracy: Number(o.heldOutAccuracy),
  };
}

/** The stage's last header (HeaderSubmitted): its fields and lists. */
export async function lastHeader(f: SuiteFixture, jobId: bigint, stage: number) {
  const evs = await f.stages.queryFilter(f.stages.filters.HeaderSubmitted(jobId, stage));
  const e = evs[evs.length - 1];
  if (e === undefined) throw new Error(`no header for ${jobId}/${stage}`);
  const h = e.args.header;
  return {
    header: {
      builder: h.builder,
      parent: h.parent,
      seed: h.seed,
      result: h.result,
      rho: h.rho,
      resultCidHash: h.resultCidHash,
      timestamp: h.timestamp,
    },
    headerHash: e.args.headerHash,
    openers: [...e.args.openers],
    weights: [...e.args.weights],
    faulty: [...e.args.faulty],
    randBlock: e.args.randBlock,
  };
}

/** The current committee (mines past the randomness block first). */
export async function committee(f: SuiteFixture, jobId: bigint, stage: number) {
  const { randBlock } = await lastHeader(f, jobId, stage);
  const now = BigInt(await ethers.provider.getBlockNumber());
  if (now <= randBlock) await mine(Number(randBlock - now) + 1);
  const [round, seats, lastBlock] = await f.committee.committeeOf(jobId, stage);
  return { round, seats: [...seats], lastBlock };
}

export async function signAttestation(
  f: SuiteFixture,
  signer: HardhatEthersSigner,
  jobId: bigint,
  stage: number,
) {
  const { headerHash, header } = await lastHeader(f, jobId, stage);
  return signer.signTypedData(
    {
      name: DOMAIN_NAME,
      version: SUITE_DOMAIN_VERSION,
      chainId: f.chainId,
      verifyingContract: await f.stages.getAddress(),
    },
    { Attestation: [...ATTESTATION_TYPES.Attestation] },
    { headerHash, resultHash: header.result, jobId, stage },
  );
}

/** Wraps with the last seat's holder as wrapper and signatures for every other seat. */
export async function wrapStage(
  f: SuiteFixture,
  jobId: bigint,
  stage: number,
  opts: { wrapperIndex?: number; outcome?: StageOutcome } = {},
) {
  const { seats } = await committee(f, jobId, stage);
  const w = opts.wrapperIndex ?? seats.length - 1;
  const wrapper = f.byAddress.get(seats[w].toLowerCase())!;
  const sigs: string[] = [];
  for (let i = 0; i < seats.length; i++) {
    sigs.push(
      seats[i] === seats[w]
        ? "0x"
        : await signAttestation(f, f.byAddress.get(seats[i].toLowerCase())!, jobId, stage),
    );
  }
  const lh = await lastHeader(f, jobId, stage);
  const outcome = opts.outcome ?? (await revealedOutcome(f, jobId, stage));
  const tx = await f.stages
    .connect(wrapper)
    .wrap(jobId, stage, lh.header, lh.openers, lh.weights, lh.faulty, seats, sigs, outcome);
  return { receipt: await tx.wait(), seats, wrapper };
}

/** Wraps with transaction attestations only (`committee.attest`): an empty signature for every seat. */
export async function wrapWithTxAttestations(
  f: SuiteFixture,
  wrapper: string,
  jobId: bigint,
  stage: number,
  seats: string[],
) {
  const lh = await lastHeader(f, jobId, stage);
  return f.stages.connect(f.byAddress.get(wrapper.toLowerCase())!).wrap(
    jobId,
    stage,
    lh.header,
    lh.openers,
    lh.weights,
    lh.faulty,
    seats,
    seats.map(() => "0x"),
    await revealedOutcome(f, jobId, stage),
  );
}

/**
 * One stage end to end: `declarers` declare honestly (the honest outcome, or `outcome` with its
 * checkpoints), the first builds, a committee wraps.
 */
export async function runStage(
  f: SuiteFixture,
  jobId: bigint,
  stage: number,
  declarers: HardhatEthersSigner[],
  o: { outcome?: StageOutcome; checkpoints?: string[] } = {},
) {
  const resultHash = o.outcome ? resultFor(o.outcome) : resultOf(jobId, stage);
  const ds: Decl[] = [];
  for (const m of declarers) ds.push(await declare(f, m, jobId, stage, { resultHash }));
  await mineUntilClosed(f, jobId, stage);
  await submitHeader(f, declarers[0], jobId, stage, ds, { result: resultHash, checkpoints: o.checkpoints });
  const w = await wrapStage(f, jobId, stage);
  return { decls: ds, ...w };
}

export async function balanceAndOwed(f: SuiteFixture): Promise<[bigint, bigint]> {
  return [await ethers.provider.getBalance(await f.escrow.getAddress()), await f.escrow.totalOwed()];
}

// ------------------------------------------------------------------ juries

export function saltOf(juror: string, stage: number, round: number): Hex {
  return ethers.keccak256(ethers.toUtf8Bytes(`salt/${juror.toLowerCase()}/${stage}/${round}`)) as Hex;
}

/** Draws the jury's current round (mines past its randomness block first). */
export async function drawJury(f: SuiteFixture, jobId: bigint, stage: number) {
  const j = await f.disputes.juryOf(jobId, stage);
  const now = BigInt(await ethers.provider.getBlockNumber());
  if (now <= j.randBlock) await mine(Number(j.randBlock - now) + 1);
  const tx = await f.disputes.connect(f.outsider).draw(jobId, stage);
  const rc = await tx.wait();
  const ev = rc!.logs.map((l) => f.disputes.interface.parseLog(l)).find((p) => p?.name === "JuryDrawn")!;
  return {
    round: Number(ev.args.round),
    seats: [...ev.args.seats] as string[],
    commitEnd: ev.args.commitEnd as bigint,
    revealEnd: ev.args.revealEnd as bigint,
  };
}

/** The distinct jurors of a round, fewest seats first. */
export function jurorsBySeats(seats: string[]): string[] {
  const n = (j: string) => seats.filter((s) => s === j).length;
  return [...new Set(seats)].sort((x, y) => n(x) - n(y));
}

/**
 * Draws the jury's current round; while `ok(seats)` fails (e.g. one staker holds every seat), lets the round
 * go stale, redraws and draws again, so a test always gets the seat layout it asserts on. Throws after
 * `tries` rounds: a test never skips silently.
 */
export async function drawJuryWhere(
  f: SuiteFixture,
  jobId: bigint,
  stage: number,
  ok: (seats: string[]) => boolean,
  tries = 10,
) {
  for (let i = 0; i < tries; i++) {
    const jury = await drawJury(f, jobId, stage);
    if (ok(jury.seats)) return jury;
    await mine(Number(jury.revealEnd) - (await ethers.provider.getBlockNumber()) + 1);
    await (await f.disputes.redraw(jobId, stage)).wait();
  }
  throw new Error(`no jury round of ${jobId}/${stage} in ${tries} draws had the seats the test needs`);
}

export async function commitVote(
  f: SuiteFixture,
  juror: string,
  jobId: bigint,
  stage: number,
  jury: { round: number; seats: string[] },
  vote: { result: string; rho: string },
) {
  const commitment = juryVoteCommitment({
    domain: f.domain,
    jobId,
    stage,
    round: jury.round,
    juror: juror as Hex,
    resultHash: vote.result as Hex,
    rho: vote.rho as Hex,
    salt: saltOf(juror, stage, jury.round),
  });
  return f.disputes
    .connect(f.byAddress.get(juror.toLowerCase())!)
    .commitVote(jobId, stage, jury.seats, commitment);
}

export async function revealVote(
  f: SuiteFixture,
  juror: string,
  jobId: bigint,
  stage: number,
  jury: { round: number; seats: string[] },
  vote: { result: string; rho: string },
) {
  return f.disputes
    .connect(f.byAddress.get(juror.toLowerCase())!)
    .vote(jobId, stage, jury.seats, vote.result, vote.rho, saltOf(juror, stage, jury.round));
}

/** Mines until the round's reveals are open (past commitEnd). */
export async function mineToReveal(jury: { commitEnd: bigint }) {
  const now = BigInt(await ethers.provider.getBlockNumber());
  if (now <= jury.commitEnd) await mine(Number(jury.commitEnd - now));
}

/** Every distinct juror commits `vote(juror)` (skipping `absent`), then reveals until decided. */
export async function juryDecides(
  f: SuiteFixture,
  jobId: bigint,
  stage: number,
  vote: (juror: string) => { result: string; rho: string },
  absent: string[] = [],
) {
  const jury = await drawJury(f, jobId, stage);
  const jurors = [...new Set(jury.seats)].filter((j) => !absent.includes(j));
  for (const j of jurors) await (await commitVote(f, j, jobId, stage, jury, vote(j))).wait();
  await mineToReveal(jury);
  for (const j of jurors) {
    if ((await f.disputes.juryOf(jobId, stage)).decided) break;
    await (await revealVote(f, j, jobId, stage, jury, vote(j))).wait();
  }
  return jury;
}
