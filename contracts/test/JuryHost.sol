// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPoTStaking} from "../interfaces/IPoTStaking.sol";
import {PoTJury} from "../ledger/PoTJury.sol";

/// @title Test-only: stands in for the ledger that deploys a PoTJury, to reach the jury's ledger-only paths
contract JuryHost {
    PoTJury public immutable jury;

    constructor(IPoTStaking staking) {
        jury = new PoTJury(staking, bytes32(uint256(1)), 3, 600, 1);
    }

    function open(uint64 jobId, uint32 stage) external {
        jury.open(jobId, stage);
    }

    function onJuryDecided(uint64, uint32, bytes32, bytes32) external pure {}

    function slashJurorStake(uint64, uint32, address, address) external pure {}
}
