// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PoTHashes} from "../lib/PoTHashes.sol";
import {DeclarationData, HeaderData, DECL_DECLARED, DECL_SLASHED} from "../types/PoTTypes.sol";

/// @title Opening declarations against a header (stateless; deployed by PoTStages)
/// @notice The declaration slot of PoTStages packs stage (32) | status (8) | weight in gwei (64) | the low
/// 152 bits of keccak256(abi.encode(declarationHash, rand)). These functions check declaration data against
/// such slots and open commitments; they read no storage, so PoTStages keeps its code small.
contract PoTOpenings {
    /// @notice `declarer` has no declaration of this stage in the given slot.
    error NotDeclared(address declarer);
    /// @notice The given data is not `declarer`'s stored declaration.
    error DeclarationMismatch(address declarer);
    /// @notice The declarations are not sorted by declarer (strictly increasing).
    error DeclarationsNotSorted();
    /// @notice A declaration names another result and no jury fixed one: the stage needs its jury.
    error StageDisputed();
    /// @notice The builder's own declaration does not open.
    error BuilderNotOpened();

    /// @notice The packed slot of a declaration.
    function pack(
        uint32 stage,
        uint8 status,
        uint256 weight,
        bytes32 declHash,
        bytes32 rand
    ) public pure returns (uint256) {
        return
            (uint256(stage) << 224) |
            (uint256(status) << 216) |
            (uint256(uint64(weight)) << 152) |
            (uint256(keccak256(abi.encode(declHash, rand))) & type(uint152).max);
    }

    /// @notice Checks that `d` is the declaration stored in `slot` for `stage` (any status), and says whether
    /// it opens against (result, rho). `anchor` is the stage's keccak256(abi.encode(parent, seed)): the
    /// declaration hash covers it in its parentHash field.
    function verify(
        bytes32 domain,
        uint64 jobId,
        uint32 stage,
        bytes32 anchor,
        DeclarationData calldata d,
        uint256 slot,
        bytes32 result,
        bytes32 rho
    ) public pure returns (bool opens) {
        if (uint32(slot >> 224) != stage) revert NotDeclared(d.declarer);
        bytes32 declHash = PoTHashes.declaration(
            domain,
            jobId,
            stage,
            anchor,
            d.resultHash,
            d.commitment,
            d.timestamp,
            d.declarer
        );
        if (pack(stage, uint8(slot >> 216), uint64(slot >> 152), declHash, d.rand) != slot)
            revert DeclarationMismatch(d.declarer);
        return
            d.resultHash == result &&
            PoTHashes.commitment(domain, rho, d.rand, d.declarer, jobId, stage) == d.commitment;
    }

    /// @notice Opens every declaration of a stage (sorted by declarer; `slots[i]` is declarer i's slot, which
    /// must be unsettled, or slashed already): returns those that open against (h.result, h.rho) with their
    /// weights, and the other unsettled ones (faulty). A declaration slashed before the header (against a
    /// jury's decision) is checked against its slot and left out of both lists: it is settled, and a header
    /// must still be possible after anyone slashed it. Unless `juried`, every declaration must name h.result
    /// and the builder's must open.
    function openAll(
        bytes32 domain,
        uint64 jobId,
        uint32 stage,
        bytes32 anchor,
        HeaderData calldata h,
        DeclarationData[] calldata decls,
        uint256[] calldata slots,
        bool juried
    ) external pure returns (address[] memory openers, uint64[] memory weights, address[] memory faulty) {
        uint256 n = decls.length;
        openers = new address[](n);
        weights = new uint64[](n);
        faulty = new address[](n);
        uint256 o;
        uint256 f;
        bool builderOpened;
        address prev;
        for (uint256 i = 0; i < n; ++i) {
            DeclarationData calldata d = decls[i];
            if (d.declarer <= prev) revert DeclarationsNotSorted();
            prev = d.declarer;
            uint8 status = uint8(slots[i] >> 216);
            if (status == DECL_SLASHED && juried) {
                verify(domain, jobId, stage, anchor, d, slots[i], h.result, h.rho);
                continue;
            }
            if (status != DECL_DECLARED) revert NotDeclared(d.declarer);
            if (!juried && d.resultHash != h.result) revert StageDisputed();
            if (verify(domain, jobId, stage, anchor, d, slots[i], h.result, h.rho)) {
                openers[o] = d.declarer;
                weights[o++] = uint64(slots[i] >> 152);
                if (d.declarer == h.builder) builderOpened = true;
            } else {
                faulty[f++] = d.declarer;
            }
        }
        if (!builderOpened && !juried) revert BuilderNotOpened();
        assembly ("memory-safe") {
            mstore(openers, o)
            mstore(weights, o)
            mstore(faulty, f)
        }
    }
}
