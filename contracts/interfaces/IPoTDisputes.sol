// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DeclarationData} from "../types/PoTTypes.sol";

/// @title Juries and slashing of Proof of Training
/// @notice A disputed, stalled or contested stage goes to a jury: D seats drawn with replacement by
/// follow-the-coin from a block mined after the request. Commitments to a vote (result, rho) close at a
/// fixed block; reveals open only after it and close at another; a pair holding more than D/2 seats
/// decides. A seat that did not commit or did not reveal is slashed jurorAbsentSlash; a seat that revealed
/// against the decision is slashed jurorSlash; a declaration that does not open against the stage's final
/// (result, rho) is slashed declarationSlash. Every slash pays its reporter at most PoTStaking's bounty
/// (10%) and burns the rest.
interface IPoTDisputes {
    /// @notice The jury of (jobId, stage) round `round` draws from the hash of block `randBlock`.
    event JuryRequested(uint64 indexed jobId, uint32 indexed stage, uint32 round, uint64 randBlock);
    /// @notice The round's seats; commitments until `commitEnd` (inclusive), reveals after it until `revealEnd`.
    event JuryDrawn(
        uint64 indexed jobId,
        uint32 indexed stage,
        uint32 round,
        address[] seats,
        uint64 commitEnd,
        uint64 revealEnd
    );
    /// @notice `juror` committed its vote of the round.
    event JuryCommitted(
        uint64 indexed jobId,
        uint32 indexed stage,
        address indexed juror,
        uint32 round,
        bytes32 commitment
    );
    /// @notice `juror` revealed its vote (with the weight of its seats).
    event JuryVoted(
        uint64 indexed jobId,
        uint32 indexed stage,
        address indexed juror,
        uint32 round,
        bytes32 resultHash,
        bytes32 rho,
        uint16 seats
    );
    /// @notice The round decided (result, rho).
    event JuryDecided(
        uint64 indexed jobId,
        uint32 indexed stage,
        uint32 round,
        bytes32 resultHash,
        bytes32 rho
    );
    /// @notice `staker` was slashed `amount` for `fault` (1 declaration, 2 juror vote, 3 juror absent).
    event Slashed(
        uint64 indexed jobId,
        uint32 indexed stage,
        address indexed staker,
        uint8 fault,
        uint256 amount,
        address reporter
    );

    /// @notice A constructor parameter is out of range; `what` names it.
    error InvalidParams(string what);
    /// @notice The caller is not PoTStages.
    error Unauthorized(address caller);
    /// @notice No jury round is open for the stage.
    error NoJury();
    /// @notice The round is already drawn.
    error JuryAlreadyDrawn();
    /// @notice The round is not drawn yet.
    error JuryNotDrawn();
    /// @notice The jury already decided.
    error JuryDecidedAlready();
    /// @notice The round may not be redrawn yet.
    error JuryNotStale();
    /// @notice The round's randomness block is not mined yet.
    error RandomnessNotReady(uint64 randBlock);
    /// @notice The round's randomness left the draw window (redraw it).
    error RandomnessExpired(uint64 randBlock);
    /// @notice The seats given are not the round's.
    error WrongSeats();
    /// @notice `account` holds no seat of the round.
    error NotJuror(address account);
    /// @notice Commitments of the round are closed (after commitEnd).
    error CommitmentsClosed();
    /// @notice Reveals are open only in (commitEnd, revealEnd].
    error RevealNotOpen(uint64 commitEnd, uint64 revealEnd);
    /// @notice The juror already committed this round.
    error AlreadyCommitted();
    /// @notice The juror did not commit this round.
    error NotCommitted();
    /// @notice The juror already revealed.
    error AlreadyVoted();
    /// @notice The reveal does not match the commitment.
    error CommitmentMismatch();
    /// @notice A zero hash where one is needed.
    error ZeroHash();
    /// @notice The juror is not at fault (or was slashed for this round already).
    error NotAFault();
    /// @notice The round's reveal window is not over.
    error RoundNotOver();
    /// @notice The declaration opens against the stage's final (result, rho): no fault.
    error DeclarationNotFaulty();
    /// @notice The declaration is not unsettled (already slashed or released).
    error DeclarationSettled();
    /// @notice No final (result, rho) matches: neither the wrap's (with faults) nor the jury's.
    error NoFinalOutcome();
    /// @notice Release needs an ended job (expired, or finished early at its target) and a stage it did not
    /// wrap.
    error NotReleasable();
    /// @notice The declaration does not open against the jury's decision (slash it instead).
    error DoesNotOpen(address declarer);

    /// @notice Opens a jury round for (jobId, stage) (PoTStages only).
    function open(uint64 jobId, uint32 stage) external;

    /// @notice Draws the open round's seats (anyone, once its randomness block is mined).
    function draw(uint64 jobId, uint32 stage) external returns (address[] memory seats);

    /// @notice Opens a new round when the current one cannot decide: its randomness expired undrawn, or
    /// its reveal window ended without a majority (anyone).
    function redraw(uint64 jobId, uint32 stage) external;

    /// @notice Commits the caller's vote: PoTHashes.juryVote(domain, jobId, stage, round, juror, result,
    /// rho, salt). Up to commitEnd.
    function commitVote(uint64 jobId, uint32 stage, address[] calldata seats, bytes32 commitment) external;

    /// @notice Reveals the caller's vote, in (commitEnd, revealEnd]; counts once per seat it holds. A pair
    /// holding more than D/2 seats decides the stage.
    function vote(
        uint64 jobId,
        uint32 stage,
        address[] calldata seats,
        bytes32 resultHash,
        bytes32 rho,
        bytes32 salt
    ) external;

    /// @notice Slashes a declaration that does not open against the stage's final (result, rho): the
    /// wrap's (PoTStages.finalOf) or the jury's decision. Anyone; the reporter gets the bounty.
    /// @param anchor the stage's keccak256(abi.encode(parent, seed)) (StageOpened; the declaration's hash
    /// covers it)
    function slashDeclaration(
        uint64 jobId,
        uint32 stage,
        bytes32 anchor,
        DeclarationData calldata d,
        bytes32 result,
        bytes32 rho
    ) external;

    /// @notice Slashes `juror` of round `round` (seats as drawn) for revealing against the decision
    /// (jurorSlash) or, once the round's reveal window is over, for not committing or not revealing
    /// (jurorAbsentSlash). Once per juror and round. Anyone; the reporter gets the bounty.
    function slashJuror(
        uint64 jobId,
        uint32 stage,
        uint32 round,
        address[] calldata seats,
        address juror
    ) external;

    /// @notice Releases an unsettled declaration of an ended job's unwrapped stage (anyone), so its
    /// declarer's unbonding stake can leave; if a jury decided the stage, only a declaration that opens
    /// against its (`result`, `rho`) is released (the others are slashed with slashDeclaration).
    /// @param anchor the stage's keccak256(abi.encode(parent, seed)) (StageOpened)
    function release(
        uint64 jobId,
        uint32 stage,
        bytes32 anchor,
        DeclarationData calldata d,
        bytes32 result,
        bytes32 rho
    ) external;

    /// @notice keccak256(abi.encode(result, rho)) decided by the stage's jury (0 if none).
    function outcomeOf(uint64 jobId, uint32 stage) external view returns (bytes32);
}
