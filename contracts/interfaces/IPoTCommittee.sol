// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title PoA committees of Proof of Training
/// @notice A headered stage is attested by K seats drawn WITH replacement by follow-the-coin (a staker
/// with m seats counts, and is paid, m times) from the hash of a block mined after the header, over the
/// draw weights of that block's staking epoch, with the header's builder excluded: a builder is never
/// its own committee. Round r lasts poaWindowBlocks; a new round redraws every seat.
interface IPoTCommittee {
    /// @notice `member` attested by transaction in `round` (every seat it holds counts).
    event Attested(uint64 indexed jobId, uint32 indexed stage, address indexed member, uint32 round);

    /// @notice A constructor parameter is out of range; `what` names it.
    error InvalidParams(string what);
    /// @notice The caller is not PoTStages.
    error Unauthorized(address caller);
    /// @notice The first round's randomness block is not mined yet.
    error RandomnessNotReady(uint64 randBlock);
    /// @notice The round's randomness block left the 256-block BLOCKHASH window.
    error RandomnessExpired(uint64 randBlock);
    /// @notice Every PoA round of the header is over (void it).
    error PoaExpired();
    /// @notice `account` holds no seat of the current committee.
    error NotCommitteeMember(address account);
    /// @notice The member already attested this round.
    error AlreadyAttested();
    /// @notice `given` seats or signatures; the committee has `k`.
    error WrongCommitteeSize(uint256 given, uint256 k);
    /// @notice Seat `index` neither attested by transaction nor signed.
    error MissingAttestation(uint256 index);

    /// @notice The current committee of a headered stage: its round, seats in draw order, last block.
    function committeeOf(
        uint64 jobId,
        uint32 stage
    ) external view returns (uint32 round, address[] memory seats, uint64 lastBlock);

    /// @notice Attests, by transaction, that S_stage is retrievable and matches the header.
    function attest(uint64 jobId, uint32 stage) external;

    /// @notice Checks a wrap (PoTStages only): `seats` is the current committee drawn around `builder`,
    /// `wrapper` holds a seat, and every other seat attested (transaction this round, or an EIP-712
    /// signature of `digest`). Returns the distinct attesting members other than the wrapper.
    function checkWrap(
        uint64 jobId,
        uint32 stage,
        bytes32 headerHash,
        bytes32 digest,
        address builder,
        uint64 randBlock,
        address[] calldata seats,
        bytes[] calldata signatures,
        address wrapper
    ) external view returns (address[] memory attesters);
}
