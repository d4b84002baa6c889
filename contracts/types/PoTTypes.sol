// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Types shared by the split PoT contracts (escrow, stages, committee, disputes)
/// @notice docs/contracts/suite.md documents every field.

/// @dev Job status (PoTStages.jobStatus).
uint8 constant JOB_OPEN = 1;
uint8 constant JOB_FINISHED = 2;
uint8 constant JOB_EXPIRED = 3;

/// @dev Declaration status in PoTStages' declaration slot (bits 216..223).
uint8 constant DECL_DECLARED = 1;
uint8 constant DECL_FAULTY = 2;
uint8 constant DECL_SLASHED = 3;
uint8 constant DECL_RELEASED = 4;

/// @dev Held-out metric "none": the job names no test set (or, for accuracy, its labels are not classes).
uint32 constant NO_METRIC = type(uint32).max;

/// @dev Early-stopping target kinds (JobTerms.targetKind).
uint8 constant TARGET_NONE = 0;
/// @dev The job finishes at the first wrapped stage whose held-out loss (float32 bits) is at most targetValue
uint8 constant TARGET_LOSS_AT_MOST = 1;
/// @dev The job finishes at the first wrapped stage whose held-out accuracy (ppm) is at least targetValue
uint8 constant TARGET_ACCURACY_AT_LEAST = 2;

/// @notice What an employer asks for when opening a job (the fee is msg.value of PoTEscrow.createJob).
struct JobTerms {
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
    /// PoA committee size in seats (>= 1).
    uint16 k;
    /// Seconds a stage stays open for declarations (its deadline); >= the ledger's minStageSeconds.
    uint32 stageSeconds;
    /// Seconds from a stage's opening before its declarations may close, however early the C-th came:
    /// the time an honest miner needs to train the stage (the employer's plan sizes it; the CLI checks it
    /// against the job's steps and model). At least the ledger's minDeclareSeconds, at most stageSeconds.
    uint32 minDeclareSeconds;
    /// Unix time after which the job expires unfinished and its unspent fee is refundable.
    uint64 deadline;
    /// Early stopping: TARGET_NONE, TARGET_LOSS_AT_MOST or TARGET_ACCURACY_AT_LEAST (needs the job
    /// document's held-out test set; the CLI refuses a target without one).
    uint8 targetKind;
    /// The target: float32 bits of a finite loss >= 0 (bits < 0x7f800000), or an accuracy in parts per
    /// million (1..1,000,000); 0 with TARGET_NONE.
    uint32 targetValue;
}

/// @notice What a stage produced: a declaration's `resultHash` is PoTHashes.outcome of it, so the C
/// agreeing declarations (and a jury) agree on the state, its checkpoints and its held-out metric at once.
/// A header reveals it (PoTStages.submitHeader checks the hash and the checkpoint list) and the wrap
/// takes it back to decide early stopping (docs/PROTOCOL.md "Stage outcome").
struct StageOutcome {
    /// H(S_{i+1}): sha256 of the canonical state bytes; the next stage trains from it.
    bytes32 stateHash;
    /// Merkle root of the stage's checkpoint state hashes (PoTHashes.checkpointRoot); 0 without
    /// checkpoints.
    bytes32 checkpointRoot;
    /// float32 bits of the mean per-sample loss of S_{i+1} on the held-out test set; NO_METRIC without one.
    uint32 heldOutLoss;
    /// floor(correct * 1e6 / samples) of S_{i+1} on the held-out test set; NO_METRIC without one or without
    /// class labels.
    uint32 heldOutAccuracy;
}

/// @notice A declaration as its Declared event listed it; a header lists every declaration of its stage
/// this way, and slashing and release name one.
struct DeclarationData {
    address declarer;
    bytes32 resultHash;
    bytes32 commitment;
    bytes32 rand;
    uint64 timestamp;
}

/// @notice The fields of a header (HeaderSubmitted lists them; `resultCidHash` is keccak256 of its CID).
/// The ledger stores only the header hash; wrap, voidHeader and contest take these back.
struct HeaderData {
    address builder;
    bytes32 parent;
    /// the stage's seed (StageOpened): keccak256(abi.encode(parent, seed)) is the stage's anchor
    bytes32 seed;
    bytes32 result;
    bytes32 rho;
    bytes32 resultCidHash;
    uint64 timestamp;
}

/// @notice Parameters of PoTStages (immutable after deployment); docs/contracts/suite.md explains each.
struct StagesParams {
    uint32 sealWindowSeconds;
    uint32 closeDelayBlocks;
    uint32 headerTimeoutSeconds;
    uint32 poaWindowBlocks;
    uint32 poaMaxRounds;
    uint32 minStageSeconds;
    uint32 minDeclareSeconds;
    uint32 minJobSeconds;
    uint32 maxJobSeconds;
    uint16 maxC;
    uint16 maxK;
    uint16 maxDeclarations;
    uint16 dummyC;
    uint16 dummyK;
    uint32 dummyStageSeconds;
    uint32 dummyMinDeclareSeconds;
    /// PoS difficulty: target = min(active stake in gwei * targetPerGwei, 2^256-1); max: always passes.
    uint256 targetPerGwei;
    uint256 minStake;
    uint256 declarationSlash;
    uint256 coinbasePerCoinAge;
    uint256 coinbaseCap;
    bytes32 dummyInitialStateHash;
    bytes dummySpecCid;
}

/// @notice The four contracts of one deployment (each knows the others from construction).
struct Suite {
    address escrow;
    address stages;
    address committee;
    address disputes;
}
