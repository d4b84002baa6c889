// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Immutables keep camelCase names: they are part of the ABI (jurySize(), ...).
// solhint-disable immutable-vars-naming

import {IPoTDisputes} from "../interfaces/IPoTDisputes.sol";
import {IPoTStages} from "../interfaces/IPoTStages.sol";
import {IPoTStaking} from "../interfaces/IPoTStaking.sol";
import {IPoTSeats} from "../committee/PoTCommittee.sol";
import {PoTHashes} from "../lib/PoTHashes.sol";
import {PoTOpenings} from "../stages/PoTOpenings.sol";
import {
    DeclarationData,
    Suite,
    JOB_OPEN,
    DECL_DECLARED,
    DECL_FAULTY,
    DECL_SLASHED,
    DECL_RELEASED
} from "../types/PoTTypes.sol";

/// @notice Parameters of PoTDisputes (immutable after deployment); docs/contracts/suite.md explains each.
struct DisputesParams {
    /// Jury seats D (drawn with replacement; a pair holding more than D/2 seats decides).
    uint16 jurySize;
    /// Blocks from the draw during which jurors commit (inclusive).
    uint32 commitBlocks;
    /// Blocks after the commitments during which jurors reveal.
    uint32 revealBlocks;
    /// PoT wei slashed per seat from a juror who revealed against the decision.
    uint256 jurorSlash;
    /// PoT wei slashed per seat from a juror who did not commit or did not reveal.
    uint256 jurorAbsentSlash;
}

/// @title Juries and slashing of Proof of Training
/// @notice See IPoTDisputes. A stall cannot help the staller: commitments close at a fixed block whatever
/// anyone reveals, a reveal cannot be copied (it opens a commitment bound to its juror, made before any
/// reveal was possible), and a seat that does not commit or reveal is slashed; the round is redrawn.
contract PoTDisputes is IPoTDisputes {
    uint8 internal constant FAULT_DECLARATION = 1;
    uint8 internal constant FAULT_JUROR_VOTE = 2;
    uint8 internal constant FAULT_JUROR_ABSENT = 3;

    struct Jury {
        uint64 randBlock;
        uint32 round;
        bool decided;
        // keccak256(abi.encode(result, rho)) once decided
        bytes32 outcome;
    }

    struct Round {
        bytes32 seatsHash;
        uint64 commitEnd;
        uint64 revealEnd;
    }

    struct Ballot {
        bytes32 commitment;
        // keccak256(abi.encode(result, rho)) once revealed
        bytes32 vote;
        bool slashed;
    }

    IPoTStaking public immutable staking;
    IPoTStages public immutable stages;
    /// @notice The protocol domain (PoTStages' EIP-712 domain separator).
    bytes32 public immutable domain;
    uint16 public immutable jurySize;
    uint32 public immutable commitBlocks;
    uint32 public immutable revealBlocks;
    uint256 public immutable jurorSlash;
    uint256 public immutable jurorAbsentSlash;
    /// @notice Blocks after its randomness block within which a round can be drawn: min(256, epochBlocks).
    uint256 public immutable drawWindowBlocks;

    mapping(uint64 jobId => mapping(uint32 stage => Jury)) internal _juries;
    mapping(bytes32 roundKey => Round) internal _rounds;
    mapping(bytes32 roundKey => mapping(address juror => Ballot)) internal _ballots;
    mapping(bytes32 roundKey => mapping(bytes32 vote => uint256 seats)) internal _tally;

    /// @param staking_ PoTStaking (this contract must be its slasher)
    /// @param suite the four contracts of this deployment (`suite.disputes` must be this contract)
    /// @param domain_ the protocol domain: PoTStages' EIP-712 domain separator
    /// @param p the parameters
    constructor(IPoTStaking staking_, Suite memory suite, bytes32 domain_, DisputesParams memory p) {
        if (suite.disputes != address(this)) revert InvalidParams("suite");
        if (p.jurySize == 0 || p.jurySize > 255) revert InvalidParams("jurySize");
        if (p.commitBlocks == 0 || p.revealBlocks == 0) revert InvalidParams("window");
        staking = staking_;
        stages = IPoTStages(suite.stages);
        domain = domain_;
        jurySize = p.jurySize;
        commitBlocks = p.commitBlocks;
        revealBlocks = p.revealBlocks;
        jurorSlash = p.jurorSlash;
        jurorAbsentSlash = p.jurorAbsentSlash;
        uint256 epochBlocks = staking_.epochBlocks();
        drawWindowBlocks = epochBlocks < 256 ? epochBlocks : 256;
    }

    /// @inheritdoc IPoTDisputes
    function open(uint64 jobId, uint32 stage) external {
        if (msg.sender != address(stages)) revert Unauthorized(msg.sender);
        Jury storage j = _juries[jobId][stage];
        j.randBlock = uint64(block.number + 1);
        emit JuryRequested(jobId, stage, j.round, j.randBlock);
    }

    /// @inheritdoc IPoTDisputes
    function draw(uint64 jobId, uint32 stage) external returns (address[] memory seats) {
        Jury storage j = _juries[jobId][stage];
        if (j.randBlock == 0) revert NoJury();
        if (j.decided) revert JuryDecidedAlready();
        Round storage rd = _rounds[_key(jobId, stage, j.round)];
        if (rd.seatsHash != bytes32(0)) revert JuryAlreadyDrawn();
        uint64 rb = j.randBlock;
        if (block.number <= rb) revert RandomnessNotReady(rb);
        bytes32 randomness = blockhash(rb);
        if (randomness == bytes32(0) || block.number > rb + drawWindowBlocks) revert RandomnessExpired(rb);
        bytes32 seed = PoTHashes.jurySeed(domain, jobId, stage, randomness);
        seats = IPoTSeats(address(staking)).drawSeats(seed, jurySize, rb, address(0));
        uint64 commitEnd = uint64(block.number + commitBlocks);
        uint64 revealEnd = commitEnd + revealBlocks;
        (rd.seatsHash, rd.commitEnd, rd.revealEnd) = (keccak256(abi.encode(seats)), commitEnd, revealEnd);
        emit JuryDrawn(jobId, stage, j.round, seats, commitEnd, revealEnd);
    }

    /// @inheritdoc IPoTDisputes
    function redraw(uint64 jobId, uint32 stage) external {
        Jury storage j = _juries[jobId][stage];
        if (j.randBlock == 0) revert NoJury();
        if (j.decided) revert JuryDecidedAlready();
        Round storage rd = _rounds[_key(jobId, stage, j.round)];
        bool stale =
            rd.seatsHash == bytes32(0)
                ? block.number > j.randBlock + drawWindowBlocks
                : block.number > rd.revealEnd;
        if (!stale) revert JuryNotStale();
        j.round += 1;
        j.randBlock = uint64(block.number + 1);
        emit JuryRequested(jobId, stage, j.round, j.randBlock);
    }

    /// @inheritdoc IPoTDisputes
    function commitVote(uint64 jobId, uint32 stage, address[] calldata seats, bytes32 commitment) external {
        if (commitment == bytes32(0)) revert ZeroHash();
        (Jury storage j, Round storage rd, bytes32 key) = _current(jobId, stage, seats);
        if (j.decided) revert JuryDecidedAlready();
        if (block.number > rd.commitEnd) revert CommitmentsClosed();
        if (_seatsOf(seats, msg.sender) == 0) revert NotJuror(msg.sender);
        Ballot storage b = _ballots[key][msg.sender];
        if (b.commitment != bytes32(0)) revert AlreadyCommitted();
        b.commitment = commitment;
        emit JuryCommitted(jobId, stage, msg.sender, j.round, commitment);
    }

    /// @inheritdoc IPoTDisputes
    function vote(
        uint64 jobId,
        uint32 stage,
        address[] calldata seats,
        bytes32 resultHash,
        bytes32 rho,
        bytes32 salt
    ) external {
        (Jury storage j, Round storage rd, bytes32 key) = _current(jobId, stage, seats);
        if (block.number <= rd.commitEnd || block.number > rd.revealEnd)
            revert RevealNotOpen(rd.commitEnd, rd.revealEnd);
        uint256 mine = _seatsOf(seats, msg.sender);
        if (mine == 0) revert NotJuror(msg.sender);
        Ballot storage b = _ballots[key][msg.sender];
        if (b.commitment == bytes32(0)) revert NotCommitted();
        if (b.vote != bytes32(0)) revert AlreadyVoted();
        uint32 round = j.round;
        bytes32 expected = PoTHashes.juryVote(domain, jobId, stage, round, msg.sender, resultHash, rho, salt);
        if (expected != b.commitment) revert CommitmentMismatch();
        bytes32 v = keccak256(abi.encode(resultHash, rho));
        b.vote = v;
        uint256 tally = _tally[key][v] + mine;
        _tally[key][v] = tally;
        emit JuryVoted(jobId, stage, msg.sender, round, resultHash, rho, uint16(mine));
        if (!j.decided && tally * 2 > jurySize) {
            j.decided = true;
            j.outcome = v;
            emit JuryDecided(jobId, stage, round, resultHash, rho);
            stages.onJuryDecided(jobId, stage, resultHash, rho);
        }
    }

    /// @inheritdoc IPoTDisputes
    function slashDeclaration(
        uint64 jobId,
        uint32 stage,
        bytes32 anchor,
        DeclarationData calldata d,
        bytes32 result,
        bytes32 rho
    ) external {
        bytes32 outcome = keccak256(abi.encode(result, rho));
        if (outcome != _juries[jobId][stage].outcome && outcome != stages.finalOf(jobId, stage))
            revert NoFinalOutcome();
        (uint256 slot, bool opens) = _open(jobId, stage, anchor, d, result, rho);
        uint8 status = uint8(slot >> 216);
        if (status != DECL_DECLARED && status != DECL_FAULTY) revert DeclarationSettled();
        if (opens) revert DeclarationNotFaulty();
        stages.settleDeclaration(jobId, stage, d.declarer, slot, DECL_SLASHED);
        uint256 amount = staking.slash(d.declarer, stages.declarationSlash(), msg.sender);
        emit Slashed(jobId, stage, d.declarer, FAULT_DECLARATION, amount, msg.sender);
    }

    /// @inheritdoc IPoTDisputes
    function release(
        uint64 jobId,
        uint32 stage,
        bytes32 anchor,
        DeclarationData calldata d,
        bytes32 result,
        bytes32 rho
    ) external {
        (uint8 jobStatus, uint32 wrapped) = stages.jobStatus(jobId);
        // an ended job (expired, or finished early at its target) releases the stages it never wrapped
        if (jobStatus == JOB_OPEN || stage <= wrapped) revert NotReleasable();
        (uint256 slot, bool opens) = _open(jobId, stage, anchor, d, result, rho);
        if (uint8(slot >> 216) != DECL_DECLARED) revert DeclarationSettled();
        bytes32 outcome = _juries[jobId][stage].outcome;
        if (outcome != bytes32(0)) {
            if (keccak256(abi.encode(result, rho)) != outcome) revert NoFinalOutcome();
            if (!opens) revert DoesNotOpen(d.declarer);
        }
        stages.settleDeclaration(jobId, stage, d.declarer, slot, DECL_RELEASED);
    }

    /// @inheritdoc IPoTDisputes
    function slashJuror(
        uint64 jobId,
        uint32 stage,
        uint32 round,
        address[] calldata seats,
        address juror
    ) external {
        Jury storage j = _juries[jobId][stage];
        bytes32 key = _key(jobId, stage, round);
        Round storage rd = _rounds[key];
        if (rd.seatsHash == bytes32(0) || rd.seatsHash != keccak256(abi.encode(seats))) revert WrongSeats();
        uint256 mine = _seatsOf(seats, juror);
        if (mine == 0) revert NotJuror(juror);
        Ballot storage b = _ballots[key][juror];
        if (b.slashed) revert NotAFault();
        uint8 fault;
        uint256 perSeat;
        if (b.vote == bytes32(0)) {
            if (block.number <= rd.revealEnd) revert RoundNotOver();
            (fault, perSeat) = (FAULT_JUROR_ABSENT, jurorAbsentSlash);
        } else {
            if (!j.decided || b.vote == j.outcome) revert NotAFault();
            (fault, perSeat) = (FAULT_JUROR_VOTE, jurorSlash);
        }
        b.slashed = true;
        uint256 amount = staking.slash(juror, perSeat * mine, msg.sender);
        emit Slashed(jobId, stage, juror, fault, amount, msg.sender);
    }

    /// @inheritdoc IPoTDisputes
    function outcomeOf(uint64 jobId, uint32 stage) external view returns (bytes32) {
        return _juries[jobId][stage].outcome;
    }

    /// @notice The jury of a stage: its current round, randomness block, whether it decided, the outcome.
    function juryOf(uint64 jobId, uint32 stage) external view returns (Jury memory) {
        return _juries[jobId][stage];
    }

    /// @notice A round's seats hash and its commit and reveal ends (zero before the draw).
    function roundOf(uint64 jobId, uint32 stage, uint32 round) external view returns (Round memory) {
        return _rounds[_key(jobId, stage, round)];
    }

    /// @notice A juror's ballot of a round: commitment, revealed vote key, slashed.
    function ballotOf(
        uint64 jobId,
        uint32 stage,
        uint32 round,
        address juror
    ) external view returns (Ballot memory) {
        return _ballots[_key(jobId, stage, round)][juror];
    }

    /// @dev `d`'s stored slot and whether it opens against (result, rho) (reverts if it is not stored).
    function _open(
        uint64 jobId,
        uint32 stage,
        bytes32 anchor,
        DeclarationData calldata d,
        bytes32 result,
        bytes32 rho
    ) internal view returns (uint256 slot, bool opens) {
        slot = stages.declarationSlot(jobId, d.declarer, stage);
        opens = PoTOpenings(stages.openings()).verify(domain, jobId, stage, anchor, d, slot, result, rho);
    }

    function _current(
        uint64 jobId,
        uint32 stage,
        address[] calldata seats
    ) internal view returns (Jury storage j, Round storage rd, bytes32 key) {
        j = _juries[jobId][stage];
        if (j.randBlock == 0) revert NoJury();
        key = _key(jobId, stage, j.round);
        rd = _rounds[key];
        if (rd.seatsHash == bytes32(0)) revert JuryNotDrawn();
        if (rd.seatsHash != keccak256(abi.encode(seats))) revert WrongSeats();
    }

    function _seatsOf(address[] calldata seats, address who) internal pure returns (uint256 n) {
        for (uint256 i = 0; i < seats.length; ++i) {
            if (seats[i] == who) ++n;
        }
    }

    function _key(uint64 jobId, uint32 stage, uint32 round) internal pure returns (bytes32) {
        return keccak256(abi.encode(jobId, stage, round));
    }
}
