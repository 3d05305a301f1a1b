// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/**
 * @title ShafafTimelock — OpenZeppelin's TimelockController, unchanged
 * @notice The TransparencyLedger's admin. Every role change and every unpause waits `getMinDelay()`
 * seconds in public view (CallScheduled) before it can be executed (CallExecuted). ShafafCouncil
 * deploys it; the only addition to OpenZeppelin's contract is `council()`, so that a client that
 * knows the ledger finds its governance: ledger.defaultAdmin() → timelock → timelock.council().
 */
contract ShafafTimelock is TimelockController {
    // solhint-disable-next-line immutable-vars-naming
    address private immutable _council;

    /// @dev The deployer (msg.sender) is recorded as the council; it receives no role here.
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {
        _council = msg.sender;
    }

    /// @notice The ShafafCouncil that deployed this timelock and is its proposer and executor.
    function council() external view returns (address) {
        return _council;
    }
}
