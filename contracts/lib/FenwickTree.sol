// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {EpochWeights} from "./EpochWeights.sol";

/// @title A growable Fenwick (binary indexed) tree of epoch-versioned uint64 weights in storage
/// @notice Leaves are numbered 1..size in order of `append`; a leaf exists forever (its weight may be 0).
/// Node `i` holds the sum of leaves `(i - lowbit(i), i]`, so a weight update touches at most
/// `log2(size) + 1` nodes and a prefix search descends in `floor(log2(size)) + 1` steps.
/// Every node is an `EpochWeights` word: the sum now and as of the start of the last two epochs in which it
/// changed. Updates take the current epoch `t`; reads take the epoch `x` whose starting weights they want,
/// and are valid for x in {t - 1, t} (the caller checks that), so a draw reads the tree as it was when its
/// epoch began, whatever changed since.
/// @dev Chosen over an implicit heap-shaped binary tree because it grows one leaf at a time without a
/// fixed capacity and without rebuilding: appending leaf `i` initialises node `i` from the nodes it
/// covers (O(log n) reads). The sum of all leaves is not stored at one node; callers that need the total
/// in O(1) keep it themselves (`total` recomputes it in O(log n)).
library FenwickTree {
    using EpochWeights for uint256;

    struct Tree {
        uint256 size;
        mapping(uint256 node => uint256 sum) nodes;
    }

    /// @notice A leaf index outside 1..size was used.
    error FenwickLeafOutOfRange(uint256 leaf, uint256 size);
    /// @notice A search ticket was not below the (adjusted) sum of all leaves.
    error FenwickTicketOutOfRange(uint256 ticket);

    /// @notice Appends a leaf of weight `value` (0 at the start of epoch `t`, `value` from then on);
    /// returns its index (the new size).
    function append(Tree storage tree, uint256 value, uint256 t) internal returns (uint256 leaf) {
        leaf = tree.size + 1;
        uint256 cur = value;
        uint256 atLast;
        uint256 atPrev;
        uint256 low = _lowbit(leaf);
        // Node `leaf` covers (leaf - low, leaf]: the leaf itself plus nodes leaf-1, leaf-2, leaf-4, ...
        for (uint256 j = 1; j < low; j <<= 1) {
            (uint256 nodeCur, uint256 nodeLast, uint256 nodePrev) = tree.nodes[leaf - j].unpack(t);
            cur += nodeCur;
            atLast += nodeLast;
            atPrev += nodePrev;
        }
        tree.nodes[leaf] = EpochWeights.pack(cur, atLast, atPrev, t);
        tree.size = leaf;
    }

    /// @notice Adds `delta` to the weight of `leaf` in epoch `t` (counts as of the start of `t + 1`).
    function add(Tree storage tree, uint256 leaf, uint256 delta, uint256 t) internal {
        uint256 n = tree.size;
        if (leaf == 0 || leaf > n) revert FenwickLeafOutOfRange(leaf, n);
        for (uint256 i = leaf; i <= n; i += _lowbit(i)) {
            tree.nodes[i] = tree.nodes[i].add(t, delta);
        }
    }

    /// @notice Subtracts `delta` from the weight of `leaf` in epoch `t` (reverts on underflow).
    function sub(Tree storage tree, uint256 leaf, uint256 delta, uint256 t) internal {
        uint256 n = tree.size;
        if (leaf == 0 || leaf > n) revert FenwickLeafOutOfRange(leaf, n);
        for (uint256 i = leaf; i <= n; i += _lowbit(i)) {
            tree.nodes[i] = tree.nodes[i].sub(t, delta);
        }
    }

    /// @notice Sum of the weights of leaves 1..leaf as of the start of epoch `x`.
    function prefixSum(Tree storage tree, uint256 leaf, uint256 x) internal view returns (uint256 sum) {
        uint256 n = tree.size;
        if (leaf > n) revert FenwickLeafOutOfRange(leaf, n);
        for (uint256 i = leaf; i > 0; i -= _lowbit(i)) {
            sum += tree.nodes[i].at(x);
        }
    }

    /// @notice Sum of the weights of leaves 1..leaf as of the start of epoch `x`, without the range check
    /// (no read of `size`): the caller guarantees leaf <= size (e.g. a leaf it took from a staker's record).
    function prefixSumUnchecked(
        Tree storage tree,
        uint256 leaf,
        uint256 x
    ) internal view returns (uint256 sum) {
        for (uint256 i = leaf; i > 0; i -= _lowbit(i)) {
            sum += tree.nodes[i].at(x);
        }
    }

    /// @notice Sum of all leaves as of the start of epoch `x`, in O(log n).
    function total(Tree storage tree, uint256 x) internal view returns (uint256) {
        return prefixSum(tree, tree.size, x);
    }

    /// @notice The first leaf whose cumulative weight (as of the start of epoch `x`) exceeds `ticket`,
    /// where the leaves listed in `excluded[0..excludedCount)` count as weight 0 (their weights in epoch
    /// `x` are `excludedWeights`).
    /// @dev O(log n * excludedCount) reads, no writes: each visited node's sum is reduced by the weights of
    /// excluded leaves inside the node's range. The caller must ensure `ticket` is below the sum of all
    /// leaves minus the excluded weights; otherwise this reverts.
    function find(
        Tree storage tree,
        uint256 ticket,
        uint256[] memory excluded,
        uint256[] memory excludedWeights,
        uint256 excludedCount,
        uint256 x
    ) internal view returns (uint256 leaf) {
        uint256 n = tree.size;
        if (n == 0) revert FenwickTicketOutOfRange(ticket);
        uint256 pos = 0;
        uint256 rest = ticket;
        for (uint256 step = 1 << Math.log2(n); step > 0; step >>= 1) {
            uint256 next = pos + step;
            if (next > n) continue;
            uint256 sum = tree.nodes[next].at(x);
            for (uint256 d = 0; d < excludedCount; ++d) {
                uint256 e = excluded[d];
                if (e > pos && e <= next) sum -= excludedWeights[d];
            }
            if (sum <= rest) {
                pos = next;
                rest -= sum;
            }
        }
        leaf = pos + 1;
        if (leaf > n) revert FenwickTicketOutOfRange(ticket);
    }

    function _lowbit(uint256 i) private pure returns (uint256) {
        unchecked {
            return i & (~i + 1);
        }
    }
}
