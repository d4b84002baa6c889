// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {PoTHashes} from "./PoTHashes.sol";
import {Opening, JobRequest} from "./LedgerTypes.sol";

/// @title Pure checks of the PoT ledger, in their own contract
/// @notice Opening declarations against a revealed rho and checking EIP-712 attestation signatures.
/// Stateless; PoTLedger's constructor deploys it (this keeps the ledger under the 24 KB code limit).
contract PoTVerifier {
    uint8 internal constant DECL_DECLARED = 1;

    error OpeningsNotSorted();
    error BuilderNotOpened();
    error NotDeclared(address declarer);
    error DeclarationMismatch(address declarer);
    error DoesNotOpen(address declarer);
    error MissingAttestation(uint256 index);
    /// @notice The job's fee (msg.value) is zero.
    error ZeroFee();
    /// @notice A job parameter is out of range; `what` names it.
    error InvalidJob(string what);

    /// @notice The packed declaration slot of the ledger:
    /// stage (32 bits) | status (8 bits) | low 216 bits of keccak256(abi.encode(declarationHash, rand)).
    function packDeclaration(
        uint32 stage,
        uint8 status,
        bytes32 declHash,
        bytes32 rand
    ) public pure returns (uint256) {
        uint256 h = uint256(keccak256(abi.encode(declHash, rand))) & type(uint216).max;
        return (uint256(stage) << 224) | (uint256(status) << 216) | h;
    }

    /// @notice Checks that `o`, with `resultHash` and `parent`, is the unsettled declaration stored in
    /// `slot` for `stage`, and says whether its commitment opens against `rho`.
    function verifyDeclaration(
        bytes32 domain,
        uint64 jobId,
        uint32 stage,
        bytes32 parent,
        bytes32 resultHash,
        bytes32 rho,
        Opening calldata o,
        uint256 slot
    ) public pure returns (bool opens) {
        if (uint32(slot >> 224) != stage || uint8(slot >> 216) != DECL_DECLARED)
            revert NotDeclared(o.declarer);
        bytes32 declHash = PoTHashes.declaration(
            domain,
            jobId,
            stage,
            parent,
            resultHash,
            o.commitment,
            o.timestamp,
            o.declarer
        );
        if (packDeclaration(stage, DECL_DECLARED, declHash, o.rand) != slot)
            revert DeclarationMismatch(o.declarer);
        opens = PoTHashes.commitment(domain, rho, o.rand, o.declarer, jobId, stage) == o.commitment;
    }

    /// @notice Opens every listed declaration (sorted by declarer, strictly increasing) against rho;
    /// the builder must be among them. Returns the declarers.
    function openAll(
        bytes32 domain,
        uint64 jobId,
        uint32 stage,
        bytes32 parent,
        bytes32 result,
        bytes32 rho,
        address builder,
        Opening[] calldata openings,
        uint256[] calldata slots
    ) external pure returns (address[] memory opened) {
        uint256 n = openings.length;
        opened = new address[](n);
        bool builderOpened;
        address prev;
        for (uint256 i = 0; i < n; ++i) {
            Opening calldata o = openings[i];
            if (o.declarer <= prev) revert OpeningsNotSorted();
            prev = o.declarer;
            if (!verifyDeclaration(domain, jobId, stage, parent, result, rho, o, slots[i])) {
                revert DoesNotOpen(o.declarer);
            }
            if (o.declarer == builder) builderOpened = true;
            opened[i] = o.declarer;
        }
        if (!builderOpened) revert BuilderNotOpened();
    }

    /// @notice Checks the attestations of a wrap: every committee member except the wrapper (index w)
    /// either attested by transaction (bit i of `mask`) or signed `digest` (signatures[i]).
    /// @return attesters the members other than the wrapper, in committee order
    function checkAttestations(
        bytes32 digest,
        address[] calldata members,
        uint256 w,
        uint256 mask,
        bytes[] calldata signatures
    ) external pure returns (address[] memory attesters) {
        uint256 k = members.length;
        attesters = new address[](k - 1);
        uint256 j;
        for (uint256 i = 0; i < k; ++i) {
            if (i == w) continue;
            attesters[j++] = members[i];
            if (mask & (1 << i) != 0) continue;
            (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError || signer != members[i]) revert MissingAttestation(i);
        }
    }

    /// @notice Checks an employer's job request (docs/contracts/ledger.md, "Jobs"): fee > 0 and at least
    /// one wei per stage, C in [2, maxC], K in [1, maxK], stage window >= minStageSeconds, deadline >=
    /// minDeadline, a spec CID and an initial state hash.
    function checkJobRequest(
        JobRequest calldata r,
        uint256 fee,
        uint256 maxC,
        uint256 maxK,
        uint256 minStageSeconds,
        uint256 minDeadline
    ) external pure {
        if (fee == 0) revert ZeroFee();
        if (r.specCid.length == 0) revert InvalidJob("specCid");
        if (r.initialStateHash == bytes32(0)) revert InvalidJob("initialStateHash");
        if (r.numStages == 0) revert InvalidJob("numStages");
        if (r.c < 2 || r.c > maxC) revert InvalidJob("c");
        if (r.k == 0 || r.k > maxK) revert InvalidJob("k");
        if (r.stageSeconds < minStageSeconds) revert InvalidJob("stageSeconds");
        if (r.deadline < minDeadline) revert InvalidJob("deadline");
        if (fee < r.numStages || fee > type(uint128).max) revert InvalidJob("fee");
    }
}
