// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title Rfc6962 — the ledger log's Merkle proofs (RFC 6962, SHA-256), as C2SP logs use them
 * @notice A port of transparency-dev/merkle `proof/verify.go` and of `src/core/rfc6962.ts`,
 * pinned by the same vectors (test/vectors/c2sp/merkle-inclusion.json and
 * merkle-consistency.json, run through the ledger in test/contracts/ledger-log.test.ts).
 * Interior node = SHA-256(0x01 ‖ left ‖ right), computed by the precompile at address 0x02.
 * Compute only, never compare: the caller checks a proof's length from (index, size) or
 * (size1, size2) with `inclusionProofLength` / `consistencyProofLength` BEFORE hashing, and
 * compares the roots these functions return with the roots it trusts.
 * @dev Sizes are uint64, as in verify.go. The functions that hash are `view`: a precompile call
 * from inline assembly is a STATICCALL.
 */
library Rfc6962 {
    /// @notice SHA-256(0x01 ‖ left ‖ right): the same bytes as sha256(abi.encodePacked(bytes1(0x01), left, right)).
    function hashChildren(bytes32 left, bytes32 right) internal view returns (bytes32 h) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // 65 bytes of scratch past the free memory pointer (not allocated: nothing else runs
            // between these stores and the call).
            let p := mload(0x40)
            mstore8(p, 1)
            mstore(add(p, 1), left)
            mstore(add(p, 33), right)
            // Fails only when out of gas.
            if iszero(staticcall(gas(), 0x02, p, 65, 0, 32)) {
                revert(0, 0)
            }
            h := mload(0)
        }
    }

    /// @notice The length of the inclusion proof of leaf `index` in a tree of `size` leaves.
    /// Precondition: index < size.
    function inclusionProofLength(uint64 index, uint64 size) internal pure returns (uint256) {
        (uint256 inner, uint256 border) = _decompose(index, size);
        return inner + border;
    }

    /// @notice The root implied by an inclusion proof of `leafHash` at `index` in a tree of
    /// `size` leaves. Preconditions: index < size, proof.length == inclusionProofLength(index, size).
    function rootFromInclusionProof(
        uint64 index,
        uint64 size,
        bytes32 leafHash,
        bytes32[] calldata proof
    ) internal view returns (bytes32) {
        (uint256 inner, ) = _decompose(index, size);
        return _chainBorderRight(_chainInner(leafHash, proof[:inner], index), proof[inner:]);
    }

    /// @notice The length of the consistency proof from a tree of `size1` leaves to one of
    /// `size2`. Precondition: 0 < size1 < size2.
    function consistencyProofLength(uint64 size1, uint64 size2) internal pure returns (uint256) {
        (uint256 inner, uint256 border) = _decompose(size1 - 1, size2);
        uint256 shift = _trailingZeros(size1);
        // inner > shift: the highest bit where size1 − 1 and size2 − 1 differ is a 0 of
        // size1 − 1, whose `shift` lowest bits are all 1.
        return (size1 == uint256(1) << shift ? 0 : 1) + inner - shift + border;
    }

    /**
     * @notice The roots a consistency proof implies: `hash1` for the tree of `size1` leaves
     * (the caller compares it with the root it holds, `root1`) and `hash2` for the tree of
     * `size2` leaves. Preconditions: 0 < size1 < size2,
     * proof.length == consistencyProofLength(size1, size2).
     */
    function rootsFromConsistencyProof(
        uint64 size1,
        uint64 size2,
        bytes32 root1,
        bytes32[] calldata proof
    ) internal view returns (bytes32 hash1, bytes32 hash2) {
        (uint256 inner, ) = _decompose(size1 - 1, size2);
        uint256 shift = _trailingZeros(size1);
        inner -= shift;
        bytes32[] calldata rest = proof;
        // When size1 is a power of two its root is itself a node of the new tree.
        bytes32 seed = root1;
        if (size1 != uint256(1) << shift) {
            seed = proof[0];
            rest = proof[1:];
        }
        uint256 mask = uint256(size1 - 1) >> shift;
        hash1 = _chainBorderRight(_chainInnerRight(seed, rest[:inner], mask), rest[inner:]);
        hash2 = _chainBorderRight(_chainInner(seed, rest[:inner], mask), rest[inner:]);
    }

    // ───────────────────────────── internal ─────────────────────────────

    /// @dev verify.go decompInclProof: the proof's inner part (below the split of `index`'s and
    /// the last leaf's paths) and border part (right border of the subtree holding `index`).
    function _decompose(
        uint256 index,
        uint256 size
    ) private pure returns (uint256 inner, uint256 border) {
        for (uint256 x = index ^ (size - 1); x != 0; x >>= 1) ++inner;
        for (uint256 x = index >> inner; x != 0; x &= x - 1) ++border;
    }

    function _trailingZeros(uint256 x) private pure returns (uint256 n) {
        while (x != 0 && x & 1 == 0) {
            x >>= 1;
            ++n;
        }
    }

    function _chainInner(
        bytes32 seed,
        bytes32[] calldata proof,
        uint256 index
    ) private view returns (bytes32) {
        for (uint256 i = 0; i < proof.length; ++i) {
            seed =
                (index >> i) & 1 == 0 ? hashChildren(seed, proof[i]) : hashChildren(proof[i], seed);
        }
        return seed;
    }

    function _chainInnerRight(
        bytes32 seed,
        bytes32[] calldata proof,
        uint256 index
    ) private view returns (bytes32) {
        for (uint256 i = 0; i < proof.length; ++i) {
            if ((index >> i) & 1 == 1) seed = hashChildren(proof[i], seed);
        }
        return seed;
    }

    function _chainBorderRight(
        bytes32 seed,
        bytes32[] calldata proof
    ) private view returns (bytes32) {
        for (uint256 i = 0; i < proof.length; ++i) seed = hashChildren(proof[i], seed);
        return seed;
    }
}
