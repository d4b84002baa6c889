/**
 * The protocol's messages and their hashes, exactly as the ledger contract computes them.
 *
 * Every hash here is keccak256(abi.encode(TYPEHASH, domain, ...fields)): `abi.encode`, never
 * packed (no two field lists can encode to the same bytes), a type hash first (no two message kinds
 * collide), and the ledger's domain separator second (no hash replays across chains or
 * deployments). Field types are the Solidity types; docs/PROTOCOL.md lists them byte by byte and
 * test/vectors/protocol.json pins them for both implementations.
 */
import { encodeAbiParameters, keccak256, toBytes, type Address, type Hex } from "viem";
import { assertAddress, assertBytes32, assertHexBytes, assertUint, MAX_UINT32, MAX_UINT64 } from "./bytes";
import { InvalidArgumentError } from "./errors";

const typehash = (signature: string): Hex => keccak256(toBytes(signature));

export const COMMITMENT_TYPEHASH = typehash(
  "PoT.Commitment(bytes32 domain,bytes32 rho,bytes32 rand,address declarer,uint64 jobId,uint32 stage)",
);
export const DECLARATION_TYPEHASH = typehash(
  "PoT.Declaration(bytes32 domain,uint64 jobId,uint32 stage,bytes32 parentHash,bytes32 resultHash,bytes32 commitment,uint64 timestamp,address declarer)",
);
export const HEADER_TYPEHASH = typehash(
  "PoT.Header(bytes32 domain,uint64 jobId,uint32 stage,bytes32 parentHash,bytes32 resultHash,bytes32 rho,bytes32 resultCidHash,uint64 timestamp,address builder)",
);
/** EIP-712 struct type of an attestation (signed by committee members with signTypedData). */
export const ATTESTATION_TYPE =
  "Attestation(bytes32 headerHash,bytes32 resultHash,uint64 jobId,uint32 stage)";
export const ATTESTATION_TYPEHASH = typehash(ATTESTATION_TYPE);
export const BLOCK_TYPEHASH = typehash(
  "PoT.Block(bytes32 domain,uint64 index,bytes32 parentBlockHash,uint64 jobId,uint32 stage,bytes32 headerHash,address[] attesters,address wrapper,uint64 timestamp)",
);

/** The seal a staker commits to: training declaration or block header (seed 002, D_PoS^td, D_PoS^bh). */
export enum SealKind {
  Declaration = 1,
  Header = 2,
}

// ----- commitment ------------------------------------------------------------------------------

export interface CommitmentInput {
  domain: Hex;
  rho: Hex;
  rand: Hex;
  declarer: Address;
  jobId: bigint;
  stage: number;
}

/**
 * The secret commitment H(rho || rand) of seed 002, bound to the declarer, job and stage: copying
 * another miner's commitment is worthless, because it opens only for the miner who made it.
 */
export function commitmentHash(c: CommitmentInput): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "address" },
        { type: "uint64" },
        { type: "uint32" },
      ],
      [
        COMMITMENT_TYPEHASH,
        assertBytes32("commitment.domain", c.domain),
        assertBytes32("commitment.rho", c.rho),
        assertBytes32("commitment.rand", c.rand),
        assertAddress("commitment.declarer", c.declarer),
        assertUint("commitment.jobId", c.jobId, MAX_UINT64),
        Number(assertUint("commitment.stage", c.stage, MAX_UINT32)),
      ],
    ),
  );
}

// ----- training declaration --------------------------------------------------------------------

/**
 * A stage's anchor on the split contracts: keccak256(abi.encode(parent, seed)) of its StageOpened event.
 * A declaration's hash covers it (in its parentHash field); slashes and releases pass it back.
 */
export function stageAnchor(parentHash: Hex, seed: Hex): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "bytes32" }],
      [assertBytes32("parentHash", parentHash), assertBytes32("seed", seed)],
    ),
  );
}

/** A training declaration (seed 002, Algorithm 1 step 4); `declarer` is the transaction sender. */
export interface Declaration {
  jobId: bigint;
  stage: number;
  /** H(S_i): the state this stage trained from. */
  parentHash: Hex;
  /** H(S_{i+1}): the state it produced. */
  resultHash: Hex;
  commitment: Hex;
  /** Seconds; the PoS kernel timestamp. */
  timestamp: bigint;
  declarer: Address;
}

export function declarationHash(domain: Hex, d: Declaration): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "uint64" },
        { type: "uint32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "uint64" },
        { type: "address" },
      ],
      [
        DECLARATION_TYPEHASH,
        assertBytes32("domain", domain),
        assertUint("declaration.jobId", d.jobId, MAX_UINT64),
        Number(assertUint("declaration.stage", d.stage, MAX_UINT32)),
        assertBytes32("declaration.parentHash", d.parentHash),
        assertBytes32("declaration.resultHash", d.resultHash),
        assertBytes32("declaration.commitment", d.commitment),
        assertUint("declaration.timestamp", d.timestamp, MAX_UINT64),
        assertAddress("declaration.declarer", d.declarer),
      ],
    ),
  );
}

// ----- block header ----------------------------------------------------------------------------

/** A block header (seed 002, Algorithm 2): reveals rho and names where S_{i+1} can be fetched. */
export interface Header {
  jobId: bigint;
  stage: number;
  parentHash: Hex;
  resultHash: Hex;
  rho: Hex;
  /** The binary CID of S_{i+1} (hex); hashed into the header as keccak256(cid). */
  resultCid: Hex;
  timestamp: bigint;
  builder: Address;
}

export function headerHash(domain: Hex, h: Header): Hex {
  const cid = assertHexBytes("header.resultCid", h.resultCid);
  if (cid.length <= 2) throw new InvalidArgumentError("header.resultCid", "must not be empty");
  return keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "uint64" },
        { type: "uint32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "uint64" },
        { type: "address" },
      ],
      [
        HEADER_TYPEHASH,
        assertBytes32("domain", domain),
        assertUint("header.jobId", h.jobId, MAX_UINT64),
        Number(assertUint("header.stage", h.stage, MAX_UINT32)),
        assertBytes32("header.parentHash", h.parentHash),
        assertBytes32("header.resultHash", h.resultHash),
        assertBytes32("header.rho", h.rho),
        keccak256(cid),
        assertUint("header.timestamp", h.timestamp, MAX_UINT64),
        assertAddress("header.builder", h.builder),
      ],
    ),
  );
}

// ----- PoA attestation (EIP-712) ---------------------------------------------------------------

export interface Attestation {
  headerHash: Hex;
  resultHash: Hex;
  jobId: bigint;
  stage: number;
}

/** The EIP-712 struct hash of an attestation. */
export function attestationStructHash(a: Attestation): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint64" }, { type: "uint32" }],
      [
        ATTESTATION_TYPEHASH,
        assertBytes32("attestation.headerHash", a.headerHash),
        assertBytes32("attestation.resultHash", a.resultHash),
        assertUint("attestation.jobId", a.jobId, MAX_UINT64),
        Number(assertUint("attestation.stage", a.stage, MAX_UINT32)),
      ],
    ),
  );
}

/**
 * The digest a committee member signs: the EIP-712 digest keccak256(0x1901 || domain || structHash).
 * This is the one hash with a fixed-width packed prefix, as EIP-712 defines it; wallets produce it
 * with signTypedData({ domain: eip712Domain(d), types: ATTESTATION_TYPES, primaryType: "Attestation" }).
 */
export function attestationDigest(domain: Hex, a: Attestation): Hex {
  const d = assertBytes32("domain", domain);
  return keccak256(`0x1901${d.slice(2)}${attestationStructHash(a).slice(2)}`);
}

/** viem/ethers typed-data `types` for attestations. */
export const ATTESTATION_TYPES = {
  Attestation: [
    { name: "headerHash", type: "bytes32" },
    { name: "resultHash", type: "bytes32" },
    { name: "jobId", type: "uint64" },
    { name: "stage", type: "uint32" },
  ],
} as const;

// ----- wrapped block ---------------------------------------------------------------------------

/** A wrapped block: one finalized stage of one job, appended to the one global chain. */
export interface WrappedBlock {
  index: bigint;
  parentBlockHash: Hex;
  jobId: bigint;
  stage: number;
  headerHash: Hex;
  /** The committee members whose attestations the wrap carries, in committee order. */
  attesters: Address[];
  wrapper: Address;
  timestamp: bigint;
}

export function blockHash(domain: Hex, b: WrappedBlock): Hex {
  if (!Array.isArray(b.attesters))
    throw new InvalidArgumentError("block.attesters", "expected an array of addresses");
  return keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "uint64" },
        { type: "bytes32" },
        { type: "uint64" },
        { type: "uint32" },
        { type: "bytes32" },
        { type: "address[]" },
        { type: "address" },
        { type: "uint64" },
      ],
      [
        BLOCK_TYPEHASH,
        assertBytes32("domain", domain),
        assertUint("block.index", b.index, MAX_UINT64),
        assertBytes32("block.parentBlockHash", b.parentBlockHash),
        assertUint("block.jobId", b.jobId, MAX_UINT64),
        Number(assertUint("block.stage", b.stage, MAX_UINT32)),
        assertBytes32("block.headerHash", b.headerHash),
        b.attesters.map((a, i) => assertAddress(`block.attesters[${i}]`, a)),
        assertAddress("block.wrapper", b.wrapper),
        assertUint("block.timestamp", b.timestamp, MAX_UINT64),
      ],
    ),
  );
}

// ----- jury vote commitment ---------------------------------------------------------------------

export const JURY_VOTE_TYPEHASH = typehash(
  "PoT.JuryVote(bytes32 domain,uint64 jobId,uint32 stage,uint32 round,address juror,bytes32 resultHash,bytes32 rho,bytes32 salt)",
);

export interface JuryVoteInput {
  domain: Hex;
  jobId: bigint;
  stage: number;
  round: number;
  juror: Address;
  resultHash: Hex;
  rho: Hex;
  /** A fresh random 32-byte secret, kept until the reveal. */
  salt: Hex;
}

/**
 * A juror's commitment to its vote (PoTJury.commitVote, PoTHashes.juryVote): the (result, rho) pair it
 * trained, hidden by a secret salt until the reveal, and bound to the juror, the jury round, the stage and
 * the deployment, so a copied commitment opens for nobody else.
 */
export function juryVoteCommitment(v: JuryVoteInput): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "uint64" },
        { type: "uint32" },
        { type: "uint32" },
        { type: "address" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
      ],
      [
        JURY_VOTE_TYPEHASH,
        assertBytes32("juryVote.domain", v.domain),
        assertUint("juryVote.jobId", v.jobId, MAX_UINT64),
        Number(assertUint("juryVote.stage", v.stage, MAX_UINT32)),
        Number(assertUint("juryVote.round", v.round, MAX_UINT32)),
        assertAddress("juryVote.juror", v.juror),
        assertBytes32("juryVote.resultHash", v.resultHash),
        assertBytes32("juryVote.rho", v.rho),
        assertBytes32("juryVote.salt", v.salt),
      ],
    ),
  );
}
