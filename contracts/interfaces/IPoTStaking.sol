// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The staking interface the PoT ledger relies on
/// @notice Stake in PoT tokens: weight for PoS seals (coin age), tickets for follow-the-coin draws
/// (PoA committees and juries), and the bond that provable faults are slashed from.
/// @dev The ledger and, if set, one slasher contract are the only callers allowed to slash. The ledger keeps its own copy of (stake, coin-age origin)
/// for seal checks, which staking keeps in sync (PoTStaking, `IPoTSealMirror`).
interface IPoTStaking {
    /// @notice Active stake of `staker` (excludes stake that is unbonding).
    function stakeOf(address staker) external view returns (uint256);

    /// @notice Sum of all active stakes (wei). Draws use the draw weights (whole gwei, fixed per epoch).
    function totalStake() external view returns (uint256);

    /// @notice Coin age weight of `staker` now: stakeOf * min(now - since, maxAge), in wei-seconds.
    function coinAgeOf(address staker) external view returns (uint256);

    /// @notice Active stake and coin age of `staker` in one call (what a PoS seal check needs).
    function sealWeightOf(address staker) external view returns (uint256 stake, uint256 coinAge);

    /// @notice The timestamp `staker`'s coin age counts from.
    function stakeSinceOf(address staker) external view returns (uint64);

    /// @notice Cap on the age part of coin age, in seconds.
    function maxCoinAgeSeconds() external view returns (uint64);

    /// @notice Takes up to `amount` of `staker`'s stake (active first, then unbonding), pays `reporter` at
    /// most `slashBountyBps` of it and burns the rest. Ledger or slasher only. Returns what was taken.
    function slash(address staker, uint256 amount, address reporter) external returns (uint256 slashed);

    /// @notice The reporter's share of a slash in basis points (at most 1000); the rest is burned.
    function slashBountyBps() external view returns (uint256);

    /// @notice Blocks per draw epoch: draws use the weights as of the start of their randomness block's
    /// epoch (`randBlock / epochBlocks`), and can be evaluated in that epoch or the next one only.
    function epochBlocks() external view returns (uint256);

    /// @notice Draws `k` distinct stakers, stake-weighted, from `seed` (docs/PROTOCOL.md, "Follow-the-coin"),
    /// over the draw weights as of the start of the epoch of `randBlock`, the block whose hash `seed`
    /// comes from (changes made in that epoch or later do not count).
    /// @dev Reverts when fewer than `k` stakers hold draw weight in that epoch, and when that epoch is not
    /// the current one or the one before.
    function draw(bytes32 seed, uint256 k, uint256 randBlock) external view returns (address[] memory);

    /// @notice Reverts (NotDrawn) unless `members` is exactly `draw(seed, members.length, randBlock)`, in
    /// order; cheaper than `draw` (no tree descent).
    function verifyDraw(bytes32 seed, address[] calldata members, uint256 randBlock) external view;

    /// @notice Draws `k` seats WITH replacement (a staker may hold several; one holding m seats counts m
    /// times), stake-weighted over the draw weights of `randBlock`'s epoch, never giving a seat to
    /// `excluded` (address(0): nobody excluded). Seat i takes ticket
    /// uint256(keccak256(abi.encode(SEAT_TYPEHASH, seed, i))) mod (W - w_ex), moved past `excluded`'s
    /// interval of the cumulative weights (docs/PROTOCOL.md, "Follow-the-coin").
    /// @dev Reverts NotEnoughStakers(k, 0) when nobody but `excluded` holds draw weight, and like `draw`
    /// on the epoch.
    function drawSeats(
        bytes32 seed,
        uint256 k,
        uint256 randBlock,
        address excluded
    ) external view returns (address[] memory seats);

    /// @notice Reverts (NotDrawn(index, member)) unless `seats` is exactly
    /// `drawSeats(seed, seats.length, randBlock, excluded)`, in order; O(k log n), no tree descent.
    function verifySeats(
        bytes32 seed,
        address[] calldata seats,
        uint256 randBlock,
        address excluded
    ) external view;
}
