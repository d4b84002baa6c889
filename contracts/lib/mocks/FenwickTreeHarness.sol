// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FenwickTree} from "../FenwickTree.sol";

/// @title Test only: exposes the FenwickTree library, including its defensive reverts
/// @notice Writes take the epoch `t` they happen in (non-decreasing across calls); reads take the epoch `x`
/// whose starting weights they want (x >= t - 1 for the latest write epoch t).
contract FenwickTreeHarness {
    using FenwickTree for FenwickTree.Tree;

    FenwickTree.Tree private _tree;

    /// @notice Appends a leaf.
    function append(uint256 value, uint256 t) external returns (uint256) {
        return _tree.append(value, t);
    }

    /// @notice Adds to a leaf.
    function add(uint256 leaf, uint256 delta, uint256 t) external {
        _tree.add(leaf, delta, t);
    }

    /// @notice Subtracts from a leaf.
    function sub(uint256 leaf, uint256 delta, uint256 t) external {
        _tree.sub(leaf, delta, t);
    }

    /// @notice Sum of leaves 1..leaf.
    function prefixSum(uint256 leaf, uint256 x) external view returns (uint256) {
        return _tree.prefixSum(leaf, x);
    }

    /// @notice Sum of all leaves.
    function total(uint256 x) external view returns (uint256) {
        return _tree.total(x);
    }

    /// @notice Number of leaves.
    function size() external view returns (uint256) {
        return _tree.size;
    }

    /// @notice First leaf whose cumulative weight, excluding `excluded`, exceeds `ticket`.
    function find(
        uint256 ticket,
        uint256[] calldata excluded,
        uint256[] calldata excludedWeights,
        uint256 x
    ) external view returns (uint256) {
        return _tree.find(ticket, excluded, excludedWeights, excluded.length, x);
    }
}
