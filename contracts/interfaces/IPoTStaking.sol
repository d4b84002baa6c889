// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The staking interface the PoT ledger relies on
/// @notice Stake in PoT tokens: weight for PoS seals (coin age), tickets for follow-the-coin draws
/// (PoA committees and juries), and the bond that provable faults are slashed from.
/// @dev The ledger is the only contract allowed to reset coin age and to slash.
interface IPoTStaking {
    /// @notice Active stake of `staker` (excludes stake that is unbonding).
    function stakeOf(address staker) external view returns (uint256);

    /// @notice Sum of all active stakes; equals the sum-tree root.
    function totalStake() external view returns (uint256);

    /// @notice Coin age weight of `staker` now: stakeOf * min(now - since, maxAge), in wei-seconds.
    function coinAgeOf(address staker) external view returns (uint256);

    /// @notice Active stake and coin age of `staker` in one call (what a PoS seal check needs).
    function sealWeightOf(address staker) external view returns (uint256 stake, uint256 coinAge);

    /// @notice Restarts `staker`'s coin age (a seal it made landed in a wrapped block). Ledger only.
    function resetCoinAge(address staker) external;

    /// @notice Restarts `staker`'s coin age and returns the coin age it had. Ledger only.
    function consumeCoinAge(address staker) external returns (uint256 age);

    /// @notice Restarts the coin age of every staker listed (no duplicates) and returns the coin ages
    /// they had, in order. Ledger only.
    function consumeCoinAges(address[] calldata stakers) external returns (uint256[] memory ages);

    /// @notice Takes up to `amount` of `staker`'s stake (active first, then unbonding) and sends it
    /// to `beneficiary`. Ledger only. Returns what was actually taken.
    function slash(address staker, uint256 amount, address beneficiary) external returns (uint256 slashed);

    /// @notice Draws `k` distinct stakers, stake-weighted, from `seed` (docs/PROTOCOL.md, "Follow-the-coin").
    /// @dev Reverts when fewer than `k` stakers hold active stake.
    function draw(bytes32 seed, uint256 k) external view returns (address[] memory);
}
