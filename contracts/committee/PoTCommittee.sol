// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Immutables keep camelCase names: they are part of the ABI (poaWindowBlocks(), ...).
// solhint-disable immutable-vars-naming

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IPoTCommittee} from "../interfaces/IPoTCommittee.sol";
import {IPoTStages} from "../interfaces/IPoTStages.sol";
import {IPoTStaking} from "../interfaces/IPoTStaking.sol";
import {PoTHashes} from "../lib/PoTHashes.sol";
import {Suite} from "../types/PoTTypes.sol";

/// @notice The seat draws of PoTStaking this contract uses (with replacement, one account excluded).
interface IPoTSeats {
    /// @notice `k` seats drawn with replacement from `seed` over the weights of randBlock's epoch, skipping
    /// `excluded`.
    function drawSeats(
        bytes32 seed,
        uint256 k,
        uint256 randBlock,
        address excluded
    ) external view returns (address[] memory);

    /// @notice Reverts unless `seats` is exactly drawSeats(seed, seats.length, randBlock, excluded).
    function verifySeats(
        bytes32 seed,
        address[] calldata seats,
        uint256 randBlock,
        address excluded
    ) external view;
}

/// @title PoA committees of Proof of Training
/// @notice See IPoTCommittee. Round r of a header uses the seed committeeSeed(domain, headerHash,
/// blockhash(randBlock + r * poaWindowBlocks), r); the seats are staking's `drawSeats(seed, K, roundBlock,
/// builder)`. Transaction attestations are kept per (stage, header, round); signatures cost nothing here.
contract PoTCommittee is IPoTCommittee {
    IPoTStaking public immutable staking;
    IPoTStages public immutable stages;
    /// @notice The protocol domain (PoTStages' EIP-712 domain separator).
    bytes32 public immutable domain;
    uint32 public immutable poaWindowBlocks;
    uint32 public immutable poaMaxRounds;

    /// @dev Transaction attestations: keccak256(jobId, stage, headerHash, round) => bitmap of seats.
    mapping(bytes32 key => uint256 mask) internal _attested;

    /// @param staking_ PoTStaking (its drawSeats/verifySeats)
    /// @param suite the four contracts of this deployment (`suite.committee` must be this contract)
    /// @param domain_ the protocol domain: PoTStages' EIP-712 domain separator (computed by the deployer)
    /// @param poaWindowBlocks_ blocks per round (1..255), the same as PoTStages'
    /// @param poaMaxRounds_ rounds before the header may be voided, the same as PoTStages'
    constructor(
        IPoTStaking staking_,
        Suite memory suite,
        bytes32 domain_,
        uint32 poaWindowBlocks_,
        uint32 poaMaxRounds_
    ) {
        if (suite.committee != address(this)) revert InvalidParams("suite");
        if (poaWindowBlocks_ == 0 || poaWindowBlocks_ > 255) revert InvalidParams("poaWindowBlocks");
        if (poaMaxRounds_ == 0) revert InvalidParams("poaMaxRounds");
        staking = staking_;
        stages = IPoTStages(suite.stages);
        domain = domain_;
        poaWindowBlocks = poaWindowBlocks_;
        poaMaxRounds = poaMaxRounds_;
    }

    /// @inheritdoc IPoTCommittee
    function committeeOf(
        uint64 jobId,
        uint32 stage
    ) public view returns (uint32 round, address[] memory seats, uint64 lastBlock) {
        (bytes32 headerHash, address builder, uint64 randBlock, uint16 k) = stages.headerOf(jobId, stage);
        bytes32 seed;
        uint256 roundBlock;
        (round, seed, roundBlock) = _round(headerHash, randBlock);
        seats = IPoTSeats(address(staking)).drawSeats(seed, k, roundBlock, builder);
        lastBlock = uint64(roundBlock + poaWindowBlocks);
    }

    /// @inheritdoc IPoTCommittee
    function attest(uint64 jobId, uint32 stage) external {
        (uint32 round, address[] memory seats, ) = committeeOf(jobId, stage);
        (bytes32 headerHash, , , ) = stages.headerOf(jobId, stage);
        bytes32 key = keccak256(abi.encode(jobId, stage, headerHash, round));
        uint256 mask = _attested[key];
        uint256 mine;
        for (uint256 i = 0; i < seats.length; ++i) {
            if (seats[i] == msg.sender) mine |= 1 << i;
        }
        if (mine == 0) revert NotCommitteeMember(msg.sender);
        if (mask & mine != 0) revert AlreadyAttested();
        _attested[key] = mask | mine;
        emit Attested(jobId, stage, msg.sender, round);
    }

    /// @inheritdoc IPoTCommittee
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
    ) external view returns (address[] memory attesters) {
        if (msg.sender != address(stages)) revert Unauthorized(msg.sender);
        (uint32 round, bytes32 seed, uint256 roundBlock) = _round(headerHash, randBlock);
        uint256 k = seats.length;
        if (signatures.length != k) revert WrongCommitteeSize(signatures.length, k);
        IPoTSeats(address(staking)).verifySeats(seed, seats, roundBlock, builder);
        uint256 mask = _attested[keccak256(abi.encode(jobId, stage, headerHash, round))];
        attesters = new address[](k);
        uint256 n;
        bool wrapperSeated;
        for (uint256 i = 0; i < k; ++i) {
            address member = seats[i];
            if (member == wrapper) {
                wrapperSeated = true;
                continue;
            }
            if (_seen(seats, i)) continue; // a member's later seats: its first seat attested for them
            attesters[n++] = member;
            if (mask & (1 << i) != 0) continue;
            (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError || signer != member) revert MissingAttestation(i);
        }
        if (!wrapperSeated) revert NotCommitteeMember(wrapper);
        assembly ("memory-safe") {
            mstore(attesters, n)
        }
    }

    /// @dev Whether seats[i]'s member holds an earlier seat too.
    function _seen(address[] calldata seats, uint256 i) internal pure returns (bool) {
        for (uint256 j = 0; j < i; ++j) {
            if (seats[j] == seats[i]) return true;
        }
        return false;
    }

    /// @dev The current round of a header, its seed and its randomness block.
    function _round(
        bytes32 headerHash,
        uint64 randBlock
    ) internal view returns (uint32 round, bytes32 seed, uint256 roundBlock) {
        if (block.number <= randBlock) revert RandomnessNotReady(randBlock);
        uint256 r = (block.number - randBlock - 1) / poaWindowBlocks;
        if (r >= poaMaxRounds) revert PoaExpired();
        round = uint32(r);
        roundBlock = randBlock + r * poaWindowBlocks;
        bytes32 randomness = blockhash(roundBlock);
        if (randomness == bytes32(0)) revert RandomnessExpired(uint64(roundBlock));
        seed = PoTHashes.committeeSeed(domain, headerHash, randomness, round);
    }
}
