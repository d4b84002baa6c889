// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPoTStaking} from "../interfaces/IPoTStaking.sol";
import {PoTHashes} from "./PoTHashes.sol";

/// @notice What the jury needs from the ledger that created it.
interface IPoTLedgerForJury {
    /// @notice The jury of (jobId, stage) reached a majority for (`resultHash`, `rho`).
    function onJuryDecided(uint64 jobId, uint32 stage, bytes32 resultHash, bytes32 rho) external;

    /// @notice Slashes a juror who voted against the majority (the ledger holds the slashing right).
    function slashJurorStake(uint64 jobId, uint32 stage, address juror, address reporter) external;
}

/// @title Juries of disputed stages
/// @notice When the declarations of a stage disagree on H(S_stage), or when a declarant contests a header
/// (its declaration of the same result opens against another rho), the ledger opens a jury here: D
/// stakers drawn by follow-the-coin from the hash of a block mined after the stage closed (or was
/// contested). Each juror trains the stage itself and votes the pair (result hash, rho): the dispute may
/// be about rho, so the jury fixes both. Votes are commit-reveal, so a lazy juror cannot copy another's:
/// a juror first commits `PoTHashes.juryVote(domain, jobId, stage, round, juror, result, rho, salt)`
/// (`commitVote`), and reveals (`vote`) only once more than D/2 jurors have committed; the first reveal
/// closes the commitments, so nobody can commit after seeing a vote. The first pair to win more than D/2
/// revealed votes decides the stage, and jurors who revealed another pair can be slashed by anyone. A jury
/// that
/// does not decide within `juryWindowSeconds` (or that was not drawn within `drawWindowBlocks` of its
/// randomness block) can be redrawn from a newer block.
/// The draw uses the staking draw weights as of the start of the randomness block's epoch (fixed before
/// the randomness), so nobody can aim a juror ticket by staking, unstaking or slashing after seeing it.
/// @dev Deployed by PoTLedger's constructor; only that ledger opens juries and receives decisions.
contract PoTJury {
    struct Jury {
        uint64 randBlock;
        uint64 deadline;
        uint32 round;
        bool decided;
        // commitments and reveals of the current round (the first reveal closes the commitments)
        uint16 commits;
        uint16 reveals;
        bytes32 seed;
        bytes32 membersHash;
        bytes32 result;
        bytes32 rho;
    }

    IPoTLedgerForJury public immutable ledger;
    IPoTStaking public immutable staking;
    /// @notice The ledger's protocol domain (EIP-712 domain separator) at deployment.
    bytes32 public immutable domain;
    uint16 public immutable jurySize;
    uint32 public immutable juryWindowSeconds;
    uint256 public immutable minStake;
    /// @notice Blocks after its randomness block within which a jury can be drawn: min(256, the staking
    /// epoch length). BLOCKHASH covers 256 blocks, and staking keeps the draw weights of an epoch until
    /// the end of the next one only.
    // solhint-disable-next-line immutable-vars-naming
    uint256 public immutable drawWindowBlocks;

    mapping(uint64 jobId => mapping(uint32 stage => Jury)) internal _juries;
    /// @dev A vote is stored as its key keccak256(abi.encode(resultHash, rho)).
    mapping(bytes32 roundKey => mapping(address juror => bytes32 voteKey)) internal _votes;
    mapping(bytes32 roundKey => mapping(bytes32 voteKey => uint256 count)) internal _tally;
    mapping(bytes32 roundKey => mapping(address juror => bool)) internal _slashed;
    /// @dev Vote commitments of each round (`PoTHashes.juryVote`).
    mapping(bytes32 roundKey => mapping(address juror => bytes32 commitment)) internal _commitments;

    /// @notice Randomness for the jury of (jobId, stage) will be the hash of block `randBlock`.
    event JuryRequested(uint64 indexed jobId, uint32 indexed stage, uint32 round, uint64 randBlock);
    event JuryDrawn(
        uint64 indexed jobId,
        uint32 indexed stage,
        uint32 round,
        address[] jurors,
        uint64 deadline
    );
    /// @notice `juror` committed its vote of the round (revealed later by `vote`).
    event JuryCommitted(
        uint64 indexed jobId,
        uint32 indexed stage,
        address indexed juror,
        uint32 round,
        bytes32 commitment
    );
    event JuryVoted(
        uint64 indexed jobId,
        uint32 indexed stage,
        address indexed juror,
        uint32 round,
        bytes32 resultHash,
        bytes32 rho
    );
    event JuryDecided(
        uint64 indexed jobId,
        uint32 indexed stage,
        uint32 round,
        bytes32 resultHash,
        bytes32 rho
    );

    error NotLedger(address caller);
    error NoJury();
    error JuryAlreadyOpen();
    error JuryNotStale();
    error JuryAlreadyDrawn();
    error JuryNotDrawn();
    error JuryClosed();
    error JuryDecidedAlready();
    error NotJuror(address account);
    error AlreadyVoted();
    error AlreadyCommitted();
    error CommitmentsClosed();
    error RevealNotOpen(uint256 commits, uint256 needed);
    error NotCommitted();
    error CommitmentMismatch();
    error ZeroHash();
    error NotEnoughStake(uint256 stake, uint256 minimum);
    error RandomnessNotReady(uint64 randBlock);
    error RandomnessExpired(uint64 randBlock);
    error NotAFault();

    constructor(
        IPoTStaking staking_,
        bytes32 domain_,
        uint16 jurySize_,
        uint32 juryWindowSeconds_,
        uint256 minStake_
    ) {
        ledger = IPoTLedgerForJury(msg.sender);
        staking = staking_;
        domain = domain_;
        jurySize = jurySize_;
        juryWindowSeconds = juryWindowSeconds_;
        minStake = minStake_;
        uint256 epochBlocks = staking_.epochBlocks();
        drawWindowBlocks = epochBlocks < 256 ? epochBlocks : 256;
    }

    /// @notice Opens the jury of a closed, disputed (or contested) stage. Ledger only.
    function open(uint64 jobId, uint32 stage) external {
        if (msg.sender != address(ledger)) revert NotLedger(msg.sender);
        Jury storage j = _juries[jobId][stage];
        if (j.randBlock != 0) revert JuryAlreadyOpen();
        _request(j, jobId, stage);
    }

    /// @notice Redraws a jury that did not decide in time, or whose randomness block expired undrawn.
    function redraw(uint64 jobId, uint32 stage) external {
        Jury storage j = _juries[jobId][stage];
        if (j.randBlock == 0) revert NoJury();
        if (j.decided) revert JuryDecidedAlready();
        bool stale =
            j.seed == bytes32(0)
                ? block.number > uint256(j.randBlock) + drawWindowBlocks
                : block.timestamp > j.deadline;
        if (!stale) revert JuryNotStale();
        j.round += 1;
        j.seed = bytes32(0);
        j.membersHash = bytes32(0);
        j.commits = 0;
        j.reveals = 0;
        _request(j, jobId, stage);
    }

    /// @notice Draws the jury (D stakers, follow-the-coin) from the hash of block `randBlock`, over the
    /// draw weights as of the start of its staking epoch; possible until `randBlock + drawWindowBlocks`.
    function draw(uint64 jobId, uint32 stage) external returns (address[] memory jurors) {
        Jury storage j = _juries[jobId][stage];
        if (j.randBlock == 0) revert NoJury();
        if (j.seed != bytes32(0)) revert JuryAlreadyDrawn();
        if (j.decided) revert JuryDecidedAlready();
        uint64 rb = j.randBlock;
        if (block.number <= rb) revert RandomnessNotReady(rb);
        bytes32 randomness = blockhash(rb);
        if (randomness == bytes32(0) || block.number > uint256(rb) + drawWindowBlocks) {
            revert RandomnessExpired(rb);
        }
        bytes32 seed = PoTHashes.jurySeed(domain, jobId, stage, randomness);
        jurors = staking.draw(seed, jurySize, rb);
        uint64 deadline = uint64(block.timestamp) + juryWindowSeconds;
        j.seed = seed;
        j.membersHash = keccak256(abi.encode(jurors));
        j.deadline = deadline;
        emit JuryDrawn(jobId, stage, j.round, jurors, deadline);
    }

    /// @notice Commits a juror's vote (commit-reveal): `commitment` is
    /// `PoTHashes.juryVote(domain, jobId, stage, round, msg.sender, resultHash, rho, salt)` of the pair it
    /// obtained by training the stage itself and a secret salt. Binding the juror and the round makes a
    /// copied commitment worthless. Accepted until the first reveal (or the jury's deadline).
    /// @param jurors the jury as JuryDrawn listed it
    function commitVote(uint64 jobId, uint32 stage, address[] calldata jurors, bytes32 commitment) external {
        Jury storage j = _checkJuror(jobId, stage, jurors);
        if (commitment == bytes32(0)) revert ZeroHash();
        if (j.reveals != 0) revert CommitmentsClosed();
        bytes32 key = roundKey(jobId, stage, j.round);
        if (_commitments[key][msg.sender] != bytes32(0)) revert AlreadyCommitted();
        _commitments[key][msg.sender] = commitment;
        j.commits += 1;
        emit JuryCommitted(jobId, stage, msg.sender, j.round, commitment);
    }

    /// @notice Reveals a juror's committed vote: the result and the training secret rho it obtained, and
    /// the salt of its commitment. The pair is what the stage is decided on: a result dispute and a rho
    /// contest alike. Open once more than D/2 jurors have committed; the first reveal closes commitments.
    /// @param jurors the jury as JuryDrawn listed it
    function vote(
        uint64 jobId,
        uint32 stage,
        address[] calldata jurors,
        bytes32 resultHash,
        bytes32 rho,
        bytes32 salt
    ) external {
        Jury storage j = _checkJuror(jobId, stage, jurors);
        if (resultHash == bytes32(0) || rho == bytes32(0)) revert ZeroHash();
        if (uint256(j.commits) * 2 <= jurySize) revert RevealNotOpen(j.commits, uint256(jurySize) / 2 + 1);
        bytes32 key = roundKey(jobId, stage, j.round);
        if (_votes[key][msg.sender] != bytes32(0)) revert AlreadyVoted();
        bytes32 c = _commitments[key][msg.sender];
        if (c == bytes32(0)) revert NotCommitted();
        if (PoTHashes.juryVote(domain, jobId, stage, j.round, msg.sender, resultHash, rho, salt) != c) {
            revert CommitmentMismatch();
        }
        bytes32 v = keccak256(abi.encode(resultHash, rho));
        _votes[key][msg.sender] = v;
        j.reveals += 1;
        uint256 count = ++_tally[key][v];
        emit JuryVoted(jobId, stage, msg.sender, j.round, resultHash, rho);
        if (count * 2 > jurySize) {
            j.decided = true;
            j.result = resultHash;
            j.rho = rho;
            emit JuryDecided(jobId, stage, j.round, resultHash, rho);
            ledger.onJuryDecided(jobId, stage, resultHash, rho);
        }
    }

    /// @dev The jury of (jobId, stage), checked to be drawn, undecided and open, with the caller among
    /// its `jurors` and holding at least `minStake`.
    function _checkJuror(
        uint64 jobId,
        uint32 stage,
        address[] calldata jurors
    ) internal view returns (Jury storage j) {
        j = _juries[jobId][stage];
        if (j.seed == bytes32(0)) revert JuryNotDrawn();
        if (j.decided) revert JuryDecidedAlready();
        if (block.timestamp > j.deadline) revert JuryClosed();
        if (keccak256(abi.encode(jurors)) != j.membersHash) revert NotJuror(msg.sender);
        bool member;
        for (uint256 i = 0; i < jurors.length; ++i) {
            if (jurors[i] == msg.sender) member = true;
        }
        if (!member) revert NotJuror(msg.sender);
        uint256 s = staking.stakeOf(msg.sender);
        if (s < minStake || s == 0) revert NotEnoughStake(s, minStake);
    }

    /// @notice The commitment a juror's vote must match (`PoTHashes.juryVote` with this jury's domain).
    function voteCommitment(
        uint64 jobId,
        uint32 stage,
        uint32 round,
        address juror,
        bytes32 resultHash,
        bytes32 rho,
        bytes32 salt
    ) external view returns (bytes32) {
        return PoTHashes.juryVote(domain, jobId, stage, round, juror, resultHash, rho, salt);
    }

    /// @notice The commitment of `juror` in the jury's current round (zero if none).
    function commitmentOf(uint64 jobId, uint32 stage, address juror) external view returns (bytes32) {
        return _commitments[roundKey(jobId, stage, _juries[jobId][stage].round)][juror];
    }

    /// @notice Slashes a juror of the deciding round who voted against the majority. Anyone may submit
    /// it; the slashed stake goes to the caller.
    function slashJuror(uint64 jobId, uint32 stage, address juror) external {
        Jury storage j = _juries[jobId][stage];
        if (!j.decided) revert NotAFault();
        bytes32 key = roundKey(jobId, stage, j.round);
        bytes32 v = _votes[key][juror];
        if (v == bytes32(0) || v == keccak256(abi.encode(j.result, j.rho)) || _slashed[key][juror])
            revert NotAFault();
        _slashed[key][juror] = true;
        ledger.slashJurorStake(jobId, stage, juror, msg.sender);
    }

    /// @notice The jury of (jobId, stage).
    function getJury(uint64 jobId, uint32 stage) external view returns (Jury memory) {
        return _juries[jobId][stage];
    }

    /// @notice The vote of `juror` in the jury's current round: keccak256(abi.encode(resultHash, rho)),
    /// zero if none.
    function voteOf(uint64 jobId, uint32 stage, address juror) external view returns (bytes32) {
        return _votes[roundKey(jobId, stage, _juries[jobId][stage].round)][juror];
    }

    /// @notice Key of one jury round in the vote maps.
    function roundKey(uint64 jobId, uint32 stage, uint32 round) public pure returns (bytes32) {
        return keccak256(abi.encode(jobId, stage, round));
    }

    function _request(Jury storage j, uint64 jobId, uint32 stage) internal {
        uint64 rb = uint64(block.number) + 1;
        j.randBlock = rb;
        emit JuryRequested(jobId, stage, j.round, rb);
    }
}
