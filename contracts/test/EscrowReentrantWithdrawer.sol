// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// A test double: the immutable keeps a readable name, and the hook is deliberately not simple.
// solhint-disable immutable-vars-naming, no-complex-fallback

import {JobTerms} from "../types/PoTTypes.sol";

interface IEscrowForReentrancyTest {
    function createJob(JobTerms calldata terms) external payable returns (uint64);
    function withdraw() external;
}

/// @title Test-only: an employer contract that re-enters PoTEscrow.withdraw from its receive hook
contract EscrowReentrantWithdrawer {
    IEscrowForReentrancyTest public immutable escrow;
    uint256 public received;
    uint256 public reentryAttempts;
    bool public reentrySucceeded;
    bool public rejectPayments;

    /// @notice The hook refuses ETH (setRejectPayments(true)).
    error PaymentRejected();

    constructor(address escrow_) {
        escrow = IEscrowForReentrancyTest(escrow_);
    }

    function createJob(JobTerms calldata terms) external payable returns (uint64) {
        return escrow.createJob{value: msg.value}(terms);
    }

    function setRejectPayments(bool reject) external {
        rejectPayments = reject;
    }

    function withdraw() external {
        escrow.withdraw();
    }

    receive() external payable {
        if (rejectPayments) revert PaymentRejected();
        received += msg.value;
        if (reentryAttempts == 0) {
            reentryAttempts = 1;
            try escrow.withdraw() {
                reentrySucceeded = true;
            } catch {
                reentrySucceeded = false;
            }
        }
    }
}
