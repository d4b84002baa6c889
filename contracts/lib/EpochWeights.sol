// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title A weight with a two-epoch history, packed in one storage word
/// @notice Draw weights (PoTStaking) change at once but count for draws only from the next epoch: a read
/// asks for the weight "as of the start of epoch X", i.e. after every change made in epochs < X. One word
/// keeps what that needs for X in {t - 1, t} (t = the current epoch), so no write ever touches a fresh slot.
/// @dev Layout of a word `h` (weights are uint64, in the caller's unit; PoTStaking uses gwei):
///   bits   0..63   cur     the weight now (after every change so far)
///   bits  64..127  atLast  the weight at the start of epoch `last` (before the changes made in it)
///   bits 128..191  atPrev  the weight at the start of epoch `last - 1`
///   bits 192..223  last    the epoch of the latest change (uint32)
///   bits 224..255  extra   32 bits the caller may use (PoTStaking keeps a staker's leaf there); kept as is
/// A word of zeros is a weight that was always 0. Writes in epoch t first roll the history to t:
/// last == t: nothing; last == t - 1: atPrev = atLast, atLast = cur; older: atPrev = atLast = cur.
/// Reads as of the start of epoch X, valid for last <= X + 1 (the caller guarantees X >= t - 1 and
/// last <= t): last < X: cur; last == X: atLast; last == X + 1: atPrev.
library EpochWeights {
    uint256 private constant _M64 = type(uint64).max;
    uint256 private constant _M32 = type(uint32).max;
    /// @dev Everything but the 32 `extra` bits.
    uint256 private constant _HISTORY = (uint256(1) << 224) - 1;

    /// @notice A weight would exceed uint64 (in the caller's unit).
    error EpochWeightOverflow();
    /// @notice An epoch number does not fit in uint32.
    error EpochOverflow(uint256 epoch);

    /// @notice The weight as of the start of epoch `epoch`, for `epoch` >= last - 1 (see the layout).
    function at(uint256 h, uint256 epoch) internal pure returns (uint256) {
        uint256 last = (h >> 192) & _M32;
        if (last < epoch) return h & _M64;
        if (last == epoch) return (h >> 64) & _M64;
        return (h >> 128) & _M64;
    }

    /// @notice The weight now (after every change so far).
    function current(uint256 h) internal pure returns (uint256) {
        return h & _M64;
    }

    /// @notice The 32 caller bits.
    function extra(uint256 h) internal pure returns (uint256) {
        return h >> 224;
    }

    /// @notice `h` with the 32 caller bits set to `value` (< 2^32).
    function withExtra(uint256 h, uint256 value) internal pure returns (uint256) {
        return (h & _HISTORY) | (value << 224);
    }

    /// @notice `h` rolled to epoch `t` (>= its last epoch), then its current weight raised by `delta`.
    function add(uint256 h, uint256 t, uint256 delta) internal pure returns (uint256) {
        h = roll(h, t);
        uint256 cur = (h & _M64) + delta;
        if (cur > _M64) revert EpochWeightOverflow();
        return (h & ~_M64) | cur;
    }

    /// @notice `h` rolled to epoch `t` (>= its last epoch), then its current weight lowered by `delta`
    /// (reverts on underflow).
    function sub(uint256 h, uint256 t, uint256 delta) internal pure returns (uint256) {
        h = roll(h, t);
        return (h & ~_M64) | ((h & _M64) - delta);
    }

    /// @notice `h` with its history moved to epoch `t` (>= its last epoch); the weights do not change.
    function roll(uint256 h, uint256 t) internal pure returns (uint256) {
        uint256 last = (h >> 192) & _M32;
        if (last == t) return h;
        if (t > _M32) revert EpochOverflow(t);
        uint256 cur = h & _M64;
        uint256 atPrev = last + 1 == t ? (h >> 64) & _M64 : cur;
        return (h & ~_HISTORY) | (t << 192) | (atPrev << 128) | (cur << 64) | cur;
    }

    /// @notice A word at epoch `t` whose weight was `atLast` at the start of `t`, `atPrev` at the start
    /// of `t - 1`, and is `cur` now (all < 2^64), with no caller bits.
    function pack(uint256 cur, uint256 atLast, uint256 atPrev, uint256 t) internal pure returns (uint256) {
        if (cur > _M64 || atLast > _M64 || atPrev > _M64) revert EpochWeightOverflow();
        if (t > _M32) revert EpochOverflow(t);
        return (t << 192) | (atPrev << 128) | (atLast << 64) | cur;
    }

    /// @notice The three weights of `h` once rolled to epoch `t`: now, at the start of `t`, at the start
    /// of `t - 1`.
    function unpack(
        uint256 h,
        uint256 t
    ) internal pure returns (uint256 cur, uint256 atLast, uint256 atPrev) {
        h = roll(h, t);
        return (h & _M64, (h >> 64) & _M64, (h >> 128) & _M64);
    }
}
