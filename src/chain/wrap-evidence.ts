/**
 * The evidence that a committee attested a wrapped block, as signed bytes a third party can check offline
 * (src/verify/certificate.ts): the wrap transaction (signed by the wrapper, its calldata names the header
 * and the committee seats), each member's EIP-712 attestation signature carried in that calldata, and the
 * signed `attest(jobId, stage)` transaction of each member who attested by transaction (Attested event).
 */
import {
  decodeFunctionData,
  keccak256,
  parseTransaction,
  serializeTransaction,
  type Address,
  type Hex,
  type PublicClient,
  type Transaction,
} from "viem";
import { potCommitteeAbi, potStagesAbi } from "./abi";
import type { HeaderData } from "./ledger-events";
import { ChainError } from "./errors";
import type { StageEvents } from "./job-events";
import type { LedgerHandle } from "./ledger-reads";

/** A signed transaction, serialized as it was sent (its keccak256 is the transaction hash). */
export type RawSignedTx = Hex;

/** What the chain holds of one wrapped block's attestations. */
export interface WrapEvidence {
  readonly stage: number;
  /** The committee seats the wrap named, in draw order. */
  readonly seats: Address[];
  /** One entry per seat: the EIP-712 attestation signature in the wrap calldata ("0x": none). */
  readonly signatures: Hex[];
  /** The wrapper's signed wrap transaction. */
  readonly wrapTx: RawSignedTx;
  /** Signed `attest` transactions of members who attested by transaction (Attested events of the stage). */
  readonly attestTxs: { member: Address; tx: RawSignedTx }[];
}

/** A transaction the chain returned cannot be serialized back to the bytes its hash commits to. */
export class UnserializableTransactionError extends ChainError {
  constructor(hash: Hex, why: string) {
    super(
      `Transaction ${hash} cannot be re-serialized: ${why}`,
      "Use a node that returns full signed transactions",
    );
  }
}

/** The signed bytes of a transaction, checked against its hash. */
export async function readRawTransaction(client: PublicClient, hash: Hex): Promise<RawSignedTx> {
  const tx = await client.getTransaction({ hash });
  const raw = serializeSigned(tx);
  if (keccak256(raw) !== hash.toLowerCase())
    throw new UnserializableTransactionError(
      hash,
      "the serialized bytes do not hash to the transaction hash",
    );
  return raw;
}

function serializeSigned(tx: Transaction): RawSignedTx {
  if (tx.chainId === undefined)
    throw new UnserializableTransactionError(tx.hash, "it names no chain id (not replay-protected)");
  const base = {
    chainId: tx.chainId,
    nonce: tx.nonce,
    gas: tx.gas,
    to: tx.to,
    value: tx.value,
    data: tx.input,
  };
  const signature = { r: tx.r, s: tx.s, ...(tx.type === "legacy" ? { v: tx.v } : { yParity: tx.yParity }) };
  switch (tx.type) {
    case "eip1559":
      return serializeTransaction(
        {
          ...base,
          type: "eip1559",
          maxFeePerGas: tx.maxFeePerGas,
          maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
          accessList: tx.accessList,
        },
        signature,
      );
    case "eip2930":
      return serializeTransaction(
        { ...base, type: "eip2930", gasPrice: tx.gasPrice, accessList: tx.accessList },
        signature,
      );
    case "legacy":
      return serializeTransaction({ ...base, type: "legacy", gasPrice: tx.gasPrice }, signature);
    default:
      throw new UnserializableTransactionError(tx.hash, `type ${tx.type} is not supported`);
  }
}

/** The attestation evidence of a wrapped stage: its wrap transaction, signatures and attest transactions. */
export async function readWrapEvidence(
  h: LedgerHandle,
  jobId: bigint,
  stage: StageEvents,
): Promise<WrapEvidence> {
  const wrapped = stage.wrapped;
  if (wrapped === undefined)
    throw new ChainError(`Stage ${stage.stage} of job ${jobId} is not wrapped`, "Wait until it is wrapped");
  const wrapTx = await readRawTransaction(h.client, wrapped.txHash);
  const call = decodeWrapCall(parseTransaction(wrapTx).data ?? "0x");
  if (call === undefined)
    throw new ChainError(
      `Transaction ${wrapped.txHash} wrapped stage ${stage.stage} through another contract`,
      "Its attestations cannot be read from the calldata",
    );
  const logs = await h.client.getContractEvents({
    ...h.suite.committee,
    eventName: "Attested",
    args: { jobId, stage: stage.stage },
    fromBlock: h.fromBlock ?? 0n,
    toBlock: wrapped.blockNumber,
  });
  const attestTxs = await Promise.all(
    logs.map(async (log) => ({
      member: log.args.member!,
      tx: await readRawTransaction(h.client, log.transactionHash),
    })),
  );
  // a member's last attest transaction of the stage (an earlier one may be for a voided header)
  const last = new Map(attestTxs.map((a) => [a.member.toLowerCase(), a]));
  return {
    stage: stage.stage,
    seats: call.seats,
    signatures: call.signatures,
    wrapTx,
    attestTxs: [...last.values()],
  };
}

/** The arguments of a `PoTStages.wrap` call, or undefined when `data` is another call. */
export function decodeWrapCall(
  data: Hex,
): { jobId: bigint; stage: number; header: HeaderData; seats: Address[]; signatures: Hex[] } | undefined {
  try {
    const call = decodeFunctionData({ abi: potStagesAbi, data });
    if (call.functionName !== "wrap") return undefined;
    const [jobId, stage, header, , , , seats, signatures] = call.args;
    return { jobId, stage, header, seats: [...seats], signatures: [...signatures] };
  } catch {
    return undefined;
  }
}

/** The (jobId, stage) of a `PoTCommittee.attest` call, or undefined when `data` is another call. */
export function decodeAttestCall(data: Hex): { jobId: bigint; stage: number } | undefined {
  try {
    const call = decodeFunctionData({ abi: potCommitteeAbi, data });
    if (call.functionName !== "attest") return undefined;
    return { jobId: call.args[0], stage: call.args[1] };
  } catch {
    return undefined;
  }
}
