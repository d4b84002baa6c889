// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Immutables keep camelCase names: they are part of the ABI (builderBps(), ...).
// solhint-disable immutable-vars-naming

import {IPoTEscrow} from "../interfaces/IPoTEscrow.sol";
import {IPoTStages} from "../interfaces/IPoTStages.sol";
import {IPoTToken} from "../interfaces/IPoTToken.sol";
import {JobTerms, Suite} from "../types/PoTTypes.sol";

/// @title Job escrow and payments of Proof of Training
/// @notice See IPoTEscrow. Rules: a stage's fee goes to its builder (builderBps), its committee seats
/// (attesterBps, one part per seat) and the declarations that open (the rest, in proportion to the stake
/// weight each declared with: splitting a stake over identities earns nothing more); a faulty declaration
/// earns nothing and takes nothing from the others; the employer gets back only what no stage spent and the
/// rounding dust, never a slashed share. Balances are per job and account, claimed in one transaction.
/// Unclaimed balances of an ended job go to the employer after `claimPeriodSeconds`.
contract PoTEscrow is IPoTEscrow {
    uint256 internal constant BPS = 10_000;

    struct Funds {
        // slot 0
        address employer;
        uint64 endedAt; // 0 while the job runs
        // slot 1
        uint128 fee;
        uint128 feePerStage;
    }

    IPoTStages public immutable stages;
    IPoTToken public immutable token;
    uint16 public immutable builderBps;
    uint16 public immutable attesterBps;
    uint64 public immutable claimPeriodSeconds;

    mapping(uint64 jobId => Funds) internal _funds;
    /// @dev Per job and account: wei (low 128 bits) | coinbase POT (high 128 bits).
    mapping(uint64 jobId => mapping(address account => uint256)) internal _owed;
    /// @inheritdoc IPoTEscrow
    mapping(address account => uint256) public claimable;

    /// @notice Wei held for jobs: unspent escrow plus balances not yet claimed.
    uint256 public totalEscrow;
    /// @notice Sum of `claimable`.
    uint256 public totalClaimable;
    /// @notice The next job id (job 0 is the dummy job).
    uint64 public nextJobId = 1;

    modifier onlyStages() {
        if (msg.sender != address(stages)) revert Unauthorized(msg.sender);
        _;
    }

    /// @param token_ the PoT token (this contract must be its ledger: it mints claimed coinbase)
    /// @param suite the four contracts of this deployment (`suite.escrow` must be this contract)
    /// @param builderBps_ share of a stage's fee for its builder, in basis points
    /// @param attesterBps_ share for the committee, split per seat, in basis points
    /// @param claimPeriodSeconds_ how long after a job ends its balances stay claimable before a sweep
    constructor(
        IPoTToken token_,
        Suite memory suite,
        uint16 builderBps_,
        uint16 attesterBps_,
        uint64 claimPeriodSeconds_
    ) {
        if (suite.escrow != address(this)) revert InvalidParams("suite");
        if (uint256(builderBps_) + attesterBps_ > BPS) revert InvalidParams("bps");
        if (claimPeriodSeconds_ == 0) revert InvalidParams("claimPeriodSeconds");
        stages = IPoTStages(suite.stages);
        token = token_;
        builderBps = builderBps_;
        attesterBps = attesterBps_;
        claimPeriodSeconds = claimPeriodSeconds_;
    }

    /// @inheritdoc IPoTEscrow
    function createJob(JobTerms calldata terms) external payable returns (uint64) {
        return _create(terms, 0);
    }

    /// @inheritdoc IPoTEscrow
    function createJobFrom(uint64 parentJobId, JobTerms calldata terms) external payable returns (uint64) {
        return _create(terms, parentJobId);
    }

    /// @dev Escrows msg.value and has PoTStages open the job (and check its parent, if any).
    function _create(JobTerms calldata terms, uint64 parentJobId) internal returns (uint64 jobId) {
        if (
            msg.value == 0 ||
            msg.value < terms.numStages ||
            msg.value > type(uint128).max ||
            terms.numStages == 0
        ) revert InvalidFee(msg.value);
        jobId = nextJobId++;
        Funds storage f = _funds[jobId];
        f.employer = msg.sender;
        f.fee = uint128(msg.value);
        f.feePerStage = uint128(msg.value / terms.numStages);
        totalEscrow += msg.value;
        stages.openJob(jobId, msg.sender, msg.value, terms, parentJobId);
    }

    /// @inheritdoc IPoTEscrow
    function payStage(
        uint64 jobId,
        uint32 stage,
        address builder,
        address[] calldata seats,
        address[] calldata openers,
        uint64[] calldata weights,
        uint256[] calldata coinbases,
        bool last
    ) external onlyStages {
        Funds storage f = _funds[jobId];
        uint256 fee = f.feePerStage;
        uint256 k = seats.length;
        uint256 builderPart = (fee * builderBps) / BPS;
        uint256 perSeat = (fee * attesterBps) / BPS / k;
        uint256 pool = fee - builderPart - perSeat * k;
        uint256 paid = _payOpeners(_owed[jobId], pool, openers, weights, coinbases);
        // the rounding dust goes to the builder (so every stage spends exactly feePerStage); a juried stage
        // nobody's declaration opened pays its pool to the builder, who trained and served it
        uint256 dust = fee - builderPart - perSeat * k - paid;
        _payParts(_owed[jobId], builder, builderPart + dust, seats, perSeat);
        emit StagePaid(jobId, stage, builderPart, perSeat, pool, dust);
        if (last) _end(jobId, f, stage);
    }

    /// @dev Credits `pool` over the openers in proportion to their weights (and their coinbase); returns
    /// what it credited (the rounding dust stays in the job's escrow).
    function _payOpeners(
        mapping(address => uint256) storage owed,
        uint256 pool,
        address[] calldata openers,
        uint64[] calldata weights,
        uint256[] calldata coinbases
    ) internal returns (uint256 paid) {
        uint256 n = openers.length;
        uint256 total;
        for (uint256 i = 0; i < n; ++i) total += weights[i];
        for (uint256 i = 0; i < n; ++i) {
            uint256 share = total == 0 ? pool / n : (pool * weights[i]) / total;
            owed[openers[i]] += share | (coinbases[i] << 128);
            paid += share;
        }
    }

    /// @dev Credits the builder's part and one part per committee seat.
    function _payParts(
        mapping(address => uint256) storage owed,
        address builder,
        uint256 builderPart,
        address[] calldata seats,
        uint256 perSeat
    ) internal {
        if (builderPart != 0) owed[builder] += builderPart;
        if (perSeat == 0) return;
        for (uint256 i = 0; i < seats.length; ++i) owed[seats[i]] += perSeat;
    }

    /// @inheritdoc IPoTEscrow
    function endJob(uint64 jobId, uint32 wrappedStages) external onlyStages {
        _end(jobId, _funds[jobId], wrappedStages);
    }

    /// @inheritdoc IPoTEscrow
    function claim(uint64 jobId, address account) external {
        uint256 word = _owed[jobId][account];
        if (word == 0) revert NothingOwed();
        delete _owed[jobId][account];
        uint256 amount = uint128(word);
        uint256 coinbase = word >> 128;
        if (amount != 0) {
            totalEscrow -= amount;
            claimable[account] += amount;
            totalClaimable += amount;
        }
        emit Claimed(jobId, account, amount, coinbase);
        if (coinbase != 0) token.mintCoinbase(account, coinbase);
    }

    /// @inheritdoc IPoTEscrow
    function sweep(uint64 jobId, address account) external {
        Funds storage f = _funds[jobId];
        uint64 sweepableAt = f.endedAt == 0 ? type(uint64).max : f.endedAt + claimPeriodSeconds;
        if (block.timestamp < sweepableAt) revert NotSweepable(sweepableAt);
        uint256 amount = uint128(_owed[jobId][account]);
        if (_owed[jobId][account] == 0) revert NothingOwed();
        delete _owed[jobId][account];
        emit Swept(jobId, account, amount);
        if (amount != 0) _refund(jobId, f.employer, amount);
    }

    /// @inheritdoc IPoTEscrow
    function withdraw() external {
        uint256 amount = claimable[msg.sender];
        if (amount == 0) revert NothingOwed();
        claimable[msg.sender] = 0;
        totalClaimable -= amount;
        emit Withdrawn(msg.sender, amount);
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    /// @inheritdoc IPoTEscrow
    function owedOf(uint64 jobId, address account) external view returns (uint256 amount, uint256 coinbase) {
        uint256 word = _owed[jobId][account];
        return (uint128(word), word >> 128);
    }

    /// @inheritdoc IPoTEscrow
    function totalOwed() external view returns (uint256) {
        return totalEscrow + totalClaimable;
    }

    /// @notice A job's money: employer, when it ended (0: running), fee, fee per stage.
    function fundsOf(uint64 jobId) external view returns (Funds memory) {
        return _funds[jobId];
    }

    /// @dev Ends a job: what no stage spent (the unwrapped stages' fees and the fee's remainder over the
    /// stages) returns to the employer.
    function _end(uint64 jobId, Funds storage f, uint32 wrappedStages) internal {
        f.endedAt = uint64(block.timestamp);
        uint256 unspent = f.fee - uint256(wrappedStages) * f.feePerStage;
        if (unspent != 0) _refund(jobId, f.employer, unspent);
    }

    /// @dev Moves `amount` of the job's escrow to the employer's withdrawable balance.
    function _refund(uint64 jobId, address employer, uint256 amount) internal {
        totalEscrow -= amount;
        claimable[employer] += amount;
        totalClaimable += amount;
        emit Refunded(jobId, employer, amount);
    }
}
