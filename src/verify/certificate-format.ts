/**
 * certificate.json as a file (docs/certificate.md): its format (version 1), the errors of its checks, reading
 * and writing it, and the summary `pot verify --certificate` prints. Built and checked in certificate.ts.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Address, Hex } from "viem";
import { PotError } from "../errors";
import type { OptimizerConfig } from "../ml";
import { describeMetric, describeTarget, type StageOutcome, type TargetKind } from "../protocol";

export const CERTIFICATE_FORMAT = "pot-model-certificate";
/** 2: every stage carries its outcome and result hash; the job its target and the stage it finished at. */
export const CERTIFICATE_VERSION = 2;
export const CERTIFICATE_FILE = "certificate.json";

/** How a committee member's attestation of a wrapped block is evidenced. */
export type AttestationKind = "signature" | "attest-tx" | "wrap-tx";

/** One committee member's attestation of a wrapped block. */
export interface CertificateAttestation {
  readonly signer: Address;
  readonly kind: AttestationKind;
  /** kind "signature": the EIP-712 Attestation(headerHash, resultHash, jobId, stage) signature. */
  readonly signature?: Hex;
  /** kind "attest-tx" / "wrap-tx": the signed transaction (attest(jobId, stage) / wrap(...)). */
  readonly transaction?: Hex;
}

/** One wrapped stage. Integers above 2^53 are decimal strings. */
export interface CertificateStage {
  readonly index: number;
  /** H(S_{index-1}). */
  readonly parentHash: Hex;
  /** The header's result R = outcomeHash(outcome) (what the declarations, header and attestations sign). */
  readonly resultHash: Hex;
  /**
   * What R opens to (OutcomeRevealed): H(S_index), the checkpoint root and the held-out metric (float32
   * bits of the loss, accuracy in ppm; 4294967295 = NO_METRIC).
   */
  readonly outcome: StageOutcome;
  readonly stateCid: string;
  /** The header opening (what the header hash recomputes from) and the header's lists. */
  readonly header: {
    readonly hash: Hex;
    readonly seed: Hex;
    readonly rho: Hex;
    readonly resultCid: Hex;
    readonly timestamp: string;
    readonly builder: Address;
    readonly openers: Address[];
    readonly faulty: Address[];
  };
  readonly block: {
    readonly index: string;
    readonly hash: Hex;
    readonly parentBlockHash: Hex;
    readonly attesters: Address[];
    readonly wrapper: Address;
    readonly timestamp: string;
  };
  /** The committee seats the wrap named (K of them; a member may hold several). */
  readonly seats: Address[];
  readonly attestations: CertificateAttestation[];
}

/** certificate.json. */
export interface Certificate {
  readonly format: typeof CERTIFICATE_FORMAT;
  readonly version: number;
  readonly chainId: string;
  readonly contracts: {
    readonly staking: Address;
    readonly escrow: Address;
    readonly stages: Address;
    readonly committee: Address;
    readonly disputes: Address;
  };
  /** EIP-712 domain separator of PoTStages: every header, block and attestation hash is bound to it. */
  readonly domain: Hex;
  readonly job: {
    readonly id: string;
    readonly specCid: string;
    readonly manifestRoot: Hex;
    readonly initialStateHash: Hex;
    readonly numStages: number;
    readonly c: number;
    readonly k: number;
    readonly finished: boolean;
    /** The early-stopping target (JobTarget), or null: kind 1 loss at most (float32 bits), 2 accuracy at least (ppm). */
    readonly target: {
      readonly kind: TargetKind;
      readonly value: number;
      readonly description: string;
    } | null;
    /** The stage that reached the target (TargetReached): the job finished there. Null otherwise. */
    readonly finishedAt: number | null;
  };
  /** The finished job this one fine-tuned (its final state is this job's S_0), or null. */
  readonly parent: { readonly jobId: string; readonly finalStateHash: Hex } | null;
  readonly stages: CertificateStage[];
  /** The state the model files hold. */
  readonly model: {
    readonly stage: number;
    readonly stateHash: Hex;
    readonly stateCid: string;
    readonly optimizer: OptimizerConfig["name"];
    readonly step: number;
    readonly files: { readonly model: string; readonly weights: string; readonly optimizerSlots?: string };
  };
  /** The model evaluated on the job's held-out test set, when the fetcher could. */
  readonly metric: {
    readonly testSetCid: string;
    readonly samples: number;
    readonly loss: number;
    readonly accuracy: number;
  } | null;
}

/** Codes of CertificateError, one per kind of failure. */
export type CertificateErrorCode =
  | "CERT_FORMAT"
  | "CERT_WRONG_CHAIN"
  | "CERT_STAGE_MISSING"
  | "CERT_STAGES_REORDERED"
  | "CERT_HASH_CHAIN"
  | "CERT_OUTCOME_MISMATCH"
  | "CERT_TARGET_MISMATCH"
  | "CERT_SIGNATURE_FORGED"
  | "CERT_ATTESTATION_MISSING"
  | "CERT_ATTESTATION_MISMATCH"
  | "CERT_WEIGHTS_MISMATCH"
  | "CERT_CHAIN_MISMATCH";

/** A certificate (or the files it describes) failed a check; `code` says which. */
export class CertificateError extends PotError {
  declare readonly code: CertificateErrorCode;
  constructor(code: CertificateErrorCode, message: string, hint = "Do not trust these model files") {
    super(message, { code, hint });
  }
}

/** Writes `certificate.json` into `dir` (the model files must be there); returns its path. */
export function writeCertificate(dir: string, certificate: Certificate): string {
  const path = join(dir, CERTIFICATE_FILE);
  writeFileSync(path, `${JSON.stringify(certificate, null, 2)}\n`);
  return path;
}

/** What a passing certificate established. */
export interface CertificateSummary {
  readonly jobId: bigint;
  readonly chainId: bigint;
  readonly stages: number;
  readonly stateHash: Hex;
  readonly parentJobId?: bigint;
  /** Attestations whose signature recovered to the committee member it names. */
  readonly attestations: number;
  /** Checked against the chain too (`checkCertificateOnChain`). */
  readonly onChain: boolean;
  readonly metric: Certificate["metric"];
  /** The held-out metric the last stage's outcome carries (consensus-checked). */
  readonly outcome?: StageOutcome;
  readonly target: Certificate["job"]["target"];
  readonly finishedAt: number | null;
  readonly numStages: number;
}

/** Reads certificate.json of `dir` (CERT_FORMAT when it is not one). */
export function readCertificate(dir: string): Certificate {
  const path = join(dir, CERTIFICATE_FILE);
  if (!existsSync(path))
    throw new CertificateError("CERT_FORMAT", `${path} does not exist`, "Fetch the model with pot job fetch");
  let c: Certificate;
  try {
    c = JSON.parse(readFileSync(path, "utf8")) as Certificate;
  } catch (error) {
    throw new CertificateError("CERT_FORMAT", `${path} is not JSON: ${(error as Error).message}`);
  }
  if (c?.format !== CERTIFICATE_FORMAT || c.version !== CERTIFICATE_VERSION || !Array.isArray(c.stages))
    throw new CertificateError(
      "CERT_FORMAT",
      `${path} is not a ${CERTIFICATE_FORMAT} version ${CERTIFICATE_VERSION} (format ${String(c?.format)}, version ${String(c?.version)})`,
    );
  return c;
}

/** The lines `pot verify --certificate` prints for a passing certificate. */
export function formatCertificateSummary(dir: string, s: CertificateSummary): string[] {
  const metric =
    s.metric === null
      ? ""
      : `; test accuracy ${(s.metric.accuracy * 100).toFixed(2)}% on ${s.metric.samples} samples`;
  return [
    `Certificate ${join(dir, CERTIFICATE_FILE)}: OK (${s.onChain ? "offline and against the chain" : "offline only"})`,
    `  job ${s.jobId} on chain ${s.chainId}${s.parentJobId === undefined ? "" : `, fine-tuned from job ${s.parentJobId}`}`,
    `  ${s.stages} stage(s) chained from S_0 to H(S) ${s.stateHash}; ${s.attestations} committee attestation(s) recovered`,
    `  model.json + weights.bin hash to the last H(S)${metric}`,
    ...(s.outcome === undefined
      ? []
      : [
          `  held-out metric of S_${s.stages} as its outcome declares it (checked by consensus): ${describeMetric(s.outcome)}`,
        ]),
    ...(s.target === null
      ? []
      : [
          `  target: ${describeTarget(s.target)}; ` +
            (s.finishedAt === null
              ? "not reached"
              : `reached at stage ${s.finishedAt} of ${s.numStages}: the job finished there`),
        ]),
  ];
}
