// solhint-disable one-contract-per-file
// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Test doubles, kept together in one file.
// solhint-disable immutable-vars-naming

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Test only: the receiver hook a hostile token calls on every transfer to a contract.
interface ITokenReceiverMock {
    /// @notice Called by `HookedERC20Mock` after `amount` was transferred to the receiver.
    function onTokenReceived(address from, uint256 amount) external;
}

/// @title Test only: an ERC20 that calls back into the receiver (like ERC777/ERC1363 hooks)
/// @notice Lets the staking tests try to reenter `withdrawUnstaked` and `slash`. Never deploy for real.
contract HookedERC20Mock is ERC20 {
    /// @notice Receivers whose hook runs on incoming transfers.
    mapping(address receiver => bool hooked) public isHooked;

    constructor() ERC20("Hooked", "HOOK") {}

    /// @notice Makes transfers to `receiver` call its `onTokenReceived` (anyone may call: test only).
    function setHooked(address receiver) external {
        isHooked[receiver] = true;
    }

    /// @notice Mints `amount` to `to` (anyone may call: test only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (from != address(0) && isHooked[to]) ITokenReceiverMock(to).onTokenReceived(from, value);
    }
}

/// @notice The staking functions the attacker uses.
interface IStakingMock {
    function stake(uint256 amount) external;
    function requestUnstake(uint256 amount) external;
    function withdrawUnstaked() external;
}

/// @title Test only: a staker that reenters `withdrawUnstaked` when it receives tokens
contract ReentrantStakerMock is ITokenReceiverMock {
    IStakingMock public immutable staking;
    ERC20 public immutable token;
    /// @notice How many times the attacker reentered.
    uint256 public reentries;

    constructor(IStakingMock staking_, ERC20 token_) {
        staking = staking_;
        token = token_;
    }

    /// @notice Stakes `amount`, then moves it all to unbonding.
    function stakeAndUnstake(uint256 amount) external {
        token.approve(address(staking), amount);
        staking.stake(amount);
        staking.requestUnstake(amount);
    }

    /// @notice Withdraws (the hook then tries again).
    function attack() external {
        staking.withdrawUnstaked();
    }

    /// @inheritdoc ITokenReceiverMock
    function onTokenReceived(address from, uint256) external {
        if (from == address(staking) && reentries == 0) {
            ++reentries;
            staking.withdrawUnstaked();
        }
    }
}
