// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {CreateAddress} from "../libraries/CreateAddress.sol";

/// @dev Test harness: exposes CreateAddress.compute.
contract CreateAddressHarness {
    function compute(address deployer, uint64 nonce) external pure returns (address) {
        return CreateAddress.compute(deployer, nonce);
    }
}
