// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title CreateAddress — the address a CREATE from `deployer` with `nonce` produces
 * @notice keccak256(rlp([deployer, nonce]))[12:], as in the Ethereum yellow paper (eq. 87).
 * @dev `nonce` < 2^64 (EIP-2681), so the RLP list is at most 31 bytes and always takes the short
 * list prefix 0xc0 + length. A nonce below 0x80 is its own one-byte encoding (0 encodes as 0x80);
 * a larger one is 0x80 + its byte length, then its big-endian bytes without leading zeros.
 */
library CreateAddress {
    function compute(address deployer, uint64 nonce) internal pure returns (address) {
        bytes32 hash;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40) // scratch past the free memory pointer; not kept
            mstore(add(ptr, 2), shl(96, deployer))
            mstore8(add(ptr, 1), 0x94) // 0x80 + 20: a 20-byte string
            switch lt(nonce, 0x80)
            case 1 {
                mstore8(ptr, 0xd6) // 0xc0 + 22
                mstore8(add(ptr, 22), or(nonce, shl(7, iszero(nonce))))
                hash := keccak256(ptr, 23)
            }
            default {
                let len := 1
                for {} shr(mul(len, 8), nonce) {
                    len := add(len, 1)
                } {}
                mstore8(ptr, add(0xd6, len)) // 0xc0 + 22 + len
                mstore8(add(ptr, 22), add(0x80, len))
                mstore(add(ptr, 23), shl(sub(256, mul(len, 8)), nonce))
                hash := keccak256(ptr, add(23, len))
            }
        }
        return address(uint160(uint256(hash)));
    }
}
