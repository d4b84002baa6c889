// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Immutables keep camelCase names: they are part of the ABI (token(), unbondingDelay(), ...).
// solhint-disable immutable-vars-naming

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {IPoTToken} from "./interfaces/IPoTToken.sol";
import {LedgerGated} from "./lib/LedgerGated.sol";

/// @title The PoT coin ("Proof of Training", POT, 18 decimals)
/// @notice Supply comes from a genesis allocation made at deployment and, afterwards, only from coinbase
/// mints by the PoT ledger. On local and test networks the deployer may enable a faucet that hands a fixed
/// amount to any caller, at most once per cooldown per address and at most `faucetCap` in total; on other
/// deployments it does not exist (every call reverts with `FaucetDisabled`). Any holder may burn its own
/// tokens (`burn`, `burnFrom`): staking burns what it slashes beyond the reporter's bounty.
contract PoTToken is ERC20, ERC20Burnable, IPoTToken, LedgerGated {
    /// @notice Whether `faucet()` works on this deployment (fixed at deployment).
    bool public immutable faucetEnabled;
    /// @notice Tokens (wei) one `faucet()` call mints.
    uint256 public immutable faucetAmount;
    /// @notice Seconds an address must wait between two `faucet()` calls.
    uint256 public immutable faucetCooldown;
    /// @notice The most the faucet can ever mint in total (wei); 0 when the faucet is disabled.
    uint256 public immutable faucetCap;
    /// @notice What the faucet has minted so far (wei), at most `faucetCap`.
    uint256 public faucetMinted;

    /// @notice When each address last used the faucet (0 = never).
    mapping(address account => uint256 timestamp) public lastFaucetAt;

    /// @notice The ledger minted `amount` coinbase to `to`.
    event CoinbaseMinted(address indexed to, uint256 amount);
    /// @notice `to` received `amount` from the faucet.
    event FaucetDripped(address indexed to, uint256 amount);

    /// @notice `holders` and `amounts` have different lengths.
    error GenesisLengthMismatch(uint256 holders, uint256 amounts);
    /// @notice The faucet is enabled with a zero amount.
    error InvalidFaucetAmount();
    /// @notice This deployment has no faucet.
    error FaucetDisabled();
    /// @notice The caller used the faucet too recently; it may again at `availableAt`.
    error FaucetCooldown(uint256 availableAt);
    /// @notice The faucet has minted `minted` of its `cap`: one more call would pass the cap.
    error FaucetExhausted(uint256 minted, uint256 cap);
    /// @notice The faucet is enabled with a cap below one call's amount.
    error InvalidFaucetCap(uint256 cap, uint256 amount);

    /// @param holders genesis recipients (non-zero addresses)
    /// @param amounts genesis amounts in wei, one per holder
    /// @param enableFaucet whether `faucet()` works (true only on local and test networks)
    /// @param faucetAmount_ wei per faucet call (must be non-zero when enabled)
    /// @param faucetCooldown_ seconds between two faucet calls of one address
    /// @param faucetCap_ the most the faucet may mint in total, wei (at least `faucetAmount_` when enabled)
    constructor(
        address[] memory holders,
        uint256[] memory amounts,
        bool enableFaucet,
        uint256 faucetAmount_,
        uint256 faucetCooldown_,
        uint256 faucetCap_
    ) ERC20("Proof of Training", "POT") {
        if (holders.length != amounts.length) revert GenesisLengthMismatch(holders.length, amounts.length);
        if (enableFaucet && faucetAmount_ == 0) revert InvalidFaucetAmount();
        if (enableFaucet && faucetCap_ < faucetAmount_) revert InvalidFaucetCap(faucetCap_, faucetAmount_);
        faucetEnabled = enableFaucet;
        faucetAmount = enableFaucet ? faucetAmount_ : 0;
        faucetCooldown = enableFaucet ? faucetCooldown_ : 0;
        faucetCap = enableFaucet ? faucetCap_ : 0;
        for (uint256 i = 0; i < holders.length; ++i) {
            _mint(holders[i], amounts[i]);
        }
    }

    /// @notice Mints `amount` to `to` as coinbase. Ledger only.
    /// @param to the recipient
    /// @param amount wei to mint
    function mintCoinbase(address to, uint256 amount) external onlyLedger {
        _mint(to, amount);
        emit CoinbaseMinted(to, amount);
    }

    /// @notice Mints `faucetAmount` to the caller, at most once per `faucetCooldown` per address, and
    /// only while the faucet's total stays within `faucetCap`.
    /// @dev Reverts with `FaucetDisabled` unless the faucet was enabled at deployment, and with
    /// `FaucetExhausted` once `faucetMinted + faucetAmount > faucetCap` (fresh addresses cannot mint more).
    function faucet() external {
        if (!faucetEnabled) revert FaucetDisabled();
        uint256 available = nextFaucetAt(msg.sender);
        if (block.timestamp < available) revert FaucetCooldown(available);
        uint256 minted = faucetMinted;
        if (minted + faucetAmount > faucetCap) revert FaucetExhausted(minted, faucetCap);
        faucetMinted = minted + faucetAmount;
        lastFaucetAt[msg.sender] = block.timestamp;
        _mint(msg.sender, faucetAmount);
        emit FaucetDripped(msg.sender, faucetAmount);
    }

    /// @inheritdoc IPoTToken
    function burn(uint256 amount) public override(ERC20Burnable, IPoTToken) {
        super.burn(amount);
    }

    /// @notice The earliest timestamp at which `account` may use the faucet (0 = now).
    /// @param account the address asking
    function nextFaucetAt(address account) public view returns (uint256) {
        uint256 last = lastFaucetAt[account];
        return last == 0 ? 0 : last + faucetCooldown;
    }
}
