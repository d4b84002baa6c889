// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Immutables keep camelCase names: they are part of the ABI (token(), unbondingDelay(), ...).
// solhint-disable immutable-vars-naming

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IPoTStaking} from "./interfaces/IPoTStaking.sol";
import {IPoTToken} from "./interfaces/IPoTToken.sol";
import {EpochWeights} from "./lib/EpochWeights.sol";
import {FenwickTree} from "./lib/FenwickTree.sol";
import {LedgerGated} from "./lib/LedgerGated.sol";

/// @notice What staking needs from the ledger's copy of the seal weights (PoTStages implements it).
interface IPoTSealMirror {
    /// @notice Records `staker`'s active stake and coin-age origin (staking only).
    function syncSeal(address staker, uint256 active, uint64 since) external;

    /// @notice The ledger's copy: active stake, coin-age origin, and whether it was ever synced.
    function sealOf(address staker) external view returns (uint256 active, uint64 since, bool synced);
}

/// @title PoT staking: coin age, follow-the-coin draws, unbonding, slashing and a peer registry
/// @notice Stakers lock PoT here. Active stake gives (1) coin age, the weight of PoS seals, (2) tickets in
/// follow-the-coin draws of PoA committees and juries, and (3) a bond the ledger (or the slasher) slashes
/// for provable faults: the reporter gets at most `slashBountyBps` of what is taken, the rest is burned, so
/// an offender reporting itself never gets its stake back. `requestUnstake` moves stake to unbonding at once (no more coin age; no more draws from the next
/// epoch) but it stays slashable until `withdrawUnstaked` after `unbondingDelay`.
/// Draw weights are fixed per epoch (`epochBlocks` blocks): a draw whose randomness block was mined in
/// epoch X uses the weights as of the start of X, i.e. every change made in blocks < X * epochBlocks. A
/// stake, unstake or slash changes the bond and coin age at once, but the draw weight only from the next
/// epoch, so nobody can move tickets after seeing a draw's randomness (docs/contracts/staking.md, "Draw
/// weights by epoch"). A draw can be evaluated in its randomness epoch or the next one (older: EpochTooOld),
/// so `epochBlocks` must be at least the longest lag between a randomness block and its draw.
/// The draw weight of a staker is its active stake in whole gwei (`DRAW_WEIGHT_UNIT` = 1e9 wei, rounded
/// down), capped at `MAX_STAKER_DRAW_WEIGHT`: draw probabilities are proportional to it, not to the
/// 18-decimal stake (rounding lowers each weight by less than 1 gwei). The cap keeps the uint64 sums of the
/// tree free for others: stake above it is bonded, slashable and earns coin age, but buys no more tickets.
/// Two kinds of draw: `draw` (k distinct stakers, without replacement) and `drawSeats` (k seats with
/// replacement, skipping one excluded account), docs/PROTOCOL.md "Follow-the-coin".
/// @dev Draw weights live in a Fenwick tree (library FenwickTree), one leaf per staker in order of first
/// stake, kept forever (a zero weight takes no room in draws). Every node, the total and each staker's
/// weight are one `EpochWeights` word each (the value now and at the start of the last two epochs in which
/// it changed), so an update is O(log n) writes of slots already in use and a read of any epoch in
/// {now - 1, now} is O(1) per node. `draw` is O(k log n) tree reads plus O(k^2 log n) memory work for
/// the already-drawn leaves (k is small). `totalStake` is the sum of all active stakes (wei); the tree's
/// total is the sum of the draw weights (gwei).
/// Coin age: the ledger keeps a copy of (active, stakeSince) per staker (its seal checks then need no call
/// here) and restarts coin age itself when a seal lands in a wrapped block. This contract pushes every
/// change of active stake or origin to that copy (`IPoTSealMirror.syncSeal`) and reads the origin back
/// from it (`_since`), so both always agree. While the ledger is not a contract (tests bind an account),
/// nothing is pushed and the origin kept here is the only one.
contract PoTStaking is IPoTStaking, LedgerGated, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using FenwickTree for FenwickTree.Tree;
    using EpochWeights for uint256;

    /// @notice Domain of follow-the-coin tickets: keccak256("PoT.FollowTheCoin(bytes32 seed,uint256 draw)").
    bytes32 public constant FTC_TYPEHASH = keccak256("PoT.FollowTheCoin(bytes32 seed,uint256 draw)");
    /// @notice Longest multiaddr `setPeer` accepts, in bytes.
    uint256 public constant MAX_MULTIADDR_LENGTH = 256;
    /// @notice Domain of seat tickets: keccak256("PoT.Seat(bytes32 seed,uint256 seat)").
    bytes32 public constant SEAT_TYPEHASH = keccak256("PoT.Seat(bytes32 seed,uint256 seat)");
    /// @notice Wei per unit of draw weight: a staker's draw weight is
    /// min(floor(active stake / 1e9), MAX_STAKER_DRAW_WEIGHT) (gwei).
    uint256 public constant DRAW_WEIGHT_UNIT = 1e9;
    /// @notice The most draw weight one staker holds (2^56 gwei, about 72.06 million POT): 1/256 of the
    /// uint64 range of the tree's sums, so no single stake can fill the total and block other stakes.
    uint256 public constant MAX_STAKER_DRAW_WEIGHT = 2 ** 56;
    /// @notice Largest `slashBountyBps` the constructor accepts (10%).
    uint256 public constant MAX_SLASH_BOUNTY_BPS = 1000;

    /// @notice The PoT token staked here.
    IERC20 public immutable token;
    /// @notice Seconds between `requestUnstake` and the earliest `withdrawUnstaked`.
    uint64 public immutable unbondingDelay;
    /// @notice Cap on the age part of coin age, in seconds.
    uint64 public immutable maxCoinAgeSeconds;
    /// @notice Blocks per draw epoch: draw weights change only when `block.number / epochBlocks` does.
    uint256 public immutable epochBlocks;
    /// @notice Share of a slash paid to the reporter, in basis points (<= MAX_SLASH_BOUNTY_BPS); the rest
    /// is burned.
    uint256 public immutable slashBountyBps;
    /// @notice A second contract allowed to `slash` besides the ledger (zero until `setSlasher`).
    address public slasher;

    /// @dev `active` and `stakeSince` share one slot: a seal check (`sealWeightOf`) reads one slot.
    struct Staker {
        uint128 active; // counts for coin age at once, for draws from the next epoch
        uint64 stakeSince; // coin-age origin
        uint128 unbonding; // waiting for release; still slashable
        uint64 unbondingReleaseAt; // earliest withdrawal of `unbonding`
    }

    mapping(address staker => Staker) private _stakers;
    /// @dev The staker's draw weight (EpochWeights word, gwei) with its 1-based leaf in the 32 extra bits
    /// (0 = never staked): `verifyDraw` reads one slot per member.
    mapping(address staker => uint256 word) private _drawWeights;
    mapping(uint256 leaf => address staker) private _leafOwner;
    mapping(address staker => string multiaddr) private _peers;
    FenwickTree.Tree private _tree;

    uint256 private _totalStake;
    /// @dev Sum of all draw weights (EpochWeights word, gwei).
    uint256 private _drawTotal;
    /// @notice Sum of all unbonding (not yet withdrawn) stake.
    uint256 public totalUnbonding;

    /// @notice `staker` took leaf `index` (0-based, order of first stake) in the draw order.
    event StakerRegistered(address indexed staker, uint256 index);
    /// @notice `staker` added `amount`; its active stake is now `active`, its coin age counts from `stakeSince`.
    event Staked(address indexed staker, uint256 amount, uint256 active, uint64 stakeSince);
    /// @notice `staker` moved `amount` to unbonding; `unbonding` in total, withdrawable from `releaseAt`.
    event UnstakeRequested(address indexed staker, uint256 amount, uint256 unbonding, uint64 releaseAt);
    /// @notice `staker` withdrew `amount` of released unbonding stake.
    event Withdrawn(address indexed staker, uint256 amount);
    /// @notice `fromActive + fromUnbonding` of `staker`'s stake was taken: `bounty` went to `reporter`,
    /// `burned` was burned (bounty + burned = fromActive + fromUnbonding).
    event Slashed(
        address indexed staker,
        address indexed reporter,
        uint256 fromActive,
        uint256 fromUnbonding,
        uint256 bounty,
        uint256 burned
    );
    /// @notice `slasher` may now call `slash` too.
    event SlasherSet(address indexed slasher);
    /// @notice `staker` announced its IPFS node at `multiaddr` (empty = removed).
    event PeerSet(address indexed staker, string multiaddr);

    /// @notice An amount argument was zero.
    error ZeroAmount();
    /// @notice `maxCoinAgeSeconds` was zero.
    error InvalidMaxCoinAge();
    /// @notice Asked to unstake `requested` with only `available` active.
    error InsufficientStake(uint256 requested, uint256 available);
    /// @notice The caller has no unbonding stake.
    error NothingToWithdraw();
    /// @notice The unbonding stake is locked until `releaseAt`.
    error UnbondingNotFinished(uint64 releaseAt);
    /// @notice `draw` was asked for zero stakers.
    error ZeroDrawCount();
    /// @notice `draw` was asked for `k` stakers but only `holders` hold draw weight in the draw's epoch.
    error NotEnoughStakers(uint256 k, uint256 holders);
    /// @notice `epochBlocks` was zero.
    error InvalidEpochBlocks();
    /// @notice A draw's randomness epoch `epoch` is more than one epoch before the current one `current`:
    /// its weights are no longer kept (draw within `epochBlocks` blocks of the randomness block).
    error EpochTooOld(uint256 epoch, uint256 current);
    /// @notice A draw's randomness epoch `epoch` has not started yet (its weights are not fixed).
    error EpochNotStarted(uint256 epoch, uint256 current);
    /// @notice A multiaddr was empty or longer than `MAX_MULTIADDR_LENGTH`.
    error InvalidMultiaddrLength(uint256 length);
    /// @notice `stakerAt` was given an index at or past `stakerCount()`.
    error StakerIndexOutOfRange(uint256 index, uint256 count);
    /// @notice The staker has `unsettled` declarations not yet wrapped, slashed or released: its stake stays
    /// (slashable) until they are (the ledger's `bondedOf`).
    error StakeBonded(uint256 unsettled);
    /// @notice `verifyDraw`/`verifySeats`: member `index` is not what the draw gives at that position.
    error NotDrawn(uint256 index, address member);
    /// @notice `slashBountyBps` was above `MAX_SLASH_BOUNTY_BPS`.
    error InvalidSlashBountyBps(uint256 bps);
    /// @notice `caller` is neither the ledger nor the slasher.
    error NotSlasher(address caller);
    /// @notice The slasher is already `slasher` and cannot change.
    error SlasherAlreadySet(address slasher);

    /// @param token_ the PoT token
    /// @param unbondingDelay_ seconds unbonding stake stays locked (and slashable); the ledger's deployment
    /// sets it above the longest a stage can stay open (deadlines plus the jury window)
    /// @param maxCoinAgeSeconds_ cap on the age part of coin age (non-zero)
    /// @param epochBlocks_ blocks per draw epoch (non-zero); at least the longest lag between a draw's
    /// randomness block and its evaluation (the ledger checks it against its PoA window)
    /// @param slashBountyBps_ the reporter's share of a slash in basis points (<= MAX_SLASH_BOUNTY_BPS);
    /// the rest is burned (the token must have `burn(uint256)`, IPoTToken)
    constructor(
        IERC20 token_,
        uint64 unbondingDelay_,
        uint64 maxCoinAgeSeconds_,
        uint256 epochBlocks_,
        uint256 slashBountyBps_
    ) {
        if (address(token_) == address(0)) revert ZeroAddress();
        if (maxCoinAgeSeconds_ == 0) revert InvalidMaxCoinAge();
        if (epochBlocks_ == 0) revert InvalidEpochBlocks();
        if (slashBountyBps_ > MAX_SLASH_BOUNTY_BPS) revert InvalidSlashBountyBps(slashBountyBps_);
        token = token_;
        unbondingDelay = unbondingDelay_;
        maxCoinAgeSeconds = maxCoinAgeSeconds_;
        epochBlocks = epochBlocks_;
        slashBountyBps = slashBountyBps_;
    }

    /// @notice Lets `newSlasher` call `slash` besides the ledger (e.g. a disputes contract while a stages
    /// contract is the ledger). Admin only, once, and only before `setLedger`: once the ledger is bound
    /// the admin can never add a slasher, so it keeps no power over stakes.
    /// @param newSlasher the extra slashing contract (non-zero)
    function setSlasher(address newSlasher) external {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        if (slasher != address(0)) revert SlasherAlreadySet(slasher);
        if (ledger != address(0)) revert LedgerAlreadySet(ledger);
        if (newSlasher == address(0)) revert ZeroAddress();
        slasher = newSlasher;
        emit SlasherSet(newSlasher);
    }

    // ------------------------------------------------------------------ staking

    /// @notice Stakes `amount` PoT of the caller (approve this contract first).
    /// @dev Coin age is not inflated by adding stake: the new `stakeSince` is the stake-weighted average of
    /// the old origin (clamped to `now - maxCoinAgeSeconds`, so already-capped age does not spill over) and
    /// now, rounded up, so coin age right after `stake` is at most what it was before. A first stake
    /// starts at now. The draw weight grows from the next epoch on.
    /// @param amount wei to stake (non-zero)
    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Staker storage s = _stakers[msg.sender];
        uint256 old = s.active;
        uint256 updated = old + amount;
        uint64 since = _blendedSince(old, _since(msg.sender, s), amount);

        uint256 t = block.number / epochBlocks;
        uint256 delta = _weightOf(updated) - _weightOf(old);
        uint256 word = _drawWeights[msg.sender];
        uint256 leaf = word.extra();
        if (leaf == 0) {
            leaf = _tree.append(delta, t);
            _leafOwner[leaf] = msg.sender;
            emit StakerRegistered(msg.sender, leaf - 1);
            _drawWeights[msg.sender] = word.withExtra(SafeCast.toUint32(leaf)).add(t, delta);
        } else if (delta != 0) {
            _tree.add(leaf, delta, t);
            _drawWeights[msg.sender] = word.add(t, delta);
        }
        if (delta != 0) _drawTotal = _drawTotal.add(t, delta);
        s.active = SafeCast.toUint128(updated);
        s.stakeSince = since;
        _totalStake += amount;
        emit Staked(msg.sender, amount, updated, since);
        _sync(msg.sender, s);

        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Moves `amount` of the caller's active stake to unbonding. It stops counting for coin age at
    /// once and for draws from the next epoch, stays slashable, and can be withdrawn from
    /// `now + unbondingDelay`.
    /// @dev Unbonding is one aggregate per staker: a new request adds to it and moves the release time of
    /// the whole aggregate to `now + unbondingDelay` (so a slash is O(1) whatever the history).
    /// @param amount wei to unstake (non-zero, at most the active stake)
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Staker storage s = _stakers[msg.sender];
        uint256 active = s.active;
        if (amount > active) revert InsufficientStake(amount, active);
        _removeActive(msg.sender, s, amount);
        _sync(msg.sender, s);
        uint256 unbonding = s.unbonding + amount;
        uint64 releaseAt = SafeCast.toUint64(block.timestamp + unbondingDelay);
        s.unbonding = SafeCast.toUint128(unbonding);
        s.unbondingReleaseAt = releaseAt;
        totalUnbonding += amount;
        emit UnstakeRequested(msg.sender, amount, unbonding, releaseAt);
    }

    /// @notice Sends the caller all of its unbonding stake once `unbondingDelay` has passed.
    function withdrawUnstaked() external nonReentrant {
        Staker storage s = _stakers[msg.sender];
        uint256 amount = s.unbonding;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < s.unbondingReleaseAt) revert UnbondingNotFinished(s.unbondingReleaseAt);
        uint256 bonded = _bondedOf(msg.sender);
        if (bonded != 0) revert StakeBonded(bonded);
        s.unbonding = 0;
        s.unbondingReleaseAt = 0;
        totalUnbonding -= amount;
        emit Withdrawn(msg.sender, amount);

        token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ ledger and slasher only

    /// @notice Takes up to `amount` of `staker`'s stake, active first, then unbonding; pays `reporter`
    /// floor(taken * slashBountyBps / 10000) and burns the rest. Ledger or slasher only. The bond shrinks at
    /// once; the draw weight from the next epoch. Whoever reports, an offender never gets back more than
    /// `slashBountyBps` of what it is slashed.
    /// @param staker the faulty staker
    /// @param amount the most to take, in wei
    /// @param reporter the recipient of the bounty (non-zero)
    /// @return slashed what was actually taken, bounty included (0 when the staker has nothing; then
    /// nothing happens)
    function slash(
        address staker,
        uint256 amount,
        address reporter
    ) external nonReentrant returns (uint256 slashed) {
        // msg.sender is never zero, so an unset slasher (or ledger) matches nobody
        if (msg.sender != ledger && msg.sender != slasher) revert NotSlasher(msg.sender);
        if (reporter == address(0)) revert ZeroAddress();
        Staker storage s = _stakers[staker];
        uint256 fromActive = Math.min(amount, s.active);
        uint256 fromUnbonding = Math.min(amount - fromActive, s.unbonding);
        slashed = fromActive + fromUnbonding;
        if (slashed == 0) return 0;
        if (fromUnbonding > 0) {
            s.unbonding -= SafeCast.toUint128(fromUnbonding);
            totalUnbonding -= fromUnbonding;
        }
        uint256 bounty = (slashed * slashBountyBps) / 10_000;
        uint256 burned = slashed - bounty;
        emit Slashed(staker, reporter, fromActive, fromUnbonding, bounty, burned);
        if (fromActive > 0) {
            _removeActive(staker, s, fromActive);
            // the caller finished its own state changes first (checks-effects-interactions)
            _sync(staker, s);
        }

        if (bounty != 0) token.safeTransfer(reporter, bounty);
        if (burned != 0) IPoTToken(address(token)).burn(burned);
    }

    // ------------------------------------------------------------------ peer registry

    /// @notice Announces the caller's IPFS node, so miners find each other without a public DHT.
    /// @param multiaddr e.g. "/ip4/203.0.113.7/tcp/4001/p2p/12D3Koo..." (1..MAX_MULTIADDR_LENGTH bytes)
    function setPeer(string calldata multiaddr) external {
        uint256 length = bytes(multiaddr).length;
        if (length == 0 || length > MAX_MULTIADDR_LENGTH) revert InvalidMultiaddrLength(length);
        _peers[msg.sender] = multiaddr;
        emit PeerSet(msg.sender, multiaddr);
    }

    /// @notice Removes the caller's announced IPFS node.
    function clearPeer() external {
        delete _peers[msg.sender];
        emit PeerSet(msg.sender, "");
    }

    /// @notice The multiaddr `account` announced ("" if none).
    /// @param account the announcer
    function peerOf(address account) external view returns (string memory) {
        return _peers[account];
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IPoTStaking
    function stakeOf(address staker) external view returns (uint256) {
        return _stakers[staker].active;
    }

    /// @inheritdoc IPoTStaking
    function totalStake() external view returns (uint256) {
        return _totalStake;
    }

    /// @notice The draw epoch of block `blockNumber`: draws seeded by its hash use the weights as of the
    /// start of that epoch (block `epoch * epochBlocks`).
    /// @param blockNumber any block number
    /// @return epoch `blockNumber / epochBlocks`
    function epochOf(uint256 blockNumber) external view returns (uint256 epoch) {
        return blockNumber / epochBlocks;
    }

    /// @notice The sum of all draw weights (gwei) a draw seeded by block `randBlock` uses: the weights as
    /// of the start of `epochOf(randBlock)`, which must be the current epoch or the one before.
    /// @param randBlock the draw's randomness block
    function drawWeightTotal(uint256 randBlock) external view returns (uint256) {
        return _drawTotal.at(_drawEpoch(randBlock));
    }

    /// @notice The sum of all leaves of the draw tree as of the start of `epochOf(randBlock)`, recomputed
    /// in O(log n); always equals `drawWeightTotal(randBlock)`.
    /// @param randBlock a block of the current epoch or the one before
    function treeTotal(uint256 randBlock) external view returns (uint256) {
        return _tree.total(_drawEpoch(randBlock));
    }

    /// @notice `staker`'s draw weight (gwei) in draws seeded by block `randBlock` (its active stake in
    /// gwei as of the start of `epochOf(randBlock)`, the current epoch or the one before).
    /// @param staker the staker
    /// @param randBlock the draw's randomness block
    function drawWeightOf(address staker, uint256 randBlock) external view returns (uint256) {
        return _drawWeights[staker].at(_drawEpoch(randBlock));
    }

    /// @inheritdoc IPoTStaking
    /// @dev Equals `coinAge(stakeOf, stakeSinceOf, block.timestamp, maxCoinAgeSeconds)` of src/protocol/pos.ts.
    function coinAgeOf(address staker) external view returns (uint256) {
        return _coinAge(staker, _stakers[staker]);
    }

    /// @inheritdoc IPoTStaking
    function sealWeightOf(address staker) external view returns (uint256 stake_, uint256 coinAge) {
        Staker storage s = _stakers[staker];
        return (s.active, _coinAge(staker, s));
    }

    /// @inheritdoc IPoTStaking
    function stakeSinceOf(address staker) external view returns (uint64) {
        return _since(staker, _stakers[staker]);
    }

    /// @notice `staker`'s unbonding stake and the earliest time it can be withdrawn.
    /// @param staker the staker
    function unbondingOf(address staker) external view returns (uint256 amount, uint64 releaseAt) {
        Staker storage s = _stakers[staker];
        return (s.unbonding, s.unbondingReleaseAt);
    }

    /// @notice Number of leaves (everyone who ever staked), i.e. the length of the draw order.
    function stakerCount() external view returns (uint256) {
        return _tree.size;
    }

    /// @notice The staker at 0-based `index` of the draw order (order of first stake).
    /// @param index 0-based leaf index, below `stakerCount()`
    function stakerAt(uint256 index) external view returns (address) {
        uint256 n = _tree.size;
        if (index >= n) revert StakerIndexOutOfRange(index, n);
        return _leafOwner[index + 1];
    }

    /// @notice A page of the draw order with active stakes: the `stakes` list followTheCoin expects.
    /// @param offset first 0-based index
    /// @param limit most entries to return
    function stakersPage(
        uint256 offset,
        uint256 limit
    ) external view returns (address[] memory stakers, uint256[] memory stakes) {
        uint256 n = _tree.size;
        uint256 end = offset >= n ? offset : (limit >= n - offset ? n : offset + limit);
        uint256 count = end - offset;
        stakers = new address[](count);
        stakes = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            address who = _leafOwner[offset + i + 1];
            stakers[i] = who;
            stakes[i] = _stakers[who].active;
        }
    }

    /// @notice A page of the draw order with the draw weights (gwei) of draws seeded by block `randBlock`:
    /// exactly the `stakes` list followTheCoin (src/protocol) takes to reproduce `draw(seed, k, randBlock)`.
    /// @param offset first 0-based index
    /// @param limit most entries to return
    /// @param randBlock a block of the current epoch or the one before
    function drawWeightsPage(
        uint256 offset,
        uint256 limit,
        uint256 randBlock
    ) external view returns (address[] memory stakers, uint256[] memory weights) {
        uint256 x = _drawEpoch(randBlock);
        uint256 n = _tree.size;
        uint256 end = offset >= n ? offset : (limit >= n - offset ? n : offset + limit);
        uint256 count = end - offset;
        stakers = new address[](count);
        weights = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            address who = _leafOwner[offset + i + 1];
            stakers[i] = who;
            weights[i] = _drawWeights[who].at(x);
        }
    }

    /// @inheritdoc IPoTStaking
    /// @dev Exactly `followTheCoin(seed, weights, k)` of src/protocol/follow-the-coin.ts over the draw
    /// weights of epochOf(randBlock) (`drawWeightsPage`): for j = 0..k-1,
    /// ticket = uint256(keccak256(abi.encode(FTC_TYPEHASH, seed, j))) % remaining, and the winner is the
    /// first not-yet-drawn leaf whose cumulative weight over not-yet-drawn leaves exceeds the ticket.
    /// When the weight runs out after j winners, exactly j stakers hold weight: NotEnoughStakers(k, j).
    function draw(
        bytes32 seed,
        uint256 k,
        uint256 randBlock
    ) external view returns (address[] memory winners) {
        if (k == 0) revert ZeroDrawCount();
        uint256 x = _drawEpoch(randBlock);
        winners = new address[](k);
        uint256[] memory leaves = new uint256[](k);
        uint256[] memory weights = new uint256[](k);
        uint256 remaining = _drawTotal.at(x);
        for (uint256 j = 0; j < k; ++j) {
            if (remaining == 0) revert NotEnoughStakers(k, j);
            uint256 ticket = uint256(keccak256(abi.encode(FTC_TYPEHASH, seed, j))) % remaining;
            uint256 leaf = _tree.find(ticket, leaves, weights, j, x);
            address who = _leafOwner[leaf];
            uint256 weight = _drawWeights[who].at(x);
            winners[j] = who;
            leaves[j] = leaf;
            weights[j] = weight;
            remaining -= weight;
        }
    }

    /// @inheritdoc IPoTStaking
    /// @dev Checks that `members` is exactly `draw(seed, members.length, randBlock)` without searching the
    /// tree: for draw j (ticket t_j = uint256(keccak256(abi.encode(FTC_TYPEHASH, seed, j))) % remaining_j),
    /// member j's leaf L must hold draw weight w > 0 in epochOf(randBlock), not be drawn already, and t_j
    /// must fall in [lo, lo + w) with lo = prefixSum(L - 1) minus the weights of the earlier winners below
    /// L (all as of that epoch). That is the definition of the first not-yet-drawn leaf whose cumulative
    /// weight exceeds t_j, so the answer equals `draw`'s; it costs popcount(L - 1) tree reads per member
    /// instead of a full descent.
    function verifyDraw(bytes32 seed, address[] calldata members, uint256 randBlock) external view {
        uint256 k = members.length;
        if (k == 0) revert ZeroDrawCount();
        uint256 x = _drawEpoch(randBlock);
        uint256[] memory leaves = new uint256[](k);
        uint256[] memory weights = new uint256[](k);
        uint256 remaining = _drawTotal.at(x);
        for (uint256 j = 0; j < k; ++j) {
            uint256 word = _drawWeights[members[j]];
            uint256 leaf = word.extra();
            uint256 weight = word.at(x);
            if (weight == 0) revert NotDrawn(j, members[j]);
            // leaf <= size: a staker with draw weight has its leaf
            uint256 lo = _tree.prefixSumUnchecked(leaf - 1, x);
            for (uint256 d = 0; d < j; ++d) {
                uint256 prior = leaves[d];
                if (prior == leaf) revert NotDrawn(j, members[j]);
                if (prior < leaf) lo -= weights[d];
            }
            uint256 ticket = uint256(keccak256(abi.encode(FTC_TYPEHASH, seed, j))) % remaining;
            if (ticket < lo || ticket >= lo + weight) revert NotDrawn(j, members[j]);
            leaves[j] = leaf;
            weights[j] = weight;
            remaining -= weight;
        }
    }

    /// @inheritdoc IPoTStaking
    /// @dev Exactly `drawSeats(seed, weights, k, excludedIndex)` of src/protocol/follow-the-coin.ts over the
    /// draw weights of epochOf(randBlock): seat i takes ticket
    /// x_i = uint256(keccak256(abi.encode(SEAT_TYPEHASH, seed, i))) % (W - w_ex), moved past the excluded
    /// account's interval [start_ex, start_ex + w_ex) of the cumulative weights (x < start_ex ? x :
    /// x + w_ex), and goes to the leaf whose interval holds it. O(k log n) tree reads.
    function drawSeats(
        bytes32 seed,
        uint256 k,
        uint256 randBlock,
        address excluded
    ) external view returns (address[] memory seats) {
        if (k == 0) revert ZeroDrawCount();
        uint256 x = _drawEpoch(randBlock);
        (uint256 pool, uint256 start, uint256 skip) = _seatPool(k, excluded, x);
        seats = new address[](k);
        uint256[] memory none = new uint256[](0);
        for (uint256 i = 0; i < k; ++i) {
            uint256 ticket = _seatTicket(seed, i, pool, start, skip);
            seats[i] = _leafOwner[_tree.find(ticket, none, none, 0, x)];
        }
    }

    /// @inheritdoc IPoTStaking
    /// @dev For seat i, the member's leaf L must hold weight w > 0 in epochOf(randBlock) and the moved
    /// ticket x_i' (see `drawSeats`) must fall in [prefixSum(L - 1), prefixSum(L - 1) + w): the definition
    /// of the leaf `drawSeats` finds. The excluded account never passes (x_i' skips its interval).
    /// popcount(L - 1) tree reads per seat instead of a descent.
    function verifySeats(
        bytes32 seed,
        address[] calldata seats,
        uint256 randBlock,
        address excluded
    ) external view {
        uint256 k = seats.length;
        if (k == 0) revert ZeroDrawCount();
        uint256 x = _drawEpoch(randBlock);
        (uint256 pool, uint256 start, uint256 skip) = _seatPool(k, excluded, x);
        for (uint256 i = 0; i < k; ++i) {
            uint256 word = _drawWeights[seats[i]];
            uint256 weight = word.at(x);
            if (weight == 0) revert NotDrawn(i, seats[i]);
            // leaf <= size: a staker with draw weight has its leaf
            uint256 lo = _tree.prefixSumUnchecked(word.extra() - 1, x);
            uint256 ticket = _seatTicket(seed, i, pool, start, skip);
            if (ticket < lo || ticket >= lo + weight) revert NotDrawn(i, seats[i]);
        }
    }

    // ------------------------------------------------------------------ internals

    /// @dev The seat draw's ticket range `pool` = W - w_ex and the excluded interval [start, start + skip)
    /// (skip = w_ex) as of the start of epoch `x`; NotEnoughStakers(k, 0) when nobody else holds weight.
    function _seatPool(
        uint256 k,
        address excluded,
        uint256 x
    ) private view returns (uint256 pool, uint256 start, uint256 skip) {
        uint256 word = _drawWeights[excluded]; // address(0) never stakes: weight 0, nobody excluded
        skip = word.at(x);
        if (skip != 0) start = _tree.prefixSumUnchecked(word.extra() - 1, x);
        pool = _drawTotal.at(x) - skip;
        if (pool == 0) revert NotEnoughStakers(k, 0);
    }

    /// @dev Seat `i`'s ticket over the cumulative weights, past the excluded interval.
    function _seatTicket(
        bytes32 seed,
        uint256 i,
        uint256 pool,
        uint256 start,
        uint256 skip
    ) private pure returns (uint256 ticket) {
        ticket = uint256(keccak256(abi.encode(SEAT_TYPEHASH, seed, i))) % pool;
        if (ticket >= start) ticket += skip;
    }

    /// @dev The draw weight of an active stake of `active` wei: whole gwei, at most MAX_STAKER_DRAW_WEIGHT.
    function _weightOf(uint256 active) private pure returns (uint256) {
        return Math.min(active / DRAW_WEIGHT_UNIT, MAX_STAKER_DRAW_WEIGHT);
    }

    function _coinAge(address staker, Staker storage s) private view returns (uint256) {
        return uint256(s.active) * Math.min(block.timestamp - _since(staker, s), maxCoinAgeSeconds);
    }

    /// @dev The coin-age origin: the ledger's copy once synced (the ledger restarts coin age there), else
    /// the one kept here. The ledger's copy is never older than ours (both are written together and the
    /// ledger only moves it forward), so the max is the ledger's; taking it keeps a stale copy harmless.
    function _since(address staker, Staker storage s) private view returns (uint64 since) {
        since = s.stakeSince;
        address bound = ledger;
        if (bound.code.length != 0) {
            (, uint64 mirrored, bool synced) = IPoTSealMirror(bound).sealOf(staker);
            if (synced && mirrored > since) since = mirrored;
        }
    }

    /// @dev Pushes `staker`'s active stake and origin to the ledger's copy (when the ledger is a contract).
    /// @dev The ledger's count of `staker`'s unsettled declarations (PoTStages' `bondedOf`); 0 for an
    /// account ledger (tests).
    function _bondedOf(address staker) private view returns (uint256) {
        if (ledger.code.length == 0) return 0;
        (bool ok, bytes memory ret) = ledger.staticcall(abi.encodeWithSignature("bondedOf(address)", staker));
        return ok && ret.length == 32 ? abi.decode(ret, (uint256)) : 0;
    }

    function _sync(address staker, Staker storage s) private {
        address bound = ledger;
        if (bound.code.length != 0) IPoTSealMirror(bound).syncSeal(staker, s.active, _since(staker, s));
    }

    /// @dev Lowers `staker`'s active stake by `amount` (at most its active stake): at once for the bond,
    /// from the next epoch for its draw weight.
    function _removeActive(address staker, Staker storage s, uint256 amount) private {
        uint256 old = s.active;
        uint256 active = old - amount;
        s.active = SafeCast.toUint128(active);
        _totalStake -= amount;
        uint256 delta = _weightOf(old) - _weightOf(active);
        if (delta != 0) {
            uint256 t = block.number / epochBlocks;
            uint256 word = _drawWeights[staker];
            _tree.sub(word.extra(), delta, t);
            _drawWeights[staker] = word.sub(t, delta);
            _drawTotal = _drawTotal.sub(t, delta);
        }
    }

    /// @dev The epoch whose starting weights a draw seeded by block `randBlock` uses: epochOf(randBlock),
    /// which must be the current epoch or the one before (older weights are no longer kept).
    function _drawEpoch(uint256 randBlock) private view returns (uint256 x) {
        x = randBlock / epochBlocks;
        uint256 t = block.number / epochBlocks;
        if (x > t) revert EpochNotStarted(x, t);
        if (x + 1 < t) revert EpochTooOld(x, t);
    }

    /// @dev Stake-weighted average of the (age-capped) old origin and now, rounded up (never inflates).
    function _blendedSince(uint256 old, uint64 oldSince, uint256 amount) private view returns (uint64) {
        uint256 nowTs = block.timestamp;
        if (old == 0) return SafeCast.toUint64(nowTs);
        uint256 origin = oldSince;
        if (nowTs - origin > maxCoinAgeSeconds) origin = nowTs - maxCoinAgeSeconds;
        return SafeCast.toUint64(Math.ceilDiv(old * origin + amount * nowTs, old + amount));
    }
}
