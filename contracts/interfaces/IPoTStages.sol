// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {JobTerms, DeclarationData, HeaderData, StageOutcome} from "../types/PoTTypes.sol";

/// @title The stage state machine of Proof of Training
/// @notice One global chain of wrapped blocks; each block finalizes one stage of one job (seed 002,
/// Algorithms 1 and 2). Phases of a stage: declare -> close -> (jury) -> header -> PoA -> wrap.
/// This contract orders declarations before the reveal, opens every commitment itself, keeps the chain
/// of wrapped blocks and the stakers' seal copies, and records which declarations were faulty. Money
/// lives in PoTEscrow, committees in PoTCommittee, juries and slashing in PoTDisputes.
/// docs/contracts/suite.md explains every rule and the attack it closes.
interface IPoTStages {
    // ------------------------------------------------------------------ events

    /// @notice A job was opened (by PoTEscrow.createJob) with these terms and `fee` escrowed.
    event JobCreated(
        uint64 indexed jobId,
        address indexed employer,
        uint256 fee,
        bytes specCid,
        bytes32 manifestRoot,
        bytes32 initialStateHash,
        uint32 numStages,
        uint16 c,
        uint16 k,
        uint32 stageSeconds,
        uint32 minDeclareSeconds,
        uint64 deadline
    );
    /// @notice Declarations of (jobId, stage) are accepted from now, trained from `parentHash`. `seed` is
    /// the hash of the block before the opening (the PoS stake modifier; the dummy job's batch seed);
    /// declarations close no earlier than `notBefore` and, if disputed, at `deadline`.
    event StageOpened(
        uint64 indexed jobId,
        uint32 indexed stage,
        bytes32 parentHash,
        bytes32 seed,
        uint64 deadline,
        uint64 notBefore
    );
    /// @notice `declarer` declared the stage (its weight, the active stake in gwei it declared with, is in
    /// its slot and in HeaderSubmitted).
    event Declared(
        uint64 indexed jobId,
        uint32 indexed stage,
        address indexed declarer,
        bytes32 resultHash,
        bytes32 commitment,
        bytes32 rand,
        uint64 timestamp
    );
    /// @notice The C-th declaration came: declarations close at block `closeBlock`, but not before
    /// `notBefore` (the stage's minimum declaration window).
    event DeclarationsClosing(uint64 indexed jobId, uint32 indexed stage, uint64 closeBlock, bool disputed);
    /// @notice A header was accepted. `openers` (with their `weights`) open against rho; `faulty` are the
    /// stage's other declarations (they become slashable when the stage is wrapped). `randBlock`: the
    /// first committee's randomness block.
    event HeaderSubmitted(
        uint64 indexed jobId,
        uint32 indexed stage,
        address indexed builder,
        bytes32 headerHash,
        HeaderData header,
        bytes resultCid,
        address[] openers,
        uint64[] weights,
        address[] faulty,
        uint64 randBlock
    );
    /// @notice The stage went to the jury (`reason`: 1 disputed, 2 no header in time, 3 contested).
    event JuryRequested(uint64 indexed jobId, uint32 indexed stage, uint8 reason);
    /// @notice The jury decided (result, rho); a header must reveal them (any staker may build it).
    event StageDecided(uint64 indexed jobId, uint32 indexed stage, bytes32 resultHash, bytes32 rho);
    /// @notice A header whose committees never wrapped it was voided; its builder may not build again.
    event HeaderVoided(uint64 indexed jobId, uint32 indexed stage, bytes32 headerHash, address builder);
    /// @notice `declarer`'s declaration of the header's result opens against another rho: the header is
    /// voided and the stage goes to the jury.
    event HeaderContested(
        uint64 indexed jobId,
        uint32 indexed stage,
        address indexed declarer,
        bytes32 headerHash,
        bytes32 rho
    );
    /// @notice Block `index` of the global chain wraps (jobId, stage).
    event BlockWrapped(
        uint64 indexed index,
        bytes32 indexed blockHash,
        uint64 indexed jobId,
        uint32 stage,
        bytes32 parentBlockHash,
        bytes32 headerHash,
        address[] attesters,
        address wrapper,
        uint64 timestamp
    );
    /// @notice A declaration was settled otherwise than by a wrap: 3 slashed, 4 released (job ended).
    event DeclarationSettled(
        uint64 indexed jobId,
        uint32 indexed stage,
        address indexed declarer,
        uint8 status
    );
    /// @notice Job `jobId` fine-tunes finished job `parentJobId`: its S_0 is the parent's final state, whose
    /// hash `parentFinalHash` is the job's initialStateHash (docs/PROTOCOL.md section 4b).
    event JobDerived(uint64 indexed jobId, uint64 indexed parentJobId, bytes32 parentFinalHash);
    /// @notice Job `jobId` stops early at the first wrapped stage whose held-out metric meets this target
    /// (`kind` 1: loss at most `value`, float32 bits; 2: accuracy at least `value` ppm).
    event JobTarget(uint64 indexed jobId, uint8 kind, uint32 value);
    /// @notice A header revealed what its result commits to: H(S_{i+1}), the held-out metric and the
    /// stage's checkpoint state hashes (`checkpoints`, whose Merkle root is outcome.checkpointRoot; the
    /// last is H(S_{i+1})). Emitted again if the stage's header is voided and built again (same values).
    event OutcomeRevealed(
        uint64 indexed jobId,
        uint32 indexed stage,
        bytes32 resultHash,
        StageOutcome outcome,
        bytes32[] checkpoints
    );
    /// @notice Wrapped stage `stage` met the job's target: the job finishes there (JobFinished follows)
    /// and the fee of the stages it did not train is refunded to the employer.
    event TargetReached(uint64 indexed jobId, uint32 stage, uint32 heldOutLoss, uint32 heldOutAccuracy);
    /// @notice The job finished (its last stage wrapped, or a stage met its target).
    event JobFinished(uint64 indexed jobId);
    /// @notice The job expired unfinished.
    event JobExpired(uint64 indexed jobId);
    /// @notice PoTStaking pushed `staker`'s active stake and coin-age origin to the seal copy.
    event SealSynced(address indexed staker, uint256 active, uint64 since);

    // ------------------------------------------------------------------ errors

    /// @notice A constructor parameter is out of range; `what` names it.
    error InvalidParams(string what);
    /// @notice A job term is out of range; `what` names it.
    error InvalidJob(string what);
    /// @notice The caller is not the contract allowed to call this.
    error Unauthorized(address caller);
    /// @notice No such job.
    error UnknownJob(uint64 jobId);
    /// @notice The job is not open (finished, expired, or past its deadline).
    error JobNotOpen(uint64 jobId);
    /// @notice The job's deadline has not passed, or a headered stage may still be wrapped.
    error JobNotExpired(uint64 jobId);
    /// @notice The stage is in another phase (0: not live).
    error WrongPhase(uint8 phase);
    /// @notice The given (parent, seed) is not the stage's anchor.
    error WrongParent(bytes32 parentHash);
    /// @notice Declarations of the stage are closed.
    error DeclarationsClosed();
    /// @notice Declarations of the stage are not closed yet.
    error NotClosed();
    /// @notice The stage already has `maxDeclarations` declarations.
    error TooManyDeclarations();
    /// @notice The staker already declared this stage.
    error AlreadyDeclared();
    /// @notice The staker's declaration slot holds a faulty declaration of `stage` not yet slashed.
    error UnsettledDeclaration(uint32 stage);
    /// @notice A zero hash where one is needed.
    error ZeroHash();
    /// @notice The seal timestamp is not in (block.timestamp - sealWindowSeconds, block.timestamp].
    error SealTimestampOutOfWindow(uint64 timestamp, uint256 blockTimestamp);
    /// @notice The staker's active stake is below minStake.
    error NotEnoughStake(uint256 stake, uint256 minimum);
    /// @notice The staker's active stake cannot cover one more slash of declarationSlash.
    error NotEnoughBond(uint256 stake, uint256 pending);
    /// @notice The PoS kernel is above the staker's target.
    error KernelAboveTarget();
    /// @notice The previous stage is not wrapped.
    error PreviousStageNotWrapped();
    /// @notice The CID is empty.
    error EmptyCid();
    /// @notice The header lists `given` declarations; the stage has `declared`.
    error WrongDeclarationCount(uint256 given, uint256 declared);
    /// @notice `declarer` has no unsettled declaration of this stage.
    error NotDeclared(address declarer);
    /// @notice The given data is not `declarer`'s stored declaration.
    error DeclarationMismatch(address declarer);
    /// @notice Fewer declarations open than the header needs.
    error TooFewOpenings(uint256 opened, uint256 needed);
    /// @notice The result is not the stage's (declared or decided) result.
    error WrongResult();
    /// @notice rho is not the stage's fixed rho.
    error WrongRho();
    /// @notice The stage outcome given does not hash to the header's result `result`.
    error WrongOutcome(bytes32 result);
    /// @notice The checkpoint list does not open the outcome's checkpointRoot, or its last entry is not
    /// the outcome's stateHash.
    error WrongCheckpoints();
    /// @notice The header fields do not hash to the stage's header.
    error HeaderMismatch();
    /// @notice The lists do not hash to the header's lists.
    error ListMismatch();
    /// @notice This builder's header was voided or contested; it may not build the stage again.
    error BarredBuilder();
    /// @notice The PoA rounds of the header are not over.
    error PoaNotExpired();
    /// @notice The contest window of the header is over.
    error ContestTooLate();
    /// @notice The stage's rho was fixed by a jury: no contest.
    error StageDisputed();
    /// @notice The contest names the header's own rho.
    error SameRho();
    /// @notice The declaration does not open against the given rho.
    error DoesNotOpen(address declarer);
    /// @notice The stage may not go to the jury yet.
    error JuryNotDue();
    /// @notice A fine-tuning job's parent does not exist or has not finished (status 0 unknown, 1 open,
    /// 3 expired).
    error ParentNotFinished(uint64 parentJobId, uint8 status);
    /// @notice A fine-tuning job's initialStateHash is not its parent's final state hash.
    error ParentStateMismatch(bytes32 parentFinalHash, bytes32 initialStateHash);

    // ------------------------------------------------------------------ jobs

    /// @notice Opens job `jobId` with `terms` (PoTEscrow only, from createJob or createJobFrom). Reverts
    /// InvalidJob; with a parent, ParentNotFinished or ParentStateMismatch.
    /// @param jobId the id PoTEscrow allocated
    /// @param employer who pays
    /// @param fee the escrowed fee (for the event)
    /// @param parentJobId the finished job whose final state is S_0 (0: none, S_0 from the spec)
    function openJob(
        uint64 jobId,
        address employer,
        uint256 fee,
        JobTerms calldata terms,
        uint64 parentJobId
    ) external;

    /// @notice Ends a job whose deadline passed unfinished (anyone); PoTEscrow refunds its unspent fee.
    /// A stage headered before the deadline keeps its PoA window: the job expires after it.
    function expireJob(uint64 jobId) external;

    // ------------------------------------------------------------------ declarations

    /// @notice Declares the training of (jobId, stage) (seed 002, Algorithm 1 step 4-5).
    /// @param parentHash H(S_{stage-1}) and `seed` the stage's seed (StageOpened): checked against its anchor
    /// @param resultHash H(S_stage)
    /// @param commitment keccak256(abi.encode(COMMITMENT_TYPEHASH, domain, rho, rand, msg.sender, jobId, stage))
    /// @param rand the commitment's public salt
    /// @param timestamp the PoS seal timestamp, in (block.timestamp - sealWindowSeconds, block.timestamp]
    function declare(
        uint64 jobId,
        uint32 stage,
        bytes32 parentHash,
        bytes32 seed,
        bytes32 resultHash,
        bytes32 commitment,
        bytes32 rand,
        uint64 timestamp
    ) external;

    /// @notice Sends a stage to the jury (anyone): a closed, disputed stage at once; a closed stage that got
    /// no header within headerTimeoutSeconds after its deadline (or after its last void or decision).
    function requestJury(uint64 jobId, uint32 stage) external;

    // ------------------------------------------------------------------ headers

    /// @notice Submits the header of a closed (or decided) stage: reveals rho and the CID of S_stage and
    /// lists EVERY declaration of the stage, sorted by declarer. The contract opens each: those that open
    /// against (result, rho) are paid in proportion to their weight; the others are faulty. At least C must
    /// open (the builder's own among them); after a jury decision, none need to.
    /// The result opens to `outcome` (PoTHashes.outcome), whose checkpoint root `checkpoints` opens; the
    /// next stage trains from outcome.stateHash.
    /// @param h the header's fields (`h.builder` must be the caller)
    /// @param outcome what h.result commits to (state, checkpoint root, held-out metric)
    /// @param checkpoints the stage's checkpoint state hashes in order (empty without checkpoints)
    function submitHeader(
        uint64 jobId,
        uint32 stage,
        HeaderData calldata h,
        bytes calldata resultCid,
        DeclarationData[] calldata decls,
        StageOutcome calldata outcome,
        bytes32[] calldata checkpoints
    ) external;

    /// @notice Voids a header whose committees did not wrap it within poaMaxRounds rounds (anyone).
    function voidHeader(uint64 jobId, uint32 stage, HeaderData calldata h) external;

    /// @notice Contests a header: `d`, a declaration of the header's result, opens against `rho`, not the
    /// header's rho. The header is voided and the stage goes to the jury (anyone holding rho may call).
    function contest(
        uint64 jobId,
        uint32 stage,
        HeaderData calldata h,
        bytes32 rho,
        DeclarationData calldata d
    ) external;

    /// @notice Wraps a headered stage into the next block of the global chain (a committee member, with
    /// the other seats' attestations): pays the stage through PoTEscrow, restarts the openers' coin age,
    /// marks the faulty declarations slashable. Works after the job deadline for a stage headered before it.
    /// @param h the header's fields; `openers`, `weights`, `faulty` as HeaderSubmitted listed them
    /// The job finishes at its last stage, or earlier at the first wrapped stage whose held-out metric
    /// meets the job's target (TargetReached; PoTEscrow refunds the fee of the stages not trained).
    /// @param seats the current committee (PoTCommittee.committeeOf), `signatures` one per seat
    /// @param outcome what h.result commits to (OutcomeRevealed listed it)
    function wrap(
        uint64 jobId,
        uint32 stage,
        HeaderData calldata h,
        address[] calldata openers,
        uint64[] calldata weights,
        address[] calldata faulty,
        address[] calldata seats,
        bytes[] calldata signatures,
        StageOutcome calldata outcome
    ) external returns (bytes32 blockHash);

    // ------------------------------------------------------------------ disputes' hooks

    /// @notice The jury decided (result, rho) (PoTDisputes only).
    function onJuryDecided(uint64 jobId, uint32 stage, bytes32 resultHash, bytes32 rho) external;

    /// @notice Settles `declarer`'s declaration of the stage (PoTDisputes only, after checking the fault or
    /// the release): its slot must still be `slot`; its status becomes `status` (3 slashed, 4 released) and
    /// the declarer has one unsettled declaration fewer.
    function settleDeclaration(
        uint64 jobId,
        uint32 stage,
        address declarer,
        uint256 slot,
        uint8 status
    ) external;

    // ------------------------------------------------------------------ seal copy

    /// @notice Records `staker`'s active stake and coin-age origin (PoTStaking only).
    function syncSeal(address staker, uint256 active, uint64 since) external;

    /// @notice The seal copy of `staker`: active stake, coin-age origin, and whether staking ever synced it
    /// (PoTStaking reads the origin back from here: `IPoTSealMirror`).
    function sealOf(address staker) external view returns (uint256 active, uint64 since, bool synced);

    /// @notice Unsettled declarations of `staker` (PoTStaking refuses to release unbonding stake while > 0).
    function bondedOf(address staker) external view returns (uint256);

    // ------------------------------------------------------------------ views

    /// @notice The protocol domain (EIP-712 domain separator, "ProofOfTraining", version "2").
    function domainSeparator() external view returns (bytes32);

    /// @notice What PoTCommittee needs of a headered stage (reverts WrongPhase otherwise).
    function headerOf(
        uint64 jobId,
        uint32 stage
    ) external view returns (bytes32 headerHash, address builder, uint64 randBlock, uint16 k);

    /// @notice The raw declaration slot of (jobId, staker, stage parity): stage (32 bits) | status (8) |
    /// weight in gwei (64) | low 152 bits of keccak256(abi.encode(declarationHash, rand)).
    function declarationSlot(uint64 jobId, address staker, uint32 stage) external view returns (uint256);

    /// @notice PoT wei slashed from a faulty declaration; each unsettled declaration needs this much active
    /// stake behind it.
    function declarationSlash() external view returns (uint256);

    /// @notice The stateless declaration checker PoTStages deployed (PoTOpenings).
    function openings() external view returns (address);

    /// @notice A job's status (1 open, 2 finished, 3 expired) and its wrapped stages.
    function jobStatus(uint64 jobId) external view returns (uint8 status, uint32 wrappedStages);

    /// @notice keccak256(abi.encode(result, rho)) of a wrapped stage that had faulty declarations (else 0).
    function finalOf(uint64 jobId, uint32 stage) external view returns (bytes32);

    /// @notice H(S_n) of a finished job: its last wrapped stage's result (0 while it runs or if it expired).
    function finalStateOf(uint64 jobId) external view returns (bytes32);

    /// @notice The job a fine-tuning job was derived from (0: none).
    function parentOf(uint64 jobId) external view returns (uint64);
}
