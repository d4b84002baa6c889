// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {JobTerms} from "../types/PoTTypes.sol";

/// @title Job escrow and payments of Proof of Training
/// @notice Holds every employer's fee. A wrapped stage's fee is split here (builder, committee seats,
/// and the declarations that open, in proportion to their stake weight) into per-job balances that each
/// account claims in ONE transaction per job (`claim`), with its coinbase. Pull payments only.
/// Invariant: address(this).balance == totalOwed() == totalEscrow + totalClaimable, to the wei.
interface IPoTEscrow {
    /// @notice The stage was paid: `builderPart` (plus `dust`, the rounding left of the pool and the seats)
    /// to its builder, `perSeat` per committee seat, and `declarationPool` over the openers by weight (to
    /// the builder when none opened: a juried stage). The seats paid are the wrap's `seats` argument (a
    /// member holding m seats is paid m parts): read them from the wrap transaction, not from this event,
    /// which leaves them out to keep a stage under its gas budget.
    event StagePaid(
        uint64 indexed jobId,
        uint32 indexed stage,
        uint256 builderPart,
        uint256 perSeat,
        uint256 declarationPool,
        uint256 dust
    );
    /// @notice `account` claimed its balance of `jobId`: `amount` wei (now withdrawable) and `coinbase` POT.
    event Claimed(uint64 indexed jobId, address indexed account, uint256 amount, uint256 coinbase);
    /// @notice An unclaimed balance of an ended job was swept to the employer after the claim period.
    event Swept(uint64 indexed jobId, address indexed account, uint256 amount);
    /// @notice ETH credited back to the employer: the unspent escrow (with rounding dust) or a sweep.
    event Refunded(uint64 indexed jobId, address indexed employer, uint256 amount);
    /// @notice `account` withdrew `amount` wei.
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice A constructor parameter is out of range; `what` names it.
    error InvalidParams(string what);
    /// @notice The fee is zero, below one wei per stage, or above 2^128-1.
    error InvalidFee(uint256 fee);
    /// @notice The caller is not PoTStages.
    error Unauthorized(address caller);
    /// @notice Nothing to claim, sweep or withdraw.
    error NothingOwed();
    /// @notice The job has not ended, or its claim period runs until `sweepableAt`.
    error NotSweepable(uint64 sweepableAt);
    /// @notice The ETH transfer of a withdrawal failed.
    error TransferFailed();

    /// @notice Opens a job and escrows its fee (msg.value); PoTStages checks the terms.
    /// @return jobId the new job's id (job 0 is the built-in dummy job)
    function createJob(JobTerms calldata terms) external payable returns (uint64 jobId);

    /// @notice Opens a job that fine-tunes finished job `parentJobId`: `terms.initialStateHash` must be the
    /// parent's final state hash (PoTStages.finalStateOf). Reverts ParentNotFinished or ParentStateMismatch
    /// (PoTStages) otherwise; escrows the fee like createJob.
    /// @return jobId the new job's id
    function createJobFrom(
        uint64 parentJobId,
        JobTerms calldata terms
    ) external payable returns (uint64 jobId);

    /// @notice Pays a wrapped stage into per-job balances (PoTStages only). `seats` may repeat an account
    /// (one part per seat); `coinbases[i]` is opener i's coinbase (minted when it claims). Every stage
    /// spends exactly the fee per stage; on the last one the fee's remainder over the stages is refunded.
    function payStage(
        uint64 jobId,
        uint32 stage,
        address builder,
        address[] calldata seats,
        address[] calldata openers,
        uint64[] calldata weights,
        uint256[] calldata coinbases,
        bool last
    ) external;

    /// @notice Refunds an expired job's unspent escrow (the fees of its unwrapped stages and the fee's
    /// remainder over the stages) to its employer (PoTStages only).
    function endJob(uint64 jobId, uint32 wrappedStages) external;

    /// @notice Credits everything `account` earned in `jobId` (every stage and role) to its withdrawable
    /// balance and mints its coinbase. Anyone may call it for any account.
    function claim(uint64 jobId, address account) external;

    /// @notice After an ended job's claim period, moves `account`'s unclaimed wei of `jobId` to the
    /// employer (its coinbase is forfeited). Anyone may call it.
    function sweep(uint64 jobId, address account) external;

    /// @notice Sends the caller its withdrawable balance.
    function withdraw() external;

    /// @notice What `account` may claim in `jobId`: wei and coinbase POT.
    function owedOf(uint64 jobId, address account) external view returns (uint256 amount, uint256 coinbase);

    /// @notice Withdrawable wei of `account`.
    function claimable(address account) external view returns (uint256);

    /// @notice Everything the escrow owes: totalEscrow + totalClaimable (== its balance).
    function totalOwed() external view returns (uint256);
}
