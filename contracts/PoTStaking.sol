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
import {FenwickTree} from "./lib/FenwickTree.sol";
import {LedgerGated} from "./lib/LedgerGated.sol";

/// @notice What staking needs from the ledger's copy of the seal weights (PoTLedger implements it).
interface IPoTSealMirror {
    /// @notice Records `staker`'s active stake and coin-age origin (staking only).
    function syncSeal(address staker, uint256 active, uint64 since) external;

    /// @notice The ledger's copy: active stake, coin-age origin, and whether it was ever synced.
    function sealOf(address staker) external view returns (uint256 active, uint64 since, bool synced);
}

/// @title PoT staking: coin age, follow-the-coin draws, unbonding, slashing and a peer registry
/// @notice Stakers lock PoT here. Active stake gives (1) coin age, the weight of PoS seals, (2) tickets in
/// follow-the-coin draws of PoA committees and juries, and (3) a bond the ledger slashes for provable
/// faults. `requestUnstake` moves stake to unbonding at once (no more coin age nor draws) but it stays
/// slashable until `withdrawUnstaked` after `unbondingDelay`.
/// @dev Active stakes live in a Fenwick tree (library FenwickTree), one leaf per staker in order of first
/// stake, kept forever (a zero stake takes no room in draws). Updates are O(log n); `draw` is
/// O(k log n) tree reads plus O(k^2 log n) memory work for the already-drawn leaves (k is small).
/// `totalStake` always equals the tree's total and the sum of all active stakes.
/// Coin age: the ledger keeps a copy of (active, stakeSince) per staker (its seal checks then need no call
/// here) and restarts coin age itself when a seal lands in a wrapped block. This contract pushes every
/// change of active stake or origin to that copy (`IPoTSealMirror.syncSeal`) and reads the origin back
/// from it (`_since`), so both always agree. While the ledger is not a contract (tests bind an account),
/// nothing is pushed and the origin kept here is the only one.
contract PoTStaking is IPoTStaking, LedgerGated, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using FenwickTree for FenwickTree.Tree;

    /// @notice Domain of follow-the-coin tickets: keccak256("PoT.FollowTheCoin(bytes32 seed,uint256 draw)").
    bytes32 public constant FTC_TYPEHASH = keccak256("PoT.FollowTheCoin(bytes32 seed,uint256 draw)");
    /// @notice Longest multiaddr `setPeer` accepts, in bytes.
    uint256 public constant MAX_MULTIADDR_LENGTH = 256;

    /// @notice The PoT token staked here.
    IERC20 public immutable token;
    /// @notice Seconds between `requestUnstake` and the earliest `withdrawUnstaked`.
    uint64 public immutable unbondingDelay;
    /// @notice Cap on the age part of coin age, in seconds.
    uint64 public immutable maxCoinAgeSeconds;

    /// @dev `active` and `stakeSince` share one slot: a seal check (`sealWeightOf`) reads one slot.
    struct Staker {
        uint128 active; // counts for coin age and draws
        uint64 stakeSince; // coin-age origin
        uint64 leaf; // 1-based leaf in the tree; 0 = never staked
        uint128 unbonding; // waiting for release; still slashable
        uint64 unbondingReleaseAt; // earliest withdrawal of `unbonding`
    }

    mapping(address staker => Staker) private _stakers;
    mapping(uint256 leaf => address staker) private _leafOwner;
    mapping(address staker => string multiaddr) private _peers;
    FenwickTree.Tree private _tree;

    uint256 private _totalStake;
    /// @notice Sum of all unbonding (not yet withdrawn) stake.
    uint256 public totalUnbonding;
    /// @notice Number of stakers whose active stake is non-zero.
    uint256 public activeStakerCount;

    /// @notice `staker` took leaf `index` (0-based, order of first stake) in the draw order.
    event StakerRegistered(address indexed staker, uint256 index);
    /// @notice `staker` added `amount`; its active stake is now `active`, its coin age counts from `stakeSince`.
    event Staked(address indexed staker, uint256 amount, uint256 active, uint64 stakeSince);
    /// @notice `staker` moved `amount` to unbonding; `unbonding` in total, withdrawable from `releaseAt`.
    event UnstakeRequested(address indexed staker, uint256 amount, uint256 unbonding, uint64 releaseAt);
    /// @notice `staker` withdrew `amount` of released unbonding stake.
    event Withdrawn(address indexed staker, uint256 amount);
    /// @notice The ledger took `fromActive + fromUnbonding` of `staker`'s stake and sent it to `beneficiary`.
    event Slashed(
        address indexed staker,
        address indexed beneficiary,
        uint256 fromActive,
        uint256 fromUnbonding
    );
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
    /// @notice `draw` was asked for `k` stakers but only `holders` hold active stake.
    error NotEnoughStakers(uint256 k, uint256 holders);
    /// @notice A multiaddr was empty or longer than `MAX_MULTIADDR_LENGTH`.
    error InvalidMultiaddrLength(uint256 length);
    /// @notice `stakerAt` was given an index at or past `stakerCount()`.
    error StakerIndexOutOfRange(uint256 index, uint256 count);
    /// @notice `verifyDraw`: member `index` is not what follow-the-coin draws at that position.
    error NotDrawn(uint256 index, address member);

    /// @param token_ the PoT token
    /// @param unbondingDelay_ seconds unbonding stake stays locked (and slashable); the ledger's deployment
    /// sets it above the longest a stage can stay open (deadlines plus the jury window)
    /// @param maxCoinAgeSeconds_ cap on the age part of coin age (non-zero)
    constructor(IERC20 token_, uint64 unbondingDelay_, uint64 maxCoinAgeSeconds_) {
        if (address(token_) == address(0)) revert ZeroAddress();
        if (maxCoinAgeSeconds_ == 0) revert InvalidMaxCoinAge();
        token = token_;
        unbondingDelay = unbondingDelay_;
        maxCoinAgeSeconds = maxCoinAgeSeconds_;
    }

    // ------------------------------------------------------------------ staking

    /// @notice Stakes `amount` PoT of the caller (approve this contract first).
    /// @dev Coin age is not inflated by adding stake: the new `stakeSince` is the stake-weighted average of
    /// the old origin (clamped to `now - maxCoinAgeSeconds`, so already-capped age does not spill over) and
    /// now, rounded up, so coin age right after `stake` is at most what it was before. A first stake
    /// starts at now.
    /// @param amount wei to stake (non-zero)
    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Staker storage s = _stakers[msg.sender];
        uint256 old = s.active;
        uint256 updated = old + amount;
        uint64 since = _blendedSince(old, _since(msg.sender, s), amount);

        uint256 leaf = s.leaf;
        if (leaf == 0) {
            leaf = _tree.append(amount);
            s.leaf = SafeCast.toUint64(leaf);
            _leafOwner[leaf] = msg.sender;
            emit StakerRegistered(msg.sender, leaf - 1);
        } else {
            _tree.add(leaf, amount);
        }
        if (old == 0) ++activeStakerCount;
        s.active = SafeCast.toUint128(updated);
        s.stakeSince = since;
        _totalStake += amount;
        emit Staked(msg.sender, amount, updated, since);
        _sync(msg.sender, s);

        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Moves `amount` of the caller's active stake to unbonding. It stops counting for coin age and
    /// draws at once, stays slashable, and can be withdrawn from `now + unbondingDelay`.
    /// @dev Unbonding is one aggregate per staker: a new request adds to it and moves the release time of
    /// the whole aggregate to `now + unbondingDelay` (so a slash is O(1) whatever the history).
    /// @param amount wei to unstake (non-zero, at most the active stake)
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Staker storage s = _stakers[msg.sender];
        uint256 active = s.active;
        if (amount > active) revert InsufficientStake(amount, active);
        _removeActive(s, amount);
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
        s.unbonding = 0;
        s.unbondingReleaseAt = 0;
        totalUnbonding -= amount;
        emit Withdrawn(msg.sender, amount);

        token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ ledger only

    /// @notice Takes up to `amount` of `staker`'s stake, active first, then unbonding, and sends it to
    /// `beneficiary`. Ledger only.
    /// @param staker the faulty staker
    /// @param amount the most to take, in wei
    /// @param beneficiary the recipient of what is taken (non-zero)
    /// @return slashed what was actually taken (0 when the staker has nothing; then nothing happens)
    function slash(
        address staker,
        uint256 amount,
        address beneficiary
    ) external onlyLedger nonReentrant returns (uint256 slashed) {
        if (beneficiary == address(0)) revert ZeroAddress();
        Staker storage s = _stakers[staker];
        uint256 fromActive = Math.min(amount, s.active);
        uint256 fromUnbonding = Math.min(amount - fromActive, s.unbonding);
        slashed = fromActive + fromUnbonding;
        if (slashed == 0) return 0;
        if (fromUnbonding > 0) {
            s.unbonding -= SafeCast.toUint128(fromUnbonding);
            totalUnbonding -= fromUnbonding;
        }
        emit Slashed(staker, beneficiary, fromActive, fromUnbonding);
        if (fromActive > 0) {
            _removeActive(s, fromActive);
            // the ledger calls this; it finished its own state changes first (checks-effects-interactions)
            _sync(staker, s);
        }

        token.safeTransfer(beneficiary, slashed);
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

    /// @notice The sum of all leaves of the stake tree, recomputed in O(log n); always equals `totalStake`.
    function treeTotal() external view returns (uint256) {
        return _tree.total();
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

    /// @inheritdoc IPoTStaking
    /// @dev Exactly `followTheCoin(seed, stakes, k)` of src/protocol/follow-the-coin.ts: for j = 0..k-1,
    /// ticket = uint256(keccak256(abi.encode(FTC_TYPEHASH, seed, j))) % remaining, and the winner is the
    /// first not-yet-drawn leaf whose cumulative stake over not-yet-drawn leaves exceeds the ticket.
    function draw(bytes32 seed, uint256 k) external view returns (address[] memory winners) {
        if (k == 0) revert ZeroDrawCount();
        uint256 holders = activeStakerCount;
        if (holders < k) revert NotEnoughStakers(k, holders);
        winners = new address[](k);
        uint256[] memory leaves = new uint256[](k);
        uint256[] memory weights = new uint256[](k);
        uint256 remaining = _totalStake;
        for (uint256 j = 0; j < k; ++j) {
            uint256 ticket = uint256(keccak256(abi.encode(FTC_TYPEHASH, seed, j))) % remaining;
            uint256 leaf = _tree.find(ticket, leaves, weights, j);
            address who = _leafOwner[leaf];
            uint256 weight = _stakers[who].active;
            winners[j] = who;
            leaves[j] = leaf;
            weights[j] = weight;
            remaining -= weight;
        }
    }

    /// @inheritdoc IPoTStaking
    /// @dev Checks that `members` is exactly `draw(seed, members.length)` without searching the tree: for
    /// draw j (ticket t_j = uint256(keccak256(abi.encode(FTC_TYPEHASH, seed, j))) % remaining_j), member j's
    /// leaf L must hold active stake w > 0, not be drawn already, and t_j must fall in
    /// [lo, lo + w) with lo = prefixSum(L - 1) minus the weights of the earlier winners below L. That is the
    /// definition of the first not-yet-drawn leaf whose cumulative stake exceeds t_j, so the answer equals
    /// `draw`'s; it costs popcount(L - 1) tree reads per member instead of a full descent.
    function verifyDraw(bytes32 seed, address[] calldata members) external view {
        uint256 k = members.length;
        if (k == 0) revert ZeroDrawCount();
        uint256[] memory leaves = new uint256[](k);
        uint256[] memory weights = new uint256[](k);
        uint256 remaining = _totalStake;
        for (uint256 j = 0; j < k; ++j) {
            Staker storage s = _stakers[members[j]];
            uint256 leaf = s.leaf;
            uint256 weight = s.active;
            if (weight == 0) revert NotDrawn(j, members[j]);
            // leaf <= size: a staker with active stake has its leaf
            uint256 lo = _tree.prefixSumUnchecked(leaf - 1);
            for (uint256 d = 0; d < j; ++d) {
                uint256 x = leaves[d];
                if (x == leaf) revert NotDrawn(j, members[j]);
                if (x < leaf) lo -= weights[d];
            }
            uint256 ticket = uint256(keccak256(abi.encode(FTC_TYPEHASH, seed, j))) % remaining;
            if (ticket < lo || ticket >= lo + weight) revert NotDrawn(j, members[j]);
            leaves[j] = leaf;
            weights[j] = weight;
            remaining -= weight;
        }
    }

    // ------------------------------------------------------------------ internals

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
    function _sync(address staker, Staker storage s) private {
        address bound = ledger;
        if (bound.code.length != 0) IPoTSealMirror(bound).syncSeal(staker, s.active, _since(staker, s));
    }

    function _removeActive(Staker storage s, uint256 amount) private {
        uint256 active = s.active - amount;
        s.active = SafeCast.toUint128(active);
        _tree.sub(s.leaf, amount);
        _totalStake -= amount;
        if (active == 0) --activeStakerCount;
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
