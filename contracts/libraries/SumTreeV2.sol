// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title SumTreeV2 — verifier of `shafaf-tree/2` proofs (docs/spec/tree-v2.md §5–§8)
 * @notice Computes a batch root and its lane totals from a proof's windows and compares them with a
 * trusted root and totals. Every failure is `false`, never a revert: a lane sum of 2^128 or more,
 * a length that does not follow from index and size, a window out of order, a wrong claim.
 * Calldata lanes are `uint128[6]`: a premium tree uses lanes 0..4 and lane 5 MUST be 0; a leaf's
 * lanes MUST be below 2^64 (its preimage has them as u64).
 * @dev Lengths are checked from indices and sizes before any hashing (spec §8 step 3). Preimages
 * are written in scratch memory past the free memory pointer and hashed with keccak256; the
 * pointer is not moved, so the scratch is reused.
 */
library SumTreeV2 {
    /// @notice A node: a hash and the lane sums of its subtree.
    struct Node {
        bytes32 hash;
        uint128[6] lanes;
    }

    /// @notice A leaf (spec §3): per-batch person key, its sequence number, lanes, record commitment.
    struct Leaf {
        bytes32 key;
        uint32 seq;
        uint128[6] lanes;
        bytes32 commitment;
    }

    /// @notice One province's part of a proof (spec §7, "windows").
    struct Window {
        bytes5 province; // ASCII `IR-dd`
        uint32 provinceIndex;
        uint32 size;
        uint32 index;
        uint64 batchIndex;
        Leaf[] leaves;
        Node subtree;
        Node[] path;
        Node[] provincePath;
    }

    /// @notice What a proof is checked against: the anchored batch.
    struct Trusted {
        bytes32 root;
        uint128[6] totals;
        uint64 batchSize; // the proof's claim, compared with the computed records lane
        uint32 provinceCount;
        uint8 kind; // 0 premium (5 lanes), 1 pension (6 lanes)
    }

    /// @dev A node in memory; lanes widened so that a sum of two lanes cannot wrap.
    struct MNode {
        bytes32 hash;
        uint256[6] lanes;
    }

    /// @dev Arrays of a proof hold at most this many items (spec §7).
    uint256 internal constant MAX_ITEMS = 1 << 16;

    /// @notice Number of lanes of a kind: 5 for premium (0), 6 for pension (1).
    function laneCount(uint8 kind) internal pure returns (uint256) {
        return kind == 0 ? 5 : 6;
    }

    /**
     * @notice Whether `w` proves one leaf in the trusted batch (spec §8, inclusion).
     */
    function verifyInclusion(Trusted memory t, Window calldata w) internal pure returns (bool) {
        if (w.leaves.length != 1) return false;
        (bool ok, ) = _window(t, w, bytes32(0), false);
        return ok;
    }

    /**
     * @notice Whether `ws` is a range (`present`) or absence (`!present`) proof for `key` in the
     * trusted batch: one window per province in province order, each holding the key's leaves and
     * their neighbours (spec §7, §8 `range`, `coverage`, `claim`).
     */
    function verifyKey(
        Trusted memory t,
        bytes32 key,
        bool present,
        Window[] calldata ws
    ) internal pure returns (bool) {
        if (ws.length != t.provinceCount) return false;
        uint256 own;
        for (uint256 i = 0; i < ws.length; ++i) {
            Window calldata w = ws[i];
            if (w.provinceIndex != i) return false;
            if (i > 0 && !(uint40(ws[i - 1].province) < uint40(w.province))) return false;
            (bool ok, uint256 n) = _window(t, w, key, true);
            if (!ok) return false;
            own += n;
        }
        return present ? own > 0 : own == 0;
    }

    /**
     * @notice siblings(size, lo, hi) of spec §8 step 3: how many path nodes a walk of leaves
     * lo..hi in a tree of `size` leaves consumes.
     */
    function siblings(uint256 size, uint256 lo, uint256 hi) internal pure returns (uint256 n) {
        uint256 count = size;
        while (count > 1) {
            if (lo & 1 == 1) ++n;
            if (hi & 1 == 0 && hi + 1 < count) ++n;
            lo >>= 1;
            hi >>= 1;
            count = (count + 1) >> 1;
        }
    }

    // ───────────────────────────── internal ─────────────────────────────

    /// @dev Checks one window against `t`; with `keyed`, also the range rules for `key` and
    /// returns how many of its leaves carry `key`.
    function _window(
        Trusted memory t,
        Window calldata w,
        bytes32 key,
        bool keyed
    ) private pure returns (bool, uint256) {
        (bool ok, MNode memory sub) = _subtree(t, w);
        if (!ok || !_top(t, w, sub) || !_ascending(w.leaves)) return (false, 0);
        if (!keyed) return (true, 0);
        return _range(w, key);
    }

    /// @dev Shape checks (before hashing), then the province subtree root from the window's
    /// leaves and path, compared with the window's `subtree`, `size` and `index`.
    function _subtree(
        Trusted memory t,
        Window calldata w
    ) private pure returns (bool, MNode memory sub) {
        uint256 laneCount_ = laneCount(t.kind);
        uint256 m = w.leaves.length;
        if (m == 0 || m > MAX_ITEMS) return (false, sub);
        uint256 hi = uint256(w.index) + m - 1;
        if (!(hi < w.size && w.provinceIndex < t.provinceCount)) return (false, sub);
        if (w.path.length != siblings(w.size, w.index, hi)) return (false, sub);
        if (w.provincePath.length != siblings(t.provinceCount, w.provinceIndex, w.provinceIndex)) {
            return (false, sub);
        }
        if (!_isProvinceCode(w.province)) return (false, sub);

        MNode[] memory nodes = new MNode[](m);
        for (uint256 j = 0; j < m; ++j) {
            bool leafOk;
            (leafOk, nodes[j]) = _leafNode(w.leaves[j], laneCount_);
            if (!leafOk) return (false, sub);
        }
        (bool ok, MNode memory root, uint256 left) = _walk(
            w.size,
            w.index,
            nodes,
            w.path,
            laneCount_
        );
        if (!ok || root.lanes[0] != w.size || left != w.index) return (false, sub);
        if (root.hash != w.subtree.hash || !_sameLanes(root.lanes, w.subtree.lanes)) {
            return (false, sub);
        }
        return (true, root);
    }

    /// @dev The province node of `sub`, walked up the top tree: the batch root, compared with the
    /// trusted root and totals, and the window's `batchIndex`.
    function _top(
        Trusted memory t,
        Window calldata w,
        MNode memory sub
    ) private pure returns (bool) {
        uint256 laneCount_ = laneCount(t.kind);
        MNode[] memory nodes = new MNode[](1);
        nodes[0] = _provinceNode(t.kind, w.province, sub, laneCount_);
        (bool ok, MNode memory root, uint256 left) = _walk(
            t.provinceCount,
            w.provinceIndex,
            nodes,
            w.provincePath,
            laneCount_
        );
        return
            ok &&
            left + w.index == w.batchIndex &&
            root.hash == t.root &&
            _sameLanes(root.lanes, t.totals) &&
            root.lanes[0] == t.batchSize;
    }

    /// @dev Leaves strictly ascending in (key, seq).
    function _ascending(Leaf[] calldata leaves) private pure returns (bool) {
        for (uint256 j = 1; j < leaves.length; ++j) {
            (bytes32 ka, bytes32 kb) = (leaves[j - 1].key, leaves[j].key);
            if (ka > kb || (ka == kb && !(leaves[j - 1].seq < leaves[j].seq))) return false;
        }
        return true;
    }

    /// @dev Spec §8 `range` for an ascending window: at most one neighbour on each side, the
    /// subtree's edge where a side has none, the key's leaves numbered 0.. with one person.
    function _range(Window calldata w, bytes32 key) private pure returns (bool, uint256) {
        uint256 m = w.leaves.length;
        uint256 before;
        uint256 after_;
        for (uint256 j = 0; j < m; ++j) {
            bytes32 k = w.leaves[j].key;
            if (k < key) ++before;
            else if (k > key) ++after_;
        }
        if (before > 1 || after_ > 1) return (false, 0);
        if (before == 0 && w.index != 0) return (false, 0);
        if (after_ == 0 && uint256(w.index) + m != w.size) return (false, 0);
        uint256 own = m - before - after_;
        for (uint256 s = 0; s < own; ++s) {
            Leaf calldata leaf = w.leaves[before + s];
            if (leaf.seq != s || leaf.lanes[1] != (s == 0 ? 1 : 0)) return (false, 0);
        }
        return (true, own);
    }

    /// @dev The leaf node (spec §5): lane 0 = 1, lane 1 ≤ 1, lanes < 2^64, unused lanes 0.
    function _leafNode(
        Leaf calldata leaf,
        uint256 laneCount_
    ) private pure returns (bool, MNode memory node) {
        uint256[6] memory lanes = node.lanes;
        for (uint256 i = 0; i < 6; ++i) {
            uint256 v = leaf.lanes[i];
            if (i < laneCount_ ? v > type(uint64).max : v != 0) return (false, node);
            lanes[i] = v;
        }
        if (lanes[0] != 1 || lanes[1] > 1) return (false, node);
        bytes32 key = leaf.key;
        uint256 seq = leaf.seq;
        bytes32 commitment = leaf.commitment;
        bytes32 h;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // 0x00 ‖ key ‖ u32(seq) ‖ u64(lane 0) ‖ … ‖ u64(lane L−1) ‖ commitment
            let p := mload(0x40)
            mstore(p, shl(248, 0))
            mstore(add(p, 1), key)
            mstore(add(p, 33), shl(224, seq))
            let q := add(p, 37)
            for {
                let i := 0
            } lt(i, laneCount_) {
                i := add(i, 1)
            } {
                mstore(q, shl(192, mload(add(lanes, mul(i, 32)))))
                q := add(q, 8)
            }
            mstore(q, commitment)
            h := keccak256(p, sub(add(q, 32), p))
        }
        node.hash = h;
        return (true, node);
    }

    /// @dev A path node from calldata; false when an unused lane is not 0.
    function _load(
        Node calldata n,
        uint256 laneCount_
    ) private pure returns (bool, MNode memory m) {
        m.hash = n.hash;
        for (uint256 i = 0; i < 6; ++i) {
            uint256 v = n.lanes[i];
            if (!(i < laneCount_) && v != 0) return (false, m);
            m.lanes[i] = v;
        }
        return (true, m);
    }

    /// @dev parent(a, b) = (H(0x01 ‖ hA ‖ lanesA ‖ hB ‖ lanesB), lanesA + lanesB); false on a sum ≥ 2^128.
    function _parent(
        MNode memory a,
        MNode memory b,
        uint256 laneCount_
    ) private pure returns (bool, MNode memory node) {
        uint256[6] memory la = a.lanes;
        uint256[6] memory lb = b.lanes;
        uint256[6] memory sums = node.lanes;
        for (uint256 i = 0; i < laneCount_; ++i) {
            uint256 s = la[i] + lb[i]; // both < 2^128: no wrap in 256 bits
            if (s > type(uint128).max) return (false, node);
            sums[i] = s;
        }
        bytes32 ha = a.hash;
        bytes32 hb = b.hash;
        bytes32 h;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, shl(248, 1))
            mstore(add(p, 1), ha)
            let q := add(p, 33)
            for {
                let i := 0
            } lt(i, laneCount_) {
                i := add(i, 1)
            } {
                mstore(q, shl(128, mload(add(la, mul(i, 32)))))
                q := add(q, 16)
            }
            mstore(q, hb)
            q := add(q, 32)
            for {
                let i := 0
            } lt(i, laneCount_) {
                i := add(i, 1)
            } {
                mstore(q, shl(128, mload(add(lb, mul(i, 32)))))
                q := add(q, 16)
            }
            h := keccak256(p, sub(q, p))
        }
        node.hash = h;
        return (true, node);
    }

    /// @dev (H(0x02 ‖ kind ‖ code ‖ h ‖ lanes), lanes) (spec §5).
    function _provinceNode(
        uint8 kind,
        bytes5 code,
        MNode memory sub,
        uint256 laneCount_
    ) private pure returns (MNode memory node) {
        uint256[6] memory lanes = sub.lanes;
        bytes32 hs = sub.hash;
        bytes32 h;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, or(shl(248, 2), shl(240, kind)))
            mstore(add(p, 2), code)
            mstore(add(p, 7), hs)
            let q := add(p, 39)
            for {
                let i := 0
            } lt(i, laneCount_) {
                i := add(i, 1)
            } {
                mstore(q, shl(128, mload(add(lanes, mul(i, 32)))))
                q := add(q, 16)
            }
            h := keccak256(p, sub(q, p))
        }
        node.hash = h;
        node.lanes = lanes;
    }

    /// @dev The position of a walk (spec §8 `walk`): known nodes at lo..hi of a level of `count`.
    struct Cursor {
        uint256 count;
        uint256 lo;
        uint256 hi;
        uint256 next; // path nodes consumed
        uint256 left; // records lane of the left siblings consumed
        uint256 laneCount;
    }

    /**
     * @dev walk(count, lo, nodes, path) of spec §8: the root of a tree of `count` leaves from the
     * known nodes at positions lo.. and the siblings in consumption order, and the records lane
     * of the left siblings (the number of leaves before `lo`).
     * Precondition: path.length == siblings(count, lo, lo + nodes.length − 1).
     */
    function _walk(
        uint256 count,
        uint256 lo,
        MNode[] memory nodes,
        Node[] calldata path,
        uint256 laneCount_
    ) private pure returns (bool ok, MNode memory root, uint256 left) {
        Cursor memory c = Cursor(count, lo, lo + nodes.length - 1, 0, 0, laneCount_);
        while (c.count > 1) {
            MNode[] memory row;
            (ok, row) = _row(c, nodes, path);
            if (!ok) return (false, root, 0);
            (ok, nodes) = _pairUp(row, laneCount_);
            if (!ok) return (false, root, 0);
        }
        return (true, nodes[0], c.left);
    }

    /// @dev One level's row: the left sibling (when lo is odd), the known nodes, the right sibling
    /// (when hi is even and not last); advances the cursor to the next level.
    function _row(
        Cursor memory c,
        MNode[] memory nodes,
        Node[] calldata path
    ) private pure returns (bool ok, MNode[] memory row) {
        bool withLeft = c.lo & 1 == 1;
        bool withRight = c.hi & 1 == 0 && c.hi + 1 < c.count;
        row = new MNode[](nodes.length + (withLeft ? 1 : 0) + (withRight ? 1 : 0));
        uint256 k;
        if (withLeft) {
            (ok, row[0]) = _load(path[c.next], c.laneCount);
            ++c.next;
            if (!ok) return (false, row);
            c.left += row[0].lanes[0];
            k = 1;
        }
        for (uint256 j = 0; j < nodes.length; ++j) {
            row[k] = nodes[j];
            ++k;
        }
        if (withRight) {
            (ok, row[k]) = _load(path[c.next], c.laneCount);
            ++c.next;
            if (!ok) return (false, row);
        }
        c.lo = (withLeft ? c.lo - 1 : c.lo) >> 1;
        c.hi >>= 1;
        c.count = (c.count + 1) >> 1;
        return (true, row);
    }

    /// @dev Parents of (row[0], row[1]), (row[2], row[3]), …; an unpaired last node moves up.
    function _pairUp(
        MNode[] memory row,
        uint256 laneCount_
    ) private pure returns (bool ok, MNode[] memory up) {
        uint256 len = row.length;
        up = new MNode[]((len + 1) >> 1);
        for (uint256 k = 0; k + 1 < len; k += 2) {
            (ok, up[k >> 1]) = _parent(row[k], row[k + 1], laneCount_);
            if (!ok) return (false, up);
        }
        if (len & 1 == 1) up[len >> 1] = row[len - 1];
        return (true, up);
    }

    function _sameLanes(uint256[6] memory a, uint128[6] memory b) private pure returns (bool) {
        for (uint256 i = 0; i < 6; ++i) if (a[i] != b[i]) return false;
        return true;
    }

    /// @dev `^IR-[0-9]{2}$`.
    function _isProvinceCode(bytes5 code) private pure returns (bool) {
        if (bytes3(code) != "IR-") return false;
        return _isDigit(code[3]) && _isDigit(code[4]);
    }

    /// @dev '0'..'9': below 0x30 the uint8 difference wraps to 0xd0 or more.
    function _isDigit(bytes1 b) private pure returns (bool) {
        unchecked {
            return uint8(b) - 0x30 < 10;
        }
    }
}
