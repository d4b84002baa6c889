// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {PoTHashes} from "../lib/PoTHashes.sol";
import {StageOutcome} from "../types/PoTTypes.sol";

/// @title Test-only: exposes PoTHashes so the encoding tests can compare it with the protocol vectors
/// @notice Encodes nothing itself: the domain separator and the typed-data digest come from OpenZeppelin's
/// EIP712 and MessageHashUtils, as PoTStages gets them, under PoTStages' domain name and version.
contract PoTHashesHarness is EIP712("ProofOfTraining", "2") {
    function typehashes() external pure returns (bytes32[9] memory t) {
        t = [
            PoTHashes.COMMITMENT_TYPEHASH,
            PoTHashes.DECLARATION_TYPEHASH,
            PoTHashes.HEADER_TYPEHASH,
            PoTHashes.ATTESTATION_TYPEHASH,
            PoTHashes.BLOCK_TYPEHASH,
            PoTHashes.KERNEL_TYPEHASH,
            PoTHashes.FTC_TYPEHASH,
            PoTHashes.COMMITTEE_SEED_TYPEHASH,
            PoTHashes.JURY_SEED_TYPEHASH
        ];
    }

    /// @notice OpenZeppelin's EIP-712 domain separator of this contract (this chain, this address).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function commitment(
        bytes32 domain,
        bytes32 rho,
        bytes32 rand,
        address declarer,
        uint64 jobId,
        uint32 stage
    ) external pure returns (bytes32) {
        return PoTHashes.commitment(domain, rho, rand, declarer, jobId, stage);
    }

    function declaration(
        bytes32 domain,
        uint64 jobId,
        uint32 stage,
        bytes32 parentHash,
        bytes32 resultHash,
        bytes32 commitment_,
        uint64 timestamp,
        address declarer
    ) external pure returns (bytes32) {
        return
            PoTHashes.declaration(
                domain,
                jobId,
                stage,
                parentHash,
                resultHash,
                commitment_,
                timestamp,
                declarer
            );
    }

    function header(
        bytes32 domain,
        uint64 jobId,
        uint32 stage,
        bytes32 parentHash,
        bytes32 resultHash,
        bytes32 rho,
        bytes calldata resultCid,
        uint64 timestamp,
        address builder
    ) external pure returns (bytes32) {
        return
            PoTHashes.header(
                domain,
                jobId,
                stage,
                parentHash,
                resultHash,
                rho,
                keccak256(resultCid),
                timestamp,
                builder
            );
    }

    function attestationStruct(
        bytes32 headerHash,
        bytes32 resultHash,
        uint64 jobId,
        uint32 stage
    ) external pure returns (bytes32) {
        return PoTHashes.attestation(headerHash, resultHash, jobId, stage);
    }

    function attestationDigest(
        bytes32 domain,
        bytes32 headerHash,
        bytes32 resultHash,
        uint64 jobId,
        uint32 stage
    ) external pure returns (bytes32) {
        return
            MessageHashUtils.toTypedDataHash(
                domain,
                PoTHashes.attestation(headerHash, resultHash, jobId, stage)
            );
    }

    function wrappedBlock(
        bytes32 domain,
        uint64 index,
        bytes32 parentBlockHash,
        uint64 jobId,
        uint32 stage,
        bytes32 headerHash,
        address[] calldata attesters,
        address wrapper,
        uint64 timestamp
    ) external pure returns (bytes32) {
        return
            PoTHashes.wrappedBlock(
                domain,
                index,
                parentBlockHash,
                jobId,
                stage,
                headerHash,
                attesters,
                wrapper,
                timestamp
            );
    }

    function kernel(
        bytes32 domain,
        uint8 kind,
        address staker,
        uint64 jobId,
        uint32 stage,
        uint64 timestamp
    ) external pure returns (bytes32) {
        return PoTHashes.kernel(domain, kind, staker, jobId, stage, timestamp);
    }

    function kernelSeeded(
        bytes32 domain,
        uint8 kind,
        address staker,
        uint64 jobId,
        uint32 stage,
        bytes32 stageSeed,
        uint64 timestamp
    ) external pure returns (bytes32) {
        return PoTHashes.kernelSeeded(domain, kind, staker, jobId, stage, stageSeed, timestamp);
    }

    function seededKernelTypehash() external pure returns (bytes32) {
        return PoTHashes.SEEDED_KERNEL_TYPEHASH;
    }

    function posTarget(uint256 weight, uint256 targetPerCoinSecond) external pure returns (uint256) {
        return PoTHashes.posTarget(weight, targetPerCoinSecond);
    }

    function committeeSeed(
        bytes32 domain,
        bytes32 headerHash,
        bytes32 randomness,
        uint32 round
    ) external pure returns (bytes32) {
        return PoTHashes.committeeSeed(domain, headerHash, randomness, round);
    }

    function jurySeed(
        bytes32 domain,
        uint64 jobId,
        uint32 stage,
        bytes32 randomness
    ) external pure returns (bytes32) {
        return PoTHashes.jurySeed(domain, jobId, stage, randomness);
    }

    function juryVote(
        bytes32 domain,
        uint64 jobId,
        uint32 stage,
        uint32 round,
        address juror,
        bytes32 resultHash,
        bytes32 rho,
        bytes32 salt
    ) external pure returns (bytes32) {
        return PoTHashes.juryVote(domain, jobId, stage, round, juror, resultHash, rho, salt);
    }

    function juryVoteTypehash() external pure returns (bytes32) {
        return PoTHashes.JURY_VOTE_TYPEHASH;
    }

    function outcomeTypehash() external pure returns (bytes32) {
        return PoTHashes.OUTCOME_TYPEHASH;
    }

    function checkpointTypehash() external pure returns (bytes32) {
        return PoTHashes.CHECKPOINT_TYPEHASH;
    }

    /// @notice What a resultHash commits to (PoTStages checks it at submitHeader and wrap).
    function outcome(StageOutcome calldata o) external pure returns (bytes32) {
        return PoTHashes.outcome(o);
    }

    /// @notice The checkpoint Merkle root PoTStages checks at submitHeader.
    function checkpointRoot(bytes32[] calldata states) external pure returns (bytes32) {
        return PoTHashes.checkpointRoot(states);
    }
}
