// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Types shared by the PoT ledger and its tools
/// @notice docs/contracts/ledger.md documents every field.

/// @notice Deployment parameters of the ledger (immutable after deployment).
struct LedgerParams {
    /// Seconds a PoS seal timestamp may lag behind block.timestamp: accepted t in (now - window, now].
    uint32 sealWindowSeconds;
    /// Blocks between the C-th declaration of a stage and the close of its declarations.
    uint32 closeDelayBlocks;
    /// Blocks one PoA committee round lasts; below 256 so the round's randomness block stays readable.
    uint32 poaWindowBlocks;
    /// Committee rounds after which a header whose committee never wrapped may be voided (DA failure).
    uint32 poaMaxRounds;
    /// Seconds a drawn jury has to reach a majority before it may be redrawn.
    uint32 juryWindowSeconds;
    /// Fewest seconds an employer may give a stage for its declarations.
    uint32 minStageSeconds;
    /// Fewest seconds between job creation and the job deadline.
    uint32 minJobSeconds;
    /// Jury size D (odd is best: a majority always exists when every juror votes alike).
    uint16 jurySize;
    /// Share of a stage's fee for the header's builder, in basis points.
    uint16 builderBps;
    /// Share of a stage's fee for the PoA committee (split equally among its K members), in basis points.
    /// The declarations share the rest (10000 - builderBps - attesterBps), equally per declaration.
    uint16 attesterBps;
    /// Largest C an employer may ask for (bounds the openings a header carries).
    uint16 maxC;
    /// Largest K an employer may ask for (bounded by 32: the attestation bitmap).
    uint16 maxK;
    /// C and K of the built-in dummy job (job 0).
    uint16 dummyC;
    uint16 dummyK;
    /// Per-stage declaration window of the dummy job, in seconds.
    uint32 dummyStageSeconds;
    /// PoS difficulty: target = min(coinAge * targetPerCoinSecond, 2^256-1). type(uint256).max: always passes.
    uint256 targetPerCoinSecond;
    /// Smallest active stake (PoT wei) that may declare, build a header, attest or sit on a jury.
    uint256 minStake;
    /// PoT wei minted per 1e18 wei-seconds of coin age consumed by a seal that lands in a wrapped block.
    uint256 coinbasePerCoinAge;
    /// Cap on the coinbase of one seal, in PoT wei.
    uint256 coinbaseCap;
    /// Stake slashed (PoT wei) from a declaration of a finalized stage that does not open against its rho.
    uint256 declarationSlash;
    /// Stake slashed (PoT wei) from a juror who voted against the jury's majority.
    uint256 jurorSlash;
    /// Training-state hash S_0 of the dummy job.
    bytes32 dummyInitialStateHash;
    /// Spec CID of the dummy job (model, optimizer, seed, engine id).
    bytes dummySpecCid;
}

/// @notice What an employer asks for when opening a job (the fee is msg.value).
struct JobRequest {
    /// CID of the job spec: model, optimizer, seed, engine id.
    bytes specCid;
    /// Merkle root of the dataset's batch manifest.
    bytes32 manifestRoot;
    /// H(S_0): hash of the initial training state the employer computed from the spec.
    bytes32 initialStateHash;
    /// Number of stages (batches) to train.
    uint32 numStages;
    /// Agreeing declarations needed to close a stage (>= 2).
    uint16 c;
    /// PoA committee size (>= 1).
    uint16 k;
    /// Seconds each stage's declarations stay open at least (>= minStageSeconds).
    uint32 stageSeconds;
    /// Unix time after which the job expires unfinished and its unspent fee is refundable.
    uint64 deadline;
}

/// @notice A declaration the header (or a claim) opens: the data its Declared event carried.
struct Opening {
    address declarer;
    bytes32 commitment;
    bytes32 rand;
    uint64 timestamp;
}

/// @notice The fields of an accepted header, as its HeaderSubmitted event listed them (`resultCidHash` is
/// keccak256 of the event's resultCid). The ledger stores only the header hash; `wrap`, `voidHeader` and
/// `contest` take these fields and check them against it.
struct HeaderFields {
    address builder;
    bytes32 parent;
    bytes32 result;
    bytes32 rho;
    bytes32 resultCidHash;
    uint64 timestamp;
}

/// @notice What the ledger keeps of a wrapped stage, as one word (`settlementOf`: the top 216 bits of
/// keccak256(abi.encode(Settlement)), the low 40 bits the claimed flags of the builder (bit 0) and of the
/// committee members (bit 1 + i)). The StageSettled event carries it; every claim and slash of the stage
/// passes it back (pull payments: the wrap credits nobody).
struct Settlement {
    /// H(S_{stage-1})
    bytes32 parent;
    /// H(S_stage), the decided result
    bytes32 result;
    /// the stage's final training secret
    bytes32 rho;
    /// each declaration's share of the stage fee, in wei
    uint256 perDeclaration;
    /// the header's builder and its share, in wei (`claimBuilder`)
    address builder;
    uint256 builderPart;
    /// each committee member's share, in wei (`claimAttester`)
    uint256 perMember;
    /// keccak256(abi.encode(members)) of the wrapping committee, in draw order
    bytes32 committeeHash;
    /// the declarers the header opened (sorted), whose coin age the wrap consumed
    address[] opened;
    /// the coinbase each opened declarer mints when it claims (bounded by the coin age the wrap consumed)
    uint256[] openedCoinbase;
}
