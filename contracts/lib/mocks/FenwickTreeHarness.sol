// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FenwickTree} from "../FenwickTree.sol";

/// @title Test only: exposes the FenwickTree library, including its defensive reverts
contract FenwickTreeHarness {
    using FenwickTree for FenwickTree.Tree;

    FenwickTree.Tree private _tree;

    /// @notice Appends a leaf.
    function append(uint256 value) external returns (uint256) {
        return _tree.append(value);
    }

    /// @notice Adds to a leaf.
    function add(uint256 leaf, uint256 delta) external {
        _tree.add(leaf, delta);
    }

    /// @notice Subtracts from a leaf.
    function sub(uint256 leaf, uint256 delta) external {
        _tree.sub(leaf, delta);
    }

    /// @notice Sum of leaves 1..leaf.
    function prefixSum(uint256 leaf) external view returns (uint256) {
        return _tree.prefixSum(leaf);
    }

    /// @notice Sum of all leaves.
    function total() external view returns (uint256) {
        return _tree.total();
    }

    /// @notice Number of leaves.
    function size() external view returns (uint256) {
        return _tree.size;
    }

    /// @notice First leaf whose cumulative weight, excluding `excluded`, exceeds `ticket`.
    function find(
        uint256 ticket,
        uint256[] calldata excluded,
        uint256[] calldata excludedWeights
    ) external view returns (uint256) {
        return _tree.find(ticket, excluded, excludedWeights, excluded.length);
    }
}
