// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {JobRequest} from "../ledger/LedgerTypes.sol";

interface ILedgerForReentrancyTest {
    function createJob(JobRequest calldata r) external payable returns (uint64);
    function expireJob(uint64 jobId) external;
    function withdraw() external;
}

/// @title Test-only: an employer contract that re-enters PoTLedger.withdraw from its receive hook
contract LedgerReentrantWithdrawer {
    ILedgerForReentrancyTest public immutable ledger;
    uint256 public received;
    uint256 public reentryAttempts;
    bool public reentrySucceeded;
    bool public rejectPayments;

    /// @notice The hook refuses ETH (setRejectPayments(true)).
    error PaymentRejected();

    constructor(address ledger_) {
        ledger = ILedgerForReentrancyTest(ledger_);
    }

    function createJob(JobRequest calldata r) external payable returns (uint64) {
        return ledger.createJob{value: msg.value}(r);
    }

    function setRejectPayments(bool reject) external {
        rejectPayments = reject;
    }

    function withdraw() external {
        ledger.withdraw();
    }

    receive() external payable {
        if (rejectPayments) revert PaymentRejected();
        received += msg.value;
        if (reentryAttempts == 0) {
            reentryAttempts = 1;
            try ledger.withdraw() {
                reentrySucceeded = true;
            } catch {
                reentrySucceeded = false;
            }
        }
    }
}
