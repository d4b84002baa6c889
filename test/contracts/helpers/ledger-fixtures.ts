/**
 * Fixtures and drivers for the ledger tests: a full deployment (token, staking, ledger) through
 * deploy/deploy.ts, funded stakers, and helpers that play miners, builders and committees with the
 * TypeScript protocol core computing commitments, kernels and EIP-712 attestations on the test side.
 */
import { ethers } from "hardhat";
import { mine, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Hex } from "viem";
import { deployPoT, localParams, type PoTParams } from "../../../deploy/deploy";
import { mineToNextEpoch } from "./staking-fixtures";
import type { PoTJury, PoTLedger, PoTStaking, PoTToken, PoTVerifier } from "../../../typechain-types";
import type { OpeningStruct } from "../../../typechain-types/contracts/PoTLedger";
import {
  ATTESTATION_TYPES,
  commitmentHash,
  DOMAIN_NAME,
  DOMAIN_VERSION,
  juryVoteCommitment,
} from "../../../src/protocol";

export const E18 = 10n ** 18n;
export const STAKE = 1_000n * E18;

export interface LedgerFixture {
  token: PoTToken;
  staking: PoTStaking;
  ledger: PoTLedger;
  jury: PoTJury;
  /** The ledger's stateless checker (errors of openings and attestations come from it). */
  verifier: PoTVerifier;
  params: PoTParams;
  deployer: HardhatEthersSigner;
  employer: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
  /** Staked miners (STAKE each, coin age > 0). */
  miners: HardhatEthersSigner[];
  /** Signers by lower-case address. */
  byAddress: Map<string, HardhatEthersSigner>;
  domain: Hex;
  chainId: bigint;
}

/** Deploys with local parameters (changes applied by `tweak`) and stakes `nMiners` miners. */
export async function deployLedger(
  nMiners = 8,
  tweak: (p: PoTParams) => void = () => {},
  stakes?: bigint[],
): Promise<LedgerFixture> {
  const signers = await ethers.getSigners();
  const [deployer, employer, outsider, ...rest] = signers;
  const genesis = rest.map((s) => ({ holder: s.address, amount: 1_000_000n * E18 }));
  const params = localParams(genesis);
  tweak(params);
  const d = await deployPoT(deployer, params);
  const miners = rest.slice(0, nMiners);
  const stakingAddress = await d.staking.getAddress();
  for (let i = 0; i < miners.length; i++) {
    await (await d.token.connect(miners[i]).approve(stakingAddress, ethers.MaxUint256)).wait();
    await (await d.staking.connect(miners[i]).stake(stakes ? stakes[i] : STAKE)).wait();
  }
  await time.increase(3600);
  // draw weights change only at epoch boundaries: the miners are drawable from the next epoch
  await mineToNextEpoch(d.staking);
  const jury = (await ethers.getContractAt("PoTJury", await d.ledger.jury())) as unknown as PoTJury;
  const verifier = (await ethers.getContractAt(
    "PoTVerifier",
    await d.ledger.verifier(),
  )) as unknown as PoTVerifier;
  const byAddress = new Map(signers.map((s) => [s.address.toLowerCase(), s]));
  return {
    ...d,
    jury,
    verifier,
    params,
    deployer,
    employer,
    outsider,
    miners,
    byAddress,
    domain: (await d.ledger.domainSeparator()) as Hex,
    chainId: d.chainId,
  };
}

export async function ledgerFixture(): Promise<LedgerFixture> {
  return deployLedger();
}

export interface JobOptions {
  numStages?: number;
  c?: number;
  k?: number;
  stageSeconds?: number;
  deadlineIn?: number;
  fee?: bigint;
  initialStateHash?: string;
}

export const SPEC_CID = ethers.hexlify(ethers.toUtf8Bytes("bafy-test-spec"));
export const MANIFEST_ROOT = ethers.keccak256(ethers.toUtf8Bytes("manifest"));
export const S0 = ethers.keccak256(ethers.toUtf8Bytes("S0"));

export function jobRequest(o: JobOptions, now: number) {
  return {
    specCid: SPEC_CID,
    manifestRoot: MANIFEST_ROOT,
    initialStateHash: o.initialStateHash ?? S0,
    numStages: o.numStages ?? 3,
    c: o.c ?? 3,
    k: o.k ?? 3,
    stageSeconds: o.stageSeconds ?? 600,
    deadline: now + (o.deadlineIn ?? 24 * 3600),
  };
}

/** Creates a job from `employer`; returns its id. */
export async function createJob(f: LedgerFixture, o: JobOptions = {}): Promise<bigint> {
  const req = jobRequest(o, await time.latest());
  const jobId = await f.ledger.nextJobId();
  await (
    await f.ledger.connect(f.employer).createJob(req, { value: o.fee ?? ethers.parseEther("3") })
  ).wait();
  return jobId;
}

/** Deterministic stand-ins for training outputs: H(S_stage) and rho of an honest miner. */
export function stateHashOf(jobId: bigint, stage: number, variant = "honest"): string {
  return ethers.keccak256(ethers.toUtf8Bytes(`S/${jobId}/${stage}/${variant}`));
}
export function rhoOf(jobId: bigint, stage: number, variant = "honest"): Hex {
  return ethers.keccak256(ethers.toUtf8Bytes(`rho/${jobId}/${stage}/${variant}`)) as Hex;
}
export function randOf(who: string, stage: number): Hex {
  return ethers.keccak256(ethers.toUtf8Bytes(`rand/${who}/${stage}`)) as Hex;
}

export interface DeclarationRecord extends OpeningStruct {
  declarer: string;
  commitment: string;
  rand: string;
  timestamp: bigint;
  resultHash: string;
  parentHash: string;
}

/** Declares (jobId, stage) as `miner` with the given result and rho (defaults: honest). */
export async function declare(
  f: LedgerFixture,
  miner: HardhatEthersSigner,
  jobId: bigint,
  stage: number,
  opts: {
    rho?: Hex;
    resultHash?: string;
    commitment?: string;
    rand?: Hex;
    timestamp?: bigint;
    parent?: string;
  } = {},
): Promise<DeclarationRecord> {
  const rho = opts.rho ?? rhoOf(jobId, stage);
  const rand = opts.rand ?? randOf(miner.address, stage);
  const commitment =
    opts.commitment ??
    commitmentHash({ domain: f.domain, rho, rand, declarer: miner.address as Hex, jobId, stage });
  const resultHash = opts.resultHash ?? stateHashOf(jobId, stage);
  const parentHash = opts.parent ?? (await f.ledger.parentOf(jobId, stage));
  const timestamp = opts.timestamp ?? BigInt(await time.latest());
  await (
    await f.ledger.connect(miner).declare(jobId, stage, parentHash, resultHash, commitment, rand, timestamp)
  ).wait();
  return { declarer: miner.address, commitment, rand, timestamp, resultHash, parentHash };
}

/** Openings sorted by declarer, as the header requires. */
export function openings(decls: DeclarationRecord[]): OpeningStruct[] {
  return [...decls]
    .sort((a, b) => (BigInt(a.declarer) < BigInt(b.declarer) ? -1 : 1))
    .map((d) => ({ declarer: d.declarer, commitment: d.commitment, rand: d.rand, timestamp: d.timestamp }));
}

export const RESULT_CID = ethers.hexlify(ethers.toUtf8Bytes("bafy-result"));

/** Mines until the stage's declarations are closed. */
export async function mineUntilClosed(f: LedgerFixture, jobId: bigint, stage: number): Promise<void> {
  for (let i = 0; i < 50 && !(await f.ledger.declarationsClosed(jobId, stage)); i++) await mine(1);
}

export async function submitHeader(
  f: LedgerFixture,
  builder: HardhatEthersSigner,
  jobId: bigint,
  stage: number,
  decls: DeclarationRecord[],
  opts: { rho?: Hex; cid?: string; timestamp?: bigint; resultHash?: string } = {},
) {
  const rho = opts.rho ?? rhoOf(jobId, stage);
  const ts = opts.timestamp ?? BigInt(await time.latest());
  const resultHash =
    opts.resultHash ??
    decls.find((d) => d.declarer.toLowerCase() === builder.address.toLowerCase())?.resultHash ??
    decls[0]?.resultHash ??
    stateHashOf(jobId, stage);
  const tx = await f.ledger
    .connect(builder)
    .submitHeader(jobId, stage, resultHash, rho, opts.cid ?? RESULT_CID, ts, openings(decls));
  return tx.wait();
}

/** The current committee (mines one block if the randomness block is not mined yet). */
export async function committee(f: LedgerFixture, jobId: bigint, stage: number) {
  const st = await f.ledger.getStage(jobId, stage);
  const now = BigInt(await ethers.provider.getBlockNumber());
  if (now <= st.randBlock) await mine(Number(st.randBlock - now) + 1);
  const [round, members, lastBlock] = await f.ledger.committeeOf(jobId, stage);
  return { round, members: [...members], lastBlock };
}

/** The fields of the stage's last accepted header (HeaderFields), from its HeaderSubmitted event. */
export async function headerOf(f: LedgerFixture, jobId: bigint, stage: number) {
  const events = await f.ledger.queryFilter(f.ledger.filters.HeaderSubmitted(jobId, stage));
  const e = events[events.length - 1];
  if (e === undefined)
    return {
      builder: ethers.ZeroAddress,
      parent: ethers.ZeroHash,
      result: ethers.ZeroHash,
      rho: ethers.ZeroHash,
      resultCidHash: ethers.ZeroHash,
      timestamp: 0n,
      headerHash: ethers.ZeroHash,
    };
  return {
    builder: e.args.builder,
    parent: e.args.parentHash,
    result: e.args.resultHash,
    rho: e.args.rho,
    resultCidHash: ethers.keccak256(e.args.resultCid),
    timestamp: e.args.timestamp,
    headerHash: e.args.headerHash,
  };
}

/** EIP-712 attestation signature by `signer`. */
export async function signAttestation(
  f: LedgerFixture,
  signer: HardhatEthersSigner,
  jobId: bigint,
  stage: number,
): Promise<string> {
  const st = await headerOf(f, jobId, stage);
  return signer.signTypedData(
    {
      name: DOMAIN_NAME,
      version: DOMAIN_VERSION,
      chainId: f.chainId,
      verifyingContract: await f.ledger.getAddress(),
    },
    { Attestation: [...ATTESTATION_TYPES.Attestation] },
    { headerHash: st.headerHash, resultHash: st.result, jobId, stage },
  );
}

/** Opened declarers of the last accepted header, from its event. */
export async function openedOf(f: LedgerFixture, jobId: bigint, stage: number): Promise<string[]> {
  const events = await f.ledger.queryFilter(f.ledger.filters.HeaderSubmitted(jobId, stage));
  return [...events[events.length - 1].args.opened];
}

/** Wraps with the last committee member as wrapper and signatures from all others (unless skipped). */
export async function wrapStage(
  f: LedgerFixture,
  jobId: bigint,
  stage: number,
  opts: { skip?: number[]; wrapperIndex?: number } = {},
) {
  const { members } = await committee(f, jobId, stage);
  const w = opts.wrapperIndex ?? members.length - 1;
  const sigs: string[] = [];
  for (let i = 0; i < members.length; i++) {
    if (i === w || opts.skip?.includes(i)) sigs.push("0x");
    else sigs.push(await signAttestation(f, f.byAddress.get(members[i].toLowerCase())!, jobId, stage));
  }
  const wrapper = f.byAddress.get(members[w].toLowerCase())!;
  const tx = await f.ledger
    .connect(wrapper)
    .wrap(jobId, stage, await headerOf(f, jobId, stage), await openedOf(f, jobId, stage), members, sigs);
  return { tx, receipt: await tx.wait(), members, wrapper };
}

/** Runs one stage end to end with the first `c` miners declaring honestly; returns the declarations. */
export async function runStage(
  f: LedgerFixture,
  jobId: bigint,
  stage: number,
  c: number,
  declarers?: HardhatEthersSigner[],
): Promise<DeclarationRecord[]> {
  const ds: DeclarationRecord[] = [];
  for (const m of (declarers ?? f.miners).slice(0, c)) ds.push(await declare(f, m, jobId, stage));
  await mineUntilClosed(f, jobId, stage);
  await submitHeader(f, f.byAddress.get(ds[0].declarer.toLowerCase())!, jobId, stage, ds);
  await wrapStage(f, jobId, stage);
  await claimStage(f, jobId, stage, ds);
  return ds;
}

/**
 * Claims everything of a wrapped stage (pull payments): the builder's share, every committee member's
 * share and the share of each declaration in `decls` (opened or not; each must open against rho).
 */
export async function claimStage(f: LedgerFixture, jobId: bigint, stage: number, decls: DeclarationRecord[]) {
  const st = await settlementOf(f, jobId, stage);
  await (await f.ledger.connect(f.outsider).claimBuilder(jobId, stage, st)).wait();
  const members = await committeeOfSettlement(f, jobId, stage);
  for (let i = 0; i < members.length; i++) {
    await (await f.ledger.connect(f.outsider).claimAttester(jobId, stage, st, members, i)).wait();
  }
  for (const d of decls)
    await (await f.ledger.connect(f.outsider).claimDeclaration(jobId, stage, st, d)).wait();
}

/**
 * The wrapping committee of a wrapped stage (members in draw order), from its BlockWrapped event (the
 * attesters in order and the wrapper): the wrapper's position is the one whose list hashes to the
 * settlement's committeeHash.
 */
export async function committeeOfSettlement(
  f: LedgerFixture,
  jobId: bigint,
  stage: number,
): Promise<string[]> {
  const wrapped = await f.ledger.queryFilter(f.ledger.filters.BlockWrapped(undefined, undefined, jobId));
  const w = wrapped.find((e) => e.args.stage === BigInt(stage))!;
  const { committeeHash } = await settlementOf(f, jobId, stage);
  const attesters = [...w.args.attesters];
  for (let i = 0; i <= attesters.length; i++) {
    const members = [...attesters.slice(0, i), w.args.wrapper, ...attesters.slice(i)];
    if (
      ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["address[]"], [members])) === committeeHash
    )
      return members;
  }
  throw new Error(`no committee order of ${jobId}/${stage} matches its settlement`);
}

/** The salt a test juror uses for its vote commitment. */
export function saltOf(juror: string, stage: number, round = 0): Hex {
  return ethers.keccak256(ethers.toUtf8Bytes(`salt/${juror.toLowerCase()}/${stage}/${round}`)) as Hex;
}

/** Commits a juror's vote (commit-reveal) of the jury's current round. */
export async function commitJuryVote(
  f: LedgerFixture,
  juror: HardhatEthersSigner,
  jobId: bigint,
  stage: number,
  jurors: string[],
  result: string,
  rho: string,
) {
  const round = Number((await f.jury.getJury(jobId, stage)).round);
  const commitment = juryVoteCommitment({
    domain: f.domain,
    jobId,
    stage,
    round,
    juror: juror.address as Hex,
    resultHash: result as Hex,
    rho: rho as Hex,
    salt: saltOf(juror.address, stage, round),
  });
  return f.jury.connect(juror).commitVote(jobId, stage, jurors, commitment);
}

/** Reveals a juror's vote committed by `commitJuryVote`. */
export async function revealJuryVote(
  f: LedgerFixture,
  juror: HardhatEthersSigner,
  jobId: bigint,
  stage: number,
  jurors: string[],
  result: string,
  rho: string,
) {
  const round = Number((await f.jury.getJury(jobId, stage)).round);
  return f.jury.connect(juror).vote(jobId, stage, jurors, result, rho, saltOf(juror.address, stage, round));
}

/** Every juror commits its vote (`votes(juror)`), then reveals until the jury decides. */
export async function juryVotes(
  f: LedgerFixture,
  jobId: bigint,
  stage: number,
  jurors: string[],
  votes: (juror: string) => { result: string; rho: string },
) {
  for (const j of jurors) {
    const v = votes(j);
    await commitJuryVote(f, f.byAddress.get(j.toLowerCase())!, jobId, stage, jurors, v.result, v.rho);
  }
  for (const j of jurors) {
    if ((await f.jury.getJury(jobId, stage)).decided) break;
    const v = votes(j);
    await revealJuryVote(f, f.byAddress.get(j.toLowerCase())!, jobId, stage, jurors, v.result, v.rho);
  }
}

/** Asserts the escrow invariant: balance == totalOwed(). */
export async function owedAndBalance(f: LedgerFixture): Promise<[bigint, bigint]> {
  return [await ethers.provider.getBalance(await f.ledger.getAddress()), await f.ledger.totalOwed()];
}

/** The settlement of a wrapped stage, from its StageSettled event (what claims and slashes pass back). */
export async function settlementOf(f: LedgerFixture, jobId: bigint, stage: number | bigint) {
  const events = await f.ledger.queryFilter(f.ledger.filters.StageSettled(jobId, stage));
  if (events.length === 0) throw new Error(`stage ${jobId}/${stage} is not settled`);
  const s = events[events.length - 1].args.settlement;
  return {
    parent: s.parent,
    result: s.result,
    rho: s.rho,
    perDeclaration: s.perDeclaration,
    builder: s.builder,
    builderPart: s.builderPart,
    perMember: s.perMember,
    committeeHash: s.committeeHash,
    opened: [...s.opened],
    openedCoinbase: [...s.openedCoinbase],
  };
}
