// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Immutables keep camelCase names: they are part of the ABI (token(), unbondingDelay(), ...).
// solhint-disable immutable-vars-naming

/// @title One-time binding of a contract to the PoT ledger
/// @notice The deployer (admin) names the ledger exactly once; from then on only the ledger may call the
/// functions guarded by `onlyLedger`, and the admin has no power left.
abstract contract LedgerGated {
    /// @notice The account that may call `setLedger` (the deployer).
    address public immutable admin;
    /// @notice The PoT ledger; zero until `setLedger`.
    address public ledger;

    /// @notice The ledger was set.
    event LedgerSet(address indexed ledger);

    /// @notice `caller` is not the admin.
    error NotAdmin(address caller);
    /// @notice `caller` is not the ledger (or the ledger is not set yet).
    error NotLedger(address caller);
    /// @notice The ledger is already `ledger` and cannot change.
    error LedgerAlreadySet(address ledger);
    /// @notice An address argument was zero.
    error ZeroAddress();

    modifier onlyLedger() {
        _checkLedger();
        _;
    }

    constructor() {
        admin = msg.sender;
    }

    /// @notice Binds this contract to the PoT ledger. Admin only, once.
    /// @param newLedger the ledger contract (non-zero)
    function setLedger(address newLedger) external {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        if (ledger != address(0)) revert LedgerAlreadySet(ledger);
        if (newLedger == address(0)) revert ZeroAddress();
        ledger = newLedger;
        emit LedgerSet(newLedger);
    }

    function _checkLedger() internal view {
        if (msg.sender != ledger) revert NotLedger(msg.sender);
    }
}
