// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The protocol's hashes, exactly as src/protocol computes them
/// @notice Mirrors src/protocol/messages.ts, pos.ts and follow-the-coin.ts byte for byte:
/// keccak256(abi.encode(TYPEHASH, domain, ...fields)), never packed. The `domain` argument is the
/// protocol domain: PoTStages' EIP-712 domain separator (src/protocol/domain.ts).
/// test/contracts/suite/encodings.test.ts checks every function here against test/vectors/protocol.json
/// and src/protocol.
import {StageOutcome} from "../types/PoTTypes.sol";

library PoTHashes {
    bytes32 internal constant COMMITMENT_TYPEHASH = keccak256(
        "PoT.Commitment(bytes32 domain,bytes32 rho,bytes32 rand,address declarer,uint64 jobId,uint32 stage)"
    );
    bytes32 internal constant DECLARATION_TYPEHASH = keccak256(
        "PoT.Declaration(bytes32 domain,uint64 jobId,uint32 stage,bytes32 parentHash,bytes32 resultHash,bytes32 commitment,uint64 timestamp,address declarer)"
    );
    bytes32 internal constant HEADER_TYPEHASH = keccak256(
        "PoT.Header(bytes32 domain,uint64 jobId,uint32 stage,bytes32 parentHash,bytes32 resultHash,bytes32 rho,bytes32 resultCidHash,uint64 timestamp,address builder)"
    );
    bytes32 internal constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(bytes32 headerHash,bytes32 resultHash,uint64 jobId,uint32 stage)"
    );
    bytes32 internal constant BLOCK_TYPEHASH = keccak256(
        "PoT.Block(bytes32 domain,uint64 index,bytes32 parentBlockHash,uint64 jobId,uint32 stage,bytes32 headerHash,address[] attesters,address wrapper,uint64 timestamp)"
    );
    bytes32 internal constant KERNEL_TYPEHASH = keccak256(
        "PoT.Kernel(bytes32 domain,uint8 kind,address staker,uint64 jobId,uint32 stage,uint64 timestamp)"
    );
    bytes32 internal constant SEEDED_KERNEL_TYPEHASH = keccak256(
        "PoT.SeededKernel(bytes32 domain,uint8 kind,address staker,uint64 jobId,uint32 stage,bytes32 stageSeed,uint64 timestamp)"
    );
    bytes32 internal constant FTC_TYPEHASH = keccak256("PoT.FollowTheCoin(bytes32 seed,uint256 draw)");
    bytes32 internal constant COMMITTEE_SEED_TYPEHASH = keccak256(
        "PoT.CommitteeSeed(bytes32 domain,bytes32 headerHash,bytes32 randomness,uint32 round)"
    );
    bytes32 internal constant JURY_SEED_TYPEHASH = keccak256(
        "PoT.JurySeed(bytes32 domain,uint64 jobId,uint32 stage,bytes32 randomness)"
    );

    bytes32 internal constant JURY_VOTE_TYPEHASH = keccak256(
        "PoT.JuryVote(bytes32 domain,uint64 jobId,uint32 stage,uint32 round,address juror,bytes32 resultHash,bytes32 rho,bytes32 salt)"
    );

    bytes32 internal constant OUTCOME_TYPEHASH = keccak256(
        "PoT.StageOutcome(bytes32 stateHash,bytes32 checkpointRoot,uint32 heldOutLoss,uint32 heldOutAccuracy)"
    );
    bytes32 internal constant CHECKPOINT_TYPEHASH = keccak256(
        "PoT.Checkpoint(uint256 index,bytes32 stateHash)"
    );

    /// @dev SealKind of src/protocol/messages.ts.
    uint8 internal constant SEAL_DECLARATION = 1;
    uint8 internal constant SEAL_HEADER = 2;

    /// @notice commitmentHash of messages.ts: the commitment H(rho || rand) bound to declarer, job and stage.
    function commitment(
        bytes32 domain,
        bytes32 rho,
        bytes32 rand,
        address declarer,
        uint64 jobId,
        uint32 stage
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(COMMITMENT_TYPEHASH, domain, rho, rand, declarer, jobId, stage));
    }

    /// @notice declarationHash of messages.ts.
    function declaration(
        bytes32 domain,
        uint64 jobId,
        uint32 stage,
        bytes32 parentHash,
        bytes32 resultHash,
        bytes32 commitment_,
        uint64 timestamp,
        address declarer
    ) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    DECLARATION_TYPEHASH,
                    domain,
                    jobId,
                    stage,
                    parentHash,
                    resultHash,
                    commitment_,
                    timestamp,
                    declarer
                )
            );
    }

    /// @notice headerHash of messages.ts; `resultCidHash` is keccak256 of the binary CID of S_{i+1}.
    function header(
        bytes32 domain,
        uint64 jobId,
        uint32 stage,
        bytes32 parentHash,
        bytes32 resultHash,
        bytes32 rho,
        bytes32 resultCidHash,
        uint64 timestamp,
        address builder
    ) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    HEADER_TYPEHASH,
                    domain,
                    jobId,
                    stage,
                    parentHash,
                    resultHash,
                    rho,
                    resultCidHash,
                    timestamp,
                    builder
                )
            );
    }

    /// @notice attestationStructHash of messages.ts (EIP-712 struct hash; the digest adds the domain).
    function attestation(
        bytes32 headerHash,
        bytes32 resultHash,
        uint64 jobId,
        uint32 stage
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(ATTESTATION_TYPEHASH, headerHash, resultHash, jobId, stage));
    }

    /// @notice blockHash of messages.ts.
    function wrappedBlock(
        bytes32 domain,
        uint64 index,
        bytes32 parentBlockHash,
        uint64 jobId,
        uint32 stage,
        bytes32 headerHash,
        address[] memory attesters,
        address wrapper,
        uint64 timestamp
    ) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    BLOCK_TYPEHASH,
                    domain,
                    index,
                    parentBlockHash,
                    jobId,
                    stage,
                    headerHash,
                    attesters,
                    wrapper,
                    timestamp
                )
            );
    }

    /// @notice kernelHash of pos.ts: covers only fields the staker cannot grind (no rand, no commitment).
    function kernel(
        bytes32 domain,
        uint8 kind,
        address staker,
        uint64 jobId,
        uint32 stage,
        uint64 timestamp
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(KERNEL_TYPEHASH, domain, kind, staker, jobId, stage, timestamp));
    }

    /// @notice seededKernelHash of pos.ts: the kernel of the split contracts also covers the stage's seed
    /// (the hash of the block before the stage opened), so no seal can be computed before the stage exists.
    function kernelSeeded(
        bytes32 domain,
        uint8 kind,
        address staker,
        uint64 jobId,
        uint32 stage,
        bytes32 stageSeed,
        uint64 timestamp
    ) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(SEEDED_KERNEL_TYPEHASH, domain, kind, staker, jobId, stage, stageSeed, timestamp)
            );
    }

    /// @notice posTarget of pos.ts: weight * targetPerCoinSecond, saturating at 2^256-1.
    function posTarget(uint256 weight, uint256 targetPerCoinSecond) internal pure returns (uint256) {
        if (weight == 0 || targetPerCoinSecond == 0) return 0;
        if (weight > type(uint256).max / targetPerCoinSecond) return type(uint256).max;
        return weight * targetPerCoinSecond;
    }

    /// @notice committeeSeed of follow-the-coin.ts.
    function committeeSeed(
        bytes32 domain,
        bytes32 headerHash,
        bytes32 randomness,
        uint32 round
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(COMMITTEE_SEED_TYPEHASH, domain, headerHash, randomness, round));
    }

    /// @notice juryVoteCommitment of messages.ts: a juror's commitment to its vote (result, rho) with a
    /// secret salt, bound to the juror, the jury round, the stage and the deployment.
    function juryVote(
        bytes32 domain,
        uint64 jobId,
        uint32 stage,
        uint32 round,
        address juror,
        bytes32 resultHash,
        bytes32 rho,
        bytes32 salt
    ) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(JURY_VOTE_TYPEHASH, domain, jobId, stage, round, juror, resultHash, rho, salt)
            );
    }

    /// @notice jurySeed of follow-the-coin.ts.
    function jurySeed(
        bytes32 domain,
        uint64 jobId,
        uint32 stage,
        bytes32 randomness
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(JURY_SEED_TYPEHASH, domain, jobId, stage, randomness));
    }

    /// @notice outcomeHash of src/protocol/outcome.ts: what a declaration's resultHash commits to.
    function outcome(StageOutcome calldata o) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(OUTCOME_TYPEHASH, o.stateHash, o.checkpointRoot, o.heldOutLoss, o.heldOutAccuracy)
            );
    }

    /// @notice checkpointRoot of src/protocol/checkpoints.ts: the index-ordered binary Merkle tree (odd
    /// nodes promoted, nodes keccak256(left || right)) over the leaves
    /// keccak256(abi.encode(CHECKPOINT_TYPEHASH, index, stateHash)); 0 for no checkpoints.
    function checkpointRoot(bytes32[] calldata states) internal pure returns (bytes32) {
        uint256 n = states.length;
        if (n == 0) return bytes32(0);
        bytes32[] memory level = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) level[i] = keccak256(abi.encode(CHECKPOINT_TYPEHASH, i, states[i]));
        // in place: node i of the next level reads nodes 2i and 2i+1, never one already overwritten
        while (n > 1) {
            uint256 half = n / 2;
            for (uint256 i = 0; i < half; ++i)
                level[i] = keccak256(abi.encode(level[2 * i], level[2 * i + 1]));
            if (n % 2 == 1) level[half] = level[n - 1];
            n = n - half;
        }
        return level[0];
    }
}
