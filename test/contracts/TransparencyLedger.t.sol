// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {TransparencyLedger} from "../../contracts/TransparencyLedger.sol";
import {ITransparencyLedger} from "../../contracts/interfaces/ITransparencyLedger.sol";
import {LedgerHandler} from "../../contracts/mocks/LedgerHandler.sol";

/// Fuzz and invariant tests of the ledger, without forge-std: failures are reverts.
contract TransparencyLedgerFuzzTest {
    TransparencyLedger internal ledger;
    LedgerHandler internal handler;

    function setUp() public {
        address[] memory self = new address[](1);
        self[0] = address(this);
        address[] memory none = new address[](0);
        ledger = new TransparencyLedger(address(this), 0, self, none, none);
        // Two batches first, so that the head and the previous-batch read are non-trivial.
        ledger.anchorBatch(
            keccak256("setup 1"),
            ITransparencyLedger.Kind.Premium,
            140307,
            10,
            1000,
            keccak256("m1"),
            0,
            keccak256("k1")
        );
        ledger.anchorBatch(
            keccak256("setup 2"),
            ITransparencyLedger.Kind.Pension,
            140307,
            20,
            2000,
            keccak256("m2"),
            0,
            keccak256("k2")
        );
        handler = new LedgerHandler();
    }

    /// The invariant fuzzer calls only the handler.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    // ───────────────────────── anchoring ─────────────────────────

    struct Input {
        bytes32 root;
        ITransparencyLedger.Kind kind;
        uint32 period;
        uint64 recordCount;
        uint128 totalAmount;
        bytes32 manifestHash;
        bytes32 key;
    }

    function testFuzz_validAnchorGrowsCountByOneAndMovesHead(
        bytes32 root,
        bool pension,
        uint16 yearSeed,
        uint8 monthSeed,
        uint64 recordCount,
        uint128 totalAmount,
        bytes32 manifestHash,
        bytes32 key
    ) public {
        Input memory input;
        input.root =
            root == bytes32(0) || ledger.batchIdOfRoot(root) != 0
                ? keccak256(abi.encode(root))
                : root;
        input.key =
            key == bytes32(0) || ledger.batchIdOfIdempotencyKey(key) != 0
                ? keccak256(abi.encode(key))
                : key;
        input.recordCount = recordCount == 0 ? 1 : recordCount;
        input.period = (1300 + (uint32(yearSeed) % 8700)) * 100 + 1 + (uint32(monthSeed) % 12);
        input.kind = pension ? ITransparencyLedger.Kind.Pension : ITransparencyLedger.Kind.Premium;
        input.totalAmount = totalAmount;
        input.manifestHash = manifestHash;
        _anchorAndCheck(input);
    }

    function _anchorAndCheck(Input memory input) private {
        uint64 countBefore = ledger.batchCount();
        bytes32 headBefore = ledger.head();
        uint64 id = ledger.anchorBatch(
            input.root,
            input.kind,
            input.period,
            input.recordCount,
            input.totalAmount,
            input.manifestHash,
            0,
            input.key
        );
        require(id == countBefore + 1, "the id is not batchCount + 1");
        require(ledger.batchCount() == countBefore + 1, "batchCount did not grow by one");
        bytes32 expected = keccak256(
            abi.encode(
                headBefore,
                id,
                input.root,
                uint8(input.kind),
                input.period,
                input.recordCount,
                input.totalAmount,
                input.manifestHash
            )
        );
        require(ledger.head() == expected, "head() is not the spec's formula");
        require(expected != headBefore, "the head did not move");
        ITransparencyLedger.Batch memory b = ledger.getBatch(id);
        require(b.root == input.root && b.manifestHash == input.manifestHash, "root or manifest");
        require(b.idempotencyKey == input.key && b.headAfter == expected, "key or head");
        require(
            b.totalAmount == input.totalAmount && b.recordCount == input.recordCount,
            "amounts"
        );
        require(b.period == input.period && b.kind == input.kind, "period or kind");
        require(b.supersedes == 0 && b.supersededBy == 0, "supersession");
        require(b.anchorer == address(this) && b.anchoredAt == block.timestamp, "anchorer or time");
        require(ledger.batchIdOfRoot(input.root) == id, "root index");
        require(ledger.batchIdOfIdempotencyKey(input.key) == id, "key index");
    }

    function testFuzz_invalidPeriodReverts(uint32 period) public {
        uint32 year = period / 100;
        uint32 month = period % 100;
        if (year >= 1300 && year <= 9999 && month >= 1 && month <= 12) period = year * 100 + 13;
        _expectRevert(
            abi.encodeCall(
                ledger.anchorBatch,
                (
                    keccak256("r"),
                    ITransparencyLedger.Kind.Premium,
                    period,
                    1,
                    0,
                    bytes32(0),
                    0,
                    keccak256("k")
                )
            ),
            abi.encodeWithSelector(ITransparencyLedger.LedgerInvalidPeriod.selector, period)
        );
    }

    function testFuzz_zeroRecordCountReverts(
        bytes32 root,
        uint128 totalAmount,
        bytes32 key
    ) public {
        if (root == bytes32(0)) root = keccak256("r");
        if (key == bytes32(0)) key = keccak256("k");
        _expectRevert(
            abi.encodeCall(
                ledger.anchorBatch,
                (root, ITransparencyLedger.Kind.Pension, 140312, 0, totalAmount, bytes32(0), 0, key)
            ),
            abi.encodeWithSelector(ITransparencyLedger.LedgerZeroRecordCount.selector)
        );
    }

    function testFuzz_reusedKeyRevertsWithTheExistingBatch(bytes32 root) public {
        if (root == bytes32(0) || ledger.batchIdOfRoot(root) != 0)
            root = keccak256(abi.encode(root));
        _expectRevert(
            abi.encodeCall(
                ledger.anchorBatch,
                (
                    root,
                    ITransparencyLedger.Kind.Premium,
                    140307,
                    1,
                    0,
                    bytes32(0),
                    0,
                    keccak256("k2")
                )
            ),
            abi.encodeWithSelector(
                ITransparencyLedger.LedgerDuplicateIdempotencyKey.selector,
                keccak256("k2"),
                uint64(2)
            )
        );
    }

    // ───────────────────────── proofs ─────────────────────────

    /// Random trees in StandardMerkleTree layout: every leaf's proof verifies; one flipped bit of
    /// the leaf or of a proof element fails.
    function testFuzz_proofsOfRandomTreesVerifyAndOneFlippedBitFails(
        bytes32 seed,
        uint8 size,
        uint8 bit
    ) public {
        uint256 n = (uint256(size) % 40) + 1;
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            leaves[i] = keccak256(bytes.concat(keccak256(abi.encode(seed, i, uint256(1e18) * i))));
        }
        bytes32[] memory tree = _buildTree(leaves);
        uint64 id = ledger.anchorBatch(
            tree[0],
            ITransparencyLedger.Kind.Premium,
            140307,
            uint64(n),
            0,
            bytes32(0),
            0,
            keccak256(abi.encode("tree", seed, n))
        );
        bytes32 mask = bytes32(uint256(1) << bit);
        for (uint256 i = 0; i < n; ++i) {
            uint256 index = tree.length - 1 - i; // leaf i's place in the array tree
            bytes32[] memory proof = _proof(tree, index);
            require(ledger.verifyRecord(id, tree[index], proof), "a valid proof failed");
            require(!ledger.verifyRecord(id, tree[index] ^ mask, proof), "a flipped leaf verified");
            if (proof.length > 0) {
                uint256 j = uint256(seed) % proof.length;
                proof[j] ^= mask;
                require(!ledger.verifyRecord(id, tree[index], proof), "a flipped proof verified");
            }
        }
    }

    // ───────────────────────── invariants ─────────────────────────

    /// forge-config: default.invariant.runs = 24
    /// forge-config: default.invariant.depth = 40
    function invariant_batchesNeverChangeOnceAnchored() public view {
        handler.check();
    }

    /// The handler really anchors, corrects and attests (so the invariant is not vacuous).
    function test_handlerAnchorsCorrectsAndAttests() public {
        for (uint256 i = 0; i < 12; ++i) {
            bytes32 seed = keccak256(abi.encode(i));
            handler.anchor(seed, i % 3 == 2, uint8(i));
            handler.attest(uint8(i), i % 2 == 0, seed);
        }
        require(handler.count() == 12, "the handler did not anchor");
        require(handler.corrections() > 0, "the handler made no correction");
        handler.check();
    }

    // ───────────────────────── helpers ─────────────────────────

    function _expectRevert(bytes memory call, bytes memory expected) private {
        (bool ok, bytes memory reason) = address(ledger).call(call);
        require(!ok, "the call did not revert");
        require(keccak256(reason) == keccak256(expected), "the call reverted with another error");
    }

    /// OpenZeppelin merkle-tree's array layout: leaves (already sorted or not — the proof does not
    /// care) at the end in reverse, parents by commutative keccak.
    function _buildTree(bytes32[] memory leaves) private pure returns (bytes32[] memory tree) {
        tree = new bytes32[](2 * leaves.length - 1);
        for (uint256 i = 0; i < leaves.length; ++i) tree[tree.length - 1 - i] = leaves[i];
        for (uint256 i = tree.length - leaves.length; i > 0; --i) {
            tree[i - 1] = _hashPair(tree[2 * i - 1], tree[2 * i]);
        }
    }

    function _proof(bytes32[] memory tree, uint256 index) private pure returns (bytes32[] memory) {
        bytes32[] memory path = new bytes32[](64);
        uint256 length = 0;
        while (index > 0) {
            path[length++] = tree[index % 2 == 1 ? index + 1 : index - 1];
            index = (index - 1) / 2;
        }
        bytes32[] memory proof = new bytes32[](length);
        for (uint256 i = 0; i < length; ++i) proof[i] = path[i];
        return proof;
    }

    function _hashPair(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }
}
