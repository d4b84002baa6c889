/**
 * The model certificate (docs/certificate.md; the file format is certificate-format.ts): certificate.json,
 * written by `pot job fetch` beside `model.json` and `weights.bin`, says which job on which chain trained
 * these weights, through which stages, and carries the signed evidence that each stage's committee attested
 * it. This module builds it from the chain (`certificateCore`, `certifyModel`), checks it offline
 * (`checkCertificate`: the domain, the stage list, the hash chain of states, headers and blocks, every
 * attestation's signature and the committee quorum, the weights files against the last H(S)) and against
 * the chain (`checkCertificateOnChain`). Each failure is a CertificateError with its own code.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import {
  keccak256,
  parseTransaction,
  recoverAddress,
  recoverTransactionAddress,
  type Address,
  type Hex,
} from "viem";
import {
  attestationDigest,
  blockHash,
  describeMetric,
  describeTarget,
  domainSeparator,
  headerHash,
  outcomeHash,
  targetReached,
  type JobTarget,
} from "../protocol";
import { cidFromBytesHex, type ContentStore, type FetchOptions } from "../storage";
import { encodeStateHeader } from "../ml/state";
import { decodeBatch, evaluate, type OptimizerConfig, type WeightSpec } from "../ml";
import { fetchState, loadJobRecord, type JobRecord } from "../chain/job-record";
import { readJobEvents, type JobEvents } from "../chain/job-events";
import type { LedgerHandle } from "../chain/ledger-reads";
import { wrappedHeader, wrappedOutcome } from "../chain/stage-rewards";
import { decodeAttestCall, decodeWrapCall, readWrapEvidence } from "../chain/wrap-evidence";
import {
  CERTIFICATE_FORMAT,
  CERTIFICATE_VERSION,
  CertificateError,
  readCertificate,
  writeCertificate,
  type AttestationKind,
  type Certificate,
  type CertificateAttestation,
  type CertificateStage,
  type CertificateSummary,
} from "./certificate-format";

export * from "./certificate-format";

const eq = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

// ----- building ----------------------------------------------------------------------------------

/** The chain's part of a certificate (everything but `model` and `metric`), up to stage `stage`. */
export type CertificateCore = Omit<Certificate, "model" | "metric">;

/** Reads the chain's part of job `events.jobId`'s certificate, stages 1..`stage` (all wrapped). */
export async function certificateCore(
  h: LedgerHandle,
  events: JobEvents,
  stage: number,
): Promise<CertificateCore> {
  const created = events.created;
  const chainId = await h.client.getChainId();
  const stages: CertificateStage[] = [];
  let parentHash = created.initialStateHash;
  for (const s of events.stages.slice(0, stage)) {
    const header = wrappedHeader(s);
    const outcome = wrappedOutcome(s);
    const w = s.wrapped;
    if (header === undefined || w === undefined)
      throw new CertificateError(
        "CERT_STAGE_MISSING",
        `Stage ${s.stage} of job ${events.jobId} is not wrapped`,
      );
    if (outcome === undefined)
      throw new CertificateError(
        "CERT_OUTCOME_MISMATCH",
        `No OutcomeRevealed event of stage ${s.stage} of job ${events.jobId} opens its result ${header.header.result}`,
      );
    const evidence = await readWrapEvidence(h, events.jobId, s);
    const attestations: CertificateAttestation[] = [];
    for (const member of distinct(evidence.seats)) {
      const seat = evidence.seats.findIndex((a) => eq(a, member));
      const signature = evidence.signatures[seat];
      const tx = evidence.attestTxs.find((a) => eq(a.member, member))?.tx;
      if (eq(member, w.wrapper))
        attestations.push({ signer: member, kind: "wrap-tx", transaction: evidence.wrapTx });
      else if (signature !== undefined && signature !== "0x")
        attestations.push({ signer: member, kind: "signature", signature });
      else if (tx !== undefined) attestations.push({ signer: member, kind: "attest-tx", transaction: tx });
    }
    stages.push({
      index: s.stage,
      parentHash,
      resultHash: header.header.result,
      outcome: { ...outcome },
      stateCid: cidFromBytesHex(header.resultCid),
      header: {
        hash: header.headerHash,
        seed: header.header.seed,
        rho: header.header.rho,
        resultCid: header.resultCid,
        timestamp: header.header.timestamp.toString(),
        builder: header.builder,
        openers: [...header.openers],
        faulty: [...header.faulty],
      },
      block: {
        index: w.index.toString(),
        hash: w.blockHash,
        parentBlockHash: w.parentBlockHash,
        attesters: [...w.attesters],
        wrapper: w.wrapper,
        timestamp: w.timestamp.toString(),
      },
      seats: evidence.seats,
      attestations,
    });
    parentHash = outcome.stateHash;
  }
  const target = events.target;
  return {
    format: CERTIFICATE_FORMAT,
    version: CERTIFICATE_VERSION,
    chainId: String(chainId),
    contracts: {
      staking: h.staking.address,
      escrow: h.suite.escrow.address,
      stages: h.suite.stages.address,
      committee: h.suite.committee.address,
      disputes: h.suite.disputes.address,
    },
    domain: domainSeparator({ chainId: BigInt(chainId), verifyingContract: h.suite.stages.address }),
    job: {
      id: events.jobId.toString(),
      specCid: cidFromBytesHex(created.specCid),
      manifestRoot: created.manifestRoot,
      initialStateHash: created.initialStateHash,
      numStages: created.numStages,
      c: created.c,
      k: created.k,
      finished: events.finished !== undefined,
      target:
        target === undefined || target.kind === 0
          ? null
          : { kind: target.kind, value: target.value, description: describeTarget(target) },
      finishedAt: events.targetReached?.stage ?? null,
    },
    parent:
      events.derived === undefined
        ? null
        : { jobId: events.derived.parentJobId.toString(), finalStateHash: events.derived.parentFinalHash },
    stages,
  };
}

function distinct(addresses: readonly Address[]): Address[] {
  return addresses.filter((a, i) => addresses.findIndex((b) => eq(a, b)) === i);
}

/** The model files `fetchModel` (src/employer/fetch-model.ts) wrote, as the certificate needs them. */
export interface CertifiedFiles {
  readonly jobId: bigint;
  readonly dir: string;
  readonly stage: number;
  readonly stateHash: Hex;
  readonly cid: string;
  readonly optimizer: OptimizerConfig["name"];
  readonly step: number;
  readonly modelJson: string;
  readonly weightsBin: string;
  readonly optimizerSlots?: string;
}

/**
 * Writes certificate.json beside fetched model files (`pot job fetch`): the chain's part up to the fetched
 * stage, the files, and the model's loss and accuracy on the job's test set when it names one and the
 * store can fetch it (else `metric` is null).
 */
export async function certifyModel(
  h: LedgerHandle,
  store: ContentStore,
  files: CertifiedFiles,
  options: FetchOptions = {},
): Promise<{ path: string; certificate: Certificate }> {
  const record = await loadJobRecord(h, store, files.jobId, options);
  const certificate: Certificate = {
    ...(await certificateCore(h, record.events, files.stage)),
    model: {
      stage: files.stage,
      stateHash: files.stateHash,
      stateCid: files.cid,
      optimizer: files.optimizer,
      step: files.step,
      files: {
        model: basename(files.modelJson),
        weights: basename(files.weightsBin),
        ...(files.optimizerSlots === undefined ? {} : { optimizerSlots: basename(files.optimizerSlots) }),
      },
    },
    metric: await testMetric(record, files, store, options),
  };
  return { path: writeCertificate(files.dir, certificate), certificate };
}

/** Loss and accuracy of the fetched state on the job's test set; null without one or when unavailable. */
async function testMetric(
  record: JobRecord,
  files: CertifiedFiles,
  store: ContentStore,
  options: FetchOptions,
): Promise<Certificate["metric"]> {
  const testSetCid = record.document.testSetCid;
  if (testSetCid === undefined) return null;
  try {
    const test = decodeBatch(await store.get(testSetCid, options));
    const bytes = await fetchState(
      store,
      { stage: files.stage, cid: files.cid, expectedHash: files.stateHash },
      options,
    );
    const e = await evaluate(record.document.spec, bytes, test);
    return { testSetCid, samples: test.count, loss: e.loss, accuracy: e.accuracy };
  } catch {
    return null;
  }
}

// ----- offline checks ----------------------------------------------------------------------------

/**
 * Checks the certificate of `dir` and the model files beside it without any network. Throws a
 * CertificateError at the first failure.
 */
export async function checkCertificate(dir: string): Promise<CertificateSummary> {
  const c = readCertificate(dir);
  const jobId = BigInt(c.job.id);
  const chainId = BigInt(c.chainId);
  const domain = domainSeparator({ chainId, verifyingContract: c.contracts.stages });
  if (!eq(domain, c.domain))
    throw new CertificateError(
      "CERT_WRONG_CHAIN",
      `The certificate names chain ${c.chainId} and PoTStages ${c.contracts.stages}, whose domain is ${domain}, but its hashes are bound to domain ${c.domain}: it was issued on another chain or deployment`,
    );
  checkStageList(c);
  checkOutcomes(c);
  checkHashChain(c, jobId);
  checkEarlyStop(c);
  let attestations = 0;
  for (const s of c.stages) attestations += await checkAttestations(c, s, jobId, chainId);
  checkModelFiles(dir, c);
  return {
    jobId,
    chainId,
    stages: c.stages.length,
    stateHash: c.model.stateHash,
    parentJobId: c.parent === null ? undefined : BigInt(c.parent.jobId),
    attestations,
    onChain: false,
    metric: c.metric,
    outcome: c.stages.at(-1)?.outcome,
    target: c.job.target,
    finishedAt: c.job.finishedAt,
    numStages: c.job.numStages,
  };
}

/** The stages are exactly 1..model.stage, in order. */
function checkStageList(c: Certificate): void {
  const indices = c.stages.map((s) => s.index);
  const expected = Array.from({ length: c.model.stage }, (_, i) => i + 1);
  const sorted = [...indices].sort((a, b) => a - b);
  if (sorted.join() === expected.join()) {
    if (indices.join() !== expected.join())
      throw new CertificateError(
        "CERT_STAGES_REORDERED",
        `The certificate lists stages in the order ${indices.join(", ")}: each stage trains from the one before, so they must be 1..${c.model.stage} in order`,
      );
    return;
  }
  const missing = expected.filter((i) => !indices.includes(i));
  throw new CertificateError(
    "CERT_STAGE_MISSING",
    missing.length > 0
      ? `The model is S_${c.model.stage} but the certificate lacks stage(s) ${missing.join(", ")}: the lineage from S_0 is broken`
      : `The certificate lists stages ${indices.join(", ")}, but the model is S_${c.model.stage}`,
  );
}

/**
 * Each stage's result R recomputes from the outcome it carries (outcomeHash): the state hash, checkpoint
 * root and held-out metric are what the declarations, the header and the committee signed.
 */
function checkOutcomes(c: Certificate): void {
  for (const s of c.stages) {
    let r: Hex | undefined;
    try {
      r = outcomeHash(s.outcome);
    } catch (error) {
      throw new CertificateError(
        "CERT_OUTCOME_MISMATCH",
        `The outcome of stage ${s.index} is malformed: ${(error as Error).message}`,
      );
    }
    if (!eq(r, s.resultHash))
      throw new CertificateError(
        "CERT_OUTCOME_MISMATCH",
        `The outcome of stage ${s.index} (H(S) ${s.outcome.stateHash}, ${describeMetric(s.outcome)}) hashes to ${r}, but the stage's result is ${s.resultHash}: the outcome was changed`,
      );
  }
}

/**
 * Early stopping: the stage the job finished at (job.finishedAt) meets the target and no earlier stage
 * does, no stage follows it; without finishedAt no listed stage meets the target.
 */
function checkEarlyStop(c: Certificate): void {
  const bad = (message: string) => new CertificateError("CERT_TARGET_MISMATCH", message);
  const target: JobTarget | undefined =
    c.job.target === null ? undefined : { kind: c.job.target.kind, value: c.job.target.value };
  const at = c.job.finishedAt;
  if (target === undefined) {
    if (at !== null) throw bad(`The job is said to have reached its target at stage ${at}, but it has none`);
    return;
  }
  const goal = describeTarget(target);
  for (const s of c.stages) {
    const meets = targetReached(target, s.outcome);
    if (s.index === at && !meets)
      throw bad(
        `The job is said to have finished at stage ${at} by reaching its target (${goal}), but that stage's outcome has ${describeMetric(s.outcome)}`,
      );
    if (meets && (at === null || s.index < at))
      throw bad(
        `Stage ${s.index} met the target (${goal}) with ${describeMetric(s.outcome)}, but the job ${at === null ? "did not finish there" : `finished only at stage ${at}`}`,
      );
    if (at !== null && s.index > at)
      throw bad(
        `The job finished at stage ${at} (target reached), but the certificate lists stage ${s.index}`,
      );
  }
}

/** Each stage trains from the previous H(S); every header and block hash recomputes under the domain. */
function checkHashChain(c: Certificate, jobId: bigint): void {
  const broken = (message: string) => new CertificateError("CERT_HASH_CHAIN", message);
  if (c.parent !== null && !eq(c.parent.finalStateHash, c.job.initialStateHash))
    throw broken(
      `Job ${c.job.id} starts from ${c.job.initialStateHash}, not from its parent job ${c.parent.jobId}'s final state ${c.parent.finalStateHash}`,
    );
  let parent = c.job.initialStateHash;
  for (const s of c.stages) {
    if (!eq(s.parentHash, parent))
      throw broken(`Stage ${s.index} trains from ${s.parentHash}, but H(S_${s.index - 1}) is ${parent}`);
    const h = headerHash(c.domain, {
      jobId,
      stage: s.index,
      parentHash: s.parentHash,
      resultHash: s.resultHash,
      rho: s.header.rho,
      resultCid: s.header.resultCid,
      timestamp: BigInt(s.header.timestamp),
      builder: s.header.builder,
    });
    if (!eq(h, s.header.hash))
      throw broken(
        `The header opening of stage ${s.index} hashes to ${h}, the certificate says ${s.header.hash}`,
      );
    if (cidFromBytesHex(s.header.resultCid) !== s.stateCid)
      throw broken(
        `Stage ${s.index} names state CID ${s.stateCid}, its header ${cidFromBytesHex(s.header.resultCid)}`,
      );
    const b = blockHash(c.domain, {
      index: BigInt(s.block.index),
      parentBlockHash: s.block.parentBlockHash,
      jobId,
      stage: s.index,
      headerHash: s.header.hash,
      attesters: s.block.attesters,
      wrapper: s.block.wrapper,
      timestamp: BigInt(s.block.timestamp),
    });
    if (!eq(b, s.block.hash))
      throw broken(
        `Block ${s.block.index} (stage ${s.index}) hashes to ${b}, the certificate says ${s.block.hash}`,
      );
    parent = s.outcome.stateHash;
  }
  if (!eq(parent, c.model.stateHash))
    throw broken(`The model is said to be ${c.model.stateHash}, but the last stage's H(S) is ${parent}`);
}

/**
 * Every attestation of a wrapped block recovers to the member it names and is bound to this chain, job,
 * stage and header; the wrapper and every attester the block lists attested (the committee's quorum: all
 * K seats). Returns the number of attestations checked.
 */
async function checkAttestations(c: Certificate, s: CertificateStage, jobId: bigint, chainId: bigint) {
  const at = `stage ${s.index} (block ${s.block.index})`;
  const mismatch = (message: string) =>
    new CertificateError("CERT_ATTESTATION_MISMATCH", `${message} in ${at}`);
  for (const a of s.attestations) {
    if (!s.seats.some((m) => eq(m, a.signer)))
      throw mismatch(`${a.signer} attests but holds no committee seat`);
    let recovered: Address;
    if (a.kind === "signature") {
      const digest = attestationDigest(c.domain, {
        headerHash: s.header.hash,
        resultHash: s.resultHash,
        jobId,
        stage: s.index,
      });
      recovered = await recoverAddress({ hash: digest, signature: a.signature ?? "0x" }).catch(
        () => "0x" as Address,
      );
    } else {
      const raw = a.transaction ?? "0x";
      recovered = await recoverTransactionAddress({ serializedTransaction: raw as never }).catch(
        () => "0x" as Address,
      );
      checkAttestationTx(c, s, a, raw, jobId, chainId, mismatch);
    }
    if (!eq(recovered, a.signer))
      throw new CertificateError(
        "CERT_SIGNATURE_FORGED",
        `The ${a.kind} attestation of ${a.signer} in ${at} was signed by ${recovered === "0x" ? "no valid key" : recovered}, not by the committee member it names`,
      );
  }
  if (s.seats.length !== c.job.k)
    throw new CertificateError(
      "CERT_ATTESTATION_MISSING",
      `The committee of ${at} has ${s.seats.length} seat(s), the job's committee has K = ${c.job.k}`,
    );
  const needed: { who: Address; kind: AttestationKind[] }[] = [
    { who: s.block.wrapper, kind: ["wrap-tx"] },
    ...s.block.attesters.map((who) => ({ who, kind: ["signature", "attest-tx"] as AttestationKind[] })),
  ];
  for (const n of needed) {
    if (!s.attestations.some((a) => eq(a.signer, n.who) && n.kind.includes(a.kind)))
      throw new CertificateError(
        "CERT_ATTESTATION_MISSING",
        `No ${n.kind.join(" or ")} attestation of committee member ${n.who} in ${at}: the quorum of all ${c.job.k} seats is not met`,
      );
  }
  return s.attestations.length;
}

/** A transaction attestation is an attest/wrap call of this stage, to this deployment, on this chain. */
function checkAttestationTx(
  c: Certificate,
  s: CertificateStage,
  a: CertificateAttestation,
  raw: Hex,
  jobId: bigint,
  chainId: bigint,
  mismatch: (m: string) => CertificateError,
): void {
  let tx: ReturnType<typeof parseTransaction>;
  try {
    tx = parseTransaction(raw as never);
  } catch {
    throw mismatch(`The ${a.kind} attestation of ${a.signer} is not a signed transaction`);
  }
  if (tx.chainId === undefined || BigInt(tx.chainId) !== chainId)
    throw new CertificateError(
      "CERT_WRONG_CHAIN",
      `The ${a.kind} attestation of ${a.signer} in stage ${s.index} was signed for chain ${tx.chainId ?? "none"}, the certificate names chain ${c.chainId}`,
    );
  if (a.kind === "attest-tx") {
    const call = decodeAttestCall(tx.data ?? "0x");
    if (!eq(tx.to ?? undefined, c.contracts.committee) || call?.jobId !== jobId || call.stage !== s.index)
      throw mismatch(
        `The attest transaction of ${a.signer} is not attest(${jobId}, ${s.index}) on PoTCommittee`,
      );
    return;
  }
  const call = decodeWrapCall(tx.data ?? "0x");
  const h = call?.header;
  const same =
    call !== undefined &&
    h !== undefined &&
    eq(tx.to ?? undefined, c.contracts.stages) &&
    call.jobId === jobId &&
    call.stage === s.index &&
    eq(h.result, s.resultHash) &&
    eq(h.parent, s.parentHash) &&
    eq(h.rho, s.header.rho) &&
    eq(h.seed, s.header.seed) &&
    eq(h.builder, s.header.builder) &&
    h.timestamp === BigInt(s.header.timestamp) &&
    eq(h.resultCidHash, keccak256(s.header.resultCid)) &&
    call.seats.length === s.seats.length &&
    call.seats.every((m, i) => eq(m, s.seats[i]));
  if (!same)
    throw mismatch(
      `The wrap transaction of ${a.signer} does not wrap this header of job ${jobId} with these seats`,
    );
}

/** The model files rebuild the canonical state bytes whose sha256 is the model's H(S). */
function checkModelFiles(dir: string, c: Certificate): void {
  const read = (name: string | undefined) => {
    const path = join(dir, name ?? "");
    if (name === undefined || !existsSync(path))
      throw new CertificateError("CERT_WEIGHTS_MISMATCH", `${path} is missing`);
    return readFileSync(path);
  };
  const modelJson = JSON.parse(read(c.model.files.model).toString("utf8")) as {
    weightsManifest?: { weights?: WeightSpec[] }[];
  };
  const weights: WeightSpec[] = (modelJson.weightsManifest ?? []).flatMap((g) =>
    (g.weights ?? []).map((w) => ({ name: w.name, shape: w.shape })),
  );
  const header = encodeStateHeader(c.model.optimizer, c.model.step, weights);
  const parts = [header, read(c.model.files.weights)];
  if (c.model.files.optimizerSlots !== undefined) parts.push(read(c.model.files.optimizerSlots));
  const h = `0x${createHash("sha256").update(Buffer.concat(parts)).digest("hex")}`;
  if (!eq(h, c.model.stateHash))
    throw new CertificateError(
      "CERT_WEIGHTS_MISMATCH",
      `The model files in ${dir} (${c.model.files.model}, ${c.model.files.weights}) rebuild a state that hashes to ${h}, but the certificate's H(S_${c.model.stage}) is ${c.model.stateHash}: the weights were changed`,
    );
}

// ----- against the chain -------------------------------------------------------------------------

/**
 * Checks the certificate against the chain `h` reads: the chain id, the contracts, the job, its parent
 * and every stage (header, block, committee, attestations) are what the chain recorded.
 */
export async function checkCertificateOnChain(h: LedgerHandle, c: Certificate): Promise<void> {
  const chainId = await h.client.getChainId();
  if (String(chainId) !== c.chainId)
    throw new CertificateError(
      "CERT_WRONG_CHAIN",
      `The certificate was issued on chain ${c.chainId}, the RPC node serves chain ${chainId}`,
      "Point --rpc-url (or POT_NETWORK) at the chain the certificate names",
    );
  const events = await readJobEvents(h, BigInt(c.job.id));
  const chain = await certificateCore(h, events, c.stages.length);
  const diff = firstDifference(chain, { ...c, model: undefined, metric: undefined }, "");
  if (diff !== undefined)
    throw new CertificateError(
      "CERT_CHAIN_MISMATCH",
      `The certificate's ${diff.path} is ${JSON.stringify(diff.ours)}, the chain says ${JSON.stringify(diff.chain)}`,
    );
}

/** The first path at which `chain` and `ours` differ (fields of `chain` only; addresses case-blind). */
function firstDifference(
  chain: unknown,
  ours: unknown,
  path: string,
): { path: string; chain: unknown; ours: unknown } | undefined {
  if (chain !== null && typeof chain === "object") {
    if (ours === null || typeof ours !== "object") return { path, chain, ours };
    if (Array.isArray(chain) && (!Array.isArray(ours) || ours.length !== chain.length))
      return { path: `${path}.length`, chain: chain.length, ours: Array.isArray(ours) ? ours.length : ours };
    for (const [k, v] of Object.entries(chain)) {
      const d = firstDifference(
        v,
        (ours as Record<string, unknown>)[k],
        Array.isArray(chain) ? `${path}[${k}]` : `${path}.${k}`,
      );
      if (d !== undefined) return d;
    }
    return undefined;
  }
  const same = typeof chain === "string" && typeof ours === "string" ? eq(chain, ours) : chain === ours;
  return same ? undefined : { path: path.replace(/^\./, ""), chain, ours };
}
