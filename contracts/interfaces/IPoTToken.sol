// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title The PoT coin
/// @notice Genesis allocation at deployment, then minted only as coinbase by the ledger. Holders may burn.
interface IPoTToken is IERC20 {
    /// @notice Mints `amount` to `to` as coinbase. Ledger only.
    function mintCoinbase(address to, uint256 amount) external;

    /// @notice Destroys `amount` of the caller's tokens (total supply drops by `amount`).
    function burn(uint256 amount) external;
}
